"""What every reader shares: limits, the report it returns, and the Parquet it writes."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from services.errors import InvalidInput

ROW_GROUP_ROWS = 64 * 1024  # small enough to page a preview without reading the whole table


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
    """Writes record batches to one Parquet file, counting rows against the cell limit."""

    def __init__(self, dest: Path, *, filename: str, limits: Limits) -> None:
        self.dest, self.filename, self.limits = dest, filename, limits
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None

    def write(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        check_cells(self.filename, self.rows, batch.num_columns, self.limits)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.dest, batch.schema, compression="snappy")
        self._writer.write_batch(batch, row_group_size=ROW_GROUP_ROWS)
        if self.limits.on_rows is not None:
            self.limits.on_rows(self.rows)

    def finish(self) -> int:
        """Closes the file and returns the row count; a table without rows is refused."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self.rows == 0:
            self.abort()
            raise InvalidInput(
                f"'{self.filename}' has column names but no data rows. "
                "Upload a file with at least one row below the header."
            )
        return self.rows

    def abort(self) -> None:
        """Closes and removes a partly written file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.dest.unlink(missing_ok=True)

    def __enter__(self) -> "ParquetSink":
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None:
            self.abort()


def check_cells(filename: str, rows: int, columns: int, limits: Limits) -> None:
    """Refuses tables larger than the configured number of cells."""
    if rows * columns > limits.max_cells:
        raise InvalidInput(
            f"'{filename}' has more than {limits.max_cells:,} cells (rows x columns), the limit "
            "set for this installation. Upload a sample or fewer columns, or ask an admin to "
            "raise KAIZEN_MAX_CELLS."
        )
