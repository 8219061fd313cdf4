"""`kaizen jobs list|show|cancel` and `kaizen worker`."""

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from services import jobs
from services.cli.common import Context, Parser
from services.db import session_scope
from services.models import JobPublic

log = logging.getLogger("kaizen.worker")
WORKER_TICK_SECONDS = 1.0


def register(groups: Any, common: Parser) -> None:
    group = groups.add_parser("jobs", help="list, show and cancel jobs")
    commands = group.add_subparsers(required=True, metavar="ACTION", parser_class=Parser)
    listing = commands.add_parser("list", parents=[common], help="recent jobs, newest first")
    listing.add_argument("--active", action="store_true", help="only queued and running jobs")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(handler=_list)
    show = commands.add_parser("show", parents=[common], help="one job, with its log's end")
    show.add_argument("job_id", type=int)
    show.set_defaults(handler=_show)
    cancel = commands.add_parser("cancel", parents=[common], help="stop a queued or running job")
    cancel.add_argument("job_id", type=int)
    cancel.set_defaults(handler=_cancel)
    worker = groups.add_parser("worker", parents=[common], help="start queued jobs; reap dead ones")
    worker.set_defaults(handler=_worker)


def _list(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        found = jobs.list_jobs(
            session=session, actor=ctx.actor, active_only=args.active, limit=args.limit
        )
    return [_document(job) for job in found], "\n".join(map(_line, found)) or "no jobs"


def _show(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        job = jobs.get_job(session=session, actor=ctx.actor, job_id=args.job_id)
        tail = jobs.log_tail(session=session, actor=ctx.actor, job_id=args.job_id)
    text = (
        _line(job)
        + (f"\n{job.error}" if job.error else "")
        + (f"\n--- log ---\n{tail}" if tail else "")
    )
    return {**_document(job), "log_tail": tail}, text


def _cancel(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        job = jobs.cancel(
            session=session, settings=ctx.settings, actor=ctx.actor, job_id=args.job_id
        )
    verb = "cancelled" if job.state.finished else "cancelling"
    return _document(job), f"{verb} job {job.id}"


def _worker(_args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    """Runs until SIGTERM/SIGINT: starts queued jobs and marks silent ones failed."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(
        f"kaizen worker: executor {ctx.settings.executor}, "
        f"{ctx.settings.max_parallel_jobs} parallel jobs",
        file=sys.stderr,
    )
    ticks = 0
    while not stop.is_set():
        try:
            with session_scope(ctx.engine) as session:
                jobs.dispatch(session=session, settings=ctx.settings)
        except Exception:
            log.exception("dispatch failed; trying again")  # a DB hiccup must not stop the worker
        ticks += 1
        stop.wait(WORKER_TICK_SECONDS)
    return {"stopped": True, "ticks": ticks}, "kaizen worker stopped"


def _document(job: JobPublic) -> dict[str, Any]:
    return {**job.model_dump(mode="json"), "elapsed_seconds": round(job.elapsed_seconds, 3)}


def _line(job: JobPublic) -> str:
    progress = f"{job.progress:.0%}" if job.state.value == "running" else job.state.value
    return f"{job.id:>5}  {job.kind:<10} {progress:<10} {job.elapsed_seconds:>7.1f}s  {job.step}"
