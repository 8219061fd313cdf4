"""Alembic owns the schema: migrations build it from nothing and match the models."""

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from services.db import MIGRATIONS_DIR, migrate


def test_migrations_create_the_tables(engine: Engine) -> None:
    assert "dataset" in inspect(engine).get_table_names()


def test_models_and_migrations_agree(engine: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.check(config)  # raises if a model change has no migration


def test_migrating_twice_changes_nothing(engine: Engine) -> None:
    before = inspect(engine).get_table_names()
    migrate(engine)
    assert inspect(engine).get_table_names() == before
