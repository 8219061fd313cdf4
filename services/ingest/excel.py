"""Excel workbooks: bounded decompression, a chosen sheet, and column types from cell values."""

import datetime as dt
import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa

from services.errors import InvalidInput, SheetChoiceRequired
from services.ingest.common import Limits, ParquetSink, ReadReport, check_cells
from services.ingest.names import usable_names

log = logging.getLogger("kaizen.ingest")
BATCH_ROWS = 50_000
_EXCEL_ERRORS = {"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"}
_MAX_RATIO = 200  # real sheets compress about 10-30x; far beyond that is a decompression bomb


def sheet_names(path: Path, *, filename: str, limits: Limits) -> list[str]:
    """The names of the workbook's sheets, after checking the archive is safe to open."""
    _check_archive(path, filename, limits)
    workbook = _open(path, filename)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def read_workbook(
    path: Path, dest: Path, *, filename: str, sheet: str | None, rename: bool, limits: Limits
) -> ReadReport:
    """Writes one sheet of a workbook to `dest` as Parquet."""
    _check_archive(path, filename, limits)
    workbook = _open(path, filename)
    try:
        chosen = _choose_sheet(list(workbook.sheetnames), sheet, filename)
        rows = _guarded(workbook[chosen].iter_rows(values_only=True), filename)
        header = _header(rows, filename, chosen)
        names = usable_names([_text(value) for value in header], filename=filename, rename=rename)
        with ParquetSink(dest, filename=filename, limits=limits) as sink:
            for chunk in _chunks(rows, len(names), filename, limits):
                sink.write(_to_batch(chunk, names))
            count = sink.finish()
    finally:
        workbook.close()
    return ReadReport(fmt="xlsx", rows=count, columns=len(names), sheet=chosen)


def _check_archive(path: Path, filename: str, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise InvalidInput(
            f"'{filename}' is damaged: it cannot be opened as an Excel workbook. "
            "Open it in Excel, save it again as .xlsx and upload the new file."
        ) from None
    if not any(m.filename == "xl/workbook.xml" for m in members):
        raise InvalidInput(
            f"'{filename}' is a zip archive, not an Excel workbook. Upload the .xlsx file itself."
        )
    expanded = sum(m.file_size for m in members)
    packed = max(1, sum(m.compress_size for m in members))
    if expanded > limits.max_xlsx_uncompressed_bytes or expanded / packed > _MAX_RATIO:
        raise InvalidInput(
            f"'{filename}' would expand to {expanded / 1e6:,.0f} MB when opened, more than this "
            "installation allows for a workbook. Export the sheet as CSV and upload that instead."
        )


def _open(path: Path, filename: str) -> Any:
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on damaged parts
        log.warning("openpyxl could not open %s", filename, exc_info=True)
        raise _damaged(filename) from None


def _guarded(rows: Iterator[tuple[Any, ...]], filename: str) -> Iterator[tuple[Any, ...]]:
    """The rows, which openpyxl parses only as they are read: damaged XML or zip data, or a
    sheet longer than its zip header says, fails here rather than when the workbook opens."""
    try:
        yield from rows
    except Exception:  # zipfile.BadZipFile, zlib.error, XML parse errors, ...
        log.warning("openpyxl could not read a sheet of %s", filename, exc_info=True)
        raise _damaged(filename) from None


def _damaged(filename: str) -> InvalidInput:
    return InvalidInput(
        f"'{filename}' is damaged: its workbook parts cannot be read. "
        "Open it in Excel, save it again as .xlsx and upload the new file."
    )


def _choose_sheet(sheets: list[str], sheet: str | None, filename: str) -> str:
    if sheet is None:
        if len(sheets) == 1:
            return sheets[0]
        listed = ", ".join(f"'{name}'" for name in sheets)
        raise SheetChoiceRequired(
            f"'{filename}' has {len(sheets)} sheets ({listed}). Choose the sheet to read.",
            sheets=sheets,
        )
    if sheet not in sheets:
        listed = ", ".join(f"'{name}'" for name in sheets)
        raise InvalidInput(f"'{filename}' has no sheet '{sheet}'. Its sheets are {listed}.")
    return sheet


def _header(rows: Iterator[tuple[Any, ...]], filename: str, sheet: str) -> tuple[Any, ...]:
    for row in rows:
        if any(value is not None for value in row):
            return _trim(row)
    raise InvalidInput(
        f"Sheet '{sheet}' of '{filename}' is empty. Choose a sheet that holds a table, "
        "or put the table on this sheet and upload the file again."
    )


def _trim(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # Formatting often makes openpyxl report empty columns to the right of the table.
    end = len(row)
    while end and row[end - 1] is None:
        end -= 1
    return row[:end]


def _chunks(
    rows: Iterator[tuple[Any, ...]], width: int, filename: str, limits: Limits
) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    count = 0
    for row in rows:
        if not any(value is not None for value in row):
            continue
        if len(_trim(row)) > width:
            raise InvalidInput(
                f"Row {count + 2} of '{filename}' has values to the right of the last named "
                "column. Give those columns a header, or delete the stray cells."
            )
        count += 1
        check_cells(filename, count, width, limits)
        chunk.append(tuple(row[:width]) + (None,) * (width - len(row)))
        if len(chunk) == BATCH_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _to_batch(chunk: list[tuple[Any, ...]], names: list[str]) -> pa.RecordBatch:
    columns = [_to_array([row[i] for row in chunk]) for i in range(len(names))]
    return pa.RecordBatch.from_arrays(columns, names=names)


def _to_array(values: list[Any]) -> pa.Array:
    """One column, typed by its cells: numbers, dates and booleans stay typed, mixes become text."""
    values = [None if isinstance(v, str) and v.strip() in _EXCEL_ERRORS else v for v in values]
    kinds = {_kind(v) for v in values if v is not None}
    if kinds <= {"int"}:
        return pa.array(values, type=pa.int64()) if kinds else pa.array(values, type=pa.string())
    if kinds <= {"int", "float"}:
        return pa.array(values, type=pa.float64())
    if kinds == {"bool"}:
        return pa.array(values, type=pa.bool_())
    if kinds == {"datetime"}:
        return pa.array(values, type=pa.timestamp("us"))
    if kinds == {"date"}:
        return pa.array(values, type=pa.date32())
    return pa.array([None if v is None else _text(v) for v in values], type=pa.string())


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    return "text"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
