"""Job functions for the job system's own tests (imported by real runner processes)."""

import subprocess
import time
from pathlib import Path
from typing import Any

from services.errors import InvalidInput
from services.job_runner import JobContext


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
        child = subprocess.Popen(["sleep", "300"])  # noqa: S607
        Path(child_pid_file).write_text(str(child.pid))
    ctx.on_cancel(lambda: Path(marker).write_text("cancel hook ran"))
    ctx.progress(0.1, "lingering")
    while True:
        time.sleep(0.1)
