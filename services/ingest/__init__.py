"""Reading user files (CSV, TSV, Excel, Parquet, JSON) into Parquet in bounded memory."""

from pathlib import Path

from services.ingest.common import Limits, ReadReport
from services.ingest.detect import detect_format, read_sample
from services.ingest.excel import read_workbook, sheet_names
from services.ingest.structured import read_json, read_parquet
from services.ingest.text import read_delimited

__all__ = ["Limits", "ReadReport", "read_table_file", "workbook_sheets"]


def read_table_file(
    path: Path, dest: Path, *, filename: str, sheet: str | None, rename: bool, limits: Limits
) -> ReadReport:
    """Writes the table in `path` to `dest` as Parquet; refuses anything that is not a table."""
    fmt = detect_format(filename, read_sample(path))
    if fmt in ("csv", "tsv"):
        return read_delimited(path, dest, filename=filename, fmt=fmt, rename=rename, limits=limits)
    if fmt == "xlsx":
        return read_workbook(
            path, dest, filename=filename, sheet=sheet, rename=rename, limits=limits
        )
    if fmt == "parquet":
        return read_parquet(path, dest, filename=filename, rename=rename, limits=limits)
    return read_json(path, dest, filename=filename, rename=rename, limits=limits)


def workbook_sheets(path: Path, *, filename: str, limits: Limits) -> list[str]:
    """The sheet names of an Excel file, or [] for any other kind of file."""
    if detect_format(filename, read_sample(path)) != "xlsx":
        return []
    return sheet_names(path, filename=filename, limits=limits)
