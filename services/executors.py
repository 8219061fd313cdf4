"""Where job processes start: on this machine, or on a Dask cluster for scale-out."""

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

from services.config import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RUNNER = [sys.executable, "-m", "services.job_runner"]
_dask_clients: dict[str, Any] = {}


def launch(job_id: int, settings: Settings) -> int | None:
    """Starts the job's runner process; returns its pid when it runs on this machine."""
    if settings.executor == "dask":
        _launch_on_dask(job_id, settings)
        return None
    return _launch_local(job_id, settings)


def runner_env(settings: Settings) -> dict[str, str]:
    """What a runner must see to reach the same home and database, wherever it starts."""
    env = {
        "KAIZEN_HOME": str(settings.home.resolve()),
        "KAIZEN_EXECUTOR": settings.executor,
        "KAIZEN_DATABASE_URL": settings.sqlalchemy_url,
        # A runner starts the next queued job as it ends: it must count slots as the app does
        # (a Dask worker's own environment may not say, or say otherwise).
        "KAIZEN_MAX_PARALLEL_JOBS": str(settings.max_parallel_jobs),
        "KAIZEN_HEARTBEAT_SECONDS": str(settings.heartbeat_seconds),
        "KAIZEN_HEARTBEAT_TIMEOUT_SECONDS": str(settings.heartbeat_timeout_seconds),
    }
    if settings.dask_address:
        env["KAIZEN_DASK_ADDRESS"] = settings.dask_address
    return env


def _launch_local(job_id: int, settings: Settings) -> int:
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and module, an integer id)
        [*RUNNER, str(job_id)],
        cwd=PROJECT_ROOT,
        env={**os.environ, **runner_env(settings)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so cancel reaches its children
    )
    # Collect the exit status, so finished runners do not linger as zombies.
    threading.Thread(target=process.wait, daemon=True).start()
    return process.pid


def _launch_on_dask(job_id: int, settings: Settings) -> None:
    from distributed import fire_and_forget

    if not settings.dask_address:
        raise RuntimeError("KAIZEN_EXECUTOR is dask but KAIZEN_DASK_ADDRESS is not set")
    client = _dask_client(settings.dask_address)
    # A unique key: the scheduler merges tasks of one key, and job ids repeat across databases
    # (another install, or a test run) sharing the cluster.
    key = f"kaizen-job-{job_id}-{uuid.uuid4().hex[:12]}"
    future = client.submit(run_runner, job_id, runner_env(settings), key=key, pure=False)
    fire_and_forget(future)


def close() -> None:
    """Closes this process's Dask clients; each first sends the jobs it still holds (a
    runner that exits right after submitting would otherwise lose them)."""
    while _dask_clients:
        _dask_clients.popitem()[1].close()


def _dask_client(address: str) -> Any:
    """One client per scheduler, kept for the life of the process."""
    if address not in _dask_clients:
        from distributed import Client

        _dask_clients[address] = Client(address, timeout=10, set_as_default=False)
    return _dask_clients[address]


def run_runner(job_id: int, env: dict[str, str]) -> int:
    """Runs on a Dask worker: the same runner process as the local executor, there."""
    finished = subprocess.run(  # noqa: S603
        [*RUNNER, str(job_id)],
        env={**os.environ, **env},
        cwd=PROJECT_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        check=False,
    )
    return finished.returncode
