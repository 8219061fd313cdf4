"""Helpers for the job system's integration tests: real runners, bounded waits, clean ends."""

import contextlib
import os
import signal
import time
from collections.abc import Callable
from typing import Any

import psutil
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from services import jobs
from services.config import Settings, get_settings
from services.models import Job, JobPublic

WAIT_SECONDS = 30.0  # every wait is bounded; a healthy run needs a few seconds at most


# Heartbeats fast enough that a dead runner is noticed in a fraction of a second.
FAST_JOBS: dict[str, Any] = {
    "executor": "local",
    "heartbeat_seconds": 0.2,
    "heartbeat_timeout_seconds": 10,
    "max_parallel_jobs": 2,
}


def configure(monkeypatch: pytest.MonkeyPatch, **values: Any) -> Settings:
    """Sets KAIZEN_* variables (runners inherit them) and returns the settings they make."""
    for name, value in values.items():
        monkeypatch.setenv(f"KAIZEN_{name.upper()}", str(value))
    get_settings.cache_clear()
    return get_settings()


def submit(
    session: Session, settings: Settings, run: Callable[..., Any], **params: Any
) -> JobPublic:
    return jobs.submit(
        session=session, settings=settings, kind="test", run=run, params=params, owner="tester"
    )


def describe(session: Session, job_id: int) -> str:
    """A job's state and log tail, for failure messages."""
    job = jobs.load_job(session=session, job_id=job_id)
    return (
        f"job {job_id}: state={job.state.value} step={job.step!r} progress={job.progress} "
        f"error={job.error!r}\n--- log tail ---\n{jobs.read_log(job)}"
    )


def wait_for(
    session: Session,
    job_id: int,
    done: Callable[[JobPublic], bool],
    what: str,
    timeout: float = WAIT_SECONDS,
) -> JobPublic:
    """Polls the job until `done(job)`; fails with its state and log after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        job = jobs.load_job(session=session, job_id=job_id)
        if done(job):
            return job
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout}s\n{describe(session, job_id)}")
        time.sleep(0.02)


def wait_finished(session: Session, job_id: int, timeout: float = WAIT_SECONDS) -> JobPublic:
    return wait_for(session, job_id, lambda job: job.state.finished, "job finished", timeout)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout}s")
        time.sleep(0.02)


def row(session: Session, job_id: int) -> Job:
    """The job's full row (pid, host, slot...) as it is in the database now."""
    session.expire_all()
    job = session.get(Job, job_id)
    assert job is not None
    return job


def alive(pid: int) -> bool:
    """True while the process runs (a zombie has ended: it only waits to be collected)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def stop_runners(engine: Engine) -> None:
    """Kills every runner a test left behind, with its process group (its children)."""
    with Session(engine) as session:
        pids = [pid for pid in session.exec(select(Job.pid)).all() if pid]
    for pid in pids:
        with contextlib.suppress(psutil.Error, ProcessLookupError, PermissionError):
            process = psutil.Process(pid)
            if alive(pid) and "services.job_runner" in " ".join(process.cmdline()):
                os.killpg(pid, signal.SIGKILL)  # runners lead their own session and group
