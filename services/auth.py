"""Signing in: local accounts with argon2 password hashes and lockout, users from the OIDC
provider with roles mapped from a claim, and the first admin of a new installation."""

from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from services import audit
from services.access import Actor
from services.config import Settings
from services.errors import Forbidden, InvalidInput, SignInFailed
from services.models import Membership, Project, Role, User, UserPublic, utcnow

_hasher = PasswordHasher()
# Checked when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")
WRONG = "Wrong username or password."


def setup_needed(*, session: Session) -> bool:
    """True until the installation has an active admin (the first-run setup form shows)."""
    query = select(User.id).where(User.role == Role.admin, col(User.active).is_(True))
    return session.exec(query).first() is None


def create_first_admin(
    *, session: Session, settings: Settings, username: str, password: str
) -> UserPublic:
    """The one-time setup: refused once any admin exists."""
    if not setup_needed(session=session):
        raise Forbidden("This installation already has an admin; sign in instead.")
    created = create_local_user(
        session=session,
        settings=settings,
        by="setup",
        username=username,
        password=password,
        role=Role.admin,
    )
    admins = select(User.id).where(User.role == Role.admin, col(User.active).is_(True))
    if len(session.exec(admins).all()) > 1:  # two setup forms sent at once: the later loses
        for membership in session.exec(select(Membership).where(Membership.user_id == created.id)):
            session.delete(membership)
        session.delete(session.get(User, created.id))
        audit.record(
            session,
            actor="setup",
            action="user.remove",
            subject=created.username,
            reason="another admin was set up at the same moment",
        )
        session.commit()
        raise Forbidden("This installation already has an admin; sign in instead.")
    return created


def create_local_user(
    *, session: Session, settings: Settings, by: str, username: str, password: str, role: Role
) -> UserPublic:
    """A local account (callers check that `by` may create it)."""
    name = valid_username(username)
    check_password(settings, name, password)
    if session.exec(select(User).where(User.username == name)).first():
        raise InvalidInput(f"The username '{name}' is taken; choose another.")
    user = User(username=name, display_name=name, role=role, password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    _join_default_project(session, settings, user)
    audit.record(session, actor=by, action="user.create", subject=name, after={"role": role.value})
    session.commit()
    return UserPublic.model_validate(user.model_dump())


def sign_in(*, session: Session, settings: Settings, username: str, password: str) -> Actor:
    """The actor for a local username and password; counts failures and locks the account."""
    name = username.strip().lower()
    user = session.exec(select(User).where(User.username == name)).first()
    if user is None or user.provider != "local" or user.password_hash is None:
        _verify(_DUMMY_HASH, password)
        _failed(session, name, "unknown user")
        raise SignInFailed(WRONG)
    if not user.active:
        _failed(session, name, "disabled account")
        raise SignInFailed("This account is disabled; ask an admin.")
    now = utcnow()
    if user.locked_until and _aware(user.locked_until) > now:
        _failed(session, name, "locked account")
        minutes = max(1, round((_aware(user.locked_until) - now).total_seconds() / 60))
        raise SignInFailed(
            f"Too many wrong passwords: this account is locked for about {minutes} more "
            "minute(s). Try again later, or ask an admin to unlock it."
        )
    if not _verify(user.password_hash, password):
        raise SignInFailed(_wrong_password(session, settings, user))
    user.failed_sign_ins, user.locked_until, user.last_sign_in_at = 0, None, now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.add(user)
    audit.record(session, actor=name, action="sign_in", subject="local")
    session.commit()
    assert user.id is not None
    return Actor(username=user.username, role=user.role, user_id=user.id)


def sign_in_oidc(*, session: Session, settings: Settings, claims: dict[str, Any]) -> Actor:
    """The actor for a user the identity provider vouched for, found by issuer and subject
    (never by a name the user may choose at the provider), created on first sign-in."""
    external = f"{claims.get('iss', '')} {claims['sub']}"
    mapped = role_from_claims(settings, claims)
    user = session.exec(select(User).where(User.external_id == external)).first()
    if user is None:
        user = _new_oidc_user(session, settings, claims, external, mapped)
    elif not user.active:
        _failed(session, user.username, "disabled account")
        raise SignInFailed("This account is disabled; ask an admin.")
    elif settings.oidc_roles and (mapped or Role.viewer) is not user.role:
        # With a mapping, the provider's groups decide: leaving a group there demotes here.
        audit.record(
            session,
            actor=user.username,
            action="role.change",
            subject=user.username,
            before={"role": user.role.value},
            after={"role": (mapped or Role.viewer).value},
            reason=f"'{settings.oidc_role_claim}' claim at sign-in",
        )
        user.role = mapped or Role.viewer
    user.display_name = str(claims.get("name") or user.username)[:200]
    signed_at = _issued_at(claims)
    if user.last_sign_in_at is None or _aware(user.last_sign_in_at) != signed_at:
        # A new provider sign-in; a page reload with the same cookie is not one.
        audit.record(session, actor=user.username, action="sign_in", subject="oidc")
        user.last_sign_in_at = signed_at
    session.add(user)
    session.commit()
    assert user.id is not None
    return Actor(username=user.username, role=user.role, user_id=user.id)


def oidc_expired(settings: Settings, claims: dict[str, Any]) -> bool:
    """True when the provider vouched for these claims longer ago than the allowed age."""
    age = utcnow() - _issued_at(claims)
    return age > timedelta(hours=settings.oidc_max_age_hours)


def sign_out(*, session: Session, actor: Actor) -> None:
    """Records the sign-out (the front end forgets the session)."""
    audit.record(session, actor=actor.username, action="sign_out")
    session.commit()


def role_from_claims(settings: Settings, claims: dict[str, Any]) -> Role | None:
    """The highest role the claim's groups map to; None if none of them is mapped."""
    value = claims.get(settings.oidc_role_claim) or []
    groups = [value] if isinstance(value, str) else list(value)
    roles = [Role(settings.oidc_roles[g]) for g in groups if g in settings.oidc_roles]
    return max(roles, key=list(Role).index) if roles else None


def _new_oidc_user(
    session: Session, settings: Settings, claims: dict[str, Any], external: str, role: Role | None
) -> User:
    # An email counts only when the provider verified it.
    email = claims.get("email") if claims.get("email_verified", True) is not False else None
    name = str(email or claims.get("preferred_username") or claims["sub"]).lower()[:200]
    if session.exec(select(User).where(User.username == name)).first() is not None:
        _failed(session, name, "name of another account")
        raise SignInFailed(
            f"'{name}' is already the name of another account here, so this sign-in was "
            "refused. An admin must rename or remove that account first."
        )
    user = User(
        username=name, email=email, provider="oidc", external_id=external, role=role or Role.viewer
    )
    session.add(user)
    session.flush()
    _join_default_project(session, settings, user)
    audit.record(
        session,
        actor=name,
        action="user.create",
        subject=name,
        after={"role": user.role.value, "provider": "oidc"},
    )
    return user


def _issued_at(claims: dict[str, Any]) -> datetime:
    issued = claims.get("iat")
    return datetime.fromtimestamp(float(issued), UTC) if issued is not None else utcnow()


def valid_username(username: str) -> str:
    name = username.strip().lower()
    if not 2 <= len(name) <= 100 or not all(c.isalnum() or c in "._-@" for c in name):
        raise InvalidInput("A username has 2 to 100 characters: letters, digits and . _ - @ only.")
    return name


def check_password(settings: Settings, username: str, password: str) -> None:
    if len(password) < settings.min_password_length:
        raise InvalidInput(
            f"The password is too short: use at least {settings.min_password_length} characters."
        )
    if username in password.lower():
        raise InvalidInput("The password must not contain the username.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(hashed: str, password: str) -> bool:
    """True if `password` is the one `hashed` was made from."""
    return _verify(hashed, password)


def _wrong_password(session: Session, settings: Settings, user: User) -> str:
    user.failed_sign_ins += 1
    message = WRONG
    if user.failed_sign_ins >= settings.max_failed_sign_ins:
        user.failed_sign_ins = 0
        user.locked_until = utcnow() + timedelta(minutes=settings.lockout_minutes)
        message = (
            f"{WRONG} After {settings.max_failed_sign_ins} wrong passwords in a row the account "
            f"is locked for {settings.lockout_minutes:g} minutes."
        )
        audit.record(session, actor=user.username, action="user.locked", subject=user.username)
    session.add(user)
    _failed(session, user.username, "wrong password")
    return message


def _failed(session: Session, name: str, why: str) -> None:
    audit.record(session, actor=name[:200] or "?", action="sign_in.failed", reason=why)
    session.commit()


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _join_default_project(session: Session, settings: Settings, user: User) -> None:
    if not settings.new_user_project or user.id is None:
        return
    project = session.exec(select(Project).where(Project.name == settings.new_user_project)).first()
    if project is not None and project.id is not None:
        session.add(Membership(user_id=user.id, project_id=project.id))


def _aware(moment: Any) -> Any:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
