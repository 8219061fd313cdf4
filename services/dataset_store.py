"""How dataset tables are stored: once per content as Parquet, with the facts read from them,
and versions numbered per name within a project. Internal: services/datasets.py checks access."""

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.config import Settings
from services.errors import NotFound
from services.ingest import Limits, read_table_file
from services.ingest.columns import describe_columns
from services.models import Dataset

Progress = Callable[[float, str], None]  # fraction done (0..1), what is happening


def parquet_path(settings: Settings, dataset: Dataset) -> Path:
    """Where a dataset version's table is stored."""
    return settings.datasets_dir / f"{dataset.storage_key}.parquet"


# What is known of a stored table, whichever upload brought it (Dataset's own columns).
StoredFacts = dict[str, Any]


def ingest(
    path: Path,
    key: str,
    *,
    filename: str,
    sheet: str | None,
    rename: bool,
    settings: Settings,
    progress: Progress,
) -> StoredFacts:
    settings.datasets_dir.mkdir(parents=True, exist_ok=True)
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    final = settings.datasets_dir / f"{key}.parquet"
    partial = settings.tmp_dir / f"{uuid.uuid4().hex}.parquet"
    try:
        bounds = limits(settings, on_rows=_rows_progress(path, progress))
        report = read_table_file(
            path, partial, filename=filename, sheet=sheet, rename=rename, limits=bounds
        )
        progress(0.9, "Describing the columns")
        columns = describe_columns(partial)
        partial.replace(final)  # atomic: a stored file is always complete
    finally:
        partial.unlink(missing_ok=True)
    return {
        "storage_key": key,
        "rows": report.rows,
        "columns": report.columns,
        "source_format": report.fmt,
        "sheet": report.sheet,
        "encoding": report.encoding,
        "delimiter": report.delimiter,
        "schema_columns": [c.model_dump(mode="json") for c in columns],
    }


def stored_facts(session: Session, key: str) -> StoredFacts | None:
    """The facts of an already stored table, so the same content is not read and written twice."""
    row = session.exec(select(Dataset).where(Dataset.storage_key == key)).first()
    if row is None:
        return None
    return row.model_dump(
        include={
            "storage_key",
            "rows",
            "columns",
            "source_format",
            "sheet",
            "encoding",
            "delimiter",
            "schema_columns",
        }
    )


def limits(settings: Settings, on_rows: Callable[[int], None] | None = None) -> Limits:
    return Limits(
        max_cells=settings.max_cells,
        max_xlsx_uncompressed_bytes=settings.max_xlsx_uncompressed_mb * 1024 * 1024,
        on_rows=on_rows,
    )


def _rows_progress(path: Path, progress: Progress) -> Callable[[int], None]:
    """Rows read, as a fraction of the rows the file's size suggests (for text formats)."""
    with path.open("rb") as handle:
        sample = handle.read(256 * 1024)
    per_row = len(sample) / max(1, sample.count(b"\n"))
    expected = max(1.0, path.stat().st_size / per_row)
    return lambda rows: progress(0.1 + 0.75 * min(1.0, rows / expected), f"Read {rows:,} rows")


def next_version(session: Session, project_id: int, name: str) -> int:
    latest = session.exec(
        select(func.max(Dataset.version)).where(
            Dataset.project_id == project_id, Dataset.name == name
        )
    ).one()
    return (latest or 0) + 1


def carry_roles(
    session: Session, project_id: int, name: str, schema: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A new version keeps the roles the user gave same-named columns of the previous one."""
    previous = session.exec(
        select(Dataset)
        .where(Dataset.project_id == project_id, Dataset.name == name)
        .order_by(col(Dataset.version).desc())
    ).first()
    if previous is None:
        return schema
    roles = {c.name: c.role for c in previous.column_infos}
    return [{**column, "role": roles.get(column["name"], column["role"])} for column in schema]


def dataset_row(*, session: Session, dataset_id: int) -> Dataset:
    """The table row of a dataset version, unchecked: for jobs, which were checked when
    they were started."""
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"There is no dataset with id {dataset_id}. List datasets to see the ids.")
    return dataset
