"""Database engine and sessions; the schema itself is owned by Alembic migrations."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from services.config import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_engines: dict[str, Engine] = {}


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (the UI) and a writer (a job's heartbeat) work at once;
    # the busy timeout makes a writer wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """A new engine for `url`, with SQLite tuned for concurrent use."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True)


def get_engine(settings: Settings) -> Engine:
    """The process-wide engine for the configured database (created on first use)."""
    url = settings.sqlalchemy_url
    if url not in _engines:
        settings.home.mkdir(parents=True, exist_ok=True)
        _engines[url] = make_engine(url)
    return _engines[url]


def dispose_engines() -> None:
    """Closes every pooled connection (at shutdown, and between tests)."""
    while _engines:
        _engines.popitem()[1].dispose()


def migrate(engine: Engine) -> None:
    """Bring the database schema up to the newest Alembic revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise
