"""A new user uploads a CSV and a workbook in a real browser and reads what was stored."""

from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

CSV = (
    "customer_id,age,plan,<img src=x onerror=alert(1)>,signup_date\n"
    "1,34,gold,<script>alert(2)</script>,2023-01-04\n"
    "2,,silver,<b>bold</b>,2023-02-11\n"
)


def _workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active.title = "Sales"
    book.active.append(["region", "amount"])
    book.active.append(["north", 10.5])
    book.active.append(["south", 7])
    book.save(path)
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
    page.goto(app_url)
    expect(page.get_by_text("No datasets yet.")).to_be_visible(timeout=30_000)

    csv = {"name": "customers.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    _add(page, csv, "Added customers version 1.")
    expect(_cell(page, "customer_id")).to_be_attached()
    expect(_cell(page, "signup_date")).to_be_attached()
    expect(_cell(page, "date")).to_be_attached()
    # Markup in column names is shown as text, never run.
    name = "<img src=x onerror=alert(1)>"
    expect(_cell(page, name)).to_be_attached()

    _add(page, _workbook(tmp_path / "sales.xlsx"), "Added sales version 1.")
    expect(_cell(page, "amount")).to_be_attached()
    expect(_cell(page, "float")).to_be_attached()

    page.get_by_role("tab", name="Preview").click()
    expect(_cell(page, "north")).to_be_attached()
    assert dialogs == []
