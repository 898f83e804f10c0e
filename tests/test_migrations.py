"""Alembic owns the schema: the migrations produce exactly what the models describe."""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, insert, inspect, select
from sqlmodel import SQLModel, col

from storage.db import make_engine
from storage.migrate import alembic_config, upgrade_to_head
from storage.models import Announcement, Deal, DigestDelivery, MoveApproval, MoveRequest


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_upgrading_twice_is_harmless(engine: Engine) -> None:
    upgrade_to_head(engine)
    assert {"deal", "deal_event", "move_request", "manager", "deal_sequence"} <= set(inspect(engine).get_table_names())


def migrate_to(engine: Engine, revision: str, *, downgrade: bool = False) -> None:
    with engine.connect() as connection:
        (command.downgrade if downgrade else command.upgrade)(alembic_config(connection), revision)
        connection.commit()


def store_deal(connection: Connection, *, stage_key: str, at: datetime) -> None:
    """deal-1 of workspace T1, as every revision since the first stores it."""
    connection.execute(
        insert(Deal).values(
            team_id="T1",
            number=1,
            name="Acme",
            owner_id="U1",
            channel_id="C1",
            stage_key=stage_key,
            stage_entered_at=at,
            created_at=at,
        )
    )


def test_outbox_statuses_are_renamed_both_ways_and_nothing_else_changes(database_url: str) -> None:
    """0007 gives digest deliveries and announcements one set of statuses; downgrading gives the old ones back."""
    engine = make_engine(database_url)
    try:
        migrate_to(engine, "0006")
        at = datetime(2026, 11, 30, 9, tzinfo=UTC)
        with engine.begin() as connection:
            store_deal(connection, stage_key="meeting-booked", at=at)
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
        migrate_to(engine, "0006", downgrade=True)
        assert statuses() == (["claimed", "sent", "failed", "abandoned"], ["pending", "sending", "sent", "failed"])
    finally:
        engine.dispose()


def test_existing_moves_keep_meaning_one_approval_and_downgrading_drops_the_approvals(database_url: str) -> None:
    """0008: every stored move needs one approval, and an approved move's decider is its one approval."""
    engine = make_engine(database_url)
    try:
        migrate_to(engine, "0007")
        at = datetime(2026, 11, 30, 9, tzinfo=UTC)
        move = sa.table(
            "move_request",
            *(sa.column(name) for name in ("team_id", "deal_id", "requested_by", "requested_at", "from_stage")),
            *(sa.column(name) for name in ("to_stage", "evidence", "status", "decided_by", "decided_at")),
        )
        with engine.begin() as connection:
            store_deal(connection, stage_key="needs-confirmed", at=at)
            for status, decided_by in (("approved", "U_MGR"), ("rejected", "U_MGR2"), ("pending", None)):
                connection.execute(
                    move.insert().values(
                        team_id="T1",
                        deal_id=1,
                        requested_by="U1",
                        requested_at=at,
                        from_stage="meeting-booked",
                        to_stage="needs-confirmed",
                        evidence="[]",
                        status=status,
                        decided_by=decided_by,
                        decided_at=at if decided_by else None,
                    )
                )

        upgrade_to_head(engine)

        with engine.connect() as connection:
            needed = connection.execute(select(col(MoveRequest.approvals_needed)).order_by(col(MoveRequest.id)))
            assert list(needed.scalars()) == [1, 1, 1]
            approvals = connection.execute(
                select(col(MoveApproval.team_id), col(MoveApproval.move_id), col(MoveApproval.approver_id))
            ).all()
            assert [tuple(row) for row in approvals] == [("T1", 1, "U_MGR")]
        migrate_to(engine, "0007", downgrade=True)
        tables = inspect(engine)
        assert "move_approval" not in tables.get_table_names()
        assert "approvals_needed" not in {column["name"] for column in tables.get_columns("move_request")}
        with engine.connect() as connection:
            assert connection.execute(sa.text("select count(*) from move_request")).scalar_one() == 3
    finally:
        engine.dispose()
