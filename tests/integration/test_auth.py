"""Accounts on a real database: the first admin, sign-in with lockout, OIDC users and their
mapped roles, admin changes that take effect at once, and the audit trail of all of it."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from services import audit, auth, projects, users
from services.access import Action, Actor, require, visible_projects
from services.config import Settings
from services.errors import Forbidden, InvalidInput, SignInFailed
from services.models import AuditEvent, Role, User

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    from services.config import get_settings

    monkeypatch.setenv("KAIZEN_OIDC_ROLES", '{"kz-admins": "admin", "kz-analysts": "analyst"}')
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
def admin(session: Session, settings: Settings) -> Actor:
    auth.create_first_admin(session=session, settings=settings, username="Ada", password=PASSWORD)
    return auth.sign_in(session=session, settings=settings, username="ada", password=PASSWORD)


def _user(session: Session, settings: Settings, admin: Actor, name: str, role: Role) -> Actor:
    users.create_user(
        session=session, settings=settings, actor=admin, username=name, password=PASSWORD, role=role
    )
    return auth.sign_in(session=session, settings=settings, username=name, password=PASSWORD)


def _actions(session: Session) -> list[str]:
    return [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]


def test_the_first_admin_is_made_once_and_no_default_password_exists(
    session: Session, settings: Settings
) -> None:
    assert auth.setup_needed(session=session)
    with pytest.raises(InvalidInput, match="too short"):
        auth.create_first_admin(
            session=session, settings=settings, username="ada", password="admin"
        )
    auth.create_first_admin(session=session, settings=settings, username="ada", password=PASSWORD)
    assert not auth.setup_needed(session=session)
    with pytest.raises(Forbidden, match="already has an admin"):
        auth.create_first_admin(
            session=session, settings=settings, username="eve", password=PASSWORD + "x"
        )
    stored = session.exec(select(User)).one()
    assert stored.password_hash and stored.password_hash.startswith("$argon2")
    assert PASSWORD not in stored.password_hash


def test_wrong_passwords_lock_the_account_and_every_attempt_is_audited(
    session: Session, settings: Settings, admin: Actor
) -> None:
    _user(session, settings, admin, "bob", Role.analyst)
    for _ in range(settings.max_failed_sign_ins - 1):
        with pytest.raises(SignInFailed, match=r"^Wrong username or password\.$"):
            auth.sign_in(session=session, settings=settings, username="bob", password="nope")
    with pytest.raises(SignInFailed, match=r"locked for 15 minutes"):
        auth.sign_in(session=session, settings=settings, username="bob", password="nope")
    with pytest.raises(SignInFailed, match=r"locked for about 15 more minute"):
        auth.sign_in(session=session, settings=settings, username="bob", password=PASSWORD)
    with pytest.raises(SignInFailed, match=r"^Wrong username or password\.$"):
        auth.sign_in(session=session, settings=settings, username="nobody", password=PASSWORD)
    events = _actions(session)
    assert events.count("sign_in.failed") == settings.max_failed_sign_ins + 2
    assert "user.locked" in events

    bob = session.exec(select(User).where(User.username == "bob")).one()
    users.unlock(session=session, actor=admin, user_id=bob.id)
    assert auth.sign_in(session=session, settings=settings, username="bob", password=PASSWORD)


def test_a_lock_ends_by_itself(session: Session, settings: Settings, admin: Actor) -> None:
    _user(session, settings, admin, "bob", Role.analyst)
    bob = session.exec(select(User).where(User.username == "bob")).one()
    from services.models import utcnow

    bob.locked_until = utcnow() - timedelta(seconds=1)
    session.add(bob)
    session.commit()
    assert auth.sign_in(session=session, settings=settings, username="bob", password=PASSWORD)


def test_a_revoked_role_or_disabled_account_loses_power_at_once(
    session: Session, settings: Settings, admin: Actor
) -> None:
    carol = _user(session, settings, admin, "carol", Role.admin)
    assert require(session, carol, Action.manage_users).role is Role.admin
    users.set_role(session=session, actor=admin, user_id=carol.user_id, role=Role.viewer)
    with pytest.raises(Forbidden, match=r"Your role \(viewer\) cannot manage users"):
        users.list_users(session=session, actor=carol)  # the Actor still says admin
    users.set_active(session=session, actor=admin, user_id=carol.user_id, active=False)
    with pytest.raises(Forbidden, match="disabled"):
        projects.list_projects(session=session, actor=carol)
    with pytest.raises(SignInFailed, match="disabled"):
        auth.sign_in(session=session, settings=settings, username="carol", password=PASSWORD)


def test_the_last_admin_cannot_be_demoted_or_disabled(
    session: Session, settings: Settings, admin: Actor
) -> None:
    with pytest.raises(InvalidInput, match="only active admin"):
        users.set_role(session=session, actor=admin, user_id=admin.user_id, role=Role.analyst)
    with pytest.raises(InvalidInput, match="only active admin"):
        users.set_active(session=session, actor=admin, user_id=admin.user_id, active=False)


ISSUER = "http://127.0.0.1:9400"


def test_oidc_users_get_the_role_their_groups_map_to_and_lose_it_with_the_group(
    session: Session, settings: Settings
) -> None:
    claims = {"iss": ISSUER, "sub": "1", "email": "Dee@Example.org", "groups": ["kz-analysts"]}
    dee = auth.sign_in_oidc(session=session, settings=settings, claims=claims | {"iat": 1})
    assert (dee.username, dee.role) == ("dee@example.org", Role.analyst)
    promoted = auth.sign_in_oidc(
        session=session, settings=settings, claims=claims | {"groups": ["kz-admins", "x"], "iat": 2}
    )
    assert promoted.role is Role.admin and promoted.user_id == dee.user_id
    left = auth.sign_in_oidc(session=session, settings=settings, claims=claims | {"groups": []})
    assert left.role is Role.viewer  # leaving the group at the provider demotes here
    stranger = auth.sign_in_oidc(
        session=session, settings=settings, claims={"iss": ISSUER, "sub": "2", "groups": "sales"}
    )
    assert stranger.role is Role.viewer
    assert _actions(session).count("role.change") == 2


def test_an_oidc_user_cannot_take_over_an_account_by_its_name(
    session: Session, settings: Settings, admin: Actor
) -> None:
    for claims in (
        {"iss": ISSUER, "sub": "evil", "preferred_username": "ada"},
        {"iss": ISSUER, "sub": "evil", "email": "ada", "email_verified": True},
    ):
        with pytest.raises(SignInFailed, match="already the name of another account"):
            auth.sign_in_oidc(session=session, settings=settings, claims=claims)
    unverified = {"iss": ISSUER, "sub": "u1", "email": "ada", "email_verified": False}
    assert auth.sign_in_oidc(session=session, settings=settings, claims=unverified).username == "u1"


def test_a_page_reload_is_not_a_new_sign_in_and_old_claims_expire(
    session: Session, settings: Settings
) -> None:
    import time

    claims = {"iss": ISSUER, "sub": "r", "iat": int(time.time())}
    for _ in range(3):  # the same cookie, three page loads
        auth.sign_in_oidc(session=session, settings=settings, claims=claims)
    assert _actions(session).count("sign_in") == 1
    assert not auth.oidc_expired(settings, claims)
    old = claims | {"iat": int(time.time()) - int(settings.oidc_max_age_hours * 3600) - 60}
    assert auth.oidc_expired(settings, old)


def test_users_see_their_projects_and_admins_see_all(
    session: Session, settings: Settings, admin: Actor
) -> None:
    bob = _user(session, settings, admin, "bob", Role.analyst)
    other = projects.create_project(session=session, actor=admin, name="Finance")
    assert [p.name for p in projects.list_projects(session=session, actor=bob)] == ["default"]
    assert visible_projects(session, admin) is None
    with pytest.raises(Forbidden):
        projects.create_project(session=session, actor=bob, name="Mine")
    projects.set_member(
        session=session, actor=admin, project_id=other.id, user_id=bob.user_id, member=True
    )
    assert {p.name for p in projects.list_projects(session=session, actor=bob)} == {
        "default",
        "Finance",
    }


def test_the_audit_log_is_for_admins_and_exports_safely(
    session: Session, settings: Settings, admin: Actor
) -> None:
    bob = _user(session, settings, admin, "bob", Role.analyst)
    users.set_role(
        session=session,
        actor=admin,
        user_id=bob.user_id,
        role=Role.viewer,
        reason='=HYPERLINK("http://evil")',
    )
    with pytest.raises(Forbidden):
        audit.list_events(session=session, actor=bob)
    events = audit.list_events(session=session, actor=admin, action="role.change")
    assert [(e.before, e.after) for e in events] == [({"role": "analyst"}, {"role": "viewer"})]
    exported = audit.to_csv(events)
    assert "'=HYPERLINK" in exported and ",=HYPERLINK" not in exported
