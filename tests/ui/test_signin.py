"""Local sign-in with AppTest: the first-run setup, the sign-in form, wrong passwords and the
lockout, sign-out, and the navigation each role gets."""

import pytest
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from services import audit, auth, users
from services.config import Settings, get_settings
from services.models import Role
from tests.support.actors import OPERATOR
from tests.support.signin import PASSWORD, app_as, first_admin, literal, local_user, navigation


def fill(at: AppTest, **values: str) -> AppTest:
    """Types into the form's fields by label, then submits it with its button."""
    labels = {
        "username": "Username",
        "password": "Password",
        "repeat": "Repeat password",
    }
    for field, value in values.items():
        next(t for t in at.text_input if t.label == labels[field]).input(value)
    return at


def submit(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return at.run()


def sign_in(at: AppTest, username: str, password: str) -> AppTest:
    return submit(fill(at, username=username, password=password), "Sign in")


def events(session: Session, action: str) -> list[str]:
    found = audit.list_events(session=session, actor=OPERATOR, action=action)
    return [e.actor for e in found]


def test_first_run_setup_creates_the_admin_and_lands_in_the_app(
    session: Session, settings: Settings
) -> None:
    at = app_as(None)
    assert not at.exception
    assert at.title[0].value == "Welcome to Kaizen Studio"
    assert not at.sidebar.children  # nothing but the form (e2e: no navigation links either)

    fill(at, username="Boss", password=PASSWORD, repeat="something else entirely")
    submit(at, "Create admin account")
    assert literal(at.error[0]) == "The two passwords differ; type the same password twice."
    assert auth.setup_needed(session=session)

    fill(at, username="Boss", password="short", repeat="short")
    submit(at, "Create admin account")
    assert literal(at.error[0]).startswith("The password is too short")

    fill(at, username="Boss", password=PASSWORD, repeat=PASSWORD)
    submit(at, "Create admin account")
    assert not at.exception
    assert at.title[0].value == "Datasets"
    assert navigation(at) == [
        "Datasets",
        "Profile",
        "Train",
        "Models",
        "Registry",
        "Publish",
        "Jobs",
        "Admin",
    ]
    actor = at.session_state["actor"]
    assert (actor.username, actor.role) == ("boss", Role.admin)
    assert not auth.setup_needed(session=session)
    assert events(session, "sign_in") == ["boss"]

    # The setup is offered once: the next visitor gets the sign-in form.
    again = app_as(None)
    assert again.title[0].value == "Sign in to Kaizen Studio"
    assert "Create admin account" not in [b.label for b in again.button]


def test_sign_in_with_a_wrong_password_says_so(session: Session, settings: Settings) -> None:
    first_admin(session, settings, "boss")
    at = app_as(None)
    assert at.title[0].value == "Sign in to Kaizen Studio"
    assert not at.sidebar.children
    assert any("refreshing the page" in literal(c) for c in at.caption)
    sign_in(at, "boss", "not the password at all")
    assert not at.exception
    assert literal(at.error[0]) == "Wrong username or password."
    assert "actor" not in at.session_state
    sign_in(at, "nobody", PASSWORD)
    assert literal(at.error[0]) == "Wrong username or password."
    sign_in(at, "BOSS", PASSWORD)
    assert at.title[0].value == "Datasets"


def test_repeated_wrong_passwords_lock_the_account(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAIZEN_MAX_FAILED_SIGN_INS", "3")
    get_settings.cache_clear()
    first_admin(session, settings, "boss")
    at = app_as(None)
    for _ in range(2):
        sign_in(at, "boss", "a wrong password")
        assert literal(at.error[0]) == "Wrong username or password."
    sign_in(at, "boss", "a wrong password")
    assert literal(at.error[0]) == (
        "Wrong username or password. After 3 wrong passwords in a row the account is locked "
        "for 15 minutes."
    )
    sign_in(at, "boss", PASSWORD)  # the right password, too late
    assert not at.exception
    assert literal(at.error[0]).startswith(
        "Too many wrong passwords: this account is locked for about 15 more minute(s)."
    )
    assert "actor" not in at.session_state
    assert events(session, "user.locked") == ["boss"]


def test_sign_out_ends_the_session(session: Session, settings: Settings) -> None:
    admin = first_admin(session, settings, "boss")
    at = app_as(admin)
    assert at.title[0].value == "Datasets"
    assert literal(at.sidebar.caption[0]) == "Signed in as **boss** (admin)"
    at.session_state["selected_name"] = "something of this session"
    submit(at, "Sign out")
    assert not at.exception
    assert at.title[0].value == "Sign in to Kaizen Studio"
    assert literal(at.info[0]) == "You are signed out."
    assert "actor" not in at.session_state and "selected_name" not in at.session_state
    assert not at.sidebar.children
    assert events(session, "sign_out") == ["boss"]
    at.run()  # nothing brings the session back
    assert at.title[0].value == "Sign in to Kaizen Studio"


def test_a_viewer_has_no_train_or_admin_page(session: Session, settings: Settings) -> None:
    viewer = local_user(session, settings, first_admin(session, settings), "vic", Role.viewer)
    at = app_as(viewer)
    assert not at.exception
    assert navigation(at) == ["Datasets", "Profile", "Models", "Registry", "Jobs"]
    # The admin page by its URL: the navigation does not have it, the default page shows.
    direct = app_as(viewer, "views/admin.py")
    assert not direct.exception
    assert direct.title[0].value == "Datasets"
    assert not [t for t in direct.tabs if t.label == "Users"]


def test_an_analyst_has_train_but_no_admin_page(session: Session, settings: Settings) -> None:
    analyst = local_user(session, settings, first_admin(session, settings), "ana", Role.analyst)
    at = app_as(analyst)
    assert navigation(at) == [
        "Datasets",
        "Profile",
        "Train",
        "Models",
        "Registry",
        "Publish",
        "Jobs",
    ]
    direct = app_as(analyst, "views/admin.py")
    assert not direct.exception
    assert direct.title[0].value == "Datasets"


def test_a_role_changed_meanwhile_changes_the_navigation(
    session: Session, settings: Settings
) -> None:
    admin = first_admin(session, settings)
    analyst = local_user(session, settings, admin, "ana", Role.analyst)
    at = app_as(analyst)
    assert "Train" in navigation(at)
    assert analyst.user_id is not None
    users.set_role(session=session, actor=admin, user_id=analyst.user_id, role=Role.viewer)
    at.run()
    assert navigation(at) == ["Datasets", "Profile", "Models", "Registry", "Jobs"]
    assert literal(at.sidebar.caption[0]) == "Signed in as **ana** (viewer)"
    users.set_active(session=session, actor=admin, user_id=analyst.user_id, active=False)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Sign in to Kaizen Studio"
    assert literal(at.info[0]) == "Your account is disabled or was removed; ask an admin."
