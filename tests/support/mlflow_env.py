"""MLflow writes the tracking and registry URIs it is given into os.environ (subprocesses
inherit them): a module's fixture that once pointed MLflow at its store would point every
later test, and the apps and commands they start, at it too."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

MLFLOW_URIS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


@contextmanager
def mlflow_environment_kept() -> Iterator[None]:
    """Runs without MLflow's URI variables (each test's settings choose its store), then puts
    them back as they were."""
    saved = {name: os.environ.pop(name, None) for name in MLFLOW_URIS}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
