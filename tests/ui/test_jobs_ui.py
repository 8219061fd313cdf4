"""Jobs in the UI: progress that survives a new session (a browser refresh), and Cancel."""

import re
import time
from pathlib import Path

import pytest
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from services import jobs
from services.config import Settings
from services.models import JobState
from tests.support import job_functions
from tests.support.actors import OPERATOR

APP = str(Path(__file__).parents[2] / "app.py")


def literal(element) -> str:  # type: ignore[no-untyped-def]
    """What the user reads: the page escapes markdown in names that come from files."""
    return re.sub(r"\\(.)", r"\1", element.value)


def wait_for(session: Session, job_id: int, predicate, seconds: float = 30):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate(job := jobs.load_job(session=session, job_id=job_id)):
        assert time.monotonic() < deadline, f"job {job_id} stuck in {job.state}: {job.step}"
        time.sleep(0.1)
    return job


@pytest.fixture
def lingering(session: Session, settings: Settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    job = jobs.submit(
        session=session,
        settings=settings,
        kind="ingest",
        run=job_functions.linger,
        params={"marker": str(tmp_path / "hook")},
        owner="someone",
    )
    wait_for(session, job.id, lambda j: j.step == "lingering")
    yield job
    if not jobs.load_job(session=session, job_id=job.id).state.finished:
        jobs.cancel(actor=OPERATOR, session=session, settings=settings, job_id=job.id)


def test_a_new_session_shows_the_running_job_and_cancels_it(
    session: Session,
    lingering,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    at = AppTest.from_file(APP, default_timeout=60)  # a fresh session, as after a refresh
    at.run()
    assert not at.exception
    bar = at.get("progress")[0]
    assert bar.proto.text == f"Ingest #{lingering.id}: lingering"
    assert literal(at.caption[0]).endswith("elapsed · started by someone")
    next(b for b in at.button if b.label == "Cancel").click()
    at.run()
    cancelled = wait_for(session, lingering.id, lambda j: j.state.finished)
    assert cancelled.state == JobState.cancelled
    assert (tmp_path / "hook").read_text() == "cancel hook ran"


def test_jobs_page_lists_jobs_and_shows_a_failure_with_its_log(
    session: Session, settings: Settings
) -> None:
    failed = jobs.submit(
        session=session,
        settings=settings,
        kind="test",
        run=job_functions.crash,
        params={},
        owner="local",
    )
    wait_for(session, failed.id, lambda j: j.state.finished)
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("views/jobs.py")
    at.run()
    assert not at.exception
    listed = at.dataframe[0].value
    assert listed[["id", "kind", "state"]].values.tolist() == [[failed.id, "test", "failed"]]
    assert literal(at.error[0]).startswith("The job failed unexpectedly (ZeroDivisionError).")
    assert "ZeroDivisionError: division by zero" in at.code[0].value
