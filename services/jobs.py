"""Jobs: long work (profiling, training, ingest...) run in its own process, tracked in the DB."""

import contextlib
import logging
import os
import signal
import socket
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import exc, or_, update
from sqlmodel import Session, col, select

from services import access, executors
from services.access import Action, Actor, require
from services.config import Settings
from services.errors import Forbidden, InvalidInput, NotFound
from services.models import Job, JobPublic, JobState, Role, utcnow

log = logging.getLogger("kaizen.jobs")
JobFunction = Callable[..., dict[str, Any] | None]
STARTING = "Starting"  # the step of a claimed job until its runner handles SIGTERM


def submit(
    *,
    session: Session,
    settings: Settings,
    kind: str,
    run: JobFunction,
    params: dict[str, Any],
    owner: str,
    project_id: int | None = None,
) -> JobPublic:
    """Queues `run(ctx, **params)` as a job and starts it if a slot is free."""
    job = _new_job(settings, kind, run, params, owner, project_id=project_id)
    session.add(job)
    session.flush()  # the id names the log file: both are committed together
    settings.jobs_dir.mkdir(parents=True, exist_ok=True)
    job.log_path = str((settings.jobs_dir / f"{job.id}.log").resolve())
    session.commit()  # a runner that claims it at once must find its log path
    dispatch(session=session, settings=settings)
    return load_job(session=session, job_id=_id(job))


def record_finished(
    *,
    session: Session,
    settings: Settings,
    kind: str,
    run: JobFunction,
    params: dict[str, Any],
    owner: str,
    result: dict[str, Any],
    step: str,
    project_id: int | None = None,
) -> JobPublic:
    """Records a job that succeeded without a process: a cached result is still a job to see."""
    now = utcnow()
    job = _new_job(
        settings,
        kind,
        run,
        params,
        owner,
        state=JobState.succeeded,
        progress=1.0,
        step=step,
        result=result,
        started_at=now,
        finished_at=now,
        project_id=project_id,
    )
    session.add(job)
    session.commit()
    return load_job(session=session, job_id=_id(job))


def _new_job(
    settings: Settings,
    kind: str,
    run: JobFunction,
    params: dict[str, Any],
    owner: str,
    **fields: Any,
) -> Job:
    return Job(
        kind=kind,
        target=_target(run),
        params=params,
        owner=owner,
        executor=settings.executor,
        **fields,
    )


def get_job(*, session: Session, actor: Actor, job_id: int) -> JobPublic:
    """One job as it stands now, if the actor may see it (their projects', or their own)."""
    require(session, actor, Action.view)
    job = load_job(session=session, job_id=job_id)
    if not _visible(session, actor, job):
        raise NotFound(f"There is no job with id {job_id}. List jobs to see the ids.")
    return job


def list_jobs(
    *,
    session: Session,
    actor: Actor,
    kind: str | None = None,
    active_only: bool = False,
    limit: int = 50,
) -> list[JobPublic]:
    """The newest jobs the actor may see first (admins: every job)."""
    require(session, actor, Action.view)
    visible = access.visible_projects(session, actor)
    return find_jobs(
        session=session,
        kind=kind,
        active_only=active_only,
        limit=limit,
        seen_by=None if visible is None else (visible, actor.username),
    )


def load_job(*, session: Session, job_id: int) -> JobPublic:
    """One job, unchecked: for the job system itself and for services that checked already."""
    session.expire_all()  # another process may have moved it on
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"There is no job with id {job_id}. List jobs to see the ids.")
    return JobPublic.model_validate(job.model_dump())


def find_jobs(
    *,
    session: Session,
    kind: str | None = None,
    active_only: bool = False,
    limit: int = 50,
    seen_by: tuple[list[int], str] | None = None,  # (project ids, owner) or None for all
) -> list[JobPublic]:
    """The newest jobs first, unchecked (see list_jobs)."""
    query = select(Job).order_by(col(Job.id).desc()).limit(limit)
    if kind is not None:
        query = query.where(Job.kind == kind)
    if active_only:
        query = query.where(col(Job.state).in_([JobState.queued, JobState.running]))
    if seen_by is not None:
        projects, owner = seen_by
        query = query.where(or_(col(Job.project_id).in_(projects), col(Job.owner) == owner))
    session.expire_all()
    return [JobPublic.model_validate(job.model_dump()) for job in session.exec(query)]


def cancel(*, session: Session, settings: Settings, actor: Actor, job_id: int) -> JobPublic:
    """Cancels a queued job at once; asks a running one to stop (it does within seconds).
    Analysts cancel any job they see; anyone may cancel their own (a viewer's insights job)."""
    job = get_job(session=session, actor=actor, job_id=job_id)
    if job.owner != actor.username:
        require(session, actor, Action.cancel_job)
    if job.state.finished:
        raise InvalidInput(
            f"Job {job_id} has already {job.state.value}; there is nothing to cancel."
        )
    if _transition(
        session,
        job_id,
        JobState.queued,
        JobState.cancelled,
        step="Cancelled",
        finished_at=utcnow(),
    ):
        return load_job(session=session, job_id=job_id)
    session.exec(
        update(Job)
        .where(col(Job.id) == job_id, col(Job.state) == JobState.running)
        .values(cancel_requested=True)
    )
    session.commit()
    row = session.get(Job, job_id, populate_existing=True)  # its pid and step as they are now
    # A runner still "Starting" has no SIGTERM handler yet (it would die as if crashed): it
    # reads the flag itself when it starts, or at its first heartbeat.
    if (
        row is not None
        and row.state == JobState.running
        and row.pid
        and row.host == socket.gethostname()
        and row.step != STARTING
    ):
        _signal(row.pid, signal.SIGTERM)  # the runner stops now, not at its next heartbeat
    return load_job(session=session, job_id=job_id)


def log_tail(*, session: Session, actor: Actor, job_id: int, lines: int = 40) -> str:
    """The last lines of a job's log (its traceback, if it crashed): for admins and the job's
    owner, since a log may quote the data."""
    job = get_job(session=session, actor=actor, job_id=job_id)
    current = access.current_actor(session, actor)
    if current.role is not Role.admin and job.owner != current.username:
        raise Forbidden(
            f"Your role ({current.role.value}) cannot read the log of another user's job; "
            "ask an admin or the job's owner."
        )
    return read_log(job, lines)


def read_log(job: JobPublic | Job, lines: int = 40) -> str:
    """The last lines of a job's log file, unchecked."""
    path = Path(job.log_path) if job.log_path else None
    if path is None or not path.is_file():
        return ""
    with path.open(encoding="utf-8", errors="replace") as handle:
        return "".join(deque(handle, maxlen=lines))


def dispatch(*, session: Session, settings: Settings) -> list[int]:
    """Starts queued jobs while slots are free; marks silent ones failed first."""
    reap(session=session, settings=settings)
    started = []
    while (job_id := _claim_next(session, settings)) is not None:
        try:
            pid = executors.launch(job_id, settings)
        except Exception as error:
            log.exception("could not start job %s", job_id)
            _finish(
                session, job_id, JobState.failed, error=f"The job could not be started: {error}"
            )
            continue
        if pid is not None:
            session.exec(
                update(Job)
                .where(col(Job.id) == job_id)
                .values(
                    pid=pid,
                    host=socket.gethostname(),
                )
            )
            session.commit()
        started.append(job_id)
    return started


def reap(*, session: Session, settings: Settings) -> list[int]:
    """Ends running jobs whose heartbeat stopped: their process or machine died."""
    now = utcnow()
    silent = now - timedelta(seconds=settings.heartbeat_timeout_seconds)
    quiet = now - timedelta(seconds=3 * settings.heartbeat_seconds)
    host = socket.gethostname()
    reaped = []
    # populate_existing: the heartbeats this session loaded before are old news.
    running = (
        select(Job).where(Job.state == JobState.running).execution_options(populate_existing=True)
    )
    for job in session.exec(running).all():
        beat = job.heartbeat_at
        gone = job.host == host and job.pid is not None and not _alive(job.pid)
        if beat is None or _aware(beat) < silent or (gone and _aware(beat) < quiet):
            state, values = _reaped_as(job)
            if _finish(session, _id(job), state, **values):
                log.warning("job %s reaped: no heartbeat since %s", job.id, beat)
                reaped.append(_id(job))
    return reaped


def _reaped_as(job: Job) -> tuple[JobState, dict[str, Any]]:
    """A silent job the user asked to cancel was stopped as asked; any other one failed."""
    if job.cancel_requested:
        return JobState.cancelled, {"step": "Cancelled"}
    message = (
        "The job stopped without finishing: its process ended unexpectedly "
        "(killed, out of memory, or the machine restarted). The last lines of "
        "its log are kept; start it again."
    )
    return JobState.failed, {"error": message, "step": "Failed"}


def _claim_next(session: Session, settings: Settings) -> int | None:
    """Moves the oldest queued job to running in a free slot; None when none can start."""
    for _ in range(10):  # another dispatcher may win a race; try again
        session.rollback()
        used = set(session.exec(select(Job.slot).where(col(Job.slot).is_not(None))).all())
        free = [slot for slot in range(settings.max_parallel_jobs) if slot not in used]
        queued = session.exec(
            select(Job.id).where(col(Job.state) == JobState.queued).order_by(col(Job.id))
        ).first()
        if not free or queued is None:
            session.rollback()
            return None
        session.rollback()  # end the read: the claim below is its own short write
        try:
            now = utcnow()
            claimed = session.exec(
                update(Job)
                .where(col(Job.id) == queued, col(Job.state) == JobState.queued)
                .values(
                    state=JobState.running,
                    slot=free[0],
                    started_at=now,
                    heartbeat_at=now,
                    step=STARTING,
                )
            ).rowcount
            session.commit()
        except exc.IntegrityError:
            session.rollback()
            continue
        if claimed == 1:
            return queued
    return None


def _transition(
    session: Session, job_id: int, source: JobState, to: JobState, **values: Any
) -> bool:
    """Compare-and-set of a job's state, so two processes never both finish a job."""
    changed = session.exec(
        update(Job)
        .where(col(Job.id) == job_id, col(Job.state) == source)
        .values(state=to, **values)
    ).rowcount
    session.commit()
    return bool(changed == 1)


def _finish(session: Session, job_id: int, state: JobState, **values: Any) -> bool:
    return _transition(
        session, job_id, JobState.running, state, slot=None, finished_at=utcnow(), **values
    )


def _visible(session: Session, actor: Actor, job: JobPublic) -> bool:
    return access.can_see(session, actor, job.project_id) or job.owner == actor.username


def _alive(pid: int) -> bool:
    """True while the process runs; a zombie has ended (where no init collects orphans, an
    orphaned runner stays one for good)."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _aware(moment: Any) -> Any:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _target(run: JobFunction) -> str:
    """Where a runner finds the job's function: "module:qualified name"."""
    return f"{run.__module__}:{run.__qualname__}"


def _id(job: Job) -> int:
    assert job.id is not None  # rows read from or written to the database have one
    return job.id
