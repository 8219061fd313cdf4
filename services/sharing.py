"""Share links to published models' demos: made by analysts for a published model they can see,
with an unguessable token shown once (only its hash is kept), an expiry (unless its creator says
none), and optionally a password or a Kaizen sign-in; listed and revoked by their creator and by
admins; creations and revocations audited. `kaizen serve` opens them (services.serving.share_gate)
with the unchecked lookups at the end of this module."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, get_args

from sqlalchemy import update
from sqlmodel import Session, col, select

from services import audit
from services.access import Action, Actor, can_see, require
from services.auth import hash_password, password_matches
from services.config import Settings
from services.errors import InvalidInput, NotFound
from services.models import Role, utcnow
from services.serving import share_passes
from services.serving_models import Publication, ShareAccess, ShareLink, ShareLinkPublic

TOKEN_BYTES = 24  # 192 bits: the token is the link's only secret when anyone may open it
PREFIX_LENGTH = 6
MAX_TOKEN_LENGTH = 100  # anything longer is not one of ours: no hashing of huge paths
MIN_PASSWORD_LENGTH = 8
MAX_DAYS = 365


@dataclass(frozen=True)
class NewLink:
    """A link just made: its token and URL are shown this once."""

    link: ShareLinkPublic
    token: str
    url: str


def create_link(
    *,
    session: Session,
    settings: Settings,
    actor: Actor,
    name: str,
    expires_days: float | None,
    access: ShareAccess = "anyone",
    password: str | None = None,
    note: str | None = None,
) -> NewLink:
    """A share link to the demo of the published model `name`; `expires_days` None: no expiry."""
    who = require(session, actor, Action.share)
    published = session.exec(select(Publication).where(Publication.model_name == name)).first()
    if published is None or not can_see(session, who, published.project_id):
        raise NotFound(
            f"{name} is not published (or not in a project you can see). Publish it first; "
            "its demo is shared from the Publish page."
        )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ShareLink(
        model_name=name,
        project_id=published.project_id,
        prefix=token[:PREFIX_LENGTH],
        access=_access(access),
        note=_note(note),
        created_by=who.username,
        expires_at=_expiry(expires_days),
        sha256=_digest(token),
        password_hash=_password_hash(access, password),
    )
    session.add(link)
    session.flush()  # its id goes into the audit log
    public = _public(link)
    audit.record(
        session,
        actor=who.username,
        action="share_link.created",
        subject=_subject(link),
        after=public.model_dump(mode="json", include={"id", "prefix", "access", "expires_at"}),
    )
    session.commit()
    return NewLink(public, token, link_url(settings, token))


def list_links(*, session: Session, actor: Actor, name: str | None = None) -> list[ShareLinkPublic]:
    """Share links, newest first: an admin's view is everyone's, others see their own."""
    who = require(session, actor, Action.share)
    query = select(ShareLink).order_by(col(ShareLink.id).desc())
    if name is not None:
        query = query.where(ShareLink.model_name == name)
    if not who.role.at_least(Role.admin):
        query = query.where(ShareLink.created_by == who.username)
    return [_public(link) for link in session.exec(query.execution_options(populate_existing=True))]


def revoke_link(
    *, session: Session, actor: Actor, link_id: int | None = None, token: str | None = None
) -> ShareLinkPublic:
    """Stops a link (by id, or by its token): its creator or an admin; audited."""
    who = require(session, actor, Action.share)
    link = _by_id(session, link_id) if link_id is not None else _by_token(session, token or "")
    may = link is not None and (link.created_by == who.username or who.role.at_least(Role.admin))
    if link is None or not may:
        shown = f"id {link_id}" if link_id is not None else "that token"
        raise NotFound(f"There is no share link with {shown} that you may revoke.")
    if link.revoked_at is not None:
        raise InvalidInput(f"Share link {link.id} ({link.prefix}…) is already revoked.")
    link.revoked_at, link.revoked_by = utcnow(), who.username
    session.add(link)
    audit.record(
        session,
        actor=who.username,
        action="share_link.revoked",
        subject=_subject(link),
        before={"revoked": False, "views": link.views},
        after={"revoked": True, "prefix": link.prefix},
    )
    revoked = _public(link)  # before the commit expires the record's attributes
    session.commit()
    return revoked


def sign_in_pass(*, session: Session, settings: Settings, actor: Actor, token: str) -> str:
    """For a signed-in person opening a link that asks for a Kaizen sign-in: the link's URL
    with a short-lived pass that lets this browser in."""
    require(session, actor, Action.view)
    link = _by_token(session, token)
    if link is None or link.id is None or state_of(link) != "active":
        raise NotFound("This share link does not exist, expired or was revoked.")
    grant = share_passes.sign_in_pass(settings, link.id)
    return f"{link_url(settings, token)}?pass={grant}"


def link_url(settings: Settings, token: str) -> str:
    """Where a link is opened: `kaizen serve`'s public address and /s/<token>."""
    return f"{settings.serve_url.rstrip('/')}/s/{token}"


def state_of(link: ShareLink | ShareLinkPublic, now: datetime | None = None) -> str:
    """active, expired or revoked."""
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at is not None and link.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


# The server's own lookups: unchecked, by the token it was given or the id it signed.


def find_link(session: Session, token: str) -> ShareLinkPublic | None:
    """The link with this token (in any state), or None."""
    found = _by_token(session, token)
    return _public(found) if found is not None else None


def link_by_id(session: Session, link_id: int) -> ShareLinkPublic | None:
    """The link with this id (in any state), or None."""
    found = _by_id(session, link_id)
    return _public(found) if found is not None else None


def count_view(session: Session, link_id: int) -> None:
    """One more view, now (one UPDATE: views opened at once are all counted)."""
    session.exec(
        update(ShareLink)
        .where(col(ShareLink.id) == link_id)
        .values(views=ShareLink.views + 1, last_viewed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()


def password_opens(session: Session, link_id: int, password: str) -> bool:
    """True if `password` is the link's."""
    link = _by_id(session, link_id)
    hashed = link.password_hash if link is not None else None
    return hashed is not None and password_matches(hashed, password)


def _by_token(session: Session, token: str) -> ShareLink | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    digest = _digest(token)
    query = select(ShareLink).where(ShareLink.sha256 == digest)
    link = session.exec(query.execution_options(populate_existing=True)).first()
    # Found by hash; comparing again in constant time costs nothing and leaks nothing.
    return link if link is not None and hmac.compare_digest(link.sha256, digest) else None


def _by_id(session: Session, link_id: int) -> ShareLink | None:
    return session.get(ShareLink, link_id, populate_existing=True)


def _access(access: str) -> str:
    if access not in get_args(ShareAccess):
        choices = ", ".join(get_args(ShareAccess))
        raise InvalidInput(f"'{access}' is not a kind of access; choose one of {choices}.")
    return access


def _password_hash(access: str, password: str | None) -> str | None:
    if access != "password":
        return None
    if not password or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Give the link a password of at least {MIN_PASSWORD_LENGTH} characters, "
            "or choose another kind of access."
        )
    return hash_password(password)


def _expiry(days: float | None) -> datetime | None:
    if days is None:
        return None
    if not 0 < days <= MAX_DAYS:
        raise InvalidInput(f"A link lasts more than 0 and at most {MAX_DAYS} days; got {days:g}.")
    return utcnow() + timedelta(days=days)


def _note(note: str | None) -> str | None:
    cleaned = " ".join((note or "").split())
    if len(cleaned) > 200:
        raise InvalidInput("Keep the note to 200 characters.")
    return cleaned or None


def _public(link: ShareLink) -> ShareLinkPublic:
    fields: dict[str, Any] = link.model_dump(exclude={"sha256", "password_hash"})
    return ShareLinkPublic.model_validate(fields | {"state": state_of(link)})


def _subject(link: ShareLink) -> str:
    return f"share link {link.id} ({link.prefix}…) to {link.model_name}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
