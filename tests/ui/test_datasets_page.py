"""The Datasets page, run headless with Streamlit's AppTest against a real database."""

import io
import time

import openpyxl
import pandas as pd
import pytest
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from services import jobs
from services.access import Actor
from services.config import Settings, get_settings
from services.db import get_engine
from services.models import Role
from tests.support.signin import app_as, first_admin, literal, local_user

CSV = b"customer_id,age,plan\n1,34,gold\n2,,silver\n3,51,gold\n"


@pytest.fixture
def admin(session: Session, settings: Settings) -> Actor:
    return first_admin(session, settings)


@pytest.fixture
def app(session: Session, settings: Settings, admin: Actor) -> AppTest:
    """The Datasets page of an analyst signed in, in the default project."""
    at = app_as(local_user(session, settings, admin, "ana", Role.analyst))
    assert not at.exception
    return at


def upload(at: AppTest, name: str, content: bytes) -> None:
    at.file_uploader[0].set_value((name, content, "application/octet-stream"))
    at.run()


def schema(at: AppTest) -> pd.DataFrame:
    return next(f.value for f in at.dataframe if "kind" in f.value.columns)


def preview(at: AppTest) -> pd.DataFrame:
    """The table shown under the Preview tab (it follows the schema editor)."""
    frames = [f.value for f in at.dataframe]
    return frames[next(i for i, f in enumerate(frames) if "kind" in f.columns) + 1]


def click(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click()
    at.run()
    if label in ("Add dataset", "Use these names and add"):  # these start an ingest job
        settle(at)


def settle(at: AppTest) -> None:
    """Waits for the ingest jobs the page started (real runner processes), then reruns."""
    deadline = time.monotonic() + 60
    with Session(get_engine(get_settings())) as db:
        while jobs.find_jobs(session=db, active_only=True):
            assert time.monotonic() < deadline, "ingest job did not finish in 60 s"
            time.sleep(0.1)
    at.run()


def test_empty_state_invites_an_upload(app: AppTest) -> None:
    assert app.title[0].value == "Datasets"
    assert literal(app.info[0]).startswith("No datasets yet.")


def test_upload_shows_schema_and_preview(app: AppTest) -> None:
    upload(app, "customers.csv", CSV)
    assert app.text_input[0].value == "customers"
    click(app, "Add dataset")
    assert not app.exception
    assert literal(app.success[0]) == "Added customers version 1."
    assert app.selectbox[0].value == "customers"
    assert [m.value for m in app.metric][:2] == ["3", "3"]
    listing = app.dataframe[0].value
    assert listing[["name", "versions", "latest", "rows", "columns"]].values.tolist() == [
        ["customers", 1, "v1", 3, 3]
    ]
    columns = schema(app)
    assert list(columns["name"]) == ["customer_id", "age", "plan"]
    assert list(columns["kind"]) == ["integer", "integer", "category"]
    assert preview(app)["plan"].tolist() == ["gold", "silver", "gold"]


def test_same_file_again_adds_nothing(app: AppTest) -> None:
    upload(app, "customers.csv", CSV)
    click(app, "Add dataset")
    upload(app, "customers.csv", CSV)
    click(app, "Add dataset")
    assert literal(app.success[0]) == (
        "This file is already stored as customers version 1; nothing was added."
    )


def test_bad_file_shows_a_clear_message_and_no_traceback(app: AppTest) -> None:
    upload(app, "broken.csv", b"a,b\n1,2\n3,4,5\n")
    click(app, "Add dataset")
    assert not app.exception
    assert literal(app.error[0]) == (
        "Line 3 of 'broken.csv' has 3 values but the header has 2 columns (detected delimiter: "
        "comma). The row reads: '3,4,5'. Fix that row, or check the file uses one delimiter."
    )
    assert literal(app.info[0]).startswith("No datasets yet.")


def test_repeated_column_names_can_take_the_suggested_names(app: AppTest) -> None:
    upload(app, "dupes.csv", b"a,a,\n1,2,3\n")
    click(app, "Add dataset")
    assert literal(app.error[0]).startswith("The column names in 'dupes.csv' need fixing")
    assert app.dataframe[0].value["suggested name"].tolist() == ["a", "a_2", "column_3"]
    click(app, "Use these names and add")
    assert literal(app.success[0]) == "Added dupes version 1."
    assert schema(app)["name"].tolist() == ["a", "a_2", "column_3"]


def test_workbook_with_several_sheets_asks_which(app: AppTest) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Notes"
    workbook.active.append(["note"])
    workbook.active.append(["read me"])
    sales = workbook.create_sheet("Sales")
    sales.append(["region", "amount"])
    sales.append(["north", 10])
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload(app, "book.xlsx", buffer.getvalue())
    sheet = next(s for s in app.selectbox if s.label == "Sheet")
    assert sheet.options == ["Notes", "Sales"]
    sheet.set_value("Sales")
    app.run()
    click(app, "Add dataset")
    assert literal(app.success[0]) == "Added book version 1."
    assert schema(app)["name"].tolist() == ["region", "amount"]


def test_preview_pages_through_rows(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = "".join(f"{i},{i * 2}\n" for i in range(1, 121))
    upload(app, "numbers.csv", ("n,double\n" + rows).encode())
    click(app, "Add dataset")
    assert preview(app)["n"].tolist() == list(range(1, 51))
    page = next(n for n in app.number_input if n.label == "Page")
    page.set_value(3)
    app.run()
    assert preview(app)["n"].tolist() == list(range(101, 121))
    assert literal(app.main.caption[-1]) == "Rows 101 to 120 of 120 · page 3 of 3"


def test_new_file_under_same_name_becomes_version_two_and_can_be_deleted(app: AppTest) -> None:
    upload(app, "customers.csv", CSV)
    click(app, "Add dataset")
    upload(app, "customers.csv", CSV + b"4,29,bronze\n")
    click(app, "Add dataset")
    assert literal(app.success[0]) == "Added customers version 2."
    version = next(s for s in app.selectbox if s.label == "Version")
    assert version.options == ["v2", "v1"]
    click(app, "Delete")
    assert literal(app.success[0]) == "Deleted customers version 2."
    version = next(s for s in app.selectbox if s.label == "Version")
    assert version.options == ["v1"]


def test_names_from_files_cannot_add_markdown_to_the_page(app: AppTest) -> None:
    upload(app, "![pixel](http://tracker.test/p.png) :red[x].csv", CSV)
    click(app, "Add dataset")
    shown = app.success[0].value
    assert "![pixel](http" not in shown and ":red[" not in shown
    assert literal(app.success[0]) == "Added ![pixel](http://tracker.test/p.png) :red[x] version 1."


def test_a_viewer_reads_datasets_but_cannot_change_them(
    session: Session, settings: Settings, admin: Actor, app: AppTest
) -> None:
    upload(app, "customers.csv", CSV)
    click(app, "Add dataset")
    at = app_as(local_user(session, settings, admin, "vic", Role.viewer))
    assert not at.exception
    assert at.title[0].value == "Datasets"
    assert not at.file_uploader  # no upload box
    assert schema(at)["name"].tolist() == ["customer_id", "age", "plan"]  # a read-only table
    labels = [b.label for b in at.button]
    assert "Save roles" not in labels and "Delete" not in labels
