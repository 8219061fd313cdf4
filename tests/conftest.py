"""Shared fixtures: every test gets its own KAIZEN_HOME, database and settings."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.config import Settings, get_settings
from services.db import dispose_engines, get_engine, migrate

DATA = Path(__file__).parent / "data"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings pointing at a fresh home directory, as the app and CLI will read them."""
    monkeypatch.setenv("KAIZEN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KAIZEN_DATABASE_URL", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # MLflow in the temp home only
    get_settings.cache_clear()
    yield get_settings()
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
