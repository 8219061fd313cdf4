"""Job functions for the job system's own tests (imported by real runner processes)."""

import resource
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil

from services.errors import InvalidInput
from services.job_runner import JobCancelled, JobContext
from services.models import utcnow


def count_to(ctx: JobContext, *, steps: int, pause: float = 0.05) -> dict[str, Any]:
    """Reports progress step by step and returns how far it counted."""
    for step in range(1, steps + 1):
        time.sleep(pause)
        ctx.progress(step / steps, f"{step} of {steps}")
    return {"counted": steps}


def refuse(ctx: JobContext, *, message: str) -> None:
    """Fails the way a job fails on bad input: with a message for the user."""
    raise InvalidInput(message)


def crash(ctx: JobContext) -> None:
    """Fails the way a bug fails."""
    ctx.log.info("about to divide by zero")
    print(1 / 0)


def linger(ctx: JobContext, *, marker: str, child_pid_file: str | None = None) -> None:
    """Runs until stopped; optionally starts a child process and records a cancel hook."""
    if child_pid_file:
        child = subprocess.Popen(["sleep", "300"])
        Path(child_pid_file).write_text(str(child.pid))
    ctx.on_cancel(lambda: Path(marker).write_text("cancel hook ran"))
    ctx.progress(0.1, "lingering")
    try:
        while True:
            time.sleep(0.1)
    except JobCancelled:  # job code may tidy up on cancel, as long as it re-raises
        Path(f"{marker}.caught").touch()
        raise


def hold(
    ctx: JobContext, *, release: str, fraction: float = 0.5, limit: float = 60.0
) -> dict[str, Any]:
    """Reports `fraction` done, then waits until the file `release` exists (at most `limit` s)."""
    ctx.progress(fraction, "holding")
    deadline = time.monotonic() + limit
    while not Path(release).exists():
        if time.monotonic() > deadline:
            raise InvalidInput(f"{release} never appeared")
        time.sleep(0.02)
    return {"released": True}


def hammer(ctx: JobContext, *, writes: int, barrier: str, parties: int) -> dict[str, Any]:
    """Waits until `parties` jobs are ready, then writes progress and heartbeats unthrottled."""
    ready = Path(barrier)
    (ready / f"{ctx.job_id}.ready").touch()
    deadline = time.monotonic() + 30
    while len(list(ready.glob("*.ready"))) < parties:
        if time.monotonic() > deadline:
            raise InvalidInput("the other jobs never became ready")
        time.sleep(0.01)
    for write in range(1, writes + 1):
        ctx._update(progress=write / writes, step=f"write {write}", heartbeat_at=utcnow())
    return {"writes": writes}


def run_out_of_memory(ctx: JobContext) -> None:
    """Fails the way a job fails when it asks for more memory than it may have."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    in_use = psutil.Process().memory_info().vms
    resource.setrlimit(resource.RLIMIT_AS, (in_use + 256 * 2**20, hard))
    try:
        ctx.log.info("allocating 8 GiB")
        bytearray(8 * 2**30)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))  # room again to record the end


def stubborn(ctx: JobContext) -> None:
    """Ignores SIGTERM (as code stuck in a C extension in effect does) and runs on."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ctx.progress(0.1, "ignoring cancel")
    while True:
        time.sleep(0.1)
