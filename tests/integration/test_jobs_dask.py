"""The same jobs on the Dask executor: a real LocalCluster runs the runner on its worker."""

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from distributed import LocalCluster
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import executors, jobs
from services.config import Settings
from services.models import JobState
from tests.support import job_functions as fn
from tests.support.actors import OPERATOR
from tests.support.jobs import (
    FAST_JOBS,
    alive,
    configure,
    row,
    stop_runners,
    submit,
    wait_finished,
    wait_for,
    wait_until,
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local
        executors.close()  # the client submit() opened, before its cluster goes


@pytest.fixture
def settings(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, cluster: LocalCluster
) -> Settings:
    return configure(
        monkeypatch, **{**FAST_JOBS, "executor": "dask", "dask_address": cluster.scheduler_address}
    )


@pytest.fixture(autouse=True)
def _no_stray_runners(engine: Engine) -> Iterator[None]:
    yield
    stop_runners(engine)


def test_a_job_succeeds_on_a_dask_worker(session: Session, settings: Settings) -> None:
    job = submit(session, settings, fn.count_to, steps=4)
    assert job.executor == "dask"
    done = wait_finished(session, job.id)
    assert done.state == JobState.succeeded, done.error
    assert (done.result, done.progress, done.step) == ({"counted": 4}, 1.0, "Done")
    assert row(session, job.id).pid is not None  # the runner reported its own pid
    assert "started: tests.support.job_functions:count_to" in jobs.read_log(done)


def test_a_job_on_a_dask_worker_cancels(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    job = submit(session, settings, fn.linger, marker=str(marker))
    wait_for(session, job.id, lambda j: j.step == "lingering", "job lingers on the worker")
    runner = row(session, job.id).pid
    assert runner is not None

    jobs.cancel(actor=OPERATOR, session=session, settings=settings, job_id=job.id)
    done = wait_finished(session, job.id, timeout=10)
    assert (done.state, done.step) == (JobState.cancelled, "Cancelled")
    assert marker.read_text() == "cancel hook ran"
    wait_until(lambda: not alive(runner), "runner gone", timeout=5)


def test_queued_dask_jobs_run_one_after_another(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The worker was started before this limit was set: the runner must get it from the app.
    settings = configure(monkeypatch, max_parallel_jobs=1)
    submitted = [submit(session, settings, fn.count_to, steps=2) for _ in range(3)]
    assert [job.state for job in submitted[1:]] == [JobState.queued, JobState.queued]
    done = [wait_finished(session, job.id) for job in submitted]
    assert [job.state for job in done] == [JobState.succeeded] * 3, [job.error for job in done]
    for before, after in pairwise(done):
        assert before.finished_at is not None and after.started_at is not None
        assert before.finished_at <= after.started_at
