"""Jobs on PostgreSQL: a real server from Debian's package, on loopback, for this test run."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import jobs
from services.config import Settings
from services.models import Job, JobState
from tests.support import job_functions as fn
from tests.support.jobs import FAST_JOBS, configure, row, stop_runners, submit, wait_finished

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SERVER_USER = "kaizen-pg"  # postgres refuses to run as root; used only when we are root
_databases = count(1)


def _server_user() -> str | None:
    """The account to run postgres as: the package's own, else one made for the tests."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", SERVER_USER):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
        check=True,
    )
    return SERVER_USER


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Starts PostgreSQL 15 in a temporary directory; yields its admin URL (no driver)."""
    if not (PG_BIN / "initdb").is_file():
        message = "PostgreSQL 15 is not installed: apt-get install -y postgresql-15"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # CI must run this test, not skip it
        pytest.skip(message)
    user = _server_user()
    base = Path(tempfile.mkdtemp(prefix="kaizen-pg-"))  # not under pytest's 0700 tmp dirs
    if user is not None:
        shutil.chown(base, user)
    data, port = base / "data", _free_port()

    def pg(*args: str) -> None:
        done = subprocess.run(args, capture_output=True, text=True, user=user, cwd=base)
        if done.returncode != 0:
            log = (base / "log").read_text() if (base / "log").is_file() else ""
            pytest.fail(f"{Path(args[0]).name} failed:\n{done.stdout}{done.stderr}{log}")

    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "log")]
    options = f"-k {base} -p {port} -h 127.0.0.1 -c fsync=off -c full_page_writes=off"
    try:
        pg(str(PG_BIN / "initdb"), "-D", str(data), "-U", "kaizen", "--auth=trust", "--no-sync")
        pg(*pg_ctl, "-o", options, "-w", "start")
        yield f"postgresql+psycopg://kaizen@127.0.0.1:{port}"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, user=user)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def settings(settings: Settings, monkeypatch: pytest.MonkeyPatch, postgres_server: str) -> Settings:
    """A fresh database on the server for each test; runners reach it by KAIZEN_DATABASE_URL."""
    name = f"kaizen_{os.getpid()}_{next(_databases)}"
    admin = create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return configure(monkeypatch, **{**FAST_JOBS, "database_url": f"{postgres_server}/{name}"})


@pytest.fixture(autouse=True)
def _no_stray_runners(engine: Engine) -> Iterator[None]:
    assert engine.dialect.name == "postgresql"
    yield
    stop_runners(engine)


def test_a_job_succeeds_on_postgres(session: Session, settings: Settings) -> None:
    job = submit(session, settings, fn.count_to, steps=3)
    done = wait_finished(session, job.id)
    assert done.state == JobState.succeeded, done.error
    assert (done.result, done.progress, done.step) == ({"counted": 3}, 1.0, "Done")
    assert row(session, job.id).slot is None


def test_one_slot_runs_jobs_one_after_another_on_postgres(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = configure(monkeypatch, max_parallel_jobs=1)
    first = submit(session, settings, fn.count_to, steps=2)
    second = submit(session, settings, fn.count_to, steps=2)
    assert (first.state, second.state) == (JobState.running, JobState.queued)
    one, two = wait_finished(session, first.id), wait_finished(session, second.id)
    assert (one.state, two.state) == (JobState.succeeded, JobState.succeeded), two.error
    assert one.finished_at is not None and two.started_at is not None
    assert one.finished_at <= two.started_at


def test_racing_dispatchers_never_exceed_the_limit(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Several pages claim at the same moment: the unique slot lets only one job start.
    settings = configure(monkeypatch, max_parallel_jobs=1)
    with Session(engine) as session:
        for _ in range(6):
            session.add(Job(kind="test", owner="tester", target="x:y"))
        session.commit()
    claimed: list[int | None] = []
    barrier = threading.Barrier(6)

    def claim() -> None:
        with Session(engine) as mine:
            barrier.wait()
            claimed.append(jobs._claim_next(mine, settings))

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len([job_id for job_id in claimed if job_id is not None]) == 1
    with Session(engine) as session:
        assert len(jobs.find_jobs(session=session, active_only=True)) == 6
        running = [j for j in jobs.find_jobs(session=session) if j.state == JobState.running]
        assert len(running) == 1
