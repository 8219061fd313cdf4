"""Where details go that users should not see: tracebacks land in a log file, not on screen."""

import logging
from pathlib import Path

from services.config import Settings


def log_file(settings: Settings) -> Path:
    return settings.home / "logs" / "kaizen.log"


def setup_logging(settings: Settings) -> None:
    """Sends Kaizen's log records to $KAIZEN_HOME/logs/kaizen.log (once per process)."""
    logger = logging.getLogger("kaizen")
    path = log_file(settings).resolve()
    if any(getattr(h, "baseFilename", None) == str(path) for h in logger.handlers):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
