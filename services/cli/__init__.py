"""The `kaizen` command: the headless twin of the web app, calling the same services."""

import argparse
import json
import logging
import os
import sys
from typing import Any

from services.access import operator
from services.automl import tracking
from services.cli import datasets as cli_datasets
from services.cli import explain as cli_explain
from services.cli import jobs as cli_jobs
from services.cli import models as cli_models
from services.cli import profile as cli_profile
from services.cli import publish as cli_publish
from services.cli import serve as cli_serve
from services.cli import share as cli_share
from services.cli import train as cli_train
from services.cli import users as cli_users
from services.cli.common import Context, Interrupted, Parser
from services.config import get_settings
from services.db import get_engine, migrate
from services.errors import ColumnNamesNeedFixing, KaizenError, SheetChoiceRequired
from services.logs import log_file, setup_logging

log = logging.getLogger("kaizen.cli")


def main(argv: list[str] | None = None) -> int:
    """Runs one command; exit code 2 and one stderr line on a user error."""
    args = _parser().parse_args(argv)
    settings = get_settings()
    setup_logging(settings)
    try:
        engine = get_engine(settings)
        migrate(engine)
        document, text = args.handler(
            args, Context(settings=settings, engine=engine, actor=operator())
        )
    except KaizenError as error:
        print(f"error: {_cli_hint(error)}", file=sys.stderr)
        return 2
    except Interrupted as stopped:  # Ctrl-C while waiting: the job was cancelled
        print(str(stopped), file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:
        log.exception("command failed: %s", argv if argv is not None else sys.argv[1:])
        print(f"error: unexpected failure; details are in {log_file(settings)}", file=sys.stderr)
        return 1
    return _print(json.dumps(document, default=str) if args.json else text)


def _print(output: str) -> int:
    """Prints the command's output; a reader that stopped early (`| head`) is no error."""
    try:
        print(output, flush=True)
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _cli_hint(error: KaizenError) -> str:
    """The domain message, plus how to answer it on the command line."""
    if isinstance(error, ColumnNamesNeedFixing):
        return f"{error} To use {', '.join(error.suggested)}, run again with --rename-columns."
    if isinstance(error, SheetChoiceRequired):
        return f"{error} Run again with --sheet NAME."
    return str(error)


def _parser() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document")
    parser = Parser(prog="kaizen", description="Kaizen Studio from the command line.")
    groups = parser.add_subparsers(required=True, metavar="COMMAND", parser_class=Parser)
    init = groups.add_parser("init", parents=[common], help="create or upgrade the database")
    init.set_defaults(handler=_init)

    cli_datasets.register(groups, common)
    cli_explain.register(groups, common)
    cli_jobs.register(groups, common)
    cli_models.register(groups, common)
    cli_profile.register(groups, common)
    cli_publish.register(groups, common)
    cli_serve.register(groups, common)
    cli_share.register(groups, common)
    cli_train.register(groups, common)
    cli_users.register(groups, common)
    return parser


def _init(_args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    tracking.prepare_store(ctx.settings)  # the MLflow store too: no training waits for it
    home = str(ctx.settings.home.resolve())
    return {"home": home, "database": ctx.engine.url.render_as_string()}, f"ready: {home}"


if __name__ == "__main__":
    sys.exit(main())
