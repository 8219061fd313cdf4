"""The `kaizen` command: the headless twin of the web app, calling the same services."""

import argparse
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy.engine import Engine

from services import datasets
from services.config import Settings, get_settings
from services.db import get_engine, migrate, session_scope
from services.errors import ColumnNamesNeedFixing, KaizenError, SheetChoiceRequired
from services.logs import log_file, setup_logging

log = logging.getLogger("kaizen.cli")


@dataclass(frozen=True)
class Context:
    settings: Settings
    engine: Engine


# A handler returns the JSON document and the lines a person reads instead.
Handler = Callable[[argparse.Namespace, Context], tuple[Any, str]]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One clear line instead of argparse's usage dump.
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


def main(argv: list[str] | None = None) -> int:
    """Runs one command; exit code 2 and one stderr line on a user error."""
    args = _parser().parse_args(argv)
    settings = get_settings()
    setup_logging(settings)
    try:
        engine = get_engine(settings)
        migrate(engine)
        document, text = args.handler(args, Context(settings=settings, engine=engine))
    except KaizenError as error:
        print(f"error: {_cli_hint(error)}", file=sys.stderr)
        return 2
    except Exception:
        log.exception("command failed: %s", argv if argv is not None else sys.argv[1:])
        print(f"error: unexpected failure; details are in {log_file(settings)}", file=sys.stderr)
        return 1
    print(json.dumps(document, default=str) if args.json else text)
    return 0


def _cli_hint(error: KaizenError) -> str:
    """The domain message, plus how to answer it on the command line."""
    if isinstance(error, ColumnNamesNeedFixing):
        return f"{error} To use {', '.join(error.suggested)}, run again with --rename-columns."
    if isinstance(error, SheetChoiceRequired):
        return f"{error} Run again with --sheet NAME."
    return str(error)


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document")
    parser = _Parser(prog="kaizen", description="Kaizen Studio from the command line.")
    groups = parser.add_subparsers(required=True, metavar="COMMAND", parser_class=_Parser)
    init = groups.add_parser("init", parents=[common], help="create or upgrade the database")
    init.set_defaults(handler=_init)

    data = groups.add_parser("datasets", help="add, list, show and delete datasets")
    commands = data.add_subparsers(required=True, metavar="ACTION", parser_class=_Parser)
    add = commands.add_parser("add", parents=[common], help="store a table file as a dataset")
    add.add_argument("path", type=Path)
    add.add_argument("--name", help="dataset name (default: the file name without extension)")
    add.add_argument("--sheet", help="the sheet to read from an Excel workbook")
    add.add_argument(
        "--rename-columns",
        action="store_true",
        help="accept suggested names for blank or repeated column names",
    )
    add.set_defaults(handler=_datasets_add)
    commands.add_parser("list", parents=[common], help="list datasets").set_defaults(
        handler=_datasets_list
    )
    show = commands.add_parser("show", parents=[common], help="schema and first rows")
    show.add_argument("dataset_id", type=int)
    show.add_argument("--rows", type=int, default=5, help="preview rows to print")
    show.set_defaults(handler=_datasets_show)
    delete = commands.add_parser("delete", parents=[common], help="delete one dataset version")
    delete.add_argument("dataset_id", type=int)
    delete.set_defaults(handler=_datasets_delete)
    return parser


def _init(_args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    home = str(ctx.settings.home.resolve())
    return {"home": home, "database": ctx.engine.url.render_as_string()}, f"ready: {home}"


def _datasets_add(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        outcome = datasets.add_dataset(
            session=session,
            settings=ctx.settings,
            source=args.path,
            filename=args.path.name,
            name=args.name,
            sheet=args.sheet,
            rename_columns=args.rename_columns,
        )
    d = outcome.dataset
    document = {
        "id": d.id,
        "name": d.name,
        "version": d.version,
        "rows": d.rows,
        "columns": d.columns,
        "sha256": d.sha256,
        "created": outcome.created,
    }
    verb = "added" if outcome.created else "already stored as"
    return document, f"{verb} {d.name} v{d.version} (id {d.id}): {d.rows:,} rows x {d.columns}"


def _datasets_list(_args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        summaries = datasets.list_datasets(session=session)
    lines = [
        f"{s.latest_id:>5}  {s.name}  v{s.latest_version}  {s.rows:,} x {s.columns}"
        for s in summaries
    ]
    return [s.model_dump(mode="json") for s in summaries], "\n".join(lines) or "no datasets yet"


def _datasets_show(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        dataset = datasets.get_dataset(session=session, dataset_id=args.dataset_id)
        page = datasets.preview(
            session=session,
            settings=ctx.settings,
            dataset_id=args.dataset_id,
            page_size=max(1, args.rows),
        )
    document = dataset.model_dump(mode="json")
    document["preview"] = page.table.to_pylist()
    lines = [f"{dataset.name} v{dataset.version}: {dataset.rows:,} rows x {dataset.columns}"]
    lines += [
        f"  {c.name}: {c.kind.value} ({c.role.value}), {c.missing:,} missing"
        for c in dataset.column_infos
    ]
    return json.loads(json.dumps(document, default=str)), "\n".join(lines)


def _datasets_delete(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        datasets.delete_dataset(session=session, settings=ctx.settings, dataset_id=args.dataset_id)
    return {"deleted": args.dataset_id}, f"deleted dataset {args.dataset_id}"


if __name__ == "__main__":
    sys.exit(main())
