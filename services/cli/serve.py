"""`kaizen serve [--host H] [--port P] [--bundle DIR ...]`: the REST API of the published models
on one uvicorn process (uvloop and httptools when installed), from this installation or from
bundle directories (the API image runs `python -m services.serving`, without the CLI)."""

import argparse
import sys
from pathlib import Path
from typing import Any

from services.cli.common import Context, Parser
from services.errors import InvalidInput


def register(groups: Any, common: Parser) -> None:
    command = groups.add_parser(
        "serve", parents=[common], help="serve the published models' REST API (until Ctrl-C)"
    )
    _arguments(command)
    command.set_defaults(handler=_serve)


def _arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--host", default="127.0.0.1", help="address to listen on")
    command.add_argument("--port", type=int, default=8000)
    command.add_argument(
        "--bundle",
        action="append",
        type=Path,
        metavar="DIR",
        help="serve this bundle (kaizen publish --bundle); repeat for several; "
        "default: this installation's publications",
    )
    command.add_argument(
        "--access-log", action="store_true", help="log every request (costs latency)"
    )


def _serve(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    """Serves until interrupted: the given bundles, or this installation's publications."""
    import uvicorn

    from services.serving import ServingSettings
    from services.serving.app import create_app
    from services.serving.sources import BundleSource, InstallationSource, Source

    serving = ServingSettings()
    source: Source
    if args.bundle:
        missing = [str(d) for d in args.bundle if not d.is_dir()]
        if missing:
            raise InvalidInput(f"No bundle directory at {', '.join(missing)}.")
        source = BundleSource(args.bundle, serving)
    else:
        source = InstallationSource(ctx.settings, ctx.engine, serving)
    app = create_app(source, ctx.settings, serving)
    print(f"serving on http://{args.host}:{args.port} (docs at /docs)", file=sys.stderr)
    # One process: the models are loaded once and share the memory; reload swaps them there.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        access_log=args.access_log,
        log_level="info",
        timeout_graceful_shutdown=10,
    )
    return {"stopped": True}, "stopped"
