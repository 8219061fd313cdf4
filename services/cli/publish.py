"""`kaizen publish`, `kaizen api-keys` and `kaizen predict`: a model's REST API bundle (and
image), the API's keys, and batch scoring of a file, as the local operator."""

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from services import publish
from services.cli.common import Context, Parser
from services.cli.explain import model_spec
from services.db import session_scope
from services.errors import InvalidInput
from services.serving import keys
from services.serving.batch import score_file
from services.serving_models import ApiKeyPublic


def register(groups: Any, common: Parser) -> None:
    command = groups.add_parser(
        "publish", parents=[common], help="write a model's REST API bundle, build its image"
    )
    command.add_argument("model", metavar="NAME@ALIAS|NAME:VERSION")
    command.add_argument("--bundle", type=Path, metavar="DIR", help="where to write the bundle")
    command.add_argument("--image", metavar="TAG", help="build the API image with this tag")
    command.set_defaults(handler=_publish)
    _register_keys(groups, common)
    predict = groups.add_parser(
        "predict", parents=[common], help="score a CSV or Parquet file with a registered model"
    )
    predict.add_argument("model", metavar="NAME[@ALIAS|:VERSION]", help="default: newest version")
    predict.add_argument("--input", type=Path, required=True, metavar="FILE")
    predict.add_argument("--output", type=Path, required=True, metavar="FILE")
    predict.set_defaults(handler=_predict)


def _register_keys(groups: Any, common: Parser) -> None:
    group = groups.add_parser("api-keys", help="keys of the REST API: create, list, revoke")
    commands = group.add_subparsers(required=True, metavar="ACTION", parser_class=Parser)
    create = commands.add_parser("create", parents=[common], help="a new key, shown once")
    create.add_argument("--name", required=True, help="who or what will use it")
    create.add_argument(
        "--model", action="append", metavar="NAME", help="a model it may call (default: all)"
    )
    create.add_argument("--admin", action="store_true", help="may also reload the server")
    create.set_defaults(handler=_create_key)
    commands.add_parser("list", parents=[common], help="every key").set_defaults(handler=_list_keys)
    revoke = commands.add_parser("revoke", parents=[common], help="stop a key working")
    revoke.add_argument("key_id", type=int, metavar="ID")
    revoke.set_defaults(handler=_revoke_key)


def _publish(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    """JSON: {"name", "version", "alias", "bundle", "image", "docker_run"}; image and
    docker_run are null when no image was built (why is said on stderr)."""
    name, version, alias = _reference(args.model)
    _quiet_mlflow()
    if version is None and alias is None:
        raise InvalidInput(f"Say which version to publish: {name}@ALIAS or {name}:VERSION.")
    with session_scope(ctx.engine) as session:
        published = publish.publish(
            session=session,
            settings=ctx.settings,
            actor=ctx.actor,
            name=name,
            version=version,
            alias=alias,
            bundle_dir=args.bundle,
            image=args.image,
        )
    if published.image_note:
        print(published.image_note, file=sys.stderr)
    document = {
        "name": published.model_name,
        "version": published.version,
        "alias": published.alias,
        "bundle": published.bundle_dir,
        "image": published.image,
        "docker_run": published.docker_run,
    }
    lines = [f"published {published.model_name} v{published.version} in {published.bundle_dir}"]
    if published.docker_run:
        lines.append(f"run it: {published.docker_run}")
    return document, "\n".join(lines)


def _create_key(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    """JSON: {"key", "id", "prefix"}; the key is shown this once."""
    with session_scope(ctx.engine) as session:
        key, secret = keys.create_key(
            session=session, actor=ctx.actor, name=args.name, models=args.model, admin=args.admin
        )
    scope = ", ".join(key.models) if key.models is not None else "every model"
    text = f"{secret}\n(API key {key.id} for {scope}; it is shown only now, keep it safe)"
    return {"key": secret, "id": key.id, "prefix": key.prefix}, text


def _list_keys(_args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    """JSON: [{"id", "name", "prefix", "models", "admin", "created_by", "created_at",
    "revoked_at", "last_used_at"}], newest first; models null means every model."""
    with session_scope(ctx.engine) as session:
        found = keys.list_keys(session=session, actor=ctx.actor)
    lines = [_key_line(k) for k in found]
    return [k.model_dump(mode="json") for k in found], "\n".join(lines) or "no API keys yet"


def _revoke_key(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    """JSON: {"id", "name", "prefix", "revoked_at"}."""
    with session_scope(ctx.engine) as session:
        key = keys.revoke_key(session=session, actor=ctx.actor, key_id=args.key_id)
    document = key.model_dump(mode="json", include={"id", "name", "prefix", "revoked_at"})
    return document, f"revoked API key {key.id} ({key.name}, {key.prefix}...)"


def _predict(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    """JSON: {"model", "version", "rows", "output"}."""
    name, version, alias = _reference(args.model)
    _quiet_mlflow()
    with session_scope(ctx.engine) as session:
        scored = score_file(
            session=session,
            settings=ctx.settings,
            actor=ctx.actor,
            name=name,
            version=version,
            alias=alias,
            source=args.input,
            output=args.output,
        )
    document = {
        "model": scored.name,
        "version": scored.version,
        "rows": scored.rows,
        "output": str(scored.output),
    }
    return document, f"scored {scored.rows} rows with {scored.name} v{scored.version}"


def _reference(text: str) -> tuple[str, int | None, str | None]:
    """NAME, NAME:VERSION or NAME@ALIAS as (name, version, alias)."""
    name, rest = model_spec(text)
    if rest is None:
        return name, None, None
    if rest.startswith("@"):
        return name, None, rest[1:]
    if not rest.isdigit():
        raise InvalidInput(f"'{rest}' is not a version number (NAME:VERSION, e.g. {name}:3).")
    return name, int(rest), None


def _quiet_mlflow() -> None:
    """No MLflow download progress bars: stderr holds one clear line, or nothing."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def _key_line(key: ApiKeyPublic) -> str:
    state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
    scope = ", ".join(key.models) if key.models is not None else "every model"
    used = f"last used {key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never used"
    admin = ", admin" if key.admin else ""
    return f"{key.id}  {key.prefix}...  {key.name}  ({scope}{admin}; {state}; {used})"
