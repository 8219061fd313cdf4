"""Well-formed uploads: every supported format, encoding and delimiter is stored with its types.

The files live in tests/data/good/ and are written by make_good_files.py there. Larger files
(paging, type widening, late encodings) are generated per test in tmp_path.
"""

import datetime as dt
import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlmodel import Session, select

from services import datasets
from services.config import Settings
from services.ingest import detect, text
from services.models import ColumnKind, ColumnRole, Dataset
from tests.support.actors import OPERATOR, PROJECT

GOOD = Path(__file__).resolve().parent.parent / "data" / "good"

K = ColumnKind


# --- helpers ------------------------------------------------------------------------------------


def add(
    session: Session, settings: Settings, source: Path, filename: str | None = None, **kw: Any
) -> datasets.AddOutcome:
    return datasets.add_dataset(
        actor=OPERATOR,
        project_id=PROJECT,
        session=session,
        settings=settings,
        source=source,
        filename=filename or source.name,
        **kw,
    )


def stored(session: Session, settings: Settings, dataset_id: int) -> pa.Table:
    row = session.get(Dataset, dataset_id)
    assert row is not None
    return pq.read_table(datasets.parquet_path(settings, row))


def parquet_files(settings: Settings) -> list[Path]:
    if not settings.datasets_dir.exists():
        return []
    return sorted(settings.datasets_dir.glob("*.parquet"))


def row_count(session: Session) -> int:
    return len(session.exec(select(Dataset)).all())


# --- one expectation per good file --------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    rows: int
    # name -> (kind, predicate on the stored Arrow type, missing values)
    columns: dict[str, tuple[ColumnKind | tuple[ColumnKind, ...], Any, int]]
    fmt: str
    encoding: str | None = None
    delimiter: str | None = None
    # (row, column) -> exact value read back from the stored Parquet
    cells: dict[tuple[int, str], Any] = field(default_factory=dict)


is_int64 = pa.types.is_int64
is_float64 = pa.types.is_float64
is_bool = pa.types.is_boolean
is_date32 = pa.types.is_date32
is_timestamp = pa.types.is_timestamp
is_string = pa.types.is_string
is_dictionary = pa.types.is_dictionary


def _date_or_timestamp(t: pa.DataType) -> bool:
    return pa.types.is_date(t) or pa.types.is_timestamp(t)


CUSTOMER_COLUMNS = {
    "customer_id": (K.integer, is_int64, 0),
    "age": (K.integer, is_int64, 3),  # integers with missing values stay integers
    "balance": (K.float, is_float64, 0),
    "plan": (K.category, is_string, 0),
    "signup_date": (K.date, is_date32, 0),
    "last_login": (K.datetime, is_timestamp, 0),
    "active": (K.category, is_string, 0),  # yes/no is kept verbatim, as a two-value category
    "verified": (K.boolean, is_bool, 0),
    "name": (K.text, is_string, 0),
    "notes": (K.text, is_string, 1),  # one empty cell
}
CUSTOMER_CELLS = {
    (0, "customer_id"): 1,
    (0, "name"): "Café Müller",
    (0, "notes"): 'Said "call me later", then hung up',
    (0, "signup_date"): dt.date(2023, 1, 15),
    (0, "last_login"): dt.datetime(2024, 3, 1, 9, 30),
    (0, "active"): "no",
    (0, "verified"): False,
    (1, "notes"): "Paid €5, asked for a receipt",
    (1, "active"): "yes",
    (1, "balance"): -1234.25,
    (2, "age"): None,
    (2, "notes"): "line one\nline two",  # the quoted line break
    (2, "name"): "Jürgen Groß",
    (3, "notes"): None,
    (11, "customer_id"): 12,
    (11, "age"): 54,
    (11, "name"): "Ömer Çelik",
}


def _customers(encoding: str, delimiter: str, fmt: str = "csv") -> Expected:
    return Expected(
        rows=12,
        columns=CUSTOMER_COLUMNS,
        fmt=fmt,
        encoding=encoding,
        delimiter=delimiter,
        cells={**CUSTOMER_CELLS, (9, "name"): "Łukasz Nowak"},
    )


_cp1252 = _customers("cp1252", ",")

EXPECTED: dict[str, Expected] = {
    "customers.csv": _customers("utf-8", ","),
    "utf8_bom.csv": _customers("utf-8", ","),
    "utf16.csv": _customers("utf-16", "\t"),
    "cp1252.csv": Expected(
        rows=_cp1252.rows,
        columns=_cp1252.columns,
        fmt="csv",
        encoding="cp1252",
        delimiter=",",
        cells={**CUSTOMER_CELLS, (9, "name"): "Lukas Nowak"},
    ),
    "pipe.csv": _customers("utf-8", "|"),
    "data.tsv": _customers("utf-8", "\t", fmt="tsv"),
    "latin1.csv": Expected(
        rows=4,
        columns={
            "city": (K.text, is_string, 0),
            "price": (K.integer, is_int64, 0),
            "remark": (K.text, is_string, 0),
        },
        fmt="csv",
        encoding="latin-1",
        delimiter=",",
        cells={
            (0, "city"): "Zürich",
            (0, "remark"): "½ Preis",
            (1, "remark"): "© Ville",
            (2, "remark"): "ctl\x81byte",
            (3, "city"): "Ålesund",
        },
    ),
    "semicolon_decimal_comma.csv": Expected(
        rows=5,
        columns={
            "id": (K.integer, is_int64, 0),
            "price": (K.float, is_float64, 0),  # 1,5 -> 1.5
            "weight_kg": (K.float, is_float64, 1),
            "product": (K.text, is_string, 0),
        },
        fmt="csv",
        encoding="utf-8",
        delimiter=";",
        cells={
            (0, "price"): 1.5,
            (0, "weight_kg"): 0.25,
            (1, "price"): 12.75,
            (2, "price"): -3.5,
            (2, "product"): "Kirschen, sauer",
            (3, "price"): 1000.0,
            (4, "price"): 0.99,
            (0, "product"): "Äpfel",
        },
    ),
    "customers.xlsx": Expected(
        rows=8,
        columns={
            "id": (K.integer, is_int64, 0),
            "age": (K.integer, is_int64, 1),  # a blank cell does not make it float
            "balance": (K.float, is_float64, 0),
            "signup": ((K.date, K.datetime), _date_or_timestamp, 0),
            "last_login": (K.datetime, is_timestamp, 0),
            "active": (K.boolean, is_bool, 0),
            "name": (K.text, is_string, 0),
            "score": (K.float, is_float64, 1),  # the #N/A error cell is a missing value
        },
        fmt="xlsx",
        cells={
            (0, "id"): 1,
            (0, "balance"): -50.25,
            (0, "last_login"): dt.datetime(2024, 3, 1, 9, 30),
            (0, "active"): True,
            (0, "name"): "Café Müller",
            (1, "score"): 0.5,
            (3, "age"): None,
            (5, "score"): None,
            (7, "age"): 37,
        },
    ),
    "customers.parquet": Expected(
        rows=8,
        columns={
            "customer_id": (K.integer, is_int64, 0),
            "age": (K.integer, is_int64, 2),  # pandas' nullable Int64
            "plan": (K.category, is_dictionary, 0),  # pandas Categorical
            "balance": (K.float, is_float64, 0),
            "signup": (K.date, is_date32, 0),
            "name": (K.text, is_string, 0),
        },
        fmt="parquet",
        cells={
            (0, "age"): 34,
            (1, "age"): None,
            (0, "plan"): "gold",
            (2, "plan"): "bronze",
            (3, "balance"): 1234.75,
            (0, "signup"): dt.date(2023, 1, 15),
            (0, "name"): "Café Müller",
        },
    ),
    "customers.jsonl": Expected(
        rows=6,
        columns={
            "id": (K.integer, is_int64, 0),
            "age": (K.integer, is_int64, 1),
            "score": (K.float, is_float64, 0),
            "plan": (K.category, is_string, 0),
            "active": (K.boolean, is_bool, 0),
            "name": (K.text, is_string, 0),
            "address.city": (K.category, is_string, 0),  # nested objects become dotted columns
            "address.geo.lat": (K.float, is_float64, 0),
            "tags": (K.category, is_string, 0),  # lists are kept as their JSON text
        },
        fmt="json",
        encoding="utf-8",
        cells={
            (0, "address.city"): "Paris",
            (1, "address.city"): "Köln",
            (2, "address.geo.lat"): 50.5,
            (0, "tags"): "[]",
            (2, "tags"): '["a", "b"]',
            (2, "age"): None,
            (0, "name"): "Café Müller",
        },
    ),
    "array.json": Expected(
        rows=3,
        columns={
            "id": (K.integer, is_int64, 0),
            "city": (K.text, is_string, 0),
            "population": (K.float, is_float64, 1),
            "capital": (K.boolean, is_bool, 0),
            # "mayor" is absent from the first object only: it must still be kept
            "mayor": (K.text, is_string, 1),
        },
        fmt="json",
        encoding="utf-8",
        cells={
            (0, "mayor"): None,
            (1, "mayor"): "G. Doucet",
            (2, "city"): "Köln",
            (0, "population"): 2.1,
        },
    ),
    "html_names.csv": Expected(
        rows=3,
        columns={
            "<script>alert(1)</script>": ((K.text, K.category), is_string, 0),
            "<b>bold</b>": ((K.text, K.category), is_string, 0),
            "plain": ((K.text, K.category), is_string, 0),
        },
        fmt="csv",
        encoding="utf-8",
        delimiter=",",
        cells={
            (0, "<script>alert(1)</script>"): "<script>alert(1)</script>",
            (0, "<b>bold</b>"): "<b>bold</b>",
            (0, "plain"): "&lt;i&gt; &amp; stays",
            (1, "<script>alert(1)</script>"): '<img src=x onerror="alert(2)">',
            (1, "plain"): "a < b > c",
            (2, "<script>alert(1)</script>"): "</td></tr><tr><td>",
            (2, "plain"): "{{ template }}",
        },
    ),
    "one_column.csv": Expected(
        rows=6,
        columns={"score": (K.float, is_float64, 0)},
        fmt="csv",
        encoding="utf-8",
        delimiter=",",
        cells={(0, "score"): 3.5, (5, "score"): 3.0},
    ),
    "unicode_names.csv": Expected(
        rows=3,
        columns={
            "顧客名": (K.text, is_string, 0),
            "年齢": (K.integer, is_int64, 0),
            "🎉 score": (K.float, is_float64, 0),
            "città": (K.text, is_string, 0),
        },
        fmt="csv",
        encoding="utf-8",
        delimiter=",",
        cells={(0, "顧客名"): "山田太郎", (1, "🎉 score"): 7.25, (2, "città"): "Kyōto"},
    ),
}


def test_corpus_is_complete_and_small() -> None:
    on_disk = {p.name for p in GOOD.iterdir() if p.suffix != ".py"}
    assert on_disk == set(EXPECTED)
    assert all((GOOD / name).stat().st_size < 100_000 for name in on_disk)


@pytest.mark.parametrize("filename", sorted(EXPECTED))
def test_good_file_is_stored_with_its_types(
    filename: str, session: Session, settings: Settings
) -> None:
    expected = EXPECTED[filename]
    outcome = add(session, settings, GOOD / filename)
    dataset = outcome.dataset

    assert outcome.created
    assert dataset.version == 1
    assert dataset.name == Path(filename).stem
    assert dataset.source_format == expected.fmt
    assert dataset.rows == expected.rows
    assert dataset.columns == len(expected.columns)
    assert dataset.encoding == expected.encoding
    assert dataset.delimiter == expected.delimiter
    assert dataset.size_bytes == (GOOD / filename).stat().st_size

    infos = {c.name: c for c in dataset.column_infos}
    assert [c.name for c in dataset.column_infos] == list(expected.columns)
    table = stored(session, settings, dataset.id)
    assert table.column_names == list(expected.columns)
    assert table.num_rows == expected.rows
    for name, (kind, is_type, missing) in expected.columns.items():
        kinds = kind if isinstance(kind, tuple) else (kind,)
        assert infos[name].kind in kinds, name
        assert is_type(table.schema.field(name).type), (name, table.schema.field(name).type)
        assert infos[name].dtype == str(table.schema.field(name).type), name
        assert infos[name].missing == missing == table.column(name).null_count, name
        assert infos[name].role == ColumnRole.feature
    for (row, name), value in expected.cells.items():
        assert table.column(name)[row].as_py() == value, (row, name)


def test_xlsx_dates_read_back_as_the_calendar_day(session: Session, settings: Settings) -> None:
    dataset = add(session, settings, GOOD / "customers.xlsx").dataset
    signup = stored(session, settings, dataset.id).column("signup").to_pylist()
    first = signup[0]
    day = first.date() if isinstance(first, dt.datetime) else first
    assert day == dt.date(2023, 1, 15)
    if isinstance(first, dt.datetime):
        assert all(v.time() == dt.time(0) for v in signup)
    assert dataset.sheet == "customers"


def test_the_same_table_reads_alike_in_every_encoding_and_delimiter(
    session: Session, settings: Settings
) -> None:
    tables = {
        name: stored(session, settings, add(session, settings, GOOD / name).dataset.id)
        for name in ("customers.csv", "utf8_bom.csv", "utf16.csv", "pipe.csv", "data.tsv")
    }
    reference = tables.pop("customers.csv")
    for name, table in tables.items():
        assert table.equals(reference), name


def test_parquet_upload_drops_the_saved_pandas_index(session: Session, settings: Settings) -> None:
    assert "__index_level_0__" in pq.read_schema(GOOD / "customers.parquet").names
    dataset = add(session, settings, GOOD / "customers.parquet").dataset
    assert "__index_level_0__" not in stored(session, settings, dataset.id).column_names


def test_html_is_stored_as_text_not_markup(session: Session, settings: Settings) -> None:
    dataset = add(session, settings, GOOD / "html_names.csv").dataset
    table = stored(session, settings, dataset.id)
    assert table.column_names[0] == "<script>alert(1)</script>"
    assert table.column("<b>bold</b>").to_pylist() == ["<b>bold</b>", "<i>it</i>", "<b>bold</b>"]
    page = datasets.preview(
        actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id
    )
    assert page.table.column("plain").to_pylist()[0] == "&lt;i&gt; &amp; stays"


# --- storage once by content hash, versions -----------------------------------------------------


def test_re_adding_the_same_file_creates_nothing(session: Session, settings: Settings) -> None:
    first = add(session, settings, GOOD / "customers.csv")
    files = parquet_files(settings)
    again = add(session, settings, GOOD / "customers.csv")

    assert first.created and not again.created
    assert again.dataset.id == first.dataset.id
    assert again.dataset.version == 1
    assert row_count(session) == 1
    assert parquet_files(settings) == files
    assert len(files) == 1


@pytest.mark.parametrize("filename", sorted(EXPECTED))
def test_a_browser_upload_reads_like_the_file_on_disk(
    filename: str, session: Session, settings: Settings
) -> None:
    """The web page hands over a file-like object, not a path; the result is the same."""
    expected = EXPECTED[filename]
    upload = io.BytesIO((GOOD / filename).read_bytes())
    dataset = add(session, settings, upload, filename=filename).dataset  # type: ignore[arg-type]
    assert (dataset.rows, dataset.source_format) == (expected.rows, expected.fmt)
    assert [c.name for c in dataset.column_infos] == list(expected.columns)
    assert (dataset.encoding, dataset.delimiter) == (expected.encoding, expected.delimiter)
    for (row, name), value in expected.cells.items():
        assert stored(session, settings, dataset.id).column(name)[row].as_py() == value
    assert not any(settings.tmp_dir.iterdir())


def test_re_uploading_the_same_bytes_from_the_browser_creates_nothing(
    session: Session, settings: Settings
) -> None:
    first = add(session, settings, GOOD / "customers.csv")
    upload = io.BytesIO((GOOD / "customers.csv").read_bytes())
    again = add(session, settings, upload, filename="customers.csv")  # type: ignore[arg-type]
    assert not again.created
    assert again.dataset.id == first.dataset.id
    assert len(parquet_files(settings)) == 1
    assert not any(settings.tmp_dir.iterdir())  # the staged upload is gone


def test_re_adding_the_same_workbook_creates_nothing(session: Session, settings: Settings) -> None:
    first = add(session, settings, GOOD / "customers.xlsx")
    again = add(session, settings, GOOD / "customers.xlsx")
    named = add(session, settings, GOOD / "customers.xlsx", sheet="customers")

    assert first.created
    assert (again.created, again.dataset.id) == (False, first.dataset.id)
    assert (named.created, named.dataset.id) == (False, first.dataset.id)
    assert row_count(session) == 1
    assert len(parquet_files(settings)) == 1


def test_the_same_file_under_another_name_shares_one_parquet_file(
    session: Session, settings: Settings
) -> None:
    a = add(session, settings, GOOD / "customers.csv", name="customers")
    b = add(session, settings, GOOD / "customers.csv", name="clients")

    assert a.created and b.created
    assert (b.dataset.name, b.dataset.version) == ("clients", 1)
    assert b.dataset.sha256 == a.dataset.sha256
    row_a, row_b = session.get(Dataset, a.dataset.id), session.get(Dataset, b.dataset.id)
    assert row_a is not None and row_b is not None
    assert row_a.storage_key == row_b.storage_key
    assert len(parquet_files(settings)) == 1
    assert b.dataset.column_infos == a.dataset.column_infos


def test_a_changed_file_becomes_version_2_and_keeps_roles(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    v1 = add(session, settings, GOOD / "customers.csv").dataset
    datasets.set_column_roles(
        actor=OPERATOR,
        session=session,
        dataset_id=v1.id,
        roles={"customer_id": ColumnRole.id, "balance": ColumnRole.target, "notes": "ignore"},
    )
    changed = tmp_path / "customers.csv"
    changed.write_bytes(
        (GOOD / "customers.csv").read_bytes() + b"13,70,5.5,gold,2024-06-01,2024-06-01 08:00:00,"
        b"yes,true,New Person,new\r\n"
    )

    outcome = add(session, settings, changed)
    v2 = outcome.dataset
    assert outcome.created
    assert (v2.name, v2.version, v2.rows) == ("customers", 2, 13)
    assert v2.id != v1.id and v2.sha256 != v1.sha256
    roles = {c.name: c.role for c in v2.column_infos}
    assert roles["customer_id"] == ColumnRole.id
    assert roles["balance"] == ColumnRole.target
    assert roles["notes"] == ColumnRole.ignore
    assert roles["age"] == ColumnRole.feature
    assert len(parquet_files(settings)) == 2
    assert [
        d.version
        for d in datasets.list_versions(
            actor=OPERATOR, project_id=PROJECT, session=session, name="customers"
        )
    ] == [2, 1]
    [summary] = datasets.list_datasets(actor=OPERATOR, session=session)
    assert (summary.latest_id, summary.latest_version, summary.versions) == (v2.id, 2, 2)


def test_deleting_keeps_a_shared_parquet_file_until_its_last_user_goes(
    session: Session, settings: Settings
) -> None:
    a = add(session, settings, GOOD / "customers.csv", name="customers").dataset
    b = add(session, settings, GOOD / "customers.csv", name="clients").dataset
    [path] = parquet_files(settings)

    datasets.delete_dataset(actor=OPERATOR, session=session, settings=settings, dataset_id=a.id)
    assert path.exists()
    assert stored(session, settings, b.id).num_rows == 12

    datasets.delete_dataset(actor=OPERATOR, session=session, settings=settings, dataset_id=b.id)
    assert not path.exists()
    assert row_count(session) == 0


# --- preview pages across row groups ------------------------------------------------------------

PAGED_ROWS = 200_003


@pytest.fixture
def paged(session: Session, settings: Settings, tmp_path: Path) -> int:
    source = tmp_path / "big.csv"
    lines = ["n,half,label"] + [f"{i},{i / 2},r{i}" for i in range(PAGED_ROWS)]
    source.write_text("\n".join(lines) + "\n")
    return add(session, settings, source).dataset.id


def _page(session: Session, settings: Settings, dataset_id: int, page: int, size: int):
    return datasets.preview(
        actor=OPERATOR,
        session=session,
        settings=settings,
        dataset_id=dataset_id,
        page=page,
        page_size=size,
    )


def test_preview_pages_across_row_groups(session: Session, settings: Settings, paged: int) -> None:
    row = session.get(Dataset, paged)
    assert row is not None and row.rows == PAGED_ROWS
    metadata = pq.ParquetFile(datasets.parquet_path(settings, row)).metadata
    assert metadata.num_row_groups >= 3
    assert max(metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)) <= 65_536

    # Page 6554 of 10 rows is rows 65,530..65,539: it straddles the first row-group boundary.
    page = _page(session, settings, paged, 6554, 10)
    assert page.table.column("n").to_pylist() == list(range(65_530, 65_540))
    assert page.table.column("label").to_pylist()[6] == "r65536"
    assert (page.page, page.pages, page.total_rows) == (6554, 20_001, PAGED_ROWS)

    # A page larger than a row group spans three of them, in order.
    wide = _page(session, settings, paged, 2, 100_000)
    assert wide.table.column("n").to_pylist() == list(range(100_000, 200_000))
    assert wide.table.column("half")[0].as_py() == 50_000.0

    # The last page is partial.
    last = _page(session, settings, paged, 20_001, 10)
    assert last.table.column("n").to_pylist() == [200_000, 200_001, 200_002]

    # Exactly at a boundary: the page starting on the second row group.
    at = _page(session, settings, paged, 65_536 // 16 + 1, 16)
    assert at.table.column("n").to_pylist() == list(range(65_536, 65_552))


@pytest.mark.parametrize(("asked", "shown"), [(10**9, 20_001), (20_002, 20_001), (0, 1), (-5, 1)])
def test_preview_clamps_page_numbers(
    session: Session, settings: Settings, paged: int, asked: int, shown: int
) -> None:
    page = _page(session, settings, paged, asked, 10)
    assert page.page == shown
    expected = [200_000, 200_001, 200_002] if shown == 20_001 else list(range(10))
    assert page.table.column("n").to_pylist() == expected


def test_preview_default_page_size(session: Session, settings: Settings) -> None:
    dataset = add(session, settings, GOOD / "customers.csv").dataset
    page = datasets.preview(
        actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id
    )
    assert (page.page, page.pages, page.total_rows, page.table.num_rows) == (1, 1, 12, 12)
    assert page.table.column_names == list(CUSTOMER_COLUMNS)


# --- types widen when a later block disagrees with the first ------------------------------------

WIDE_ROWS = 12_000
FIRST_CHANGE = 9_000  # well past the first 64 KiB block


def _widening_csv(path: Path) -> None:
    lines = ["id,amount,code,late,day"]
    for i in range(WIDE_ROWS):
        amount = f"{i}.5" if i == FIRST_CHANGE + 500 else str(i)  # int, then one decimal
        if i < FIRST_CHANGE:
            code = str(i)  # int in the first block ...
        elif i < WIDE_ROWS - 100:
            code = f"{i}.25"  # ... then decimals ...
        else:
            code = f"X-{i}" if i == WIDE_ROWS - 50 else str(i)  # ... then text
        late = str(i * 2) if i >= FIRST_CHANGE else ""  # empty in the first block
        day = "unknown" if i == WIDE_ROWS - 1 else f"2024-01-{1 + i % 28:02d}"
        lines.append(f"{i},{amount},{code},{late},{day}")
    path.write_text("\n".join(lines) + "\n")


def test_types_widen_across_blocks_without_losing_data(
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text, "BLOCK_BYTES", 64 * 1024)
    monkeypatch.setattr(text, "TYPE_SAMPLE_BYTES", 64 * 1024)
    source = tmp_path / "widen.csv"
    _widening_csv(source)
    assert source.stat().st_size > 3 * text.BLOCK_BYTES

    dataset = add(session, settings, source).dataset
    table = stored(session, settings, dataset.id)
    kinds = {c.name: c.kind for c in dataset.column_infos}

    assert dataset.rows == table.num_rows == WIDE_ROWS
    assert table.column("id").to_pylist() == list(range(WIDE_ROWS))  # every row, in order
    assert table.schema.field("id").type == pa.int64()

    # int -> float: every value kept
    assert table.schema.field("amount").type == pa.float64()
    assert kinds["amount"] == ColumnKind.float
    amounts = table.column("amount").to_pylist()
    assert amounts[0] == 0.0 and amounts[FIRST_CHANGE - 1] == FIRST_CHANGE - 1
    assert amounts[FIRST_CHANGE + 500] == FIRST_CHANGE + 500.5

    # int -> float -> text: every value kept as the text in the file
    assert table.schema.field("code").type == pa.string()
    codes = table.column("code").to_pylist()
    assert codes[0] == "0" and codes[FIRST_CHANGE - 1] == str(FIRST_CHANGE - 1)
    assert codes[FIRST_CHANGE] == f"{FIRST_CHANGE}.25"
    assert codes[WIDE_ROWS - 50] == f"X-{WIDE_ROWS - 50}"
    assert codes[WIDE_ROWS - 1] == str(WIDE_ROWS - 1)
    assert table.column("code").null_count == 0

    # all-empty first block, numbers later -> text, numbers kept
    assert table.schema.field("late").type == pa.string()
    late = table.column("late").to_pylist()
    assert late[:FIRST_CHANGE] == [None] * FIRST_CHANGE
    assert late[FIRST_CHANGE] == str(2 * FIRST_CHANGE)
    assert table.column("late").null_count == FIRST_CHANGE

    # date -> text when a later cell is not a date
    assert table.schema.field("day").type == pa.string()
    assert table.column("day").to_pylist()[:2] == ["2024-01-01", "2024-01-02"]
    assert table.column("day").to_pylist()[-1] == "unknown"


# --- encodings decided on the whole file, not only its first bytes ------------------------------


@pytest.mark.parametrize(
    ("late_text", "encoding"),
    [("Café €5", "cp1252"), ("ctl\x81 ½", "latin-1")],
)
def test_a_non_utf8_character_after_the_sample_still_decodes(
    session: Session,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    late_text: str,
    encoding: str,
) -> None:
    """A legacy-encoded export whose first accented character comes late (after the sample)."""
    monkeypatch.setattr(detect, "SAMPLE_BYTES", 4 * 1024)
    early = "é" if encoding == "latin-1" else "e"  # latin-1 case: cp1252 looks right at first
    rows = [f"{i},plain {early} {i}" for i in range(2_000)] + [f"2000,{late_text}"]
    source = tmp_path / "legacy.csv"
    source.write_bytes(("id,name\r\n" + "\r\n".join(rows) + "\r\n").encode(encoding))
    assert source.stat().st_size > 4 * detect.SAMPLE_BYTES

    dataset = add(session, settings, source).dataset
    table = stored(session, settings, dataset.id)
    assert dataset.encoding == encoding
    assert table.schema.field("name").type == pa.string()
    assert table.column("name").to_pylist()[-1] == late_text
    assert table.num_rows == 2_001


def test_stray_spaces_around_workbook_headers_are_trimmed(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    """A header typed as 'Name ' in Excel is as usable as one in a CSV (where it is trimmed)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["Name ", " age"])
    workbook.active.append(["Ana", 41])
    source = tmp_path / "spaces.xlsx"
    workbook.save(source)

    dataset = add(session, settings, source).dataset
    assert [c.name for c in dataset.column_infos] == ["Name", "age"]


def test_the_staging_area_is_left_empty(session: Session, settings: Settings) -> None:
    for name in ("customers.csv", "customers.xlsx", "customers.parquet", "customers.jsonl"):
        add(session, settings, GOOD / name)
    assert not any(settings.tmp_dir.iterdir())
    assert len(parquet_files(settings)) == 4


def test_a_copy_of_the_corpus_file_reads_identically(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    """Detection does not depend on where the file is, only on its name and bytes."""
    copy = tmp_path / "elsewhere" / "customers.csv"
    copy.parent.mkdir()
    shutil.copy(GOOD / "customers.csv", copy)
    a = add(session, settings, GOOD / "customers.csv").dataset
    b = add(session, settings, copy, name="copy").dataset
    assert stored(session, settings, a.id).equals(stored(session, settings, b.id))
