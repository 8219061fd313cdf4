"""Who may do what: the caller every service is given, the role each action needs, and the
projects a caller can see. Checked in services, whichever page or command calls them."""

import getpass
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, col, select

from services.errors import Forbidden
from services.models import Membership, Role, User


@dataclass(frozen=True)
class Actor:
    """The person a service acts for; `user_id` None is the local operator at the command line."""

    username: str
    role: Role
    user_id: int | None = None


def operator() -> Actor:
    """Whoever runs `kaizen` on this machine: an admin of the configured installation."""
    return Actor(username=getpass.getuser(), role=Role.admin)


class Action(StrEnum):
    view = "view"  # datasets, profiles, leaderboards and jobs of one's projects
    upload = "upload"
    edit_dataset = "edit_dataset"
    delete_dataset = "delete_dataset"
    profile = "profile"  # start a full report
    train = "train"
    explain = "explain"  # compute a model's insights (read-only, bounded, kept once per model)
    cancel_job = "cancel_job"
    view_all_jobs = "view_all_jobs"
    manage_users = "manage_users"
    manage_projects = "manage_projects"
    read_audit = "read_audit"
    view_models = "view_models"  # the registry: models, versions, aliases, their history
    request_promotion = "request_promotion"
    decide_promotion = "decide_promotion"  # approve or reject someone's request
    promote = "promote"  # move an alias at once, or roll it back
    publish = "publish"  # serve a version of one's project's model as a REST API
    manage_api_keys = "manage_api_keys"  # create, list and revoke the REST API's keys
    share = "share"  # make share links to a published model's demo; revoke one's own
    manage_share_links = "manage_share_links"  # see and revoke everyone's share links


NEEDS: dict[Action, Role] = {
    Action.view: Role.viewer,
    Action.upload: Role.analyst,
    Action.edit_dataset: Role.analyst,
    Action.delete_dataset: Role.analyst,
    Action.profile: Role.analyst,
    Action.train: Role.analyst,
    Action.explain: Role.viewer,
    Action.cancel_job: Role.analyst,
    Action.view_all_jobs: Role.admin,
    Action.manage_users: Role.admin,
    Action.manage_projects: Role.admin,
    Action.read_audit: Role.admin,
    Action.view_models: Role.viewer,
    Action.request_promotion: Role.analyst,
    Action.decide_promotion: Role.admin,
    Action.promote: Role.admin,
    Action.publish: Role.analyst,
    Action.manage_api_keys: Role.admin,
    Action.share: Role.analyst,
    Action.manage_share_links: Role.admin,
}

_PHRASES = {
    Action.view: "see this",
    Action.upload: "add datasets",
    Action.edit_dataset: "change datasets",
    Action.delete_dataset: "delete datasets",
    Action.profile: "start profiling reports",
    Action.train: "train models",
    Action.explain: "compute model insights",
    Action.cancel_job: "cancel jobs",
    Action.view_all_jobs: "see every project's jobs",
    Action.manage_users: "manage users",
    Action.manage_projects: "manage projects",
    Action.read_audit: "read the audit log",
    Action.view_models: "see the model registry",
    Action.request_promotion: "request promotions",
    Action.decide_promotion: "approve or reject promotions",
    Action.promote: "move model aliases",
    Action.publish: "publish models",
    Action.manage_api_keys: "manage API keys",
    Action.share: "share demos",
    Action.manage_share_links: "manage everyone's share links",
}


def require(session: Session, actor: Actor, action: Action) -> Actor:
    """The actor as the database knows them now, if their role allows `action`; a revoked
    role or a disabled account loses its power at once."""
    current = current_actor(session, actor)
    needed = NEEDS[action]
    if not current.role.at_least(needed):
        raise Forbidden(
            f"Your role ({current.role.value}) cannot {_PHRASES[action]}; that needs "
            f"{needed.value}. Ask an admin if you need it."
        )
    return current


def current_actor(session: Session, actor: Actor) -> Actor:
    """`actor` with the role stored now (the operator is taken as given)."""
    if actor.user_id is None:
        return actor
    user = session.get(User, actor.user_id)
    if user is None or not user.active:
        raise Forbidden("Your account is disabled or was removed; ask an admin.")
    return Actor(username=user.username, role=user.role, user_id=actor.user_id)


def visible_projects(session: Session, actor: Actor) -> list[int] | None:
    """The ids of the projects `actor` may see; None means all of them (admins)."""
    current = current_actor(session, actor)
    if current.role is Role.admin:
        return None
    query = select(Membership.project_id).where(Membership.user_id == current.user_id)
    return list(session.exec(query))


def can_see(session: Session, actor: Actor, project_id: int | None) -> bool:
    """True if `actor` may see things of `project_id` (things of no project: admins only)."""
    visible = visible_projects(session, actor)
    return visible is None or (project_id is not None and project_id in visible)


def members(session: Session, project_id: int) -> list[int]:
    """The user ids of a project's members."""
    query = select(Membership.user_id).where(col(Membership.project_id) == project_id)
    return list(session.exec(query))


def as_params(actor: Actor) -> dict[str, object]:
    """The actor as a job's parameters carry it: the job acts for them, checked again."""
    return {"username": actor.username, "role": actor.role.value, "user_id": actor.user_id}


def from_params(values: dict[str, object]) -> Actor:
    user_id = values.get("user_id")
    return Actor(
        username=str(values["username"]),
        role=Role(str(values["role"])),
        user_id=int(str(user_id)) if user_id is not None else None,
    )
