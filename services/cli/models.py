"""`kaizen models ...`: the registry from the command line, as the local operator (an admin of
this installation): list models, move an alias directly (audited), read an alias's history."""

import argparse
from typing import Any

from services import registry
from services.cli.common import Context, Parser
from services.db import session_scope
from services.registry import AliasEvent, ModelVersionPublic, RegisteredModelPublic

DEFAULT_REASON = "promoted from the CLI"


def register(groups: Any, common: Parser) -> None:
    group = groups.add_parser("models", help="registered models: list, promote, history")
    commands = group.add_subparsers(required=True, metavar="ACTION", parser_class=Parser)
    commands.add_parser(
        "list", parents=[common], help="registered models, their versions and aliases"
    ).set_defaults(handler=_list)
    promote = commands.add_parser(
        "promote", parents=[common], help="move an alias to a version now (audited)"
    )
    promote.add_argument("name")
    promote.add_argument("version", type=int)
    promote.add_argument("--alias", required=True, help="e.g. production or staging")
    promote.add_argument("--reason", default=DEFAULT_REASON, help="why, for the audit log")
    promote.set_defaults(handler=_promote)
    history = commands.add_parser("history", parents=[common], help="every move of its aliases")
    history.add_argument("name")
    history.set_defaults(handler=_history)


def _list(_args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    """JSON: [{"name", "project_id", "aliases": {alias: version}, "warnings": [sentence],
    "versions": [{"version", "created_at", "author", "model_id", "metric", "score",
    "finalized", "job_id", "dataset": {"id", "name", "version"}, "run_id", "aliases"}]}],
    versions newest first."""
    with session_scope(ctx.engine) as session:
        models = registry.list_models(session=session, settings=ctx.settings, actor=ctx.actor)
    lines = []
    for model in models:
        held = ", ".join(f"{a}=v{v}" for a, v in sorted(model.aliases.items())) or "no aliases"
        lines.append(f"{model.name}  ({len(model.versions)} versions; {held})")
        lines += [f"  {_version_line(v)}" for v in model.versions]
        lines += [f"  warning: {w}" for w in model.alias_warnings]
    return [_model_document(m) for m in models], "\n".join(lines) or "no registered models yet"


def _promote(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    """JSON: {"name", "alias", "version", "previous_version", "revision", "by", "at",
    "reason"}."""
    with session_scope(ctx.engine) as session:
        change = registry.promote(
            session=session,
            settings=ctx.settings,
            actor=ctx.actor,
            name=args.name,
            version=args.version,
            alias=args.alias,
            reason=args.reason,
        )
    document = {
        "name": change.model_name,
        "alias": change.alias,
        "version": change.to_version,
        "previous_version": change.from_version,
        "revision": change.revision,
        "by": change.by,
        "at": change.at.isoformat(),
        "reason": change.reason,
    }
    before = "no version" if change.from_version is None else f"version {change.from_version}"
    return document, (
        f"{change.model_name}@{change.alias} is now version {change.to_version} (was {before})"
    )


def _history(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    """JSON: [{"at", "alias", "from_version", "to_version", "kind", "by", "reason",
    "request_id", "revision"}], newest first; kind is promoted, approved or rolled_back."""
    with session_scope(ctx.engine) as session:
        events = registry.history(
            session=session, settings=ctx.settings, actor=ctx.actor, name=args.name
        )
    lines = [_event_line(e) for e in events]
    return [_event_document(e) for e in events], "\n".join(lines) or "no alias moves yet"


def _model_document(model: RegisteredModelPublic) -> dict[str, Any]:
    return {
        "name": model.name,
        "project_id": model.project_id,
        "aliases": model.aliases,
        "warnings": model.alias_warnings,
        "versions": [_version_document(v) for v in model.versions],
    }


def _version_document(version: ModelVersionPublic) -> dict[str, Any]:
    return {
        "version": version.version,
        "created_at": version.created_at.isoformat(),
        "author": version.author,
        "model_id": version.model_id,
        "metric": version.metric,
        "score": version.holdout_score,
        "finalized": version.finalized,
        "job_id": version.job_id,
        "dataset": {
            "id": version.dataset_id,
            "name": version.dataset_name,
            "version": version.dataset_version,
        },
        "run_id": version.run_id,
        "aliases": version.aliases,
    }


def _event_document(event: AliasEvent) -> dict[str, Any]:
    return {
        "at": event.at.isoformat(),
        "alias": event.alias,
        "from_version": event.from_version,
        "to_version": event.to_version,
        "kind": event.kind.value,
        "by": event.by,
        "reason": event.reason,
        "request_id": event.request_id,
        "revision": event.revision,
    }


def _version_line(version: ModelVersionPublic) -> str:
    score = "-" if version.holdout_score is None else f"{version.holdout_score:.4f}"
    held = f"  [{', '.join(version.aliases)}]" if version.aliases else ""
    return (
        f"v{version.version}  {version.created_at:%Y-%m-%d %H:%M}  {version.model_id or '-'}  "
        f"{version.metric or 'score'} {score}  by {version.author or '-'}{held}"
    )


def _event_line(event: AliasEvent) -> str:
    before = f"v{event.from_version}" if event.from_version is not None else "none"
    return (
        f"{event.at:%Y-%m-%d %H:%M:%S}  {event.alias}: {before} -> v{event.to_version}  "
        f"{event.kind.value} by {event.by}: {event.reason}"
    )
