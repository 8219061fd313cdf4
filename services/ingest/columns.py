"""What each stored column holds, in words a business user knows."""

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from services.models import ColumnInfo, ColumnKind

SAMPLE_ROWS = 100_000
MAX_CATEGORIES = 50


def describe_columns(path: Path) -> list[ColumnInfo]:
    """Kind, type and missing count of each column of a stored Parquet table."""
    source = pq.ParquetFile(path)
    sample = _head(source)
    missing = _null_counts(source)
    return [
        ColumnInfo(
            name=field.name,
            kind=_kind(field.type, sample.column(i)),
            dtype=str(field.type),
            missing=missing[i],
        )
        for i, field in enumerate(source.schema_arrow)
    ]


def _head(source: pq.ParquetFile) -> pa.Table:
    batches = source.iter_batches(batch_size=SAMPLE_ROWS)
    first = next(batches, None)
    if first is None:
        return source.schema_arrow.empty_table()
    return pa.Table.from_batches([first])


def _null_counts(source: pq.ParquetFile) -> list[int]:
    """Missing values per column, from Parquet's statistics where it kept them."""
    if source.metadata.num_columns != len(source.schema_arrow):  # nested columns
        return [
            source.read(columns=[name]).column(0).null_count for name in source.schema_arrow.names
        ]
    counts = []
    for i in range(source.metadata.num_columns):
        total = 0
        for g in range(source.metadata.num_row_groups):
            stats = source.metadata.row_group(g).column(i).statistics
            if stats is None or not stats.has_null_count:
                total = source.read(columns=[source.schema_arrow.names[i]]).column(0).null_count
                break
            total += stats.null_count
        counts.append(total)
    return counts


def _kind(dtype: pa.DataType, sample: pa.ChunkedArray) -> ColumnKind:
    if pa.types.is_boolean(dtype):
        return ColumnKind.boolean
    if pa.types.is_integer(dtype):
        return ColumnKind.integer
    if pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return ColumnKind.float
    if pa.types.is_timestamp(dtype):
        return ColumnKind.datetime
    if pa.types.is_date(dtype):
        return ColumnKind.date
    if pa.types.is_dictionary(dtype):
        return ColumnKind.category
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return ColumnKind.category if _few_values(sample) else ColumnKind.text
    return ColumnKind.other


def _few_values(sample: pa.ChunkedArray) -> bool:
    present = len(sample) - sample.null_count
    if present == 0:
        return False
    distinct = pc.count_distinct(sample).as_py()
    return (distinct <= MAX_CATEGORIES and distinct < present) or distinct <= 0.05 * present
