"""Share links on a real database: an unguessable token shown once (only its hash kept), expiry,
password and sign-in access, who may make, list and revoke them, the audit trail, the view counter,
the signed passes; and `kaizen share` on the command line."""

import hashlib
import io
import json
import sys
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import audit, projects, sharing
from services.access import Actor
from services.cli import main
from services.config import Settings
from services.errors import Forbidden, InvalidInput, NotFound
from services.models import Role, utcnow
from services.serving import share_passes
from services.serving_models import Publication, ShareLink
from tests.support.actors import OPERATOR, PROJECT
from tests.support.registry import person

MODEL = "churn-model"


def _publish(session: Session, name: str = MODEL, project_id: int = PROJECT) -> None:
    """A publication record (what a share link needs; serving it is tested elsewhere)."""
    session.add(
        Publication(
            model_name=name,
            version=1,
            project_id=project_id,
            sha256="0" * 64,
            model_uri="models:/x/1",
            bundle_dir="/nowhere",
            created_by="tester",
        )
    )
    session.commit()


def _link(
    session: Session, settings: Settings, actor: Actor = OPERATOR, **options: object
) -> sharing.NewLink:
    options.setdefault("expires_days", 7)
    return sharing.create_link(
        session=session, settings=settings, actor=actor, name=MODEL, **options
    )  # type: ignore[arg-type]


def test_the_token_is_unguessable_shown_once_and_only_its_hash_kept(
    session: Session, engine: Engine, settings: Settings
) -> None:
    _publish(session)
    made = _link(session, settings, note="  for the  sales team ")
    assert len(made.token) >= 32  # 24 random bytes: 192 bits
    assert made.url == f"{settings.serve_url}/s/{made.token}"
    link = made.link
    assert (link.model_name, link.access, link.note, link.state, link.views) == (
        MODEL,
        "anyone",
        "for the sales team",
        "active",
        0,
    )
    assert link.prefix == made.token[:6] and link.project_id == PROJECT
    assert link.expires_at is not None
    assert abs((link.expires_at - utcnow()) - timedelta(days=7)) < timedelta(minutes=1)
    stored = session.get(ShareLink, link.id)
    assert stored is not None and stored.sha256 == hashlib.sha256(made.token.encode()).hexdigest()
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM sharelink")).all()
    assert made.token not in " ".join(str(v) for v in rows[0])
    assert "sha256" not in link.model_dump() and "password_hash" not in link.model_dump()
    assert sharing.find_link(session, made.token) == link
    assert sharing.find_link(session, made.token + "x") is None
    assert sharing.find_link(session, "x" * 5000) is None
    assert _link(session, settings).token != made.token


def test_expiry_none_or_bounded_and_the_state_follows_the_clock(
    session: Session, settings: Settings
) -> None:
    _publish(session)
    assert _link(session, settings, expires_days=None).link.expires_at is None
    for bad in (0, -1, 366):
        with pytest.raises(InvalidInput, match="at most 365 days"):
            _link(session, settings, expires_days=bad)
    short = _link(session, settings, expires_days=1).link
    assert sharing.state_of(short, utcnow() + timedelta(days=2)) == "expired"
    stored = session.get(ShareLink, short.id)
    assert stored is not None
    stored.expires_at = utcnow() - timedelta(seconds=1)
    session.add(stored)
    session.commit()
    assert sharing.link_by_id(session, short.id).state == "expired"  # type: ignore[union-attr]


def test_password_links_keep_a_hash_and_only_the_password_opens_them(
    session: Session, settings: Settings
) -> None:
    _publish(session)
    with pytest.raises(InvalidInput, match="at least 8 characters"):
        _link(session, settings, access="password", password="short")
    with pytest.raises(InvalidInput, match="not a kind of access"):
        _link(session, settings, access="everyone")
    link = _link(session, settings, access="password", password="open sesame").link
    stored = session.get(ShareLink, link.id)
    assert stored is not None and stored.password_hash and "open sesame" not in stored.password_hash
    assert sharing.password_opens(session, link.id, "open sesame")
    assert not sharing.password_opens(session, link.id, "open sesame ")
    plain = _link(session, settings).link
    assert not sharing.password_opens(session, plain.id, "")


def test_who_may_make_list_and_revoke_links(session: Session, settings: Settings) -> None:
    _publish(session)
    elsewhere = projects.create_project(session=session, actor=OPERATOR, name="elsewhere")
    _publish(session, "other-model", elsewhere.id)
    viewer = person(session, "vera", Role.viewer, PROJECT)
    ann = person(session, "ann", Role.analyst, PROJECT)
    bob = person(session, "bob", Role.analyst, PROJECT)
    with pytest.raises(Forbidden, match="cannot share demos"):
        _link(session, settings, viewer)
    with pytest.raises(NotFound, match="not published"):
        sharing.create_link(
            session=session, settings=settings, actor=ann, name="other-model", expires_days=1
        )
    with pytest.raises(NotFound, match="not published"):
        sharing.create_link(
            session=session, settings=settings, actor=ann, name="nope", expires_days=1
        )
    anns = _link(session, settings, ann)
    bobs = _link(session, settings, bob)
    mine = sharing.list_links(session=session, actor=ann)
    assert [link.id for link in mine] == [anns.link.id]
    every = sharing.list_links(session=session, actor=OPERATOR)
    assert [link.id for link in every] == [bobs.link.id, anns.link.id]
    with pytest.raises(NotFound, match="that you may revoke"):
        sharing.revoke_link(session=session, actor=ann, link_id=bobs.link.id)
    revoked = sharing.revoke_link(session=session, actor=ann, token=anns.token)
    assert revoked.state == "revoked" and revoked.revoked_by == "ann"
    with pytest.raises(InvalidInput, match="already revoked"):
        sharing.revoke_link(session=session, actor=OPERATOR, link_id=anns.link.id)
    by_admin = sharing.revoke_link(session=session, actor=OPERATOR, link_id=bobs.link.id)
    assert by_admin.revoked_by == "tester"
    events = audit.list_events(session=session, actor=OPERATOR)
    revocations = [e for e in events if e.action == "share_link.revoked"]
    assert [e.actor for e in revocations] == ["tester", "ann"]
    assert revocations[1].before == {"revoked": False, "views": 0}
    assert {e.action for e in events} >= {"share_link.created"}


def test_views_are_counted_and_the_last_view_kept(session: Session, settings: Settings) -> None:
    _publish(session)
    link = _link(session, settings).link
    for _ in range(3):
        sharing.count_view(session, link.id)
    counted = sharing.link_by_id(session, link.id)
    assert counted is not None and counted.views == 3 and counted.last_viewed_at is not None


def test_passes_are_signed_bound_to_their_link_and_end(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _publish(session)
    made = _link(session, settings, access="signed_in")
    grant = share_passes.grant(settings, made.link.id, 60)
    assert share_passes.granted_link(settings, grant) == made.link.id
    forged = f"{made.link.id + 1}.{grant.split('.', 1)[1]}"
    assert share_passes.granted_link(settings, forged) is None
    assert share_passes.granted_link(settings, grant + "x") is None
    assert share_passes.granted_link(settings, "garbage") is None
    assert (
        share_passes.granted_link(settings, share_passes.grant(settings, made.link.id, -5)) is None
    )
    key = settings.home / "secrets" / "share-links.key"
    assert key.stat().st_mode & 0o777 == 0o600

    viewer = person(session, "vera", Role.viewer, PROJECT)
    url = sharing.sign_in_pass(session=session, settings=settings, actor=viewer, token=made.token)
    assert url.startswith(made.url + "?pass=")
    given = url.split("?pass=", 1)[1]
    assert share_passes.sign_in_passed(settings, made.link.id, given)
    assert not share_passes.sign_in_passed(settings, made.link.id + 1, given)
    sharing.revoke_link(session=session, actor=OPERATOR, link_id=made.link.id)
    with pytest.raises(NotFound, match="revoked"):
        sharing.sign_in_pass(session=session, settings=settings, actor=viewer, token=made.token)


def test_kaizen_share_create_list_and_revoke(
    session: Session,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _publish(session)

    def kaizen(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = kaizen("share", "create", MODEL, "--expires-days", "2", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert set(document) >= {"token", "url", "expires_at"}
    assert document["url"].endswith("/s/" + document["token"])
    _, out, _ = kaizen(
        "share", "create", MODEL, "--password-stdin", "--json", stdin="a secret pw\n"
    )
    assert json.loads(out)["access"] == "password"
    listed = json.loads(kaizen("share", "list", "--json")[1])
    assert [link["access"] for link in listed] == ["password", "anyone"]
    assert all("token" not in link and "sha256" not in link for link in listed)
    code, out, err = kaizen("share", "revoke", document["url"], "--json")
    assert code == 0, err
    assert json.loads(out)["revoked_at"]
    code, _, err = kaizen("share", "revoke", document["token"], "--json")
    assert code == 2 and "already revoked" in err and "Traceback" not in err
    code, _, err = kaizen("share", "create", "nope", "--json")
    assert code == 2 and "not published" in err
