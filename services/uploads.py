"""Browser uploads: staged on disk, then read into a dataset by a job, off the page."""

import time
from pathlib import Path
from typing import Any, BinaryIO

from sqlmodel import Session

from services import datasets, jobs
from services.access import Action, Actor, as_params, from_params, require
from services.config import Settings
from services.errors import ColumnNamesNeedFixing, InvalidInput, SheetChoiceRequired
from services.job_runner import JobContext
from services.models import JobPublic
from services.staging import copy_upload, staging_path


def stage_upload(
    *, session: Session, settings: Settings, actor: Actor, source: BinaryIO, filename: str
) -> Path:
    """Saves a browser upload where an ingest job can read it (refused past the size limit)."""
    require(session, actor, Action.upload)
    dest = staging_path(settings.uploads_dir, filename)
    copy_upload(source, dest, filename=filename, settings=settings)
    return dest


def start_ingest(
    *,
    session: Session,
    settings: Settings,
    actor: Actor,
    project_id: int,
    staged: Path,
    filename: str,
    name: str,
    sheet: str | None = None,
    rename_columns: bool = False,
) -> JobPublic:
    """Starts the job that reads a staged upload into dataset `name` of a project."""
    require(session, actor, Action.upload)
    datasets.check_project(session, actor, project_id)
    params = {
        "actor": as_params(actor),
        "project_id": project_id,
        "staged": str(staged),
        "filename": filename,
        "name": datasets.valid_name(name),
        "sheet": sheet,
        "rename_columns": rename_columns,
    }
    return jobs.submit(
        session=session,
        settings=settings,
        kind="ingest",
        run=ingest_job,
        params=params,
        owner=actor.username,
        project_id=project_id,
    )


def ingest_job(
    ctx: JobContext,
    *,
    actor: dict[str, Any],
    project_id: int,
    staged: str,
    filename: str,
    name: str,
    sheet: str | None,
    rename_columns: bool,
) -> dict[str, Any]:
    """The ingest job: a staged upload becomes a dataset version; the staged copy then goes."""
    path = _inside_uploads(ctx.settings, Path(staged))
    keep = False
    try:
        with ctx.session() as session:
            outcome = datasets.add_dataset(
                session=session,
                settings=ctx.settings,
                actor=from_params(actor),
                project_id=project_id,
                source=path,
                filename=filename,
                name=name,
                sheet=sheet,
                rename_columns=rename_columns,
                progress=ctx.progress,
            )
    except (ColumnNamesNeedFixing, SheetChoiceRequired):
        keep = True  # the user can answer the question and retry with the same file
        raise
    finally:
        if not keep:
            path.unlink(missing_ok=True)
    added = outcome.dataset
    return {
        "dataset_id": added.id,
        "name": added.name,
        "version": added.version,
        "created": outcome.created,
    }


def clean_stale_uploads(*, settings: Settings, older_than_hours: float = 24) -> int:
    """Removes staged uploads nobody came back for; returns how many."""
    if not settings.uploads_dir.is_dir():
        return 0
    cutoff = time.time() - older_than_hours * 3600
    stale = [p for p in settings.uploads_dir.iterdir() if p.stat().st_mtime < cutoff]
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def _inside_uploads(settings: Settings, path: Path) -> Path:
    """Job parameters name files only inside the uploads folder, never anywhere else."""
    resolved = path.resolve()
    if not resolved.is_relative_to(settings.uploads_dir.resolve()) or not resolved.is_file():
        raise InvalidInput("The uploaded file is no longer available. Upload it again.")
    return resolved
