"""Bring a database's schema up to date with Alembic, at start-up and in tests.

Several app processes may start at once (gunicorn workers): on PostgreSQL an advisory lock makes
them migrate one after another; on SQLite the migration's write transaction does the same.
"""

from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_LOCK_KEY = 7_240_113  # any fixed number shared by every process of this app


def alembic_config(connection: Connection, stage_keys: Sequence[str] = ()) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    config.attributes["stage_keys"] = tuple(stage_keys)
    return config


def upgrade_to_head(engine: Engine, *, stage_keys: Sequence[str] = ()) -> None:
    """Migrate to the newest schema. `stage_keys` (the pipeline's, in order) lets a migration that
    derives facts from the history know which stages a skip jumped over; a fresh database needs none."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()
        try:
            command.upgrade(alembic_config(connection, stage_keys), "head")
        finally:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                connection.commit()
