"""`kaizen share create|list|revoke`: share links to a published model's demo, as the local
operator (the links open on `kaizen serve`, at KAIZEN_SERVE_URL)."""

import argparse
import sys
from typing import Any

from services import sharing
from services.cli.common import Context, Parser
from services.db import session_scope
from services.errors import InvalidInput
from services.serving_models import ShareAccess, ShareLinkPublic


def register(groups: Any, common: Parser) -> None:
    group = groups.add_parser("share", help="share links to published models' demos")
    commands = group.add_subparsers(required=True, metavar="ACTION", parser_class=Parser)
    create = commands.add_parser("create", parents=[common], help="a new link, shown once")
    create.add_argument("model", metavar="NAME", help="a published model")
    lasting = create.add_mutually_exclusive_group()
    lasting.add_argument("--expires-days", type=float, metavar="N", help="default: 7")
    lasting.add_argument("--no-expiry", action="store_true", help="until revoked")
    access = create.add_mutually_exclusive_group()
    access.add_argument(
        "--password-stdin", action="store_true", help="ask for a password, read from stdin"
    )
    access.add_argument(
        "--signed-in", action="store_true", help="only people with a Kaizen account"
    )
    create.add_argument("--note", help="what the link is for, or for whom")
    create.set_defaults(handler=_create)
    listing = commands.add_parser("list", parents=[common], help="every link")
    listing.add_argument("--model", metavar="NAME", help="only this model's links")
    listing.set_defaults(handler=_list)
    revoke = commands.add_parser("revoke", parents=[common], help="stop a link working")
    revoke.add_argument("token", metavar="TOKEN", help="the link's token (or its URL)")
    revoke.set_defaults(handler=_revoke)


def _create(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    """JSON: {"token", "url", "expires_at", "id", "access"}; expires_at null: no expiry."""
    password = _password() if args.password_stdin else None
    access: ShareAccess = (
        "password" if args.password_stdin else "signed_in" if args.signed_in else "anyone"
    )
    days = None if args.no_expiry else args.expires_days or ctx.settings.share_link_days
    with session_scope(ctx.engine) as session:
        made = sharing.create_link(
            session=session,
            settings=ctx.settings,
            actor=ctx.actor,
            name=args.model,
            expires_days=days,
            access=access,
            password=password,
            note=args.note,
        )
    expires = made.link.expires_at
    document = {
        "token": made.token,
        "url": made.url,
        "expires_at": expires.isoformat() if expires else None,
        "id": made.link.id,
        "access": made.link.access,
    }
    until = f"until {expires:%Y-%m-%d %H:%M} UTC" if expires else "until revoked"
    return document, f"{made.url}\n(shown once; {until})"


def _list(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    """JSON: [{"id", "model_name", "prefix", "access", "state", "views", ...}], newest first."""
    with session_scope(ctx.engine) as session:
        found = sharing.list_links(session=session, actor=ctx.actor, name=args.model)
    lines = [_line(link) for link in found]
    return [link.model_dump(mode="json") for link in found], "\n".join(lines) or "no share links"


def _revoke(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    """JSON: {"id", "model_name", "prefix", "revoked_at"}."""
    token = args.token.rstrip("/").rsplit("/s/", 1)[-1]
    with session_scope(ctx.engine) as session:
        link = sharing.revoke_link(session=session, actor=ctx.actor, token=token)
    document = link.model_dump(mode="json", include={"id", "model_name", "prefix", "revoked_at"})
    return document, f"revoked share link {link.id} ({link.prefix}…) to {link.model_name}"


def _password() -> str:
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise InvalidInput("--password-stdin read no password; pipe one in.")
    return password


def _line(link: ShareLinkPublic) -> str:
    ends = f"until {link.expires_at:%Y-%m-%d}" if link.expires_at else "no expiry"
    seen = f"last viewed {link.last_viewed_at:%Y-%m-%d %H:%M}" if link.last_viewed_at else ""
    return (
        f"{link.id}  {link.prefix}…  {link.model_name}  {link.access}  {link.state} ({ends}); "
        f"{link.views} views {seen}".rstrip()
    )
