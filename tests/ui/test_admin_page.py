"""The Admin page with AppTest: users and roles, projects and members, the audit log. Every
change shows a message and lands in the audit log. (Its Promotions tab: test_registry_page.)"""

from datetime import date, timedelta

import pytest
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from services import auth, projects, users
from services.access import Actor
from services.config import Settings, get_settings
from services.errors import SignInFailed
from services.models import Role
from tests.support.signin import PASSWORD, app_as, first_admin, literal, local_user


@pytest.fixture
def admin(session: Session, settings: Settings) -> Actor:
    return first_admin(session, settings, "boss")


@pytest.fixture
def analyst(session: Session, settings: Settings, admin: Actor) -> Actor:
    return local_user(session, settings, admin, "ana", Role.analyst)


def admin_page(actor: Actor) -> AppTest:
    at = app_as(actor, "views/admin.py")
    assert not at.exception
    assert at.title[0].value == "Admin"
    return at


def users_table(at: AppTest) -> list[list[object]]:
    frame = next(f.value for f in at.dataframe if "username" in f.value.columns)
    return frame[["username", "role", "provider", "active", "locked"]].values.tolist()


def audit_table(at: AppTest) -> list[list[object]]:
    frame = next(f.value for f in at.dataframe if "action" in f.value.columns)
    return frame[["who", "action", "subject", "before", "after", "reason"]].values.tolist()


def press(at: AppTest, label: str | None = None, key: str | None = None) -> AppTest:
    button = at.button(key=key) if key else next(b for b in at.button if b.label == label)
    button.click()
    return at.run()


def test_users_listed_and_a_role_changed_with_its_reason_audited(
    session: Session, admin: Actor, analyst: Actor
) -> None:
    at = admin_page(admin)
    assert [t.label for t in at.tabs] == [
        "Users",
        "Projects",
        "Promotions",
        "Share links",
        "Audit log",
    ]
    assert users_table(at) == [
        ["ana", "analyst", "local", True, False],
        ["boss", "admin", "local", True, False],
    ]
    at.selectbox(key="admin-user").set_value(analyst.user_id).run()
    key = f"admin-{analyst.user_id}"
    at.selectbox(key=f"{key}-role").set_value("viewer")
    at.text_input(key=f"{key}-reason").input("moved to reporting")
    press(at, key=f"{key}-set-role")
    assert not at.exception
    assert literal(at.success[0]) == "'ana' is now viewer."
    assert ["ana", "viewer", "local", True, False] in users_table(at)
    assert audit_table(at)[0] == [
        "boss",
        "role.change",
        "ana",
        "role: analyst",
        "role: viewer",
        "moved to reporting",
    ]


def test_the_last_admin_cannot_be_demoted(admin: Actor) -> None:
    at = admin_page(admin)
    key = f"admin-{admin.user_id}"
    at.selectbox(key=f"{key}-role").set_value("analyst")
    press(at, key=f"{key}-set-role")
    assert not at.exception
    assert literal(at.error[0]) == (
        "'boss' is the only active admin; make someone else admin first."
    )


def test_create_a_user_then_disable_enable_unlock_and_set_a_password(
    session: Session, settings: Settings, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = admin_page(admin)
    at.text_input(key="new-username").input("Carla")
    at.selectbox(key="new-role").set_value("analyst")
    at.text_input(key="new-password").input(PASSWORD)
    at.text_input(key="new-repeat").input(PASSWORD)
    press(at, "Create user")
    assert not at.exception
    assert literal(at.success[0]) == "Created analyst 'carla'."
    assert ["carla", "analyst", "local", True, False] in users_table(at)
    carla = users.user_by_name(session=session, actor=admin, username="carla")

    at.selectbox(key="admin-user").set_value(carla.id).run()
    key = f"admin-{carla.id}"
    press(at, key=f"{key}-active")
    assert literal(at.success[0]) == "'carla' is disabled."
    assert ["carla", "analyst", "local", False, False] in users_table(at)
    with pytest.raises(SignInFailed, match="disabled"):
        auth.sign_in(session=session, settings=settings, username="carla", password=PASSWORD)
    press(at, key=f"{key}-active")
    assert literal(at.success[0]) == "'carla' is enabled."

    monkeypatch.setenv("KAIZEN_MAX_FAILED_SIGN_INS", "1")
    get_settings.cache_clear()
    with pytest.raises(SignInFailed):
        auth.sign_in(session=session, settings=get_settings(), username="carla", password="no")
    at.run()
    assert ["carla", "analyst", "local", True, True] in users_table(at)
    press(at, key=f"{key}-unlock")
    assert literal(at.success[0]) == "'carla' can sign in again."
    assert ["carla", "analyst", "local", True, False] in users_table(at)

    new = "a different long passphrase"
    at.text_input(key=f"{key}-pw").input(new)
    at.text_input(key=f"{key}-pw2").input(new)
    press(at, "Set password")
    assert literal(at.success[0]) == "New password set for 'carla'."
    signed = auth.sign_in(session=session, settings=settings, username="carla", password=new)
    assert signed.role is Role.analyst
    actions = [row[1] for row in audit_table(at)]
    for action in ("user.create", "user.disable", "user.enable", "user.unlock", "user.password"):
        assert action in actions


def test_create_a_project_and_choose_its_members(
    session: Session, admin: Actor, analyst: Actor
) -> None:
    at = admin_page(admin)
    at.text_input(key="new-project").input("Churn team")
    press(at, "Create project")
    assert not at.exception
    assert literal(at.success[0]) == "Created project 'Churn team'."
    listed = next(f.value for f in at.dataframe if "description" in f.value.columns)
    assert listed["name"].tolist() == ["Churn team", "default"]
    churn = projects.project_by_name(session=session, actor=admin, name="Churn team")

    at.selectbox(key="admin-project").set_value(churn.id).run()
    at.multiselect(key=f"members-{churn.id}").set_value([analyst.user_id])
    press(at, key=f"save-members-{churn.id}")
    assert literal(at.success[0]) == "Members of 'Churn team' saved: added ana."
    assert projects.member_ids(session=session, actor=admin, project_id=churn.id) == [
        analyst.user_id
    ]
    at.multiselect(key=f"members-{churn.id}").set_value([])
    press(at, key=f"save-members-{churn.id}")
    assert literal(at.success[0]) == "Members of 'Churn team' saved: removed ana."
    assert projects.member_ids(session=session, actor=admin, project_id=churn.id) == []
    actions = [row[1] for row in audit_table(at)]
    assert actions[:3] == ["project.leave", "project.member", "project.create"]


def test_audit_log_filters_and_downloads(admin: Actor, analyst: Actor) -> None:
    at = admin_page(admin)
    everything = audit_table(at)
    assert ["setup", "user.create", "boss", "", "role: admin", ""] in everything
    at.selectbox(key="audit-action").set_value("user.create").run()
    assert [row[2] for row in audit_table(at)] == ["ana", "boss"]
    at.text_input(key="audit-who").input("boss").run()
    assert [row[2] for row in audit_table(at)] == ["ana"]
    at.date_input(key="audit-since").set_value(date.today() + timedelta(days=2)).run()
    assert audit_table(at) == []
    assert any(literal(c).startswith("0 event(s), newest first") for c in at.caption)
    assert [b.label for b in at.get("download_button")] == ["Download CSV"]


def test_a_viewer_gets_no_admin_content(session: Session, settings: Settings, admin: Actor) -> None:
    viewer = local_user(session, settings, admin, "vic", Role.viewer)
    at = app_as(viewer, "views/admin.py")
    assert not at.exception
    assert at.title[0].value == "Datasets"
    assert not any("username" in f.value.columns for f in at.dataframe)
