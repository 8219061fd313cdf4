"""The promotion workflow in a real browser, on really trained models: an analyst compares a
version with the alias's holder and asks for the promotion; an admin, in their own session,
approves it on the Admin page; the Registry shows the alias moved and the audit log the
approval."""

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.e2e import ADMIN, SLOW, create_user, sign_in
from tests.support.registry import TrainedHome

pytestmark = pytest.mark.e2e

ANALYST = ("ana", "a reporting passphrase 42")  # without the username


def _cell(page: Page, text: str):  # type: ignore[no-untyped-def]
    """A data grid cell by its exact text (the grid draws on a canvas and mirrors it in a table)."""
    return page.locator("[data-testid^=glide-cell]").get_by_text(text, exact=True).first


def _choose(page: Page, box: str, option: str | re.Pattern[str]) -> None:
    page.get_by_role("combobox", name=box).click()
    page.get_by_role("option", name=option).click()


def _open(page: Page, link: str) -> None:
    page.get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", name=link, exact=True)).to_be_visible(timeout=SLOW)


def test_an_analyst_asks_an_admin_approves_and_the_registry_shows_the_alias(
    trained: TrainedHome,
    kaizen_home: Path,
    start_app: Callable[..., str],
    page: Page,
    browser: Browser,
) -> None:
    # The models were trained through the services (tests/support/registry.py) into a home
    # this app now runs on, with its admin and an analyst made by `kaizen users`.
    shutil.copytree(trained.home, kaizen_home)
    create_user(kaizen_home, *ADMIN)
    create_user(kaizen_home, *ANALYST, role="analyst")
    url = start_app()
    lr, name = trained.versions["lr"], trained.name

    sign_in(page, url, *ANALYST)
    _open(page, "Registry")
    expect(_cell(page, name)).to_be_attached(timeout=SLOW)
    page.get_by_role("tab", name="Promote").click()
    _choose(page, "Version", re.compile(rf"^v{lr} · lr · AUC"))
    _choose(page, "Alias", "production")
    expect(page.get_by_text(f"No version holds 'production' yet: version {lr}")).to_be_visible(
        timeout=SLOW
    )
    expect(page.get_by_text(f"Holdout AUC of version {lr}")).to_be_visible()
    page.get_by_label("Reason (required, kept in the audit log)").fill("best AUC on the holdout")
    page.get_by_role("button", name="Request promotion").click()
    asked = f"Asked for version {lr} of {name} to become 'production'"
    expect(page.get_by_text(asked)).to_be_visible(timeout=SLOW)

    admin = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    try:
        sign_in(admin, url)
        _open(admin, "Admin")
        admin.get_by_role("tab", name="Promotions").click()
        expect(admin.get_by_text(f"version {lr} of {name} → 'production'")).to_be_visible(
            timeout=SLOW
        )
        expect(admin.get_by_text("Reason: best AUC on the holdout")).to_be_visible()
        note = admin.get_by_label("Note (optional to approve, required to reject)")
        note.fill("agreed")
        note.press("Enter")
        admin.get_by_role("button", name="Approve").click()
        approved = f"'production' of {name} is now version {lr}."
        expect(admin.get_by_text(re.compile(re.escape(approved)))).to_be_visible(timeout=SLOW)

        _open(admin, "Registry")
        holder = admin.get_by_test_id("stMetric").filter(has_text="production")
        expect(holder).to_contain_text(f"v{lr}", timeout=SLOW)
        admin.get_by_role("tab", name="History").click()
        expect(_cell(admin, "approved request")).to_be_attached(timeout=SLOW)

        _open(admin, "Admin")
        admin.get_by_role("tab", name="Audit log").click()
        expect(_cell(admin, "model.promotion_approved")).to_be_attached(timeout=SLOW)
        expect(_cell(admin, "model.promotion_requested")).to_be_attached()
        expect(_cell(admin, f"{name}@production").first).to_be_attached()
    finally:
        admin.context.close()
