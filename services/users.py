"""Admin work on accounts: list, create, change roles, disable, unlock; every change audited."""

from sqlmodel import Session, col, select

from services import audit, auth
from services.access import Action, Actor, require
from services.config import Settings
from services.errors import InvalidInput, NotFound
from services.models import Role, User, UserPublic


def list_users(*, session: Session, actor: Actor) -> list[UserPublic]:
    require(session, actor, Action.manage_users)
    users = session.exec(select(User).order_by(col(User.username)))
    return [UserPublic.model_validate(u.model_dump()) for u in users]


def create_user(
    *, session: Session, settings: Settings, actor: Actor, username: str, password: str, role: Role
) -> UserPublic:
    """A local account made by an admin (or the operator at the command line)."""
    admin = require(session, actor, Action.manage_users)
    return auth.create_local_user(
        session=session,
        settings=settings,
        by=admin.username,
        username=username,
        password=password,
        role=role,
    )


def set_role(
    *, session: Session, actor: Actor, user_id: int, role: Role, reason: str | None = None
) -> UserPublic:
    """Changes a user's role; the last active admin cannot be demoted."""
    admin = require(session, actor, Action.manage_users)
    user = _user(session, user_id)
    if user.role is Role.admin and role is not Role.admin:
        _keep_an_admin(session, user)
    before = user.role
    user.role = role
    session.add(user)
    audit.record(
        session,
        actor=admin.username,
        action="role.change",
        subject=user.username,
        before={"role": before.value},
        after={"role": role.value},
        reason=reason,
    )
    session.commit()
    return UserPublic.model_validate(user.model_dump())


def set_active(*, session: Session, actor: Actor, user_id: int, active: bool) -> UserPublic:
    """Disables an account (it loses access at once) or enables it again."""
    admin = require(session, actor, Action.manage_users)
    user = _user(session, user_id)
    if not active and user.role is Role.admin:
        _keep_an_admin(session, user)
    user.active = active
    session.add(user)
    audit.record(
        session,
        actor=admin.username,
        action="user.enable" if active else "user.disable",
        subject=user.username,
    )
    session.commit()
    return UserPublic.model_validate(user.model_dump())


def unlock(*, session: Session, actor: Actor, user_id: int) -> UserPublic:
    admin = require(session, actor, Action.manage_users)
    user = _user(session, user_id)
    user.failed_sign_ins, user.locked_until = 0, None
    session.add(user)
    audit.record(session, actor=admin.username, action="user.unlock", subject=user.username)
    session.commit()
    return UserPublic.model_validate(user.model_dump())


def set_password(
    *, session: Session, settings: Settings, actor: Actor, user_id: int, password: str
) -> None:
    """A new password for a local account, set by an admin."""
    admin = require(session, actor, Action.manage_users)
    user = _user(session, user_id)
    if user.provider != "local":
        raise InvalidInput(f"'{user.username}' signs in through the identity provider.")
    auth.check_password(settings, user.username, password)
    user.password_hash = auth.hash_password(password)
    user.failed_sign_ins, user.locked_until = 0, None
    session.add(user)
    audit.record(session, actor=admin.username, action="user.password", subject=user.username)
    session.commit()


def user_by_name(*, session: Session, actor: Actor, username: str) -> UserPublic:
    require(session, actor, Action.manage_users)
    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    if user is None:
        raise NotFound(f"There is no user named '{username}'.")
    return UserPublic.model_validate(user.model_dump())


def _keep_an_admin(session: Session, leaving: User) -> None:
    others = select(User.id).where(
        User.role == Role.admin, col(User.active).is_(True), User.id != leaving.id
    )
    if session.exec(others).first() is None:
        raise InvalidInput(
            f"'{leaving.username}' is the only active admin; make someone else admin first."
        )


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user with id {user_id}.")
    return user
