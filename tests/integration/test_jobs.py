"""Jobs with real runner processes: success, errors, crashes, cancel, slots, the reaper."""

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session, col

from services import jobs
from services.config import Settings
from services.db import make_engine
from services.errors import InvalidInput
from services.job_runner import CANCEL_GRACE_SECONDS
from services.models import Job, JobPublic, JobState, utcnow
from tests.support import job_functions as fn
from tests.support.actors import OPERATOR
from tests.support.jobs import (
    alive,
    configure,
    row,
    submit,
    wait_finished,
    wait_for,
    wait_until,
)

STOPPED = "The job stopped without finishing"


pytestmark = pytest.mark.real_jobs


def _running(step: str) -> Callable[[JobPublic], bool]:
    return lambda job: job.state == JobState.running and job.step == step


def test_a_job_succeeds_with_its_result_and_progress(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    job = submit(session, settings, fn.hold, release=str(release), fraction=0.4)
    assert job.state == JobState.running  # a slot was free: it started at once

    held = wait_for(session, job.id, _running("holding"), "job reports progress")
    assert held.progress == pytest.approx(0.4)
    release.touch()
    done = wait_finished(session, job.id)

    assert done.state == JobState.succeeded, done.error
    assert done.result == {"released": True}
    assert (done.progress, done.step, done.error) == (1.0, "Done", None)
    assert done.started_at is not None and done.finished_at is not None
    assert done.started_at <= done.finished_at
    assert row(session, job.id).slot is None
    assert "started: tests.support.job_functions:hold" in jobs.read_log(done)


def test_a_job_that_refuses_keeps_its_message_and_cannot_be_cancelled(
    session: Session, settings: Settings
) -> None:
    message = "The column 'age' has no values. Pick another target."
    job = submit(session, settings, fn.refuse, message=message)
    done = wait_finished(session, job.id)
    assert (done.state, done.error, done.step) == (JobState.failed, message, "Failed")
    with pytest.raises(InvalidInput, match="already failed"):
        jobs.cancel(actor=OPERATOR, session=session, settings=settings, job_id=job.id)


def test_a_crash_fails_with_a_plain_message_and_the_traceback_in_the_log(
    session: Session, settings: Settings
) -> None:
    job = submit(session, settings, fn.crash)
    done = wait_finished(session, job.id)
    assert done.state == JobState.failed
    assert done.error is not None
    assert done.error.startswith("The job failed unexpectedly (ZeroDivisionError)")
    tail = jobs.read_log(done)
    assert "about to divide by zero" in tail
    assert "Traceback (most recent call last)" in tail
    assert "ZeroDivisionError: division by zero" in tail


def test_running_out_of_memory_fails_the_job(session: Session, settings: Settings) -> None:
    job = submit(session, settings, fn.run_out_of_memory)
    done = wait_finished(session, job.id)
    assert done.state == JobState.failed
    assert done.error is not None and "(MemoryError)" in done.error
    assert "allocating 8 GiB" in jobs.read_log(done)


def test_a_killed_runner_is_reaped_as_failed(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    job = submit(session, settings, fn.linger, marker=str(tmp_path / "marker"))
    wait_for(session, job.id, _running("lingering"), "job lingers")
    pid = row(session, job.id).pid
    assert pid is not None

    os.kill(pid, signal.SIGKILL)  # what the kernel's OOM killer does
    wait_until(lambda: not alive(pid), "runner gone")
    wait_until(lambda: job.id in jobs.reap(session=session, settings=settings), "reaped")

    done = jobs.load_job(session=session, job_id=job.id)
    assert done.state == JobState.failed
    assert done.error is not None and done.error.startswith(STOPPED)
    assert done.finished_at is not None and row(session, job.id).slot is None
    assert "started: tests.support.job_functions:linger" in jobs.read_log(done)
    assert not (tmp_path / "marker").exists()  # killed: no cleanup could run


def test_cancel_stops_the_runner_and_its_children_within_seconds(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    marker, child_file = tmp_path / "marker", tmp_path / "child.pid"
    job = submit(session, settings, fn.linger, marker=str(marker), child_pid_file=str(child_file))
    wait_for(session, job.id, _running("lingering"), "job lingers")
    runner, child = row(session, job.id).pid, int(child_file.read_text())
    assert runner is not None and alive(child)

    asked = time.monotonic()
    jobs.cancel(actor=OPERATOR, session=session, settings=settings, job_id=job.id)
    done = wait_finished(session, job.id, timeout=10)
    assert time.monotonic() - asked < 5

    assert (done.state, done.step, done.error) == (JobState.cancelled, "Cancelled", None)
    assert done.finished_at is not None
    assert marker.read_text() == "cancel hook ran"
    assert Path(f"{marker}.caught").exists()  # the job's own `except JobCancelled` ran
    wait_until(lambda: not alive(child), "child process gone", timeout=5)
    wait_until(lambda: not alive(runner), "runner gone", timeout=5)
    assert "cancelled" in jobs.read_log(done)


def test_cancel_right_after_submit_ends_cancelled(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    # The runner is still importing when the cancel comes: it must not die as "failed".
    job = submit(session, settings, fn.linger, marker=str(tmp_path / "marker"))
    jobs.cancel(actor=OPERATOR, session=session, settings=settings, job_id=job.id)
    done = wait_finished(session, job.id, timeout=10)
    assert (done.state, done.error) == (JobState.cancelled, None)


def test_a_cancel_from_another_machine_is_seen_by_the_heartbeat(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    # Only the flag is set (no signal can cross machines); the runner's watchdog obeys it.
    marker = tmp_path / "marker"
    job = submit(session, settings, fn.linger, marker=str(marker))
    wait_for(session, job.id, _running("lingering"), "job lingers")
    session.exec(update(Job).where(col(Job.id) == job.id).values(cancel_requested=True))
    session.commit()
    done = wait_finished(session, job.id, timeout=10)
    assert done.state == JobState.cancelled
    assert marker.read_text() == "cancel hook ran"


def test_a_queued_job_cancels_at_once_and_never_starts(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = configure(monkeypatch, max_parallel_jobs=1)
    first = submit(session, settings, fn.linger, marker=str(tmp_path / "first"))
    second = submit(session, settings, fn.count_to, steps=2)
    assert second.state == JobState.queued

    cancelled = jobs.cancel(actor=OPERATOR, session=session, settings=settings, job_id=second.id)
    assert (cancelled.state, cancelled.step) == (JobState.cancelled, "Cancelled")

    jobs.cancel(actor=OPERATOR, session=session, settings=settings, job_id=first.id)
    wait_finished(session, first.id, timeout=10)
    runner = row(session, first.id).pid
    assert runner is not None
    wait_until(lambda: not alive(runner), "first runner gone (its exit dispatch done)")
    never = row(session, second.id)
    assert (never.state, never.started_at, never.pid) == (JobState.cancelled, None, None)
    assert not Path(never.log_path).exists()


def test_a_job_that_ignores_cancel_is_killed_and_the_next_one_starts(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = configure(monkeypatch, max_parallel_jobs=1)
    job = submit(session, settings, fn.stubborn)
    queued = submit(session, settings, fn.count_to, steps=2)
    wait_for(session, job.id, _running("ignoring cancel"), "job ignores cancel")
    runner = row(session, job.id).pid
    assert runner is not None

    jobs.cancel(actor=OPERATOR, session=session, settings=settings, job_id=job.id)
    done = wait_finished(session, job.id, timeout=CANCEL_GRACE_SECONDS + 5)
    assert done.state == JobState.cancelled
    wait_until(lambda: not alive(runner), "stubborn runner killed", timeout=5)
    assert wait_finished(session, queued.id).state == JobState.succeeded


def test_with_one_slot_the_second_job_waits_for_the_first(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = configure(monkeypatch, max_parallel_jobs=1)
    release = tmp_path / "release"
    first = submit(session, settings, fn.hold, release=str(release))
    second = submit(session, settings, fn.count_to, steps=3)
    assert (first.state, second.state) == (JobState.running, JobState.queued)

    wait_for(session, first.id, _running("holding"), "first job holds")
    assert jobs.dispatch(session=session, settings=settings) == []  # no free slot
    assert jobs.load_job(session=session, job_id=second.id).state == JobState.queued
    release.touch()

    # Nobody here dispatches again: the first runner starts the second as it exits.
    one, two = wait_finished(session, first.id), wait_finished(session, second.id)
    assert (one.state, two.state) == (JobState.succeeded, JobState.succeeded)
    assert one.finished_at is not None and two.started_at is not None
    assert one.finished_at <= two.started_at
    assert two.result == {"counted": 3}


def _running_row(session: Session, slot: int, **values: Any) -> int:
    """A 'running' job row, as a runner (live or dead) would have left it."""
    job = Job(kind="test", owner="tester", target="x:y", state=JobState.running, slot=slot)
    for name, value in values.items():
        setattr(job, name, value)
    session.add(job)
    session.commit()
    assert job.id is not None
    return job.id


def test_silent_jobs_are_reaped_and_live_ones_kept(session: Session, settings: Settings) -> None:
    here, now = socket.gethostname(), utcnow()
    recent, long_ago = now - timedelta(seconds=5), now - timedelta(hours=1)  # timeout is 10 s
    ended, zombie = subprocess.Popen(["true"]), subprocess.Popen(["true"])
    ended.wait()
    wait_until(lambda: not alive(zombie.pid), "child ended (a zombie: nobody waited for it)")
    rows: dict[str, dict[str, Any]] = {
        "dead pid here": {"pid": ended.pid, "host": here, "heartbeat_at": recent},
        "zombie pid here": {"pid": zombie.pid, "host": here, "heartbeat_at": recent},
        "cancelled, dead": {
            "pid": ended.pid,
            "host": here,
            "heartbeat_at": recent,
            "cancel_requested": True,
        },
        "silent elsewhere": {"pid": 1, "host": "elsewhere", "heartbeat_at": long_ago},
        "never beat": {"heartbeat_at": None},
        "quiet elsewhere": {"pid": 1, "host": "elsewhere", "heartbeat_at": recent},
        "quiet, alive here": {"pid": os.getpid(), "host": here, "heartbeat_at": recent},
    }
    ids = {name: _running_row(session, slot, **v) for slot, (name, v) in enumerate(rows.items())}

    jobs.dispatch(session=session, settings=settings)
    zombie.wait()

    states = {name: row(session, job_id).state for name, job_id in ids.items()}
    assert states == {
        "dead pid here": JobState.failed,
        "zombie pid here": JobState.failed,
        "cancelled, dead": JobState.cancelled,
        "silent elsewhere": JobState.failed,
        "never beat": JobState.failed,
        "quiet elsewhere": JobState.running,
        "quiet, alive here": JobState.running,
    }
    reaped = row(session, ids["dead pid here"])
    assert reaped.error is not None and reaped.error.startswith(STOPPED)
    assert reaped.slot is None and reaped.finished_at is not None
    assert row(session, ids["cancelled, dead"]).error is None


def test_the_reaper_reads_fresh_heartbeats(session: Session, settings: Settings) -> None:
    # The page's session saw an old heartbeat; the job has beaten since. It must live on.
    here, long_ago = socket.gethostname(), utcnow() - timedelta(hours=1)
    job_id = _running_row(session, 0, pid=os.getpid(), host=here, heartbeat_at=long_ago)
    assert row(session, job_id).heartbeat_at is not None  # loaded, with the old heartbeat
    with Session(make_engine(settings.sqlalchemy_url)) as runner:
        runner.exec(update(Job).where(col(Job.id) == job_id).values(heartbeat_at=utcnow()))
        runner.commit()
    assert jobs.reap(session=session, settings=settings) == []


def test_state_survives_a_page_refresh(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    job = submit(session, settings, fn.hold, release=str(release), fraction=0.25)
    wait_for(session, job.id, _running("holding"), "job holds")
    session.close()

    fresh_engine = make_engine(settings.sqlalchemy_url)  # a new page, a new process
    try:
        with Session(fresh_engine) as fresh:
            seen = jobs.load_job(session=fresh, job_id=job.id)
            assert (seen.state, seen.progress) == (JobState.running, 0.25)
            assert [j.id for j in jobs.find_jobs(session=fresh, active_only=True)] == [job.id]
            release.touch()
            done = wait_finished(fresh, job.id)
            assert done.state == JobState.succeeded
            assert jobs.find_jobs(session=fresh, active_only=True) == []
            assert jobs.find_jobs(session=fresh)[0].result == {"released": True}
    finally:
        fresh_engine.dispose()


def test_many_concurrent_writers_never_hit_a_locked_database(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = configure(monkeypatch, max_parallel_jobs=3, heartbeat_seconds=0.05)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    started = [
        submit(session, settings, fn.hammer, writes=150, barrier=str(barrier), parties=3)
        for _ in range(3)
    ]
    assert all(job.state == JobState.running for job in started)
    for job in started:
        done = wait_finished(session, job.id, timeout=45)
        assert done.state == JobState.succeeded, done.error
        assert done.result == {"writes": 150}
        tail = jobs.read_log(done, lines=200)
        assert "locked" not in tail and "heartbeat of job" not in tail
