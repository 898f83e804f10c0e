"""Alembic owns the schema: the migrations produce exactly what the models describe."""

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, insert, inspect, select
from sqlmodel import SQLModel, col

from storage.db import make_engine
from storage.migrate import alembic_config, upgrade_to_head
from storage.models import Announcement, Deal, DigestDelivery


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_upgrading_twice_is_harmless(engine: Engine) -> None:
    upgrade_to_head(engine)
    assert {"deal", "deal_event", "move_request", "manager", "deal_sequence"} <= set(inspect(engine).get_table_names())


def test_outbox_statuses_are_renamed_both_ways_and_nothing_else_changes(database_url: str) -> None:
    """0007 gives digest deliveries and announcements one set of statuses; downgrading gives the old ones back."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            command.upgrade(alembic_config(connection), "0006")
            connection.commit()
        at = datetime(2026, 11, 30, 9, tzinfo=UTC)
        with engine.begin() as connection:
            connection.execute(
                insert(Deal).values(
                    team_id="T1",
                    number=1,
                    name="Acme",
                    owner_id="U1",
                    channel_id="C1",
                    stage_key="meeting-booked",
                    stage_entered_at=at,
                    created_at=at,
                )
            )
            for number, status in enumerate(("claimed", "sent", "failed", "abandoned")):
                connection.execute(
                    insert(DigestDelivery).values(
                        team_id="T1",
                        channel_id="C1",
                        period_key=f"daily:{number}",
                        period_start=at,
                        period_end=at,
                        tz="UTC",
                        status=status,
                        claimed_by="A",
                        claimed_at=at,
                    )
                )
            for status in ("pending", "sending", "sent", "failed"):
                connection.execute(
                    insert(Announcement).values(
                        team_id="T1",
                        deal_id=1,
                        kind="card",
                        subject_id=1,
                        status=status,
                        created_at=at,
                        next_attempt_at=at,
                    )
                )

        def statuses() -> tuple[list[str], list[str]]:
            with engine.connect() as connection:
                digests = connection.execute(
                    select(col(DigestDelivery.status)).order_by(col(DigestDelivery.id))
                ).scalars()
                posts = connection.execute(select(col(Announcement.status)).order_by(col(Announcement.id))).scalars()
                return list(digests), list(posts)

        upgrade_to_head(engine)
        assert statuses() == (["sending", "sent", "pending", "given_up"], ["pending", "sending", "sent", "given_up"])
        with engine.connect() as connection:
            command.downgrade(alembic_config(connection), "0006")
            connection.commit()
        assert statuses() == (["claimed", "sent", "failed", "abandoned"], ["pending", "sending", "sent", "failed"])
    finally:
        engine.dispose()
