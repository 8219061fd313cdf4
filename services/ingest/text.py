"""CSV and TSV: detected encoding and delimiter, streamed through pyarrow into Parquet."""

import csv
import io
import itertools
import re
from pathlib import Path
from typing import NoReturn

import pyarrow as pa
import pyarrow.csv as pacsv

from services.errors import InvalidInput
from services.ingest.common import Limits, ParquetSink, ReadReport
from services.ingest.detect import (
    confirm_encoding,
    decode_sample,
    detect_encoding,
    header_fields,
    read_sample,
    sniff_delimiter,
)
from services.ingest.names import usable_names

TYPE_SAMPLE_BYTES = 16 * 1024 * 1024  # column types are inferred from the first 16 MB
BLOCK_BYTES = 1024 * 1024  # pyarrow reads up to 32 blocks ahead: this bounds memory
_CONVERSION = re.compile(r"In CSV column #(\d+): .*CSV conversion error to ([\w\[\], ]+)")
_DECIMAL_COMMA = re.compile(r"(^|;)-?\d+,\d+(;|$)", re.MULTILINE)
_LEADING_ZERO = re.compile(r"^0\d+$")
_NULLS = ["", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "#N/A", "-"]


class _Widen(Exception):
    """A later block held a value the first block's type cannot hold."""

    def __init__(self, column: str, to: pa.DataType) -> None:
        super().__init__(column)
        self.column, self.to = column, to


class _NeedMultiline(Exception):
    """A row split at a quoted line break: parse again allowing newlines inside values."""


def read_delimited(
    path: Path, dest: Path, *, filename: str, fmt: str, rename: bool, limits: Limits
) -> ReadReport:
    """Writes a CSV/TSV file to `dest` as Parquet and says how it was read."""
    sample = read_sample(path)
    encoding = confirm_encoding(path, sample, detect_encoding(filename, sample))
    text = decode_sample(filename, sample, encoding)
    delimiter = sniff_delimiter(text, fmt)
    names = usable_names(header_fields(text, delimiter), filename=filename, rename=rename)
    # Semicolon-separated files with numbers like 1,5 come from locales with a decimal comma.
    decimal = "," if delimiter == ";" and _DECIMAL_COMMA.search(text) else "."
    types = _codes_with_leading_zeros(text, delimiter, names)
    multiline = False
    # Each retry widens one column's type or turns on multi-line values, so this ends.
    for _ in range(2 * len(names) + 2):
        try:
            rows = _stream(
                path, dest, names, encoding, delimiter, decimal, types, multiline, filename, limits
            )
        except _Widen as widen:
            types[widen.column] = widen.to
        except _NeedMultiline:
            multiline = True
        else:
            return ReadReport(
                fmt=fmt, rows=rows, columns=len(names), encoding=encoding, delimiter=delimiter
            )
    raise InvalidInput(f"'{filename}' could not be read: its column types keep changing.")


def _stream(
    path: Path,
    dest: Path,
    names: list[str],
    encoding: str,
    delimiter: str,
    decimal: str,
    types: dict[str, pa.DataType],
    multiline: bool,
    filename: str,
    limits: Limits,
) -> int:
    bad_rows: list[pacsv.InvalidRow] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        bad_rows.append(row)
        return "error"

    def options(types: dict[str, pa.DataType], block: int) -> dict[str, object]:
        return dict(
            read_options=pacsv.ReadOptions(
                encoding=encoding, column_names=names, skip_rows=1, block_size=block
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=multiline,
                invalid_row_handler=on_invalid_row,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                null_values=_NULLS,
                strings_can_be_null=True,
                timestamp_parsers=[pacsv.ISO8601],
                decimal_point=decimal,
            ),
        )

    try:
        block = TYPE_SAMPLE_BYTES  # a small file is read whole, its types from the first block
        if path.stat().st_size > 2 * TYPE_SAMPLE_BYTES:
            # Known types parse faster, and small blocks keep pyarrow's readahead small.
            sample = _first_block(path, options(types, TYPE_SAMPLE_BYTES))
            types, block = {field.name: field.type for field in sample.schema}, BLOCK_BYTES
            del sample
        with ParquetSink(dest, filename=filename, limits=limits) as sink:
            for batch in pacsv.open_csv(path, **options(types, block)):
                sink.write(batch)
            return sink.finish()
    except pa.ArrowInvalid as error:
        _explain(error, bad_rows, names, multiline, delimiter, filename, path, encoding)


def _first_block(path: Path, options: dict[str, object]) -> pa.RecordBatch:
    """The rows in the first TYPE_SAMPLE_BYTES, read without pyarrow's readahead of the rest."""
    with path.open("rb") as handle:
        head = handle.read(TYPE_SAMPLE_BYTES + 4)
    reader = pacsv.open_csv(pa.BufferReader(head), **options)
    first = next(iter(reader), None)
    return first if first is not None else pa.RecordBatch.from_pylist([], schema=reader.schema)


def _explain(
    error: pa.ArrowInvalid,
    bad_rows: list[pacsv.InvalidRow],
    names: list[str],
    multiline: bool,
    delimiter: str,
    filename: str,
    path: Path,
    encoding: str,
) -> NoReturn:
    """Turns a pyarrow failure into a retry or into a message the user can act on."""
    conversion = _CONVERSION.search(str(error))
    if conversion:
        column = names[int(conversion.group(1))]
        failed = conversion.group(2).strip()
        raise _Widen(column, pa.float64() if failed == "int64" else pa.string())
    if bad_rows:
        row = bad_rows[0]
        if not multiline and '"' in row.text:
            raise _NeedMultiline
        number = row.number or _line_number(path, encoding, row.text)
        where = f"Line {number}" if number else "A row"
        shown = row.text if len(row.text) <= 60 else row.text[:57] + "..."
        raise InvalidInput(
            f"{where} of '{filename}' has {row.actual_columns} values but the header has "
            f"{row.expected_columns} columns (detected delimiter: {_name(delimiter)}). "
            f"The row reads: {shown!r}. Fix that row, or check the file uses one delimiter."
        )
    raise InvalidInput(f"'{filename}' could not be read as a table: {error}")


def _name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(delimiter, delimiter)


def _codes_with_leading_zeros(
    text: str, delimiter: str, names: list[str]
) -> dict[str, pa.DataType]:
    """Columns like zip codes or account numbers ("01234") stay text, keeping their zeros."""
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    next(rows, None)
    codes: set[str] = set()
    for row in itertools.islice(rows, 2_000):
        codes.update(
            names[i]
            for i, value in enumerate(row[: len(names)])
            if _LEADING_ZERO.match(value.strip())
        )
    return dict.fromkeys(sorted(codes), pa.string())


def _line_number(path: Path, encoding: str, row_text: str) -> int | None:
    """The line on which a bad row stands (pyarrow's parallel parser does not know it)."""
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            if line.rstrip("\r\n").lstrip("\ufeff") == row_text:
                return number
    return None
