"""Issue 10's journey in a real browser: an admin makes a share link to a published model's demo
on the Publish page; someone else, in a fresh browser without an account, opens it, fills the
Gradio form, submits and reads the prediction and its reasons; the link is revoked on the page and
the same URL then shows the revoked page."""

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.e2e import ADMIN, SLOW, create_user, free_port, kaizen, kaizen_serve, sign_in
from tests.support.registry import TrainedHome

pytestmark = pytest.mark.e2e

PREDICTION_MS = 60_000  # the first prediction also computes the row's SHAP values


def _share_link(page: Page, base: str) -> str:
    """Makes a link on the Publish page; the URL it shows once."""
    page.get_by_role("link", name="Publish", exact=True).click()
    page.get_by_role("tab", name="Publications").click()
    expect(page.get_by_text("Share a demo")).to_be_visible(timeout=SLOW)
    page.get_by_label("Note (optional)").fill("for the e2e visitor")
    page.get_by_role("button", name="Create share link").click()
    expect(page.get_by_text("Copy it now: it is shown only this once.")).to_be_visible(timeout=SLOW)
    code = page.get_by_test_id("stCode").filter(has_text="/s/").first
    url = code.locator("code").inner_text().strip()
    assert re.fullmatch(re.escape(base) + r"/s/[A-Za-z0-9_-]{32}", url), url
    return url


def _use_demo(visitor: Page, url: str, name: str, version: int) -> None:
    """Opens the link, fills the form, submits; the prediction and its reasons appear."""
    visitor.goto(url)
    expect(visitor.get_by_role("heading", name=name)).to_be_visible(timeout=SLOW)
    expect(visitor.get_by_text(f"version {version}")).to_be_visible()
    assert "/s/" not in visitor.url  # the token left the address bar for a cookie
    radius = visitor.get_by_label("number input for mean radius")
    radius.fill("21.5")
    radius.press("Tab")
    visitor.get_by_role("button", name="Submit").click()
    expect(visitor.get_by_text(re.compile(r"mostly because"))).to_be_visible(timeout=PREDICTION_MS)
    expect(visitor.get_by_test_id("label-output-value").first).to_be_visible()


def test_share_a_demo_use_it_without_an_account_and_revoke_it(
    trained: TrainedHome,
    kaizen_home: Path,
    start_app: Callable[..., str],
    page: Page,
    browser: Browser,
    tmp_path: Path,
) -> None:
    shutil.copytree(trained.home, kaizen_home)
    create_user(kaizen_home, *ADMIN)
    name = trained.name
    kaizen(kaizen_home, "publish", f"{name}:{trained.versions['lr']}", "--json")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    url = start_app(KAIZEN_CONTAINER_ENGINE="none", KAIZEN_SERVE_URL=base)

    with kaizen_serve(kaizen_home, tmp_path / "serve.log", port=port):
        sign_in(page, url)
        link = _share_link(page, base)

        stranger = browser.new_context()  # no sign-in, no cookies
        try:
            visitor = stranger.new_page()
            _use_demo(visitor, link, name, trained.versions["lr"])
            expect(page.get_by_role("button", name="Revoke")).to_be_visible()
            page.get_by_role("button", name="Revoke").click()
            expect(page.get_by_text(re.compile(r"Revoked share link"))).to_be_visible(timeout=SLOW)
            visitor.goto(link)
            expect(visitor.get_by_role("heading", name="This link was revoked")).to_be_visible()
        finally:
            stranger.close()
