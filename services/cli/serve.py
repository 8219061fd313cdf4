"""`kaizen serve [--host H] [--port P] [--bundle DIR ...]`: the REST API of the published models
on one uvicorn process (uvloop and httptools when installed), from this installation or from
bundle directories. `python -m services.cli.serve --bundle DIR` does the same without touching
any database (the container)."""

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from services.cli.common import Context, Parser
from services.config import Settings, get_settings
from services.errors import InvalidInput

log = logging.getLogger("kaizen.serving")


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
    run(args, ctx.settings, ctx)
    return {"stopped": True}, "stopped"


def run(args: argparse.Namespace, settings: Settings, ctx: Context | None) -> None:
    """Serves until interrupted; bundles need no database, the installation its own."""
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
    elif ctx is not None:
        source = InstallationSource(settings, ctx.engine, serving)
    else:
        raise InvalidInput("Name the bundles to serve: --bundle DIR.")
    app = create_app(source, settings, serving)
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


def main(argv: list[str] | None = None) -> int:
    """Serves bundles without the app's database (the API container's command)."""
    parser = Parser(prog="kaizen-serve", description="Serve model bundles over HTTP.")
    _arguments(parser)
    args = parser.parse_args(argv)
    if not args.bundle:
        parser.error("name at least one bundle: --bundle DIR")
    try:
        run(args, get_settings(), None)
    except InvalidInput as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
