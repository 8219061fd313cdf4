"""What every command shares: its context, a parser that errs in one line, and the wait for a
job the command started."""

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import jobs, projects
from services.access import Actor
from services.config import Settings
from services.db import session_scope
from services.errors import KaizenError
from services.models import JobPublic

POLL_SECONDS = 0.25
DISPATCH_EVERY = 20  # polls; reaps a runner that died and starts queued jobs if no worker does
CANCEL_WAIT_SECONDS = 5.0  # after Ctrl-C, how long to wait for the runner to stop


@dataclass(frozen=True)
class Context:
    settings: Settings
    engine: Engine
    actor: Actor  # the local operator: an admin of this installation (design.md)


# A handler returns the JSON document and the lines a person reads instead.
Handler = Callable[[argparse.Namespace, Context], tuple[Any, str]]


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One clear line instead of argparse's usage dump.
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


def project_id(session: Session, ctx: Context, name: str) -> int:
    """The id of the project named `name`."""
    return projects.project_by_name(session=session, actor=ctx.actor, name=name).id


class Interrupted(Exception):
    """Ctrl-C while a command waited for its job; the job has been cancelled (exit code 130)."""


def wait_for_job(session: Session, ctx: Context, job: JobPublic) -> JobPublic:
    """Polls the job until it ends; there is no time limit here, the job has its own.

    Ctrl-C cancels the job (its runner is in its own process group, so the terminal's
    SIGINT never reaches it) and raises Interrupted."""
    try:
        polls = 0
        while not job.state.finished:
            time.sleep(POLL_SECONDS)
            polls += 1
            if polls % DISPATCH_EVERY == 0:
                jobs.dispatch(session=session, settings=ctx.settings)
            job = jobs.get_job(session=session, actor=ctx.actor, job_id=job.id)
        return job
    except KeyboardInterrupt:
        raise Interrupted(_cancel_after_interrupt(ctx, job.id)) from None


def _cancel_after_interrupt(ctx: Context, job_id: int) -> str:
    # A fresh session: the interrupted one may have been stopped in the middle of a query.
    with session_scope(ctx.engine) as session:
        try:
            job = jobs.cancel(
                session=session, settings=ctx.settings, actor=ctx.actor, job_id=job_id
            )
        except KaizenError:  # it ended in the meantime
            return f"interrupted; job {job_id} had already ended (kaizen jobs show {job_id})"
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        while not job.state.finished and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            job = jobs.get_job(session=session, actor=ctx.actor, job_id=job_id)
    if job.state.finished:
        return f"interrupted; job {job_id} {job.state.value}"
    return f"interrupted; job {job_id} is being cancelled (kaizen jobs show {job_id})"
