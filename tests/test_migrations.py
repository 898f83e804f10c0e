"""Alembic owns the schema: the migrations produce exactly what the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from storage import models  # noqa: F401  (registers the tables)
from storage.migrate import upgrade_to_head


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_upgrading_twice_is_harmless(engine: Engine) -> None:
    upgrade_to_head(engine)
    assert {"deal", "deal_event", "move_request", "manager", "deal_sequence"} <= set(inspect(engine).get_table_names())
