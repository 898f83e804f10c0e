"""0010: digest schedules gain `quiet`, 'short' for every existing one; down and up again keeps each choice."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import inspect

from storage.db import make_engine
from tests.test_migrations import migrate_to

AT = datetime(2026, 11, 30, 9, tzinfo=UTC)
SCHEDULE = sa.table(
    "digest_schedule",
    *(sa.column(name) for name in ("team_id", "channel_id", "frequency", "weekday", "at_time", "tz")),
    *(sa.column(name) for name in ("active", "changed_by", "changed_at")),
)


def quiet_of(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(sa.text("select channel_id, quiet from digest_schedule order by channel_id"))
        return {channel: quiet for channel, quiet in rows}


def test_quiet_defaults_to_short_and_survives_a_downgrade_and_upgrade(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate_to(engine, "0009")
        with engine.begin() as connection:
            for channel in ("C1", "C2", "C3"):
                connection.execute(
                    SCHEDULE.insert().values(
                        team_id="T1",
                        channel_id=channel,
                        frequency="weekly",
                        weekday="mon",
                        at_time="09:00",
                        tz="UTC",
                        active=True,
                        changed_by="U1",
                        changed_at=AT,
                    )
                )
        migrate_to(engine, "0010")
        assert quiet_of(engine) == {"C1": "short", "C2": "short", "C3": "short"}
        with engine.begin() as connection:
            connection.execute(sa.text("update digest_schedule set quiet = 'skip' where channel_id = 'C2'"))
            connection.execute(sa.text("update digest_schedule set quiet = 'full' where channel_id = 'C3'"))

        migrate_to(engine, "0009", downgrade=True)
        tables = inspect(engine)
        assert "quiet" not in {column["name"] for column in tables.get_columns("digest_schedule")}
        with engine.connect() as connection:
            assert connection.execute(sa.text("select count(*) from digest_schedule")).scalar_one() == 3

        migrate_to(engine, "0010")
        assert quiet_of(engine) == {"C1": "short", "C2": "skip", "C3": "full"}
        assert "digest_schedule_quiet_kept" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
