"""Share links in the UI with AppTest, on a real database (a publication record is all a link
needs; serving its demo is tested elsewhere): an analyst makes a link on the Publish page, copies
its URL once, sees it listed and revokes it; a password link needs a password; analysts see only
their own links, admins everyone's on the Admin page; the `?share=<token>` step after sign-in."""

import pytest
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from services import audit, sharing
from services.access import Actor
from services.config import Settings
from services.models import DEFAULT_PROJECT_ID
from services.serving import share_passes
from services.serving_models import Publication
from tests.support.actors import OPERATOR
from tests.support.signin import PASSWORD, app_as, literal

MODEL = "churn-model"
COPY_NOTICE = "Copy it now: it is shown only this once."
NOT_OPEN = "This share link does not exist, expired or was revoked."


@pytest.fixture
def published(session: Session, people: dict[str, Actor]) -> str:
    """A publication record of the project everyone is in."""
    session.add(
        Publication(
            model_name=MODEL,
            version=1,
            project_id=DEFAULT_PROJECT_ID,
            sha256="0" * 64,
            model_uri=f"models:/{MODEL}/1",
            bundle_dir="/nowhere",
            created_by="ana",
        )
    )
    session.commit()
    return MODEL


def press(at: AppTest, label: str | None = None, key: str | None = None) -> AppTest:
    button = at.button(key=key) if key else next(b for b in at.button if b.label == label)
    button.click()
    at.run()
    assert not at.exception
    return at


def links_table(at: AppTest) -> list[dict[str, object]]:
    frame = next(f.value for f in at.dataframe if "prefix" in f.value.columns)
    return frame.to_dict("records")


def shared_urls(at: AppTest) -> list[str]:
    return [c.value for c in at.code if "/s/" in c.value]


def link_of(session: Session, url: str) -> sharing.ShareLinkPublic:
    found = sharing.find_link(session, url.rsplit("/s/", 1)[1])
    assert found is not None
    return found


def new_link(session: Session, settings: Settings, actor: Actor, **options: object) -> str:
    options.setdefault("expires_days", 7)
    made = sharing.create_link(
        session=session, settings=settings, actor=actor, name=MODEL, **options
    )  # type: ignore[arg-type]
    return made.token


def test_an_analyst_shares_a_demo_copies_its_url_once_and_revokes_it(
    session: Session, settings: Settings, people: dict[str, Actor], published: str
) -> None:
    at = app_as(people["ana"], "views/publish.py", timeout=90)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Publish", "Publications", "Score a file"]
    assert "Share a demo" in [s.value for s in at.subheader]
    assert "No share links to this model yet." in [c.value for c in at.caption]
    assert at.number_input(key="share-days").value == round(settings.share_link_days)
    at.text_input(key="share-note").input("for the sales team")
    press(at, "Create share link")

    assert COPY_NOTICE in literal(at.success[0])
    [url] = shared_urls(at)
    assert url.startswith(f"{settings.serve_url}/s/")
    link = link_of(session, url)  # the URL shown is the one whose hash is kept
    assert (link.created_by, link.note, link.access, link.state) == (
        "ana",
        "for the sales team",
        "anyone",
        "active",
    )
    [row] = links_table(at)
    assert "model" not in row
    assert (row["note"], row["prefix"], row["access"], row["state"]) == (
        "for the sales team",
        f"{link.prefix}…",
        "anyone with the link",
        "active",
    )
    assert (row["created by"], row["views"], row["expires"]) == ("ana", 0, sharing_expiry(link))
    at.run()  # any later rerun of this session still shows it
    assert shared_urls(at) == [url]

    assert at.selectbox(key="share-revoke-choice").value == link.id
    press(at, key="share-revoke")
    assert literal(at.success[0]).startswith(f"Revoked share link {link.prefix}… to {MODEL}")
    assert link_of(session, url).state == "revoked"
    assert shared_urls(at) == []  # a revoked link's URL is of no use
    assert [r["state"] for r in links_table(at)] == ["revoked"]
    assert not [b for b in at.button if b.label == "Revoke"]


def sharing_expiry(link: sharing.ShareLinkPublic) -> str:
    assert link.expires_at is not None
    return f"{link.expires_at:%Y-%m-%d %H:%M} UTC"


def test_a_password_link_needs_its_password(
    session: Session, settings: Settings, people: dict[str, Actor], published: str
) -> None:
    at = app_as(people["ana"], "views/publish.py", timeout=90)
    at.radio(key="share-access").set_value("Anyone with the link and a password")
    press(at, "Create share link")
    assert "password of at least 8 characters" in literal(at.error[0])
    assert shared_urls(at) == []
    assert sharing.list_links(session=session, actor=OPERATOR) == []

    at.radio(key="share-access").set_value("Anyone with the link and a password")
    at.text_input(key="share-password").input(PASSWORD)
    at.checkbox(key="share-forever").check()
    press(at, "Create share link")
    link = link_of(session, shared_urls(at)[0])
    assert (link.access, link.expires_at) == ("password", None)
    assert sharing.password_opens(session, link.id, PASSWORD)
    [row] = links_table(at)
    assert (row["access"], row["expires"]) == ("link and password", "never")


def test_analysts_see_their_own_links_and_an_admin_every_link_to_revoke(
    session: Session, settings: Settings, people: dict[str, Actor], published: str
) -> None:
    token = new_link(session, settings, people["bob"], note="bob's", access="signed_in")
    at = app_as(people["ana"], "views/publish.py", timeout=90)
    assert not at.exception
    assert "No share links to this model yet." in [c.value for c in at.caption]

    admin = app_as(people["boss"], "views/admin.py")
    assert not admin.exception
    assert [t.label for t in admin.tabs] == [
        "Users",
        "Projects",
        "Promotions",
        "Share links",
        "Audit log",
    ]
    [row] = links_table(admin)
    assert (row["model"], row["note"], row["created by"], row["access"]) == (
        MODEL,
        "bob's",
        "bob",
        "Kaizen Studio account",
    )
    admin.selectbox(key="share-admin-state").set_value("revoked").run()
    assert links_table(admin) == []
    admin.selectbox(key="share-admin-state").set_value("active").run()
    press(admin, key="share-admin-revoke")
    assert literal(admin.success[0]).startswith("Revoked share link")
    found = sharing.find_link(session, token)
    assert found is not None and (found.state, found.revoked_by) == ("revoked", "boss")
    assert "share_link.revoked" in admin.selectbox(key="audit-action").options
    revoked = audit.list_events(session=session, actor=OPERATOR, action="share_link.revoked")
    assert [e.actor for e in revoked] == ["boss"]


def test_the_share_step_after_sign_in_gives_the_demo_with_a_pass(
    session: Session, settings: Settings, people: dict[str, Actor], published: str
) -> None:
    token = new_link(session, settings, people["ana"], access="signed_in")
    link = sharing.find_link(session, token)
    assert link is not None
    at = app_as(None, query={"share": token})
    assert "asks for a Kaizen Studio account" in literal(at.info[0])
    assert at.title[0].value == "Sign in to Kaizen Studio"
    next(t for t in at.text_input if t.label == "Username").input("vic")
    next(t for t in at.text_input if t.label == "Password").input(PASSWORD)
    press(at, "Sign in")  # the query survives the sign-in form

    assert at.title[0].value == "Open the shared demo"
    assert "signed in as **vic**" in literal(at.markdown[0])
    [button] = at.link_button
    assert button.label == "Open the demo"
    base, grant = button.proto.url.split("?pass=")
    assert base == sharing.link_url(settings, token)
    assert share_passes.sign_in_passed(settings, link.id, grant)

    sharing.revoke_link(session=session, actor=people["ana"], token=token)
    at.run()
    assert literal(at.error[0]) == NOT_OPEN
    assert not at.link_button
    press(at, "Go to Kaizen Studio")
    assert "share" not in at.query_params
    assert at.title[0].value == "Datasets"
