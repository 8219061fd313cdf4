"""API keys of the REST API: made by admins and shown once, kept as SHA-256 hashes, scoped to
models, revocable, audited; and the hashes a container checks without a database."""

import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from services import audit
from services.access import Action, Actor, require
from services.errors import InvalidInput, NotFound
from services.models import utcnow
from services.serving_models import ApiKey, ApiKeyPublic

__all__ = [
    "ApiKeyPublic",
    "StoredKey",
    "create_key",
    "export_keys",
    "key_allows",
    "keys_from_file",
    "list_keys",
    "revoke_key",
    "verify_key",
    "verify_key_in",
]

KEY_MARK = "kz_"  # starts every secret: a Kaizen key stands out in logs and to scanners
PREFIX_LENGTH = 8  # of the secret, shown to tell keys apart
MAX_SECRET_LENGTH = 200  # anything longer is not one of ours: no hashing of huge headers
USE_RECORDED_EVERY = timedelta(minutes=1)  # last_used_at: one write a minute, not per request


class StoredKey(BaseModel):
    """A key as a bundle carries it for a container: its hash, never its secret."""

    id: int
    name: str
    prefix: str
    sha256: str
    models: list[str] | None
    admin: bool
    created_by: str
    created_at: datetime

    def public(self) -> ApiKeyPublic:
        return ApiKeyPublic.model_validate(self.model_dump(exclude={"sha256"}))


def create_key(
    *, session: Session, actor: Actor, name: str, models: list[str] | None, admin: bool = False
) -> tuple[ApiKeyPublic, str]:
    """A new key for `models` (None: every model); returns it and its secret, shown once."""
    who = require(session, actor, Action.manage_api_keys)
    label = " ".join(name.split())
    if not label or len(label) > 200:
        raise InvalidInput("Give the key a name of 1 to 200 characters, e.g. who will use it.")
    scope = _scope(models)
    secret = KEY_MARK + secrets.token_urlsafe(32)
    key = ApiKey(
        name=label,
        prefix=secret[:PREFIX_LENGTH],
        models=scope,
        admin=admin,
        created_by=who.username,
        sha256=_digest(secret),
    )
    session.add(key)
    session.flush()  # its id goes into the audit log
    public = ApiKeyPublic.model_validate(key.model_dump())
    audit.record(
        session,
        actor=who.username,
        action="api_key.created",
        subject=f"api key {key.id} ({label})",
        after=public.model_dump(mode="json", include={"id", "name", "prefix", "models", "admin"}),
    )
    session.commit()
    return public, secret


def list_keys(*, session: Session, actor: Actor) -> list[ApiKeyPublic]:
    """Every key, newest first, revoked ones included (admins)."""
    require(session, actor, Action.manage_api_keys)
    query = select(ApiKey).order_by(col(ApiKey.id).desc())
    return [ApiKeyPublic.model_validate(k.model_dump()) for k in session.exec(query)]


def revoke_key(*, session: Session, actor: Actor, key_id: int) -> ApiKeyPublic:
    """Revokes a key at once for `kaizen serve` (a container learns it when re-published)."""
    who = require(session, actor, Action.manage_api_keys)
    key = session.get(ApiKey, key_id, populate_existing=True)
    if key is None:
        raise NotFound(f"There is no API key with id {key_id}. List the keys to see the ids.")
    if key.revoked_at is not None:
        raise InvalidInput(f"API key {key_id} ({key.name}) is already revoked.")
    key.revoked_at, key.revoked_by = utcnow(), who.username
    session.add(key)
    audit.record(
        session,
        actor=who.username,
        action="api_key.revoked",
        subject=f"api key {key_id} ({key.name})",
        before={"revoked": False},
        after={"revoked": True, "prefix": key.prefix},
    )
    session.commit()
    return ApiKeyPublic.model_validate(key.model_dump())


def verify_key(session: Session, secret: str) -> ApiKeyPublic | None:
    """The live key whose secret this is, or None (unknown or revoked); unchecked (the
    server's own lookup)."""
    if not _plausible(secret):
        return None
    digest = _digest(secret)
    key = session.exec(
        select(ApiKey).where(ApiKey.sha256 == digest).execution_options(populate_existing=True)
    ).first()
    # The lookup is by hash; comparing again in constant time costs nothing and leaks nothing.
    if key is None or key.revoked_at is not None or not hmac.compare_digest(key.sha256, digest):
        return None
    public = ApiKeyPublic.model_validate(key.model_dump())
    return public.model_copy(update={"last_used_at": _record_use(session, key)})


def key_allows(key: ApiKeyPublic, model_name: str) -> bool:
    """True if the live `key` may call `model_name`."""
    return key.revoked_at is None and (key.models is None or model_name in key.models)


def export_keys(*, session: Session, actor: Actor, model_name: str) -> list[dict[str, Any]]:
    """The live keys that may call `model_name`, as a bundle carries them (hashes only)."""
    require(session, actor, Action.publish)
    query = select(ApiKey).where(col(ApiKey.revoked_at).is_(None)).order_by(col(ApiKey.id))
    return [
        StoredKey.model_validate(key.model_dump()).model_dump(mode="json")
        for key in session.exec(query)
        if key.models is None or model_name in key.models
    ]


def keys_from_file(path: Path) -> list[StoredKey]:
    """The keys a bundle carries; none if it has no key file."""
    if not path.is_file():
        return []
    try:
        return [StoredKey.model_validate(item) for item in json.loads(path.read_text())]
    except (ValueError, TypeError, ValidationError):
        raise InvalidInput(
            f"{path} is not a key file written by `kaizen publish`; publish the model again."
        ) from None


def verify_key_in(keys: list[StoredKey], secret: str) -> ApiKeyPublic | None:
    """The key among `keys` whose secret this is, or None; every hash is compared in
    constant time, so the time taken tells nothing of which came close."""
    if not _plausible(secret):
        return None
    digest = _digest(secret)
    found = None
    for key in keys:
        if hmac.compare_digest(key.sha256, digest):
            found = key
    return found.public() if found is not None else None


def _scope(models: list[str] | None) -> list[str] | None:
    if models is None:
        return None
    names = sorted({m.strip() for m in models if m.strip()})
    if not names:
        raise InvalidInput("Name at least one model for the key, or none for every model.")
    return names


def _record_use(session: Session, key: ApiKey) -> datetime | None:
    """Sets last_used_at if it is a minute old (the condition holds across processes)."""
    now = utcnow()
    last = key.last_used_at
    if last is not None and now - last < USE_RECORDED_EVERY:
        return last
    session.exec(
        update(ApiKey)
        .where(
            col(ApiKey.id) == key.id,
            or_(
                col(ApiKey.last_used_at).is_(None),
                col(ApiKey.last_used_at) < now - USE_RECORDED_EVERY,
            ),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return now


def _plausible(secret: str) -> bool:
    return secret.startswith(KEY_MARK) and len(secret) <= MAX_SECRET_LENGTH


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
