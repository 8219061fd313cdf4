"""Signed-in users for the UI tests: accounts made through the services, and an AppTest of the
app with one of them already in the session (as after the sign-in form)."""

import re
from pathlib import Path

from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from services import auth, users
from services.access import Actor
from services.config import Settings
from services.models import Role

APP = str(Path(__file__).parents[2] / "app.py")
PASSWORD = "correct horse battery staple"  # long enough, and contains no test username


def first_admin(session: Session, settings: Settings, username: str = "admin") -> Actor:
    """The installation's first admin (as the setup form or `kaizen users create-admin`)."""
    made = auth.create_first_admin(
        session=session, settings=settings, username=username, password=PASSWORD
    )
    return Actor(username=made.username, role=made.role, user_id=made.id)


def local_user(session: Session, settings: Settings, by: Actor, username: str, role: Role) -> Actor:
    made = users.create_user(
        session=session,
        settings=settings,
        actor=by,
        username=username,
        password=PASSWORD,
        role=role,
    )
    return Actor(username=made.username, role=made.role, user_id=made.id)


def app_as(
    actor: Actor | None,
    page: str | None = None,
    *,
    timeout: float = 60,
    query: dict[str, str] | None = None,
) -> AppTest:
    """The app run once for `actor` (None: nobody signed in), on `page` if given (as a URL
    path typed into the browser would open it)."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update(query or {})
    if actor is not None:
        at.session_state["actor"] = actor
    if page is not None:
        at.switch_page(page)
    at.run()
    return at


def navigation(at: AppTest) -> list[str]:
    """The titles of the pages the app's navigation registered in the last run (signed out,
    the navigation is hidden: the e2e tests check what the browser shows then)."""
    pages = at._registered_pages.values()
    return [str(info["page_name"]) for info in pages if "url_pathname" in info]


def literal(element) -> str:  # type: ignore[no-untyped-def]
    """What the user reads: the page escapes markdown in names that come from files."""
    return re.sub(r"\\(.)", r"\1", element.value)
