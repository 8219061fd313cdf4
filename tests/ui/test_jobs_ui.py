"""Jobs in the UI: progress that survives a new session (a browser refresh), and Cancel."""

import time
from pathlib import Path

import pytest
from sqlmodel import Session

from services import jobs, projects
from services.access import Actor
from services.config import Settings
from services.models import JobPublic, JobState, Role
from tests.support import job_functions
from tests.support.actors import OPERATOR, PROJECT
from tests.support.signin import app_as, first_admin, literal, local_user


@pytest.fixture
def admin(session: Session, settings: Settings) -> Actor:
    return first_admin(session, settings)


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
        project_id=PROJECT,
    )
    wait_for(session, job.id, lambda j: j.step == "lingering")
    yield job
    if not jobs.load_job(session=session, job_id=job.id).state.finished:
        jobs.cancel(actor=OPERATOR, session=session, settings=settings, job_id=job.id)


def test_a_new_session_shows_the_running_job_and_cancels_it(
    session: Session,
    admin: Actor,
    lingering,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    at = app_as(admin)  # a fresh session, as after a refresh (and signing in again)
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
    session: Session, settings: Settings, admin: Actor
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
    at = app_as(admin, "views/jobs.py")
    assert not at.exception
    listed = at.dataframe[0].value
    assert listed[["id", "kind", "state"]].values.tolist() == [[failed.id, "test", "failed"]]
    assert literal(at.error[0]).startswith("The job failed unexpectedly (ZeroDivisionError).")
    assert "ZeroDivisionError: division by zero" in at.code[0].value


def test_a_viewer_sees_the_projects_jobs_without_cancel_or_others_logs(
    session: Session, settings: Settings, admin: Actor, lingering: JobPublic
) -> None:
    viewer = local_user(session, settings, admin, "vic", Role.viewer)
    at = app_as(viewer, "views/jobs.py")
    assert not at.exception
    assert at.dataframe[0].value["id"].tolist() == [lingering.id]
    assert at.get("progress")[0].proto.text == f"Ingest #{lingering.id}: lingering"
    assert "Cancel" not in [b.label for b in at.button]
    assert not at.expander  # no log: the job is someone else's
    assert "Only the job's owner and admins read its log" in literal(at.main.caption[-1])


def test_other_projects_jobs_are_not_listed(
    session: Session, settings: Settings, admin: Actor, lingering: JobPublic
) -> None:
    outsider = local_user(session, settings, admin, "olga", Role.analyst)
    projects.set_member(
        session=session, actor=admin, project_id=PROJECT, user_id=outsider.user_id, member=False
    )
    at = app_as(outsider, "views/jobs.py")
    assert not at.exception
    assert literal(at.info[0]).startswith("No jobs yet.")
