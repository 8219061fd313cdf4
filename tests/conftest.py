"""Shared fixtures: every test gets its own KAIZEN_HOME, database and settings; the registry's
tests (integration, UI, browser) share one home of really trained models."""

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.config import Settings, get_settings
from services.db import dispose_engines, get_engine, migrate
from tests.support.jobs import FAST_JOBS, stop_runners
from tests.support.mlflow_env import mlflow_environment_kept

if TYPE_CHECKING:
    from tests.support.registry import TrainedHome

if TYPE_CHECKING:
    from tests.support.registry import TrainedHome

DATA = Path(__file__).parent / "data"


@pytest.fixture
def settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Settings]:
    """Settings pointing at a fresh home directory, as the app and CLI will read them.

    A test marked `real_jobs` runs real job processes: fast heartbeats (a dead runner is
    noticed in a fraction of a second), and every runner it left behind is killed after it."""
    monkeypatch.setenv("KAIZEN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KAIZEN_DATABASE_URL", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # MLflow in the temp home only
    real_jobs = request.node.get_closest_marker("real_jobs") is not None
    for name, value in (FAST_JOBS if real_jobs else {}).items():
        monkeypatch.setenv(f"KAIZEN_{name.upper()}", str(value))
    get_settings.cache_clear()
    current = get_settings()
    yield current
    if real_jobs:
        stop_runners(get_engine(current))
    get_settings.cache_clear()
    dispose_engines()


@pytest.fixture
def engine(settings: Settings) -> Engine:
    """A real SQLite database in the test's home, migrated by Alembic."""
    engine = get_engine(settings)
    migrate(engine)
    return engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as active:
        yield active


@pytest.fixture(autouse=True)
def _mlflow_environment_kept() -> Iterator[None]:
    """Every test starts without MLflow's URI variables, whatever an earlier fixture's
    set_tracking_uri left in os.environ (see tests/support/mlflow_env.py)."""
    with mlflow_environment_kept():
        yield


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> "TrainedHome":
    """Really trained, registered models (about a minute, once per test session); a test
    copies the home (tests.support.registry.copy_home) before it changes anything."""
    from tests.support.registry import build  # scikit-learn and training: only when asked

    return build(tmp_path_factory.mktemp("registry"))
