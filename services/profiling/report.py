"""Full reports with ydata-profiling, run as jobs and kept as HTML and JSON files, once per
dataset version and plan."""

import json
import time
import uuid
import warnings
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel
from sqlmodel import Session

from services import datasets, jobs
from services.access import Action, Actor, require
from services.config import Settings
from services.errors import InvalidInput, KaizenError
from services.job_runner import JobContext
from services.models import Dataset, JobPublic, utcnow
from services.profiling.report_plan import (
    ReportPlan,
    drop_long_words,
    in_words,
    plan_report,
    read_table,
    trim_for_json,
)
from services.profiling.ydata_hooks import (
    Progress,
    ProgressTracker,
    hooked_ydata,
    load_ydata,
    ydata_config,
)
from services.time_limit import TimeLimitReached, time_limit

KIND = "profile"
RENDERER_VERSION = "1"  # bump when reports are made differently: older cached ones are not reused


class ReportTimedOut(KaizenError):
    """The full report ran past its time limit and was stopped."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"The full report did not finish within {in_words(seconds)}, its time limit, so it "
            "was stopped. Profile a sample or fewer columns (save a smaller version of the "
            "dataset), or use the instant summary, which covers every row."
        )
        self.seconds = seconds

    def details(self) -> dict[str, Any]:
        return {"time_limit_seconds": self.seconds}


class ReportInfo(BaseModel):
    """A finished full report on disk."""

    dataset_id: int
    compare_to: int | None
    html_path: str
    json_path: str
    plan: ReportPlan
    seconds: float
    created_at: datetime


@dataclass(frozen=True)
class _Subject:
    dataset: Dataset
    title: str
    path: Path


def start_report(
    *,
    session: Session,
    settings: Settings,
    actor: Actor,
    dataset_id: int,
    compare_to: int | None = None,
    minimal: bool | None = None,
    time_limit_seconds: float | None = None,
) -> JobPublic:
    """Starts the full report job, or reuses a cached report or the same report running now."""
    require(session, actor, Action.profile)
    subjects = _subjects(session, settings, dataset_id, compare_to, actor)
    owner, project_id = actor.username, subjects[0].dataset.project_id
    plan = _plan(subjects, minimal, _limit(settings, time_limit_seconds))
    params = {
        "dataset_id": dataset_id,
        "compare_to": compare_to,
        "minimal": minimal,
        "time_limit_seconds": time_limit_seconds,
    }
    cached = _cached_result(_stem(settings, subjects, plan))
    if cached is not None:
        return jobs.record_finished(
            session=session,
            settings=settings,
            kind=KIND,
            run=report_job,
            params=params,
            owner=owner,
            project_id=project_id,
            result=cached,
            step="Done: the same report had already been made",
        )
    for active in jobs.find_jobs(session=session, kind=KIND, active_only=True):
        if active.params == params:
            return active
    return jobs.submit(
        session=session,
        settings=settings,
        kind=KIND,
        run=report_job,
        params=params,
        owner=owner,
        project_id=project_id,
    )


def report_job(
    ctx: JobContext,
    *,
    dataset_id: int,
    compare_to: int | None,
    minimal: bool | None = None,
    time_limit_seconds: float | None = None,
) -> dict[str, Any]:
    """The report job: one dataset version, or two side by side, profiled into HTML and JSON."""
    ctx.progress(0.01, "Planning the report")
    with ctx.session() as session:
        subjects = _subjects(session, ctx.settings, dataset_id, compare_to, actor=None)
    plan = _plan(subjects, minimal, _limit(ctx.settings, time_limit_seconds))
    stem = _stem(ctx.settings, subjects, plan)
    cached = _cached_result(stem)
    if cached is not None:  # another job made it meanwhile
        return cached
    started = time.monotonic()
    try:
        with time_limit(plan.time_limit_seconds):
            html, document = _build(subjects, plan, ctx.progress)
    except TimeLimitReached as stopped:
        raise ReportTimedOut(stopped.seconds) from None
    ctx.progress(0.97, "Saving the report")
    return _save(stem, subjects, plan, html, document, time.monotonic() - started)


def latest_report(
    *,
    session: Session,
    settings: Settings,
    actor: Actor,
    dataset_id: int,
    compare_to: int | None = None,
) -> ReportInfo | None:
    """The newest finished report of this version (compared with `compare_to`), if any."""
    subjects = _subjects(session, settings, dataset_id, compare_to, actor)
    folder = _folder(settings, subjects[0].dataset)
    wanted = _identity(subjects)
    found = [
        meta
        for meta in map(_read_meta, folder.glob("report-*.meta.json"))
        if meta is not None and {k: meta.get(k) for k in wanted} == wanted
    ]
    if not found:
        return None
    newest = max(found, key=lambda meta: str(meta["created_at"]))
    return ReportInfo(dataset_id=dataset_id, compare_to=compare_to, **newest)


def _subjects(
    session: Session,
    settings: Settings,
    dataset_id: int,
    compare_to: int | None,
    actor: Actor | None,  # None: a job, checked when it was started
) -> list[_Subject]:
    if compare_to == dataset_id:
        raise InvalidInput(
            "A version compared with itself shows no change. Choose another version."
        )
    ids = [dataset_id] if compare_to is None else [dataset_id, compare_to]
    subjects = []
    for one in ids:
        row = (
            datasets.visible_row(session, actor, one, Action.view)
            if actor is not None
            else datasets.dataset_row(session=session, dataset_id=one)
        )
        if row.rows == 0:
            raise InvalidInput(f"'{row.name}' v{row.version} has no rows: nothing to profile.")
        path = datasets.parquet_path(settings, row).resolve()
        subjects.append(_Subject(dataset=row, title=f"{row.name} v{row.version}", path=path))
    return subjects


def _limit(settings: Settings, time_limit_seconds: float | None) -> float:
    """The time limit asked for, else the configured one."""
    return settings.profile_time_limit_seconds if time_limit_seconds is None else time_limit_seconds


def _plan(subjects: list[_Subject], minimal: bool | None, time_limit_seconds: float) -> ReportPlan:
    """One plan for every side of a comparison: the largest one's."""
    rows = max(s.dataset.rows for s in subjects)
    columns = max(s.dataset.columns for s in subjects)
    return plan_report(rows, columns, minimal=minimal, time_limit_seconds=time_limit_seconds)


# --- building the report ---------------------------------------------------------------------


def _build(subjects: list[_Subject], plan: ReportPlan, progress: Progress) -> tuple[str, str]:
    """The report's HTML and JSON."""
    tracker, width, reports = ProgressTracker(progress), 0.65 / len(subjects), []
    # pandas and ydata-profiling warn a lot: the job's log stays readable without them.
    with warnings.catch_warnings(action="ignore"):
        ydata = load_ydata()
        with hooked_ydata(tracker):
            for n, subject in enumerate(subjects):
                start = 0.05 + n * width
                progress(start, f"Reading {subject.title}")
                frame = _frame(subject, plan)
                tracker.span(start + 0.15 * width, start + width, subject.title)
                report = ydata.ProfileReport(frame, config=ydata_config(plan, subject.title))
                drop_long_words(report.get_description())
                reports.append(report)
            final = reports[0] if len(reports) == 1 else ydata.compare(reports)
            progress(0.72, "Drawing the charts")
            html = final.to_html()
            progress(0.9, "Writing the JSON")
            trim_for_json(final.get_description().variables)
            document = json.loads(final.to_json())
    titles = [subject.title for subject in subjects]
    document["kaizen"] = {"plan": plan.model_dump(mode="json"), "titles": titles}
    return html, json.dumps(document, indent=1)


def _frame(subject: _Subject, plan: ReportPlan) -> pd.DataFrame:
    table = read_table(subject.path, plan)
    # Dates as datetime64, which ydata-profiling describes as dates (objects it would not).
    return table.to_pandas(date_as_object=False, split_blocks=True, self_destruct=True)


# --- files and cache ---------------------------------------------------------------------------


def _folder(settings: Settings, dataset: Dataset) -> Path:
    return (settings.home / "profiles" / dataset.storage_key).resolve()


def _identity(subjects: list[_Subject]) -> dict[str, Any]:
    """What a cached report must match besides its plan: the same titles and compared table."""
    other = subjects[1].dataset.storage_key if len(subjects) > 1 else None
    return {"titles": [s.title for s in subjects], "compare_key": other}


def _stem(settings: Settings, subjects: list[_Subject], plan: ReportPlan) -> Path:
    """The report's files without their suffix: report-<plan hash>[-vs-<other storage key>]."""
    identity = _identity(subjects)
    key = plan.cache_key(RENDERER_VERSION, version("ydata-profiling"), *identity["titles"])
    other = f"-vs-{identity['compare_key']}" if identity["compare_key"] else ""
    return _folder(settings, subjects[0].dataset) / f"report-{key}{other}"


def _files(stem: Path) -> tuple[Path, Path, Path]:
    return (Path(f"{stem}.html"), Path(f"{stem}.json"), Path(f"{stem}.meta.json"))


def _save(
    stem: Path,
    subjects: list[_Subject],
    plan: ReportPlan,
    html: str,
    document: str,
    seconds: float,
) -> dict[str, Any]:
    html_path, json_path, meta_path = _files(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    _write(html_path, html)
    _write(json_path, document)
    result = {
        "html_path": str(html_path),
        "json_path": str(json_path),
        "plan": plan.model_dump(mode="json"),
        "seconds": round(seconds, 3),
    }
    meta = {**result, **_identity(subjects), "created_at": utcnow().isoformat()}
    _write(meta_path, json.dumps(meta))  # written last: it says the report is complete
    return {**result, "cached": False}


def _write(path: Path, text: str) -> None:
    """Writes the whole file or nothing: readers never see half a report."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def _read_meta(path: Path) -> dict[str, Any] | None:
    """A report's facts, with its files found next to them (the home may have moved)."""
    try:
        meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for key in ("html_path", "json_path"):
        meta[key] = str(path.parent / Path(meta[key]).name)
        if not Path(meta[key]).is_file():
            return None
    return meta


def _cached_result(stem: Path) -> dict[str, Any] | None:
    meta = _read_meta(_files(stem)[2])
    if meta is None:
        return None
    keys = ("html_path", "json_path", "plan", "seconds")
    return {**{key: meta[key] for key in keys}, "cached": True}
