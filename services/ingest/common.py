"""What every reader shares: limits, the report it returns, and the Parquet it writes."""

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from services.errors import InvalidInput

ROW_GROUP_ROWS = 64 * 1024  # small enough to page a preview without reading the whole table
DICTIONARY_MAX = 1_000  # distinct values in the first 20,000 rows for a column to get a dictionary


@dataclass(frozen=True)
class Limits:
    """How far a read may go, and who hears how far it got."""

    max_cells: int
    max_xlsx_uncompressed_bytes: int
    on_rows: Callable[[int], None] | None = None  # called with the rows written so far


@dataclass
class ReadReport:
    """How a file was read, for the record and for the user."""

    fmt: str
    rows: int = 0
    columns: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None


class ParquetSink:
    """Writes record batches to one Parquet file in row groups of exactly ROW_GROUP_ROWS,
    encoding on a background thread so the reader keeps parsing meanwhile."""

    def __init__(self, dest: Path, *, filename: str, limits: Limits) -> None:
        self.dest, self.filename, self.limits = dest, filename, limits
        self.rows = 0
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._queue: queue.Queue[pa.Table | None] = queue.Queue(maxsize=1)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def write(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        check_cells(self.filename, self.rows, batch.num_columns, self.limits)
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        while self._pending_rows >= ROW_GROUP_ROWS:
            table = pa.Table.from_batches(self._pending)
            self._put(table.slice(0, ROW_GROUP_ROWS))
            rest = table.slice(ROW_GROUP_ROWS)
            self._pending, self._pending_rows = rest.to_batches(), rest.num_rows
        if self.limits.on_rows is not None:
            self.limits.on_rows(self.rows)

    def _put(self, table: pa.Table) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(
                self.dest, table.schema, compression="snappy", use_dictionary=_few_distinct(table)
            )
            self._thread = threading.Thread(target=self._drain, daemon=True)
            self._thread.start()
        if self._error is not None:
            raise self._error
        self._queue.put(table)

    def _drain(self) -> None:
        assert self._writer is not None
        while (table := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._writer.write_table(table, row_group_size=table.num_rows)
                except BaseException as error:  # re-raised in the reading thread
                    self._error = error

    def _stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def finish(self) -> int:
        """Closes the file and returns the row count; a table without rows is refused."""
        if self._pending:
            self._put(pa.Table.from_batches(self._pending))
            self._pending, self._pending_rows = [], 0
        self._stop()
        if self._error is not None:
            self.abort()
            raise self._error
        if self.rows == 0:
            self.abort()
            raise InvalidInput(
                f"'{self.filename}' has column names but no data rows. "
                "Upload a file with at least one row below the header."
            )
        return self.rows

    def abort(self) -> None:
        """Closes and removes a partly written file."""
        self._pending = []
        self._stop()
        self.dest.unlink(missing_ok=True)

    def __enter__(self) -> "ParquetSink":
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None:
            self.abort()


def _few_distinct(table: pa.Table) -> bool | list[str]:
    """Columns worth a dictionary: trying one on near-unique columns costs time and space."""
    if any(pa.types.is_nested(field.type) for field in table.schema):
        return True
    head = table.slice(0, 20_000)
    return [
        field.name
        for field, column in zip(head.schema, head.columns, strict=True)
        if pa.types.is_dictionary(field.type)
        or pa.types.is_null(field.type)
        or pc.count_distinct(column).as_py() <= DICTIONARY_MAX
    ]


def check_cells(filename: str, rows: int, columns: int, limits: Limits) -> None:
    """Refuses tables larger than the configured number of cells."""
    if rows * columns > limits.max_cells:
        raise InvalidInput(
            f"'{filename}' has more than {limits.max_cells:,} cells (rows x columns), the limit "
            "set for this installation. Upload a sample or fewer columns, or ask an admin to "
            "raise KAIZEN_MAX_CELLS."
        )
