"""`kaizen serve [--host H] [--port P] [--bundle DIR ...]`: the REST API of the published models
on one uvicorn process (uvloop and httptools when installed), from this installation or from
bundle directories (the API image runs `python -m services.serving`, without the CLI)."""

import argparse
import secrets
import sys
import threading
import time
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
    command.add_argument(
        "--public-link",
        action="store_true",
        help="also ask Gradio's share servers for a public *.gradio.live address of this "
        "server (needs internet; share links then work under that address)",
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
    if args.public_link:
        threading.Thread(target=_public_link, args=(args.port,), daemon=True).start()
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


def _public_link(port: int) -> None:
    """Gradio's own share tunnel (a *.gradio.live address for 72 hours) to this server; the
    demos stay behind their share links there, the API behind its keys. Without internet
    it says why and serving goes on."""
    from gradio.networking import setup_tunnel

    time.sleep(1.0)  # uvicorn is listening by then; the tunnel connects to it
    try:
        address = setup_tunnel("127.0.0.1", port, secrets.token_urlsafe(32), None, None)
    except Exception as error:  # no internet, blocked, Gradio's servers down
        print(f"no public link: {error}", file=sys.stderr)
        return
    print(
        f"public address: {address} (set KAIZEN_SERVE_URL={address} where share links are "
        "made, so they point there)",
        file=sys.stderr,
    )
