"""The one pass over a stored Parquet file: columns read in batches, figures and duplicate rows.

pyarrow encodes each column once, and that encoding gives the distinct count, the top values, the
codes the duplicate-row count folds together and the sampled codes the leakage check uses.
"""

import itertools
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from services.models import ColumnInfo
from services.profiling.columns import ScannedColumn, scan_column
from services.profiling.duplicates import DuplicateRowCounter
from services.profiling.values import evenly_spaced_rows

SAMPLE_ROWS = 100_000  # evenly spaced rows for correlations, leakage and text checks
SAMPLE_CELLS = 5_000_000  # sampled rows x columns kept at most
READ_BYTES = 64 * 1024 * 1024  # columns read together, by their size once read


@dataclass(eq=False)
class TableScan:
    """Every column's figures, with the table-wide counts."""

    columns: list[ScannedColumn]
    rows: int
    duplicates: int  # rows that repeat an earlier row
    sampled: int  # rows the sampled checks look at


def scan_table(path: Path, infos: list[ColumnInfo], target: str | None) -> TableScan:
    """Reads every column once, a batch at a time, and counts the duplicate rows."""
    source = pq.ParquetFile(path)
    rows = source.metadata.num_rows
    # Wide tables get fewer sampled rows, so the samples kept stay small.
    limit = min(SAMPLE_ROWS, max(1_000, SAMPLE_CELLS // max(1, len(infos))))
    picks = evenly_spaced_rows(rows, limit)
    counter = DuplicateRowCounter(rows)

    def scan_batch(batch: list[ColumnInfo]) -> list[ScannedColumn]:
        # Each thread opens its own reader: one reader is not safe to share between threads.
        coded = _dictionary_columns(source, batch)
        reader = pq.ParquetFile(
            path, metadata=source.metadata, read_dictionary=coded, memory_map=True
        )
        table = reader.read(columns=[i.name for i in batch])
        return [scan_column(i, table.column(i.name), picks, i.name == target) for i in batch]

    columns: list[ScannedColumn] = []
    # pyarrow's reading and hashing release the GIL, so batches of columns run in parallel.
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        batches = pool.map(scan_batch, _column_batches(source, infos))
        for column in itertools.chain.from_iterable(batches):
            name = column.summary.name
            counter.add_column(name, column.cardinality, column.codes_all, column.codes_bound)
            column.codes_all = None  # all rows' codes are needed only for the duplicate count
            columns.append(column)
    duplicates = counter.count(lambda name, at: _read_column(path, source, name).take(at))
    sampled = rows if picks is None else len(picks)
    return TableScan(columns, rows=rows, duplicates=duplicates, sampled=sampled)


def _read_column(path: Path, source: pq.ParquetFile, name: str) -> pa.ChunkedArray:
    """One column, read again for the duplicate count."""
    return pq.ParquetFile(path, metadata=source.metadata).read(columns=[name]).column(name)


def _column_batches(source: pq.ParquetFile, infos: list[ColumnInfo]) -> Iterator[list[ColumnInfo]]:
    """Columns in groups of about READ_BYTES once read, so memory stays bounded."""
    batch: list[ColumnInfo] = []
    budget = 0
    for info, size in zip(infos, _column_bytes(source), strict=True):
        if batch and budget + size > READ_BYTES:
            yield batch
            batch, budget = [], 0
        batch.append(info)
        budget += size
    if batch:
        yield batch


def _dictionary_columns(source: pq.ParquetFile, batch: list[ColumnInfo]) -> list[str]:
    """Text columns Parquet stored as dictionaries: read as such, they need no hashing."""
    names = {i.name for i in batch}
    meta, fields = source.metadata, source.schema_arrow
    if meta.num_columns != len(fields):
        return []
    return [
        field.name
        for i, field in enumerate(fields)
        if field.name in names
        and pa.types.is_string(field.type)
        and all(meta.row_group(g).column(i).has_dictionary_page for g in range(meta.num_row_groups))
    ]


def _column_bytes(source: pq.ParquetFile) -> list[int]:
    """Each column's size once read: its uncompressed Parquet size plus room for offsets."""
    meta, fields = source.metadata, source.schema_arrow
    leaves = [_parquet_leaves(field.type) for field in fields]
    if sum(leaves) != meta.num_columns:  # a layout not foreseen: assume equal sizes
        return [meta.num_rows * 16] * len(fields)
    sizes = np.zeros(meta.num_columns, dtype=np.int64)
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        sizes += [group.column(i).total_uncompressed_size for i in range(meta.num_columns)]
    bounds = np.cumsum([0, *leaves])
    return [int(sizes[a:b].sum()) + meta.num_rows * 8 for a, b in itertools.pairwise(bounds)]


def _parquet_leaves(dtype: pa.DataType) -> int:
    """Parquet columns one Arrow column is stored in (nested types have several)."""
    if pa.types.is_struct(dtype):
        return sum(_parquet_leaves(dtype.field(i).type) for i in range(dtype.num_fields))
    if pa.types.is_map(dtype):
        return _parquet_leaves(dtype.key_type) + _parquet_leaves(dtype.item_type)
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return _parquet_leaves(dtype.value_type)
    if pa.types.is_fixed_size_list(dtype):
        return _parquet_leaves(dtype.value_type)
    return 1
