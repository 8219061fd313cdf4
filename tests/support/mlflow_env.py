"""MLflow writes the tracking and registry URIs it is given into os.environ (subprocesses
inherit them); tests that point it at their own store put the environment back after."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

MLFLOW_URIS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


@contextmanager
def mlflow_environment_kept() -> Iterator[None]:
    """Restores MLflow's URI variables as they were on entry."""
    saved = {name: os.environ.get(name) for name in MLFLOW_URIS}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
