"""`kaizen datasets add|list|show|delete`."""

import argparse
import json
from pathlib import Path
from typing import Any

from services import datasets
from services.cli.common import Context, Parser, project_id
from services.db import session_scope


def register(groups: Any, common: Parser) -> None:
    data = groups.add_parser("datasets", help="add, list, show and delete datasets")
    commands = data.add_subparsers(required=True, metavar="ACTION", parser_class=Parser)
    add = commands.add_parser("add", parents=[common], help="store a table file as a dataset")
    add.add_argument("path", type=Path)
    add.add_argument("--name", help="dataset name (default: the file name without extension)")
    add.add_argument("--sheet", help="the sheet to read from an Excel workbook")
    add.add_argument("--project", default="default", help="the project (default: 'default')")
    add.add_argument(
        "--rename-columns",
        action="store_true",
        help="accept suggested names for blank or repeated column names",
    )
    add.set_defaults(handler=_add)
    listing = commands.add_parser("list", parents=[common], help="list datasets")
    listing.add_argument("--project", help="only this project's datasets")
    listing.set_defaults(handler=_list)
    show = commands.add_parser("show", parents=[common], help="schema and first rows")
    show.add_argument("dataset_id", type=int)
    show.add_argument("--rows", type=int, default=5, help="preview rows to print")
    show.set_defaults(handler=_show)
    delete = commands.add_parser("delete", parents=[common], help="delete one dataset version")
    delete.add_argument("dataset_id", type=int)
    delete.set_defaults(handler=_delete)


def _add(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        outcome = datasets.add_dataset(
            session=session,
            settings=ctx.settings,
            actor=ctx.actor,
            project_id=project_id(session, ctx, args.project),
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


def _list(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        chosen = project_id(session, ctx, args.project) if args.project else None
        summaries = datasets.list_datasets(session=session, actor=ctx.actor, project_id=chosen)
    lines = [
        f"{s.latest_id:>5}  {s.name}  v{s.latest_version}  {s.rows:,} x {s.columns}"
        for s in summaries
    ]
    return [s.model_dump(mode="json") for s in summaries], "\n".join(lines) or "no datasets yet"


def _show(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        dataset = datasets.get_dataset(session=session, actor=ctx.actor, dataset_id=args.dataset_id)
        page = datasets.preview(
            session=session,
            settings=ctx.settings,
            actor=ctx.actor,
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


def _delete(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    with session_scope(ctx.engine) as session:
        datasets.delete_dataset(
            session=session, settings=ctx.settings, actor=ctx.actor, dataset_id=args.dataset_id
        )
    return {"deleted": args.dataset_id}, f"deleted dataset {args.dataset_id}"
