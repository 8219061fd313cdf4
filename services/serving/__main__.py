"""`python -m services.serving --bundle DIR`: the API image's command. It serves bundles as
`kaizen serve --bundle DIR` does, without importing the rest of the command line: the image
holds only what the model and the server need (no MLflow, no training, no database)."""

import argparse
import sys
from pathlib import Path

from services.config import get_settings
from services.errors import InvalidInput


def main(argv: list[str] | None = None) -> int:
    """Serves the bundles until stopped; exit code 2 and one line for a wrong argument."""
    parser = argparse.ArgumentParser(prog="python -m services.serving")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--bundle", action="append", type=Path, required=True, metavar="DIR")
    parser.add_argument("--access-log", action="store_true")
    args = parser.parse_args(argv)
    try:
        serve(args.bundle, host=args.host, port=args.port, access_log=args.access_log)
    except InvalidInput as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def serve(bundles: list[Path], *, host: str, port: int, access_log: bool) -> None:
    """One uvicorn process on the serving app, its models loaded from `bundles`."""
    import uvicorn

    from services.serving import ServingSettings
    from services.serving.app import create_app
    from services.serving.sources import BundleSource

    missing = [str(d) for d in bundles if not d.is_dir()]
    if missing:
        raise InvalidInput(f"No bundle directory at {', '.join(missing)}.")
    serving = ServingSettings()
    app = create_app(BundleSource(bundles, serving), get_settings(), serving)
    print(f"serving on http://{host}:{port} (docs at /docs)", file=sys.stderr)
    # One process: the models are loaded once; a reload swaps them there.
    uvicorn.run(
        app,
        host=host,
        port=port,
        workers=1,
        access_log=access_log,
        log_level="info",
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    sys.exit(main())
