"""Datasets: user tables stored once by content hash, as versioned Parquet."""

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, col, select

from services.config import Settings
from services.errors import InvalidInput, NotFound
from services.ingest import Limits, read_table_file, workbook_sheets
from services.ingest.columns import describe_columns
from services.models import ColumnRole, Dataset, DatasetPublic
from services.staging import staged

CHUNK = 4 * 1024 * 1024
Progress = Callable[[float, str], None]  # fraction done (0..1), what is happening
MAX_NAME = 200


@dataclass(frozen=True)
class AddOutcome:
    dataset: DatasetPublic
    created: bool  # False when the same file was already stored under this name


class DatasetSummary(BaseModel):
    """A dataset by name, described by its newest version."""

    name: str
    latest_id: int
    latest_version: int
    versions: int
    rows: int
    columns: int
    updated_at: datetime


@dataclass(frozen=True)
class PreviewPage:
    table: pa.Table
    page: int
    pages: int
    total_rows: int


def add_dataset(
    *,
    session: Session,
    settings: Settings,
    source: Path | BinaryIO,
    filename: str,
    name: str | None = None,
    sheet: str | None = None,
    rename_columns: bool = False,
    progress: Progress | None = None,
) -> AddOutcome:
    """Stores an uploaded table as a new version of dataset `name` (the file's stem by default)."""
    name = valid_name(name if name is not None else Path(filename).stem)
    report = progress or (lambda _fraction, _step: None)
    with staged(source, filename, settings) as (path, sha256, size):
        report(0.05, "Checking the file")
        if sheet is None:
            sheets = workbook_sheets(path, filename=filename, limits=_limits(settings))
            if len(sheets) == 1:
                sheet = sheets[0]  # the sheet that is read anyway: dedupe and store under it
        same = session.exec(
            select(Dataset).where(
                Dataset.name == name, Dataset.sha256 == sha256, Dataset.sheet == sheet
            )
        ).first()
        if same is not None:
            return AddOutcome(dataset=_public(same), created=False)
        key = hashlib.sha256(f"{sha256}:{sheet or ''}:{rename_columns}".encode()).hexdigest()
        stored = _stored_facts(session, key) or _ingest(
            path,
            key,
            filename=filename,
            sheet=sheet,
            rename=rename_columns,
            settings=settings,
            progress=report,
        )
    stored["schema_columns"] = _carry_roles(session, name, stored["schema_columns"])
    dataset = Dataset(
        **stored,
        name=name,
        version=_next_version(session, name),
        sha256=sha256,
        source_filename=Path(filename).name[:500],
        size_bytes=size,
    )
    session.add(dataset)
    session.commit()
    session.refresh(dataset)
    return AddOutcome(dataset=_public(dataset), created=True)


def upload_sheets(*, settings: Settings, source: Path | BinaryIO, filename: str) -> list[str]:
    """The sheets of an uploaded workbook, so the user can choose one; [] for other files."""
    with staged(source, filename, settings) as (path, _, _):
        return workbook_sheets(path, filename=filename, limits=_limits(settings))


def list_datasets(*, session: Session) -> list[DatasetSummary]:
    """Every dataset by name, newest version first."""
    summaries: dict[str, DatasetSummary] = {}
    for row in session.exec(select(Dataset).order_by(col(Dataset.version).desc())):
        if row.name in summaries:
            summaries[row.name].versions += 1
            continue
        summaries[row.name] = DatasetSummary(
            name=row.name,
            latest_id=_id(row),
            latest_version=row.version,
            versions=1,
            rows=row.rows,
            columns=row.columns,
            updated_at=row.created_at,
        )
    return sorted(summaries.values(), key=lambda s: s.updated_at, reverse=True)


def get_dataset(*, session: Session, dataset_id: int) -> DatasetPublic:
    """One dataset version."""
    return _public(dataset_row(session=session, dataset_id=dataset_id))


def list_versions(*, session: Session, name: str) -> list[DatasetPublic]:
    """All versions of a dataset, newest first."""
    rows = session.exec(
        select(Dataset).where(Dataset.name == name).order_by(col(Dataset.version).desc())
    ).all()
    return [_public(row) for row in rows]


def preview(
    *,
    session: Session,
    settings: Settings,
    dataset_id: int,
    page: int = 1,
    page_size: int | None = None,
) -> PreviewPage:
    """One page of a dataset's rows, read from only the row groups that hold it."""
    dataset = dataset_row(session=session, dataset_id=dataset_id)
    size = page_size or settings.preview_page_size
    pages = max(1, -(-dataset.rows // size))
    page = min(max(1, page), pages)
    source = pq.ParquetFile(parquet_path(settings, dataset))
    start, stop = (page - 1) * size, min(page * size, dataset.rows)
    groups: list[int] = []
    first_row = offset = 0
    for g in range(source.metadata.num_row_groups):
        group_rows = source.metadata.row_group(g).num_rows
        if first_row + group_rows > start and first_row < stop:
            if not groups:
                offset = start - first_row
            groups.append(g)
        first_row += group_rows
    table = source.read_row_groups(groups).slice(offset, stop - start)
    return PreviewPage(table=table, page=page, pages=pages, total_rows=dataset.rows)


def set_column_roles(
    *, session: Session, dataset_id: int, roles: Mapping[str, ColumnRole]
) -> DatasetPublic:
    """Gives columns the roles feature, target, ignore or id; at most one target."""
    dataset = dataset_row(session=session, dataset_id=dataset_id)
    columns = dataset.column_infos
    unknown = set(roles) - {c.name for c in columns}
    if unknown:
        raise InvalidInput(f"Dataset '{dataset.name}' has no column {sorted(unknown)[0]!r}.")
    for column in columns:
        column.role = ColumnRole(roles.get(column.name, column.role))
    targets = [c.name for c in columns if c.role == ColumnRole.target]
    if len(targets) > 1:
        raise InvalidInput(
            f"Only one column can be the target; {', '.join(map(repr, targets))} were chosen."
        )
    dataset.schema_columns = [c.model_dump(mode="json") for c in columns]
    session.add(dataset)
    session.commit()
    return _public(dataset)


def delete_dataset(*, session: Session, settings: Settings, dataset_id: int) -> None:
    """Removes one version; its Parquet file goes when no other version uses it."""
    dataset = dataset_row(session=session, dataset_id=dataset_id)
    path = parquet_path(settings, dataset)
    session.delete(dataset)
    session.commit()
    if _stored_facts(session, dataset.storage_key) is None:
        path.unlink(missing_ok=True)


def parquet_path(settings: Settings, dataset: Dataset) -> Path:
    """Where a dataset version's table is stored."""
    return settings.datasets_dir / f"{dataset.storage_key}.parquet"


# What is known of a stored table, whichever upload brought it (Dataset's own columns).
StoredFacts = dict[str, Any]


def _ingest(
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
        limits = _limits(settings, on_rows=_rows_progress(path, progress))
        report = read_table_file(
            path, partial, filename=filename, sheet=sheet, rename=rename, limits=limits
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


def _stored_facts(session: Session, key: str) -> StoredFacts | None:
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


def _limits(settings: Settings, on_rows: Callable[[int], None] | None = None) -> Limits:
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


def valid_name(name: str) -> str:
    """A dataset name with its spaces tidied; refuses empty and overlong names."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("The dataset name is empty. Give the dataset a name.")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"The dataset name is longer than {MAX_NAME} characters. Shorten it.")
    return name


def _next_version(session: Session, name: str) -> int:
    latest = session.exec(select(func.max(Dataset.version)).where(Dataset.name == name)).one()
    return (latest or 0) + 1


def _carry_roles(session: Session, name: str, schema: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A new version keeps the roles the user gave same-named columns of the previous one."""
    previous = session.exec(
        select(Dataset).where(Dataset.name == name).order_by(col(Dataset.version).desc())
    ).first()
    if previous is None:
        return schema
    roles = {c.name: c.role for c in previous.column_infos}
    return [{**column, "role": roles.get(column["name"], column["role"])} for column in schema]


def dataset_row(*, session: Session, dataset_id: int) -> Dataset:
    """The table row of a dataset version, for services that read its stored table."""
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"There is no dataset with id {dataset_id}. List datasets to see the ids.")
    return dataset


def _id(row: Dataset) -> int:
    assert row.id is not None  # rows read from the database always have one
    return row.id


def _public(row: Dataset) -> DatasetPublic:
    return DatasetPublic.model_validate(
        {**row.model_dump(), "id": _id(row), "column_infos": row.column_infos}
    )
