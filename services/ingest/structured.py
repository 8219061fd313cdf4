"""Parquet and JSON files: already typed, so read, check and rewritten batch by batch."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pajson
import pyarrow.parquet as pq

from services.errors import InvalidInput
from services.ingest.common import Limits, ParquetSink, ReadReport, check_cells
from services.ingest.detect import (
    confirm_encoding,
    decode_sample,
    detect_encoding,
    read_sample,
)
from services.ingest.names import usable_names

BATCH_ROWS = 64 * 1024
_PANDAS_INDEX = re.compile(r"__index_level_\d+__")


def read_parquet(
    path: Path, dest: Path, *, filename: str, rename: bool, limits: Limits
) -> ReadReport:
    """Copies a Parquet file's table to `dest`, dropping a saved pandas index."""
    try:
        source = pq.ParquetFile(path)
        keep = [
            i
            for i, name in enumerate(source.schema_arrow.names)
            if not _PANDAS_INDEX.fullmatch(name)
        ]
        names = usable_names(
            [source.schema_arrow.names[i] for i in keep], filename=filename, rename=rename
        )
        check_cells(filename, source.metadata.num_rows, len(names), limits)
        with ParquetSink(dest, filename=filename, limits=limits) as sink:
            for batch in source.iter_batches(batch_size=BATCH_ROWS):
                sink.write(pa.RecordBatch.from_arrays([batch.column(i) for i in keep], names=names))
            rows = sink.finish()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
        raise InvalidInput(
            f"'{filename}' is damaged or not a complete Parquet file. Export it again and upload "
            "the new file."
        ) from None
    return ReadReport(fmt="parquet", rows=rows, columns=len(names))


def read_json(path: Path, dest: Path, *, filename: str, rename: bool, limits: Limits) -> ReadReport:
    """Writes JSON lines (one object per line) or a JSON array of objects to `dest`."""
    sample = read_sample(path)
    encoding = confirm_encoding(path, sample, detect_encoding(filename, sample))
    text = decode_sample(filename, sample, encoding)
    try:
        if text.lstrip().startswith("["):
            table = _json_array(path, encoding, filename)
        elif encoding == "utf-8":
            table = _fast_json_lines(path, encoding, filename)
        else:
            table = _from_records(list(_json_lines(path, encoding, filename)), filename)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise InvalidInput(
            f"'{filename}' is not valid JSON lines ({_short(error)}). Each line must hold one "
            'JSON object, such as {"age": 41, "plan": "gold"}.'
        ) from None
    if table.num_columns == 0:
        raise InvalidInput(f"'{filename}' holds no rows. Upload a file with at least one record.")
    table = _flatten(table)
    names = usable_names(table.column_names, filename=filename, rename=rename)
    table = table.rename_columns(names)
    check_cells(filename, table.num_rows, table.num_columns, limits)
    with ParquetSink(dest, filename=filename, limits=limits) as sink:
        for batch in table.to_batches(max_chunksize=BATCH_ROWS):
            sink.write(batch)
        rows = sink.finish()
    return ReadReport(fmt="json", rows=rows, columns=len(names), encoding=encoding)


def _json_array(path: Path, encoding: str, filename: str) -> pa.Table:
    try:
        records = json.loads(path.read_text(encoding=encoding).lstrip("\ufeff"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidInput(f"'{filename}' is not valid JSON ({error}).") from None
    return _from_records(records, filename)


def _fast_json_lines(path: Path, encoding: str, filename: str) -> pa.Table:
    try:
        return pajson.read_json(path)
    except pa.ArrowInvalid:
        # A bad line (pyarrow would name it in its own terms, counting from 0) or values whose
        # type changes between lines: read it line by line, naming the line or keeping text.
        return _from_records(list(_json_lines(path, encoding, filename)), filename)


def _json_lines(path: Path, encoding: str, filename: str) -> Iterator[dict[str, object]]:
    """The records of a JSON lines file; a line that is not one JSON object is refused."""
    with path.open(encoding=encoding) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line.lstrip("\ufeff"))
            except json.JSONDecodeError:
                problem = "is not valid JSON"
            else:
                if isinstance(record, dict):
                    yield record
                    continue
                problem = "is not a JSON object"
            raise InvalidInput(
                f"Line {number} of '{filename}' {problem}. Each line must hold one JSON object, "
                'such as {"age": 41, "plan": "gold"}. Fix that line and upload the file again.'
            )


def _from_records(records: object, filename: str) -> pa.Table:
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InvalidInput(
            f"'{filename}' must hold a list of objects, one per row, such as "
            '[{"age": 41, "plan": "gold"}].'
        )
    # Table.from_pylist takes its columns from the first record only: collect every key.
    names = list(dict.fromkeys(key for record in records for key in record))
    return pa.table({name: _column([record.get(name) for record in records]) for name in names})


def _column(values: list[object]) -> pa.Array:
    """Values of one type keep it; a column that mixes types is kept as text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(
            [None if v is None else v if isinstance(v, str) else json.dumps(v) for v in values],
            type=pa.string(),
        )


def _flatten(table: pa.Table) -> pa.Table:
    """Nested objects become dotted columns; lists become their JSON text."""
    while any(pa.types.is_struct(field.type) for field in table.schema):
        table = table.flatten()
    for i, field in enumerate(table.schema):
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
            as_text = [None if v is None else json.dumps(v) for v in table.column(i).to_pylist()]
            table = table.set_column(i, field.name, pa.array(as_text, type=pa.string()))
    return table


def _short(error: Exception) -> str:
    return str(error).splitlines()[0][:120]
