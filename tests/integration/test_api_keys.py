"""API keys on a real database: the secret is shown once and stored nowhere (only its SHA-256),
verified in constant time, scoped to models, revoked at once, audited, managed by admins only;
and the hashes a bundle carries verify the same secrets without a database."""

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from services import audit
from services.config import Settings
from services.errors import Forbidden, InvalidInput, NotFound
from services.models import Role, utcnow
from services.serving import keys
from services.serving_models import ApiKey
from tests.support.actors import OPERATOR, PROJECT
from tests.support.registry import person


def _every_stored_text(engine: Engine) -> str:
    """Every value of every table, as text."""
    found = []
    with engine.connect() as connection:
        tables = connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        for (table,) in list(tables):
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                found += [str(value) for value in row]
    return "\n".join(found)


def test_the_secret_is_shown_once_and_only_its_hash_is_stored(
    session: Session, engine: Engine, settings: Settings
) -> None:
    key, secret = keys.create_key(
        session=session, actor=OPERATOR, name="  churn   dashboard ", models=None
    )
    assert secret.startswith("kz_") and len(secret) >= 40
    assert (key.name, key.prefix, key.models, key.admin) == (
        "churn dashboard",
        secret[:8],
        None,
        False,
    )
    assert key.created_by == "tester" and key.revoked_at is None and key.last_used_at is None
    stored = session.get(ApiKey, key.id)
    assert stored is not None and stored.sha256 == hashlib.sha256(secret.encode()).hexdigest()

    everything = _every_stored_text(engine)
    assert stored.sha256 in everything and secret not in everything and secret[8:] not in everything
    engine.dispose()  # the WAL checkpointed: the database files hold everything written
    for path in settings.home.glob("kaizen.db*"):
        assert secret.encode() not in path.read_bytes()
    listed = keys.list_keys(session=session, actor=OPERATOR)
    assert [k.id for k in listed] == [key.id] and "sha256" not in listed[0].model_dump()


def test_a_key_is_verified_by_its_exact_secret_only(session: Session) -> None:
    key, secret = keys.create_key(session=session, actor=OPERATOR, name="app", models=["churn"])
    found = keys.verify_key(session, secret)
    assert found is not None and found.id == key.id and found.models == ["churn"]
    altered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for wrong in (altered, secret + "x", secret[:-1], "", "Bearer " + secret, secret.upper()):
        assert keys.verify_key(session, wrong) is None
    assert keys.verify_key(session, "kz_" + "x" * 5000) is None  # not even hashed


def test_a_revoked_key_stops_at_once_and_both_steps_are_audited(session: Session) -> None:
    key, secret = keys.create_key(session=session, actor=OPERATOR, name="old app", models=None)
    revoked = keys.revoke_key(session=session, actor=OPERATOR, key_id=key.id)
    assert revoked.revoked_at is not None
    assert keys.verify_key(session, secret) is None
    assert not keys.key_allows(revoked, "anything")
    with pytest.raises(InvalidInput, match="already revoked"):
        keys.revoke_key(session=session, actor=OPERATOR, key_id=key.id)
    with pytest.raises(NotFound, match="no API key with id 999"):
        keys.revoke_key(session=session, actor=OPERATOR, key_id=999)

    events = audit.list_events(session=session, actor=OPERATOR)
    assert [(e.action, e.actor) for e in events[:2]] == [
        ("api_key.revoked", "tester"),
        ("api_key.created", "tester"),
    ]
    assert events[1].after == {
        "id": key.id,
        "name": "old app",
        "prefix": key.prefix,
        "models": None,
        "admin": False,
    }
    assert secret not in json.dumps([e.model_dump(mode="json") for e in events])


def test_a_key_calls_only_the_models_it_names(session: Session) -> None:
    scoped, _ = keys.create_key(
        session=session, actor=OPERATOR, name="one", models=["churn", " churn", "spend "]
    )
    every, _ = keys.create_key(session=session, actor=OPERATOR, name="all", models=None)
    assert scoped.models == ["churn", "spend"]
    assert keys.key_allows(scoped, "churn") and keys.key_allows(scoped, "spend")
    assert not keys.key_allows(scoped, "churn-v2") and not keys.key_allows(scoped, "other")
    assert keys.key_allows(every, "other")
    with pytest.raises(InvalidInput, match="at least one model"):
        keys.create_key(session=session, actor=OPERATOR, name="none", models=[" "])
    with pytest.raises(InvalidInput, match="name of 1 to 200"):
        keys.create_key(session=session, actor=OPERATOR, name="  ", models=None)


def test_last_use_is_written_at_most_once_a_minute(session: Session) -> None:
    key, secret = keys.create_key(session=session, actor=OPERATOR, name="app", models=None)
    first = keys.verify_key(session, secret)
    assert first is not None and first.last_used_at is not None
    again = keys.verify_key(session, secret)
    assert again is not None and again.last_used_at == first.last_used_at
    earlier = utcnow() - timedelta(minutes=2)
    session.exec(update(ApiKey).where(col(ApiKey.id) == key.id).values(last_used_at=earlier))
    session.commit()
    later = keys.verify_key(session, secret)
    assert later is not None and later.last_used_at is not None and later.last_used_at > earlier
    assert keys.list_keys(session=session, actor=OPERATOR)[0].last_used_at == later.last_used_at


def test_only_admins_manage_keys(session: Session) -> None:
    ana = person(session, "ana", Role.analyst, PROJECT)
    vic = person(session, "vic", Role.viewer, PROJECT)
    key, _ = keys.create_key(session=session, actor=OPERATOR, name="app", models=None)
    for who in (ana, vic):
        with pytest.raises(Forbidden, match="manage API keys"):
            keys.create_key(session=session, actor=who, name="mine", models=None)
        with pytest.raises(Forbidden):
            keys.list_keys(session=session, actor=who)
        with pytest.raises(Forbidden):
            keys.revoke_key(session=session, actor=who, key_id=key.id)
    with pytest.raises(Forbidden, match="publish"):  # exporting hashes is part of publishing
        keys.export_keys(session=session, actor=vic, model_name="churn")
    assert len(keys.export_keys(session=session, actor=ana, model_name="churn")) == 1


def test_a_bundle_key_file_verifies_the_same_secrets_without_a_database(
    session: Session, tmp_path: Path
) -> None:
    churn, churn_secret = keys.create_key(
        session=session, actor=OPERATOR, name="churn only", models=["churn"]
    )
    every, every_secret = keys.create_key(
        session=session, actor=OPERATOR, name="all", models=None, admin=True
    )
    _, other_secret = keys.create_key(session=session, actor=OPERATOR, name="x", models=["x"])
    gone, gone_secret = keys.create_key(session=session, actor=OPERATOR, name="gone", models=None)
    keys.revoke_key(session=session, actor=OPERATOR, key_id=gone.id)

    exported = keys.export_keys(session=session, actor=OPERATOR, model_name="churn")
    assert [k["id"] for k in exported] == [churn.id, every.id]
    assert set(exported[0]) == {
        "id",
        "name",
        "prefix",
        "sha256",
        "models",
        "admin",
        "created_by",
        "created_at",
    }
    path = tmp_path / "api_keys.json"
    path.write_text(json.dumps(exported))
    for secret in (churn_secret, every_secret, other_secret, gone_secret):
        assert secret not in path.read_text()

    stored = keys.keys_from_file(path)
    found = keys.verify_key_in(stored, churn_secret)
    assert found is not None and found.id == churn.id and found.models == ["churn"]
    admin = keys.verify_key_in(stored, every_secret)
    assert admin is not None and admin.admin and keys.key_allows(admin, "churn")
    assert keys.verify_key_in(stored, other_secret) is None
    assert keys.verify_key_in(stored, gone_secret) is None
    assert keys.verify_key_in(stored, churn_secret[:-1]) is None

    assert keys.keys_from_file(tmp_path / "missing.json") == []
    path.write_text('{"not": "a list"}')
    with pytest.raises(InvalidInput, match="not a key file"):
        keys.keys_from_file(path)
