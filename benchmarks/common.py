"""What the benchmarks share: a Kaizen home to measure in, and a plain aligned table."""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def kaizen_home(home: Path) -> tuple[Any, Any]:
    """Settings and a migrated engine for a throwaway KAIZEN_HOME without size limits."""
    from services.config import get_settings
    from services.db import get_engine, migrate

    os.environ.update(KAIZEN_HOME=str(home), KAIZEN_MAX_UPLOAD_MB="1000000")
    os.environ["KAIZEN_MAX_CELLS"] = str(10**12)
    os.environ.pop("KAIZEN_DATABASE_URL", None)
    get_settings.cache_clear()
    settings = get_settings()
    engine = get_engine(settings)
    migrate(engine)
    return settings, engine


def print_aligned(rows: list[list[str]]) -> None:
    """Right-aligned columns; the first row is the header, underlined with dashes."""
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(str(cell).rjust(width) for cell, width in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * width for width in widths))


def add_file(session: Any, settings: Any, source: Path) -> Any:
    """Stores a table file as a dataset of the first project, as the local operator."""
    from services import datasets
    from services.access import operator
    from services.models import DEFAULT_PROJECT_ID

    return datasets.add_dataset(
        session=session,
        settings=settings,
        actor=operator(),
        project_id=DEFAULT_PROJECT_ID,
        source=source,
        filename=source.name,
    )


def succeeded(session: Any, job: Any, seconds: float = 900) -> Any:
    """The job once it has finished, or the benchmark stops saying how it ended."""
    from services import jobs

    deadline = time.monotonic() + seconds
    while not job.state.finished and time.monotonic() < deadline:
        time.sleep(0.5)
        job = jobs.load_job(session=session, job_id=job.id)
    if job.state.value != "succeeded":
        raise SystemExit(f"job {job.id} {job.state.value}: {job.error}")
    return job


@contextlib.contextmanager
def server(
    command: list[str], url: str, env: dict[str, str], *, log: Path, ready_seconds: float
) -> Iterator[int]:
    """A server process, started in its own session, until `url` answers 200 (its process id
    is yielded) and ended with its children when the block ends; its output goes to `log`."""
    import httpx

    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + ready_seconds
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(url, timeout=5).status_code == 200:
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{command[:3]} did not get ready; see {log}")
                time.sleep(0.5)
            yield process.pid
        finally:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
