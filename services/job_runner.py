"""One job's process: runs the job function, beats its heart, obeys cancel, records the end."""

import importlib
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psutil
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from services import executors, jobs
from services.config import Settings, get_settings
from services.db import get_engine
from services.errors import KaizenError
from services.models import Job, JobState, utcnow

log = logging.getLogger("kaizen.job")
CANCEL_GRACE_SECONDS = 5.0


class JobCancelled(BaseException):
    """Raised in the job's thread when it is cancelled (BaseException: `except Exception` in
    job code must not swallow it)."""


class JobContext:
    """What a job function gets: progress reporting, cancel hooks, settings and the database."""

    def __init__(self, job_id: int, settings: Settings, engine: Engine) -> None:
        self.job_id, self.settings, self.engine = job_id, settings, engine
        self.log = log
        self.cancel_hooks: list[Callable[[], None]] = []
        self._last_write = 0.0

    def progress(self, fraction: float, step: str) -> None:
        """Reports how far the job is (0..1) and what it is doing, in words for the user."""
        now = time.monotonic()
        if now - self._last_write < 0.2 and fraction < 1:
            return  # the UI polls about once a second: no need to write more often
        self._last_write = now
        self._update(progress=min(1.0, max(0.0, fraction)), step=step[:500], heartbeat_at=utcnow())

    def publish(self, result: dict[str, Any]) -> None:
        """Shows a partial result while the job runs (kept if it is cancelled or fails)."""
        self._update(result=result, heartbeat_at=utcnow())

    def on_cancel(self, hook: Callable[[], None]) -> None:
        """Registers cleanup to run when the job is cancelled (e.g. end an MLflow run as KILLED)."""
        self.cancel_hooks.append(hook)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as active:
            yield active
            active.commit()

    def _update(self, **values: Any) -> None:
        with Session(self.engine) as session:
            session.execute(
                update(Job)
                .where(col(Job.id) == self.job_id, col(Job.state) == JobState.running)
                .values(**values)
            )
            session.commit()


def main(argv: list[str] | None = None) -> int:
    job_id = int((argv or sys.argv)[1])
    settings = get_settings()
    engine = get_engine(settings)
    with Session(engine) as session:
        job = session.get(Job, job_id)
    if job is None or job.state != JobState.running:
        return 0  # cancelled (or finished) between claim and start: nothing to do
    _log_to(job.log_path)
    if job.cancel_requested:  # cancelled while this process was starting
        log.info("job %s cancelled before it started", job_id)
        _end(engine, job_id, JobState.cancelled, step="Cancelled")
        _dispatch_next(settings, engine)
        return 0
    return run(job, settings, engine)


def run(job: Job, settings: Settings, engine: Engine) -> int:
    """Runs a claimed job to its end and records how it ended."""
    assert job.id is not None
    ctx = JobContext(job.id, settings, engine)
    watchdog = _Watchdog(ctx)
    signal.signal(signal.SIGTERM, _raise_cancelled)
    try:
        # Leaving "Starting" tells cancel() that SIGTERM is handled now, so it may send it.
        ctx._update(
            pid=os.getpid(), host=socket.gethostname(), heartbeat_at=utcnow(), step="Running"
        )
        watchdog.start()
        log.info("job %s (%s) started: %s", job.id, job.kind, job.target)
        result = _function(job.target)(ctx, **job.params)
        _end(engine, job.id, JobState.succeeded, result=result, progress=1.0, step="Done")
    except JobCancelled:
        log.info("job %s cancelled", job.id)
        _cancelled(ctx)
    except KaizenError as error:
        log.info("job %s failed: %s", job.id, error)
        _end(
            engine,
            job.id,
            JobState.failed,
            error=str(error),
            step="Failed",
            # A failed job keeps what it published (a partial leaderboard) unless it has facts
            # for the user to fix the input with.
            **({"result": error.details()} if error.details() else {}),
        )
    except BaseException as error:
        log.error("job %s crashed:\n%s", job.id, traceback.format_exc())
        message = (
            f"The job failed unexpectedly ({type(error).__name__}). Its log has the "
            "details; an admin can read it on the Jobs page."
        )
        _end(engine, job.id, JobState.failed, error=message, step="Failed")
    finally:
        # The end is recorded: a late cancel must not cut the cleanup or the next job's start.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        watchdog.stop()
        _kill_children()  # whatever the job started must not outlive it
    _dispatch_next(settings, engine)
    return 0


def _dispatch_next(settings: Settings, engine: Engine) -> None:
    """A slot is free: start the next queued job (the page that queued it may be closed)."""
    with Session(engine) as session:
        jobs.dispatch(session=session, settings=settings)
    executors.close()


def _cancelled(ctx: JobContext) -> None:
    for hook in ctx.cancel_hooks:
        try:
            hook()
        except Exception:
            log.exception("a cancel hook of job %s failed", ctx.job_id)
    _end(ctx.engine, ctx.job_id, JobState.cancelled, error=None, step="Cancelled")


def _kill_children() -> None:
    for child in psutil.Process().children(recursive=True):
        with suppress(psutil.NoSuchProcess):
            child.kill()


def _end(engine: Engine, job_id: int, state: JobState, **values: Any) -> None:
    with Session(engine) as session:
        jobs._finish(session, job_id, state, **values)


def _raise_cancelled(_signum: int, _frame: object) -> None:
    # Once only: the watchdog's SIGTERM may follow cancel()'s, and must not cut the cleanup.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise JobCancelled


class _Watchdog(threading.Thread):
    """Writes the heartbeat; turns a cancel request into SIGTERM, and into SIGKILL if ignored."""

    def __init__(self, ctx: JobContext) -> None:
        super().__init__(name=f"job-{ctx.job_id}-watchdog", daemon=True)
        self.ctx = ctx
        self._stopped = threading.Event()
        self._cancel_seen: float | None = None

    def stop(self) -> None:
        self._stopped.set()

    def run(self) -> None:
        while not self._stopped.wait(self.ctx.settings.heartbeat_seconds):
            try:
                self._beat()
            except Exception:
                log.exception("heartbeat of job %s failed; trying again", self.ctx.job_id)

    def _beat(self) -> None:
        with Session(self.ctx.engine) as session:
            job = session.get(Job, self.ctx.job_id)
            if job is None or job.state != JobState.running:
                return
            job.heartbeat_at = utcnow()
            session.add(job)
            session.commit()
            cancel = job.cancel_requested
        if not cancel:
            return
        if self._cancel_seen is None:
            self._cancel_seen = time.monotonic()
            os.kill(os.getpid(), signal.SIGTERM)
        elif time.monotonic() - self._cancel_seen > CANCEL_GRACE_SECONDS:
            log.warning(
                "job %s ignored cancel for %ss: killing it", self.ctx.job_id, CANCEL_GRACE_SECONDS
            )
            _end(self.ctx.engine, self.ctx.job_id, JobState.cancelled, step="Cancelled")
            _kill_children()
            _dispatch_next(self.ctx.settings, self.ctx.engine)  # SIGKILL skips the usual one
            os.kill(os.getpid(), signal.SIGKILL)


def _function(target: str) -> Callable[..., dict[str, Any] | None]:
    module, _, name = target.partition(":")
    function: Callable[..., dict[str, Any] | None] = getattr(importlib.import_module(module), name)
    return function


def _log_to(path: str) -> None:
    """Everything the job prints or logs, tracebacks included, goes to its log file."""
    handle = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115  (lives as long as the process)
    os.dup2(handle.fileno(), 1)
    os.dup2(handle.fileno(), 2)
    logging.basicConfig(
        stream=handle,
        level=logging.INFO,
        force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


if __name__ == "__main__":
    # Run the module job code imports, not this `__main__` copy: its JobCancelled is the one
    # job code's `except JobCancelled` names.
    from services import job_runner

    sys.exit(job_runner.main())
