"""Migration 0009 both ways: the reminder claims and records come and go; what the team typed (the reminder
setting, each snooze and its reason) survives a downgrade and is found again by the next upgrade."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import inspect

from storage.db import make_engine
from storage.migrate import upgrade_to_head
from tests.test_migrations import migrate_to, store_deal

AT = datetime(2026, 11, 30, 9, tzinfo=UTC)
REASON = "waiting for the buyer's budget cycle"


def columns(engine: sa.Engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


def test_0009_both_ways_keeps_what_the_team_typed(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate_to(engine, "0008")
        with engine.begin() as connection:
            store_deal(connection, stage_key="meeting-booked", at=AT)
        upgrade_to_head(engine)
        assert "nudged_at" in columns(engine, "deal") and "reminded_at" in columns(engine, "move_request")
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "insert into deal_snooze (deal_id, team_id, until, reason, snoozed_by, snoozed_at)"
                    " values (1, 'T1', :at, :reason, 'U1', :at)"
                ),
                {"at": AT, "reason": REASON},
            )
            connection.execute(
                sa.text(
                    "insert into reminder_setting (team_id, pending_after_hours, changed_by, changed_at)"
                    " values ('T1', 12, 'U_MGR', :at)"
                ),
                {"at": AT},
            )
            connection.execute(
                sa.text(
                    "insert into reminder (team_id, deal_id, kind, stage_key, recipients, at)"
                    " values ('T1', 1, 'stalled', 'meeting-booked', '[\"U1\"]', :at)"
                ),
                {"at": AT},
            )
            for kind in ("stall_nudge", "card"):
                connection.execute(
                    sa.text(
                        "insert into announcement (team_id, deal_id, kind, subject_id, status, created_at,"
                        " next_attempt_at, attempts) values ('T1', 1, :kind, 1, 'pending', :at, :at, 0)"
                    ),
                    {"kind": kind, "at": AT},
                )
            connection.execute(sa.text("update deal set nudged_at = :at"), {"at": AT})

        migrate_to(engine, "0008", downgrade=True)
        assert "nudged_at" not in columns(engine, "deal") and "reminded_at" not in columns(engine, "move_request")
        assert "reminder" not in inspect(engine).get_table_names()
        with engine.connect() as connection:
            statuses = connection.execute(sa.text("select kind, status from announcement order by id")).all()
            # Older code knows no nudge post: one still owed would block the deal's thread there.
            assert [tuple(row) for row in statuses] == [("stall_nudge", "sent"), ("card", "pending")]
            assert connection.execute(sa.text("select reason from deal_snooze")).scalar_one() == REASON
            assert connection.execute(sa.text("select pending_after_hours from reminder_setting")).scalar_one() == 12

        upgrade_to_head(engine)
        with engine.connect() as connection:
            assert connection.execute(sa.text("select reason from deal_snooze")).scalar_one() == REASON
            assert connection.execute(sa.text("select pending_after_hours from reminder_setting")).scalar_one() == 12
            assert connection.execute(sa.text("select count(*) from reminder")).scalar_one() == 0
    finally:
        engine.dispose()
