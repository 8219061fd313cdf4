"""Bad uploads: each gets one clear, specific message, and nothing already stored is harmed.

The files live in tests/data/bad/ and are written by make_bad_files.py there. Files that are
only bad against a limit (upload size, cell count) are generated per test in tmp_path, with
the limit lowered through its KAIZEN_* variable.

Every message is asserted exactly as the user sees it (`str(error)`): it names the file, says
what is wrong and what to do.
"""

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services import datasets, staging
from services.config import Settings, get_settings
from services.errors import ColumnNamesNeedFixing, InvalidInput, SheetChoiceRequired
from services.models import Dataset
from tests.support.actors import OPERATOR, PROJECT

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"
SUPPORTED = "CSV, TSV, Excel (.xlsx), Parquet or JSON lines"
JSON_LINE = 'Each line must hold one JSON object, such as {"age": 41, "plan": "gold"}.'
CUSTOMERS_CSV = "customer_id,age,plan\n1001,34,gold\n1002,41,silver\n1003,29,bronze\n"


@dataclass(frozen=True)
class Refusal:
    message: str
    kind: type[InvalidInput] = InvalidInput


def _damaged_parts(name: str) -> str:
    return (
        f"'{name}' is damaged: its workbook parts cannot be read. "
        "Open it in Excel, save it again as .xlsx and upload the new file."
    )


def _mismatch(name: str, expected: str, found: str) -> str:
    return (
        f"'{name}' is named like {expected} but contains {found}. "
        "Rename the file with the extension that matches its content, or export it again."
    )


def _not_a_table(name: str, found: str) -> str:
    return (
        f"'{name}' is named like a CSV text file but contains {found}, not a table. "
        f"Export the table from its program as {SUPPORTED} and upload that file."
    )


def _names_need_fixing(name: str, problem: str) -> str:
    return (
        f"The column names in '{name}' need fixing: {problem}. "
        "Accept the suggested names, or fix them in the file and upload it again."
    )


# --- one expected refusal per file in tests/data/bad/ -------------------------------------------

REFUSALS: dict[str, Refusal] = {
    # Nothing to read.
    "empty.csv": Refusal("'empty.csv' is empty. Upload a file that contains a table."),
    "whitespace_only.csv": Refusal(
        "'whitespace_only.csv' is empty. Upload a file that contains a table."
    ),
    "bom_only.csv": Refusal("'bom_only.csv' is empty. Upload a file that contains a table."),
    "header_only.csv": Refusal(
        "'header_only.csv' has column names but no data rows. "
        "Upload a file with at least one row below the header."
    ),
    "header_only.xlsx": Refusal(
        "'header_only.xlsx' has column names but no data rows. "
        "Upload a file with at least one row below the header."
    ),
    "empty_sheet.xlsx": Refusal(
        "Sheet 'Sheet1' of 'empty_sheet.xlsx' is empty. Choose a sheet that holds a table, "
        "or put the table on this sheet and upload the file again."
    ),
    # Rows that do not fit the header.
    "ragged_rows.csv": Refusal(
        "Line 4 of 'ragged_rows.csv' has 4 values but the header has 3 columns (detected "
        "delimiter: comma). The row reads: '1003,29,bronze,extra'. Fix that row, or check the "
        "file uses one delimiter."
    ),
    "ragged_rows_semicolon.csv": Refusal(
        "Line 4 of 'ragged_rows_semicolon.csv' has 2 values but the header has 3 columns "
        "(detected delimiter: semicolon). The row reads: '1003;29'. Fix that row, or check the "
        "file uses one delimiter."
    ),
    "stray_cells.xlsx": Refusal(
        "Row 4 of 'stray_cells.xlsx' has values to the right of the last named column. "
        "Give those columns a header, or delete the stray cells."
    ),
    # Not a table, or not the table format its extension says.
    "image_named.csv": Refusal(_not_a_table("image_named.csv", "a PNG image")),
    "pdf_named.csv": Refusal(_not_a_table("pdf_named.csv", "a PDF document")),
    "binary_garbage.csv": Refusal(
        "'binary_garbage.csv' does not contain text: it looks like a binary file renamed to a "
        "text extension. Upload the original file, or export it from its program as "
        f"{SUPPORTED}."
    ),
    "workbook_named.csv": Refusal(
        _mismatch("workbook_named.csv", "a CSV text file", "a zip archive or Excel workbook")
    ),
    "text_named.xlsx": Refusal(_mismatch("text_named.xlsx", "an Excel workbook", "plain text")),
    "csv_named.parquet": Refusal(_mismatch("csv_named.parquet", "a Parquet file", "plain text")),
    "unknown.docx": Refusal(
        "'unknown.docx' has the extension '.docx', which Kaizen Studio cannot read. "
        f"Upload a {SUPPORTED} file."
    ),
    "old_format.xls": Refusal(
        "'old_format.xls' is an old Excel 97-2003 workbook (.xls). "
        "Open it in Excel and save it as .xlsx, or export it as CSV."
    ),
    # Column names that cannot be stored as they are.
    "duplicate_columns.csv": Refusal(
        _names_need_fixing("duplicate_columns.csv", "'amount', 'region' appear more than once"),
        ColumnNamesNeedFixing,
    ),
    "duplicate_columns.parquet": Refusal(
        _names_need_fixing("duplicate_columns.parquet", "'amount' appears more than once"),
        ColumnNamesNeedFixing,
    ),
    "blank_column_name.csv": Refusal(
        _names_need_fixing("blank_column_name.csv", "columns 2, 4 have no name"),
        ColumnNamesNeedFixing,
    ),
    # Damaged, encrypted or hostile workbooks.
    "corrupt.xlsx": Refusal(
        "'corrupt.xlsx' is damaged: it cannot be opened as an Excel workbook. "
        "Open it in Excel, save it again as .xlsx and upload the new file."
    ),
    "broken_parts.xlsx": Refusal(_damaged_parts("broken_parts.xlsx")),
    "corrupt_sheet.xlsx": Refusal(_damaged_parts("corrupt_sheet.xlsx")),
    "encrypted.xlsx": Refusal(
        "'encrypted.xlsx' is password-protected (encrypted) or an old-style .xls workbook. "
        "Remove the password in Excel (File > Info > Protect Workbook), save as .xlsx and "
        "upload it again."
    ),
    "xls_named.xlsx": Refusal(
        "'xls_named.xlsx' is password-protected (encrypted) or an old-style .xls workbook. "
        "Remove the password in Excel (File > Info > Protect Workbook), save as .xlsx and "
        "upload it again."
    ),
    "zip_bomb.xlsx": Refusal(
        "'zip_bomb.xlsx' would expand to 105 MB when opened, more than this installation "
        "allows for a workbook. Export the sheet as CSV and upload that instead."
    ),
    # Its headers understate the sheet's size: zipfile stops inflating there, CRC fails.
    "zip_bomb_lying_sizes.xlsx": Refusal(_damaged_parts("zip_bomb_lying_sizes.xlsx")),
    "zip_not_workbook.xlsx": Refusal(
        "'zip_not_workbook.xlsx' is a zip archive, not an Excel workbook. "
        "Upload the .xlsx file itself."
    ),
    "multi_sheet.xlsx": Refusal(
        "'multi_sheet.xlsx' has 3 sheets ('Customers', 'Orders', 'Notes'). "
        "Choose the sheet to read.",
        SheetChoiceRequired,
    ),
    # Damaged Parquet and JSON.
    "corrupt.parquet": Refusal(
        "'corrupt.parquet' is damaged or not a complete Parquet file. "
        "Export it again and upload the new file."
    ),
    "invalid.jsonl": Refusal(
        f"Line 3 of 'invalid.jsonl' is not valid JSON. {JSON_LINE} "
        "Fix that line and upload the file again."
    ),
    "json_number.json": Refusal(
        f"Line 1 of 'json_number.json' is not a JSON object. {JSON_LINE} "
        "Fix that line and upload the file again."
    ),
    "utf16_number_line.jsonl": Refusal(
        f"Line 2 of 'utf16_number_line.jsonl' is not a JSON object. {JSON_LINE} "
        "Fix that line and upload the file again."
    ),
    "json_not_records.json": Refusal(
        "'json_not_records.json' must hold a list of objects, one per row, such as "
        '[{"age": 41, "plan": "gold"}].'
    ),
}


# --- helpers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What is stored: every Dataset row and every file under datasets/ and tmp/."""

    rows: list[tuple[int | None, str, int, str, str]]
    files: dict[str, bytes]


def snapshot(engine: Engine, settings: Settings) -> Snapshot:
    with Session(engine) as fresh:
        rows = [
            (d.id, d.name, d.version, d.sha256, d.storage_key)
            for d in fresh.exec(select(Dataset).order_by(col(Dataset.id)))
        ]
    files = {
        str(path.relative_to(settings.home)): path.read_bytes()
        for folder in (settings.datasets_dir, settings.tmp_dir)
        if folder.exists()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    return Snapshot(rows=rows, files=files)


def add(
    session: Session,
    settings: Settings,
    path: Path,
    *,
    as_upload: bool = False,
    filename: str | None = None,
    **kw: object,
) -> datasets.AddOutcome:
    """Adds `path` as the CLI does (a path on disk) or as the web page does (an open stream)."""
    name = filename or path.name
    if not as_upload:
        return datasets.add_dataset(
            actor=OPERATOR,
            project_id=PROJECT,
            session=session,
            settings=settings,
            source=path,
            filename=name,
            **kw,
        )
    with path.open("rb") as stream:
        return datasets.add_dataset(
            actor=OPERATOR,
            project_id=PROJECT,
            session=session,
            settings=settings,
            source=stream,
            filename=name,
            **kw,
        )


def refused(
    session: Session, settings: Settings, path: Path, *, as_upload: bool = False, **kw: object
) -> InvalidInput:
    with pytest.raises(InvalidInput) as raised:
        add(session, settings, path, as_upload=as_upload, **kw)
    return raised.value


@pytest.fixture
def customers_csv(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS_CSV)
    return path


@pytest.fixture
def stored(session: Session, settings: Settings, customers_csv: Path) -> datasets.AddOutcome:
    """A good dataset stored before the bad upload."""
    outcome = add(session, settings, customers_csv)
    assert outcome.created
    return outcome


@pytest.fixture
def limited_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The test's settings with a 1 MB upload limit and a 10-cell table limit.

    `settings` has already set KAIZEN_HOME and cached its Settings; the limits are read
    only when the cache is cleared after the variables are set.
    """
    monkeypatch.setenv("KAIZEN_MAX_UPLOAD_MB", "1")
    monkeypatch.setenv("KAIZEN_MAX_CELLS", "10")
    get_settings.cache_clear()
    limited = get_settings()
    assert (limited.max_upload_mb, limited.max_cells) == (1, 10)
    assert limited.home == settings.home
    yield limited
    get_settings.cache_clear()


def assert_intact(engine: Engine, settings: Settings, before: Snapshot) -> None:
    """No Dataset row and no stored or temporary file was added, removed or changed."""
    assert snapshot(engine, settings) == before


# --- the corpus ---------------------------------------------------------------------------------


def test_every_bad_file_has_an_expected_message() -> None:
    files = {p.name for p in BAD.iterdir() if p.is_file() and p.suffix != ".py"}
    assert files == set(REFUSALS)


def test_bad_files_are_small_enough_to_commit() -> None:
    sizes = {name: (BAD / name).stat().st_size for name in REFUSALS}
    assert {name: size for name, size in sizes.items() if size >= 200 * 1024} == {}


@pytest.mark.parametrize("as_upload", [False, True], ids=["path", "upload"])
@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_bad_file_is_refused_with_a_clear_message(
    name: str,
    as_upload: bool,
    engine: Engine,
    session: Session,
    settings: Settings,
    stored: datasets.AddOutcome,
) -> None:
    expected = REFUSALS[name]
    before = snapshot(engine, settings)

    error = refused(session, settings, BAD / name, as_upload=as_upload)

    assert str(error) == expected.message
    assert type(error) is expected.kind
    assert_intact(engine, settings, before)


# --- the stored dataset survives a bad upload under its own name --------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "ragged_rows.csv",
        "duplicate_columns.csv",
        "corrupt_sheet.xlsx",
        "zip_bomb.xlsx",
        "corrupt.parquet",
        "invalid.jsonl",
    ],
)
def test_a_stored_dataset_is_intact_after_a_bad_upload_under_its_name(
    name: str,
    engine: Engine,
    session: Session,
    settings: Settings,
    stored: datasets.AddOutcome,
) -> None:
    original = stored.dataset
    row = session.get(Dataset, original.id)
    assert row is not None
    table_before = pq.read_table(datasets.parquet_path(settings, row))

    # Whatever the failure (even an unexpected one), what was stored stays as it was.
    with pytest.raises(Exception):  # noqa: B017
        add(session, settings, BAD / name, name="customers")
    session.rollback()

    assert datasets.get_dataset(actor=OPERATOR, session=session, dataset_id=original.id) == original
    assert [
        v.id
        for v in datasets.list_versions(
            actor=OPERATOR, project_id=PROJECT, session=session, name="customers"
        )
    ] == [original.id]
    with Session(engine) as fresh:
        again = fresh.get(Dataset, original.id)
        assert again is not None
        assert pq.read_table(datasets.parquet_path(settings, again)).equals(table_before)
    assert table_before.to_pylist()[0] == {"customer_id": 1001, "age": 34, "plan": "gold"}
    page = datasets.preview(
        actor=OPERATOR, session=session, settings=settings, dataset_id=original.id
    )
    assert page.total_rows == 3


# --- answers to the questions a bad file asks ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "suggested"),
    [
        ("duplicate_columns.csv", ["id", "amount", "amount_2", "region", "region_2", "amount_3"]),
        ("duplicate_columns.parquet", ["id", "amount", "amount_2"]),
        ("blank_column_name.csv", ["id", "column_2", "amount", "column_4"]),
    ],
)
def test_bad_column_names_offer_names_that_then_work(
    name: str, suggested: list[str], engine: Engine, session: Session, settings: Settings
) -> None:
    error = refused(session, settings, BAD / name)
    assert isinstance(error, ColumnNamesNeedFixing)
    assert error.suggested == suggested

    outcome = add(session, settings, BAD / name, rename_columns=True)

    assert outcome.created
    assert [c.name for c in outcome.dataset.column_infos] == suggested
    assert outcome.dataset.rows == 2
    assert [row[:3] for row in snapshot(engine, settings).rows] == [
        (outcome.dataset.id, Path(name).stem, 1)
    ]
    row = session.get(Dataset, outcome.dataset.id)
    assert row is not None
    assert pq.read_table(datasets.parquet_path(settings, row)).column_names == suggested


def test_a_multi_sheet_workbook_asks_for_a_sheet_and_reads_the_one_chosen(
    session: Session, settings: Settings
) -> None:
    path = BAD / "multi_sheet.xlsx"
    error = refused(session, settings, path)
    assert isinstance(error, SheetChoiceRequired)
    assert error.sheets == ["Customers", "Orders", "Notes"]
    assert datasets.upload_sheets(
        session=session, settings=settings, actor=OPERATOR, source=path, filename=path.name
    ) == [
        "Customers",
        "Orders",
        "Notes",
    ]

    outcome = add(session, settings, path, sheet="Orders")

    assert outcome.created
    assert outcome.dataset.sheet == "Orders"
    assert [c.name for c in outcome.dataset.column_infos] == ["order_id", "customer_id", "total"]
    assert outcome.dataset.rows == 2


def test_a_sheet_that_is_not_in_the_workbook_is_named_with_the_choices(
    engine: Engine, session: Session, settings: Settings
) -> None:
    before = snapshot(engine, settings)
    error = refused(session, settings, BAD / "multi_sheet.xlsx", sheet="Summary")
    assert str(error) == (
        "'multi_sheet.xlsx' has no sheet 'Summary'. Its sheets are 'Customers', 'Orders', 'Notes'."
    )
    assert_intact(engine, settings, before)


@pytest.mark.parametrize(
    "name", ["zip_bomb.xlsx", "corrupt.xlsx", "zip_not_workbook.xlsx", "encrypted.xlsx"]
)
def test_listing_the_sheets_of_a_bad_workbook_gives_the_same_message(
    name: str, session: Session, settings: Settings
) -> None:
    with pytest.raises(InvalidInput) as raised:
        datasets.upload_sheets(
            session=session, settings=settings, actor=OPERATOR, source=BAD / name, filename=name
        )
    assert str(raised.value) == REFUSALS[name].message


# --- limits of this installation ----------------------------------------------------------------


def _rows_of_text(target_bytes: int) -> str:
    line = "1001,34,gold,some notes about this customer\n"
    return "id,age,plan,notes\n" + line * (target_bytes // len(line) + 1)


@pytest.mark.parametrize("as_upload", [False, True], ids=["path", "upload"])
def test_a_file_over_the_upload_limit_is_refused(
    as_upload: bool,
    tmp_path: Path,
    engine: Engine,
    session: Session,
    limited_settings: Settings,
    stored: datasets.AddOutcome,
) -> None:
    big = tmp_path / "big.csv"
    big.write_text(_rows_of_text(1024 * 1024 + 1))
    assert big.stat().st_size > 1024 * 1024
    before = snapshot(engine, limited_settings)

    error = refused(session, limited_settings, big, as_upload=as_upload)

    assert str(error) == (
        "'big.csv' is larger than 1 MB, the upload limit of this installation. Upload a "
        "smaller extract, or ask an admin to raise KAIZEN_MAX_UPLOAD_MB."
    )
    assert_intact(engine, limited_settings, before)


def _eleven_cells_and_more(tmp_path: Path, suffix: str) -> Path:
    """A 3-row, 4-column table (12 cells) in the format of `suffix`."""
    header = ["customer_id", "age", "plan", "spend"]
    rows = [[1001, 34, "gold", 72.5], [1002, 41, "silver", 40.0], [1003, 29, "bronze", 19.9]]
    path = tmp_path / f"twelve_cells{suffix}"
    if suffix == ".csv":
        path.write_text("\n".join(",".join(map(str, r)) for r in [header, *rows]) + "\n")
    elif suffix == ".xlsx":
        workbook = openpyxl.Workbook()
        for row in [header, *rows]:
            workbook.active.append(row)
        workbook.save(path)
    elif suffix == ".parquet":
        pq.write_table(pa.table({h: [r[i] for r in rows] for i, h in enumerate(header)}), path)
    else:
        records = [dict(zip(header, r, strict=True)) for r in rows]
        path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet", ".jsonl"])
def test_a_table_over_the_cell_limit_is_refused(
    suffix: str,
    tmp_path: Path,
    engine: Engine,
    session: Session,
    limited_settings: Settings,
    stored: datasets.AddOutcome,
) -> None:
    path = _eleven_cells_and_more(tmp_path, suffix)
    before = snapshot(engine, limited_settings)

    error = refused(session, limited_settings, path)

    assert str(error) == (
        f"'{path.name}' has more than 10 cells (rows x columns), the limit set for this "
        "installation. Upload a sample or fewer columns, or ask an admin to raise "
        "KAIZEN_MAX_CELLS."
    )
    assert_intact(engine, limited_settings, before)


def test_a_table_at_the_cell_limit_is_stored(
    tmp_path: Path, session: Session, limited_settings: Settings
) -> None:
    path = tmp_path / "ten_cells.csv"
    path.write_text("a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n")  # 5 rows x 2 columns

    outcome = add(session, limited_settings, path)

    assert (outcome.dataset.rows, outcome.dataset.columns) == (5, 2)


def test_the_stream_of_an_upload_is_checked_as_it_arrives(
    tmp_path: Path, engine: Engine, session: Session, limited_settings: Settings
) -> None:
    """An upload that does not say its size is refused once it passes the limit."""
    total = 3 * staging.CHUNK
    stream = io.BytesIO(_rows_of_text(total).encode())
    before = snapshot(engine, limited_settings)
    with pytest.raises(InvalidInput) as raised:
        datasets.add_dataset(
            actor=OPERATOR,
            project_id=PROJECT,
            session=session,
            settings=limited_settings,
            source=stream,
            filename="stream.csv",
        )
    assert str(raised.value).startswith("'stream.csv' is larger than 1 MB")
    assert stream.tell() <= staging.CHUNK < total  # it stopped reading after one chunk
    assert_intact(engine, limited_settings, before)
