"""`kaizen profile`: the full report of a dataset version, made by a job the command waits for."""

import argparse
from typing import Any

from services.cli.common import Context, Parser, wait_for_job
from services.db import session_scope
from services.errors import KaizenError
from services.models import JobState
from services.profiling.report import start_report


class ReportFailed(KaizenError):
    """The report job failed or was cancelled; the message says why."""


def register(groups: Any, common: Parser) -> None:
    command = groups.add_parser(
        "profile", parents=[common], help="make the full report of a dataset version and wait"
    )
    command.add_argument("dataset_id", type=int)
    command.add_argument(
        "--compare-to", type=int, metavar="ID", help="another version to show side by side"
    )
    command.add_argument(
        "--minimal", action="store_true", help="use the fast minimal mode whatever the size"
    )
    command.add_argument(
        "--time-limit", type=float, metavar="SECONDS", help="stop the report after this long"
    )
    command.set_defaults(handler=_profile)


def _profile(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        job = start_report(
            session=session,
            settings=ctx.settings,
            actor=ctx.actor,
            dataset_id=args.dataset_id,
            compare_to=args.compare_to,
            minimal=True if args.minimal else None,
            time_limit_seconds=args.time_limit,
        )
        job = wait_for_job(session, ctx, job)
    if job.state != JobState.succeeded:
        reason = job.error or f"the report job {job.state.value}"
        raise ReportFailed(" ".join(f"Job {job.id}: {reason}".split()))  # one line
    result = job.result or {}
    document = {"job_id": job.id, "state": job.state.value, "report_path": result["html_path"]}
    again = " (made before, not redone)" if result.get("cached") else ""
    text = f"report ready{again}: {result['html_path']}\nJSON: {result['json_path']}"
    return document, text
