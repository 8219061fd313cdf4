"""Alembic environment: runs on the connection handed over by services.db.migrate."""

from alembic import context
from sqlmodel import SQLModel

from services import models, serving_models  # noqa: F401  (register their tables on the metadata)
from services.config import get_settings
from services.db import get_engine

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        # Plain `alembic` command line use: connect to the configured database.
        with get_engine(get_settings()).connect() as connection:
            _run(connection)
            connection.commit()
    else:
        _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can only alter tables by copying them
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
