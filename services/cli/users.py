"""`kaizen users ...` and `kaizen projects ...`: accounts and projects from the command line,
as the local operator (an admin of this installation)."""

import argparse
import sys
from typing import Any

from services import projects, users
from services.cli.common import Context, Parser, project_id
from services.db import session_scope
from services.errors import InvalidInput
from services.models import Role, UserPublic

ROLES = [r.value for r in Role]


def register(groups: Any, common: Parser) -> None:
    people = groups.add_parser("users", help="create users, list them, change roles")
    commands = people.add_subparsers(required=True, metavar="ACTION", parser_class=Parser)
    admin = commands.add_parser("create-admin", parents=[common], help="create an admin account")
    _credentials(admin)
    admin.set_defaults(handler=_create, role=Role.admin.value)
    create = commands.add_parser("create", parents=[common], help="create a local account")
    _credentials(create)
    create.add_argument("--role", choices=ROLES, default=Role.viewer.value)
    create.set_defaults(handler=_create)
    commands.add_parser("list", parents=[common], help="list users").set_defaults(handler=_list)
    role = commands.add_parser("set-role", parents=[common], help="change a user's role")
    role.add_argument("username")
    role.add_argument("role", choices=ROLES)
    role.add_argument("--reason", help="why, for the audit log")
    role.set_defaults(handler=_set_role)
    unlock = commands.add_parser("unlock", parents=[common], help="end a sign-in lockout")
    unlock.add_argument("username")
    unlock.set_defaults(handler=_unlock)
    _register_projects(groups, common)


def _register_projects(groups: Any, common: Parser) -> None:
    group = groups.add_parser("projects", help="list and create projects, manage members")
    commands = group.add_subparsers(required=True, metavar="ACTION", parser_class=Parser)
    commands.add_parser("list", parents=[common], help="list projects").set_defaults(
        handler=_projects
    )
    create = commands.add_parser("create", parents=[common], help="create a project")
    create.add_argument("name")
    create.set_defaults(handler=_create_project)
    for action, member in (("add-member", True), ("remove-member", False)):
        change = commands.add_parser(action, parents=[common], help=f"{action} of a project")
        change.add_argument("project")
        change.add_argument("username")
        change.set_defaults(handler=_membership, member=member)


def _credentials(command: argparse.ArgumentParser) -> None:
    command.add_argument("--username", required=True)
    command.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from standard input (never from the command line)",
    )


def _create(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise InvalidInput("No password on standard input; pipe it in with --password-stdin.")
    with session_scope(ctx.engine) as session:
        user = users.create_user(
            session=session,
            settings=ctx.settings,
            actor=ctx.actor,
            username=args.username,
            password=password,
            role=Role(args.role),
        )
    return _document(user), f"created {user.role.value} '{user.username}' (id {user.id})"


def _list(_args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        found = users.list_users(session=session, actor=ctx.actor)
    lines = [f"{u.id:>4}  {u.username}  {u.role.value}  {u.provider}" for u in found]
    return [_document(u) for u in found], "\n".join(lines) or "no users yet"


def _set_role(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        user = users.user_by_name(session=session, actor=ctx.actor, username=args.username)
        user = users.set_role(
            session=session,
            actor=ctx.actor,
            user_id=user.id,
            role=Role(args.role),
            reason=args.reason,
        )
    return _document(user), f"'{user.username}' is now {user.role.value}"


def _unlock(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        user = users.user_by_name(session=session, actor=ctx.actor, username=args.username)
        user = users.unlock(session=session, actor=ctx.actor, user_id=user.id)
    return _document(user), f"'{user.username}' can sign in again"


def _projects(_args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        found = projects.list_projects(session=session, actor=ctx.actor)
    lines = [f"{p.id:>4}  {p.name}" for p in found]
    return [p.model_dump(mode="json") for p in found], "\n".join(lines)


def _create_project(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        project = projects.create_project(session=session, actor=ctx.actor, name=args.name)
    return project.model_dump(mode="json"), f"created project '{project.name}' (id {project.id})"


def _membership(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        chosen = project_id(session, ctx, args.project)
        user = users.user_by_name(session=session, actor=ctx.actor, username=args.username)
        projects.set_member(
            session=session,
            actor=ctx.actor,
            project_id=chosen,
            user_id=user.id,
            member=args.member,
        )
    verb = "added to" if args.member else "removed from"
    return {"project": args.project, "username": user.username, "member": args.member}, (
        f"'{user.username}' {verb} '{args.project}'"
    )


def _document(user: UserPublic) -> dict[str, Any]:
    return user.model_dump(mode="json", exclude={"locked_until"})
