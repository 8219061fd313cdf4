"""Local accounts in a real browser: the first-run setup of a new installation, sign-out, a
wrong password, an analyst who neither sees nor reaches the Admin page, and the lockout."""

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine
from sqlmodel import Session, select

from services.models import AuditEvent
from tests.support.e2e import SLOW, create_user, fill_sign_in, sign_in

pytestmark = pytest.mark.e2e

ADMIN_PASSWORD = "the very first admin passphrase"
ANALYST_PASSWORD = "a reporting passphrase 42"


def _wait_failures(home: Path, count: int) -> None:
    """Waits until the app has recorded `count` failed sign-ins (the same message repeats, so
    the page alone cannot tell one attempt's answer from the last one's)."""
    engine = create_engine(f"sqlite:///{home / 'kaizen.db'}")
    query = select(AuditEvent).where(AuditEvent.action == "sign_in.failed")
    deadline = time.monotonic() + SLOW / 1000
    try:
        while True:
            with Session(engine) as db:
                if len(db.exec(query).all()) >= count:
                    return
            assert time.monotonic() < deadline, f"{count} failed sign-ins were not recorded"
            time.sleep(0.2)
    finally:
        engine.dispose()


def _nav(page: Page) -> list[str]:
    """The titles of the sidebar navigation's page links (each also holds its icon's name)."""
    links = page.locator("[data-testid=stSidebarNav] a")
    return [text.strip().splitlines()[-1] for text in links.all_inner_texts()]


def test_first_run_setup_sign_out_and_a_wrong_password(
    start_app: Callable[..., str], page: Page
) -> None:
    url = start_app()  # a fresh home: no admin yet
    page.goto(url)
    expect(page.get_by_role("heading", name="Welcome to Kaizen Studio")).to_be_visible(timeout=SLOW)
    expect(page.locator("[data-testid=stSidebarNav]")).to_have_count(0)
    page.get_by_label("Username", exact=True).fill("boss")
    page.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
    page.get_by_label("Repeat password", exact=True).fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Create admin account").click()
    expect(page.get_by_role("heading", name="Datasets")).to_be_visible(timeout=SLOW)
    expect(page.get_by_text("Signed in as boss (admin)")).to_be_visible()
    assert _nav(page) == [
        "Datasets",
        "Profile",
        "Train",
        "Models",
        "Registry",
        "Publish",
        "Jobs",
        "Admin",
    ]

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Kaizen Studio")).to_be_visible(timeout=SLOW)
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    expect(page.locator("[data-testid=stSidebarNav]")).to_have_count(0)
    expect(page.get_by_role("heading", name="Datasets")).to_have_count(0)

    fill_sign_in(page, "boss", "not the password")
    expect(page.get_by_text("Wrong username or password.")).to_be_visible(timeout=SLOW)
    expect(page.get_by_role("heading", name="Datasets")).to_have_count(0)

    page.reload()  # a new session: the setup is not offered again
    fill_sign_in(page, "boss", ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name="Datasets")).to_be_visible(timeout=SLOW)


def test_an_analyst_neither_sees_nor_reaches_admin(
    kaizen_home: Path, start_app: Callable[..., str], page: Page
) -> None:
    create_user(kaizen_home, "boss", ADMIN_PASSWORD)
    create_user(kaizen_home, "ana", ANALYST_PASSWORD, role="analyst")
    url = start_app()
    sign_in(page, url, "ana", ANALYST_PASSWORD)
    expect(page.get_by_text("Signed in as ana (analyst)")).to_be_visible()
    assert _nav(page) == ["Datasets", "Profile", "Train", "Models", "Registry", "Publish", "Jobs"]

    page.goto(f"{url}/admin")  # by its URL: a new session, the sign-in form first
    fill_sign_in(page, "ana", ANALYST_PASSWORD)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=SLOW)
    expect(page.get_by_role("heading", name="Datasets")).to_be_visible(timeout=SLOW)
    expect(page.get_by_role("heading", name="Admin")).to_have_count(0)
    expect(page.get_by_role("tab", name="Users")).to_have_count(0)
    expect(page.get_by_text("Audit log")).to_have_count(0)
    assert "Admin" not in _nav(page)


def test_repeated_wrong_passwords_lock_the_account(
    kaizen_home: Path, start_app: Callable[..., str], page: Page
) -> None:
    create_user(kaizen_home, "boss", ADMIN_PASSWORD)
    url = start_app(KAIZEN_MAX_FAILED_SIGN_INS="3")
    page.goto(url)
    for attempt in (1, 2):
        fill_sign_in(page, "boss", "a wrong password")
        _wait_failures(kaizen_home, attempt)
        expect(page.get_by_text("Wrong username or password.", exact=True)).to_be_visible(
            timeout=SLOW
        )
    fill_sign_in(page, "boss", "a wrong password")
    expect(
        page.get_by_text("After 3 wrong passwords in a row the account is locked for 15 minutes.")
    ).to_be_visible(timeout=SLOW)
    fill_sign_in(page, "boss", ADMIN_PASSWORD)  # the right password, too late
    expect(page.get_by_text("Too many wrong passwords: this account is locked")).to_be_visible(
        timeout=SLOW
    )
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
