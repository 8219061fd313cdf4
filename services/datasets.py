"""Datasets: user tables stored once by content hash, as versioned Parquet."""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel
from sqlmodel import Session, col, select

from services import dataset_store as store
from services.access import Action, Actor, can_see, require, visible_projects
from services.config import Settings
from services.dataset_store import Progress, dataset_row, parquet_path
from services.errors import InvalidInput, NotFound
from services.ingest import workbook_sheets
from services.models import ColumnRole, Dataset, DatasetPublic, Project
from services.staging import staged

MAX_NAME = 200
__all__ = ["Progress", "dataset_row", "parquet_path"]  # re-exported for jobs and tests


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
    actor: Actor,
    project_id: int,
    source: Path | BinaryIO,
    filename: str,
    name: str | None = None,
    sheet: str | None = None,
    rename_columns: bool = False,
    progress: Progress | None = None,
) -> AddOutcome:
    """Stores an uploaded table as a new version of dataset `name` (the file's stem by default)
    in a project of the actor's."""
    require(session, actor, Action.upload)
    check_project(session, actor, project_id)
    name = valid_name(name if name is not None else Path(filename).stem)
    report = progress or (lambda _fraction, _step: None)
    with staged(source, filename, settings) as (path, sha256, size):
        report(0.05, "Checking the file")
        if sheet is None:
            sheets = workbook_sheets(path, filename=filename, limits=store.limits(settings))
            if len(sheets) == 1:
                sheet = sheets[0]  # the sheet that is read anyway: dedupe and store under it
        same = session.exec(
            select(Dataset).where(
                Dataset.project_id == project_id,
                Dataset.name == name,
                Dataset.sha256 == sha256,
                Dataset.sheet == sheet,
            )
        ).first()
        if same is not None:
            return AddOutcome(dataset=_public(same), created=False)
        key = hashlib.sha256(f"{sha256}:{sheet or ''}:{rename_columns}".encode()).hexdigest()
        stored = store.stored_facts(session, key) or store.ingest(
            path,
            key,
            filename=filename,
            sheet=sheet,
            rename=rename_columns,
            settings=settings,
            progress=report,
        )
    stored["schema_columns"] = store.carry_roles(
        session, project_id, name, stored["schema_columns"]
    )
    dataset = Dataset(
        **stored,
        project_id=project_id,
        name=name,
        version=store.next_version(session, project_id, name),
        sha256=sha256,
        source_filename=Path(filename).name[:500],
        size_bytes=size,
    )
    session.add(dataset)
    session.commit()
    session.refresh(dataset)
    return AddOutcome(dataset=_public(dataset), created=True)


def upload_sheets(
    *, session: Session, settings: Settings, actor: Actor, source: Path | BinaryIO, filename: str
) -> list[str]:
    """The sheets of an uploaded workbook, so the user can choose one; [] for other files."""
    require(session, actor, Action.upload)
    with staged(source, filename, settings) as (path, _, _):
        return workbook_sheets(path, filename=filename, limits=store.limits(settings))


def list_datasets(
    *, session: Session, actor: Actor, project_id: int | None = None
) -> list[DatasetSummary]:
    """The datasets the actor can see (of one project, if given) by name, newest first."""
    require(session, actor, Action.view)
    query = select(Dataset).order_by(col(Dataset.version).desc())
    visible = visible_projects(session, actor)
    if visible is not None:
        query = query.where(col(Dataset.project_id).in_(visible))
    if project_id is not None:
        query = query.where(Dataset.project_id == project_id)
    summaries: dict[str, DatasetSummary] = {}
    for row in session.exec(query):
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


def get_dataset(*, session: Session, actor: Actor, dataset_id: int) -> DatasetPublic:
    """One dataset version."""
    return _public(visible_row(session, actor, dataset_id, Action.view))


def list_versions(
    *, session: Session, actor: Actor, project_id: int, name: str
) -> list[DatasetPublic]:
    """All versions of a project's dataset, newest first."""
    require(session, actor, Action.view)
    check_project(session, actor, project_id)
    rows = session.exec(
        select(Dataset)
        .where(Dataset.project_id == project_id, Dataset.name == name)
        .order_by(col(Dataset.version).desc())
    ).all()
    return [_public(row) for row in rows]


def preview(
    *,
    session: Session,
    settings: Settings,
    actor: Actor,
    dataset_id: int,
    page: int = 1,
    page_size: int | None = None,
) -> PreviewPage:
    """One page of a dataset's rows, read from only the row groups that hold it."""
    dataset = visible_row(session, actor, dataset_id, Action.view)
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
    *, session: Session, actor: Actor, dataset_id: int, roles: Mapping[str, ColumnRole]
) -> DatasetPublic:
    """Gives columns the roles feature, target, ignore or id; at most one target."""
    dataset = visible_row(session, actor, dataset_id, Action.edit_dataset)
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


def delete_dataset(*, session: Session, settings: Settings, actor: Actor, dataset_id: int) -> None:
    """Removes one version; its Parquet file goes when no other version uses it."""
    dataset = visible_row(session, actor, dataset_id, Action.delete_dataset)
    path = parquet_path(settings, dataset)
    session.delete(dataset)
    session.commit()
    if store.stored_facts(session, dataset.storage_key) is None:
        path.unlink(missing_ok=True)


def valid_name(name: str) -> str:
    """A dataset name with its spaces tidied; refuses empty and overlong names."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("The dataset name is empty. Give the dataset a name.")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"The dataset name is longer than {MAX_NAME} characters. Shorten it.")
    return name


def visible_row(session: Session, actor: Actor, dataset_id: int, action: Action) -> Dataset:
    """The dataset version, if the actor may do `action` on it; another project's dataset
    is "not found", as if it did not exist."""
    require(session, actor, action)
    dataset = session.get(Dataset, dataset_id)
    if dataset is None or not can_see(session, actor, dataset.project_id):
        raise NotFound(f"There is no dataset with id {dataset_id}. List datasets to see the ids.")
    return dataset


def check_project(session: Session, actor: Actor, project_id: int) -> None:
    """Refuses a project the actor is not a member of (as if it did not exist)."""
    if session.get(Project, project_id) is None or not can_see(session, actor, project_id):
        raise NotFound(f"There is no project with id {project_id} that you can see.")


def _id(row: Dataset) -> int:
    assert row.id is not None  # rows read from the database always have one
    return row.id


def _public(row: Dataset) -> DatasetPublic:
    return DatasetPublic.model_validate(
        {**row.model_dump(), "id": _id(row), "column_infos": row.column_infos}
    )
