"""reminders and snoozes: a workspace's reminder setting, a deal's snooze, the reminders owed, and their claims

`move_request.reminded_at` and `deal.nudged_at` are the claims that keep reminders to one a day per move and
nudges to one a week per deal. Downgrading keeps what the team typed: the `reminder_setting` and `deal_snooze`
tables stay (older code ignores them, and upgrading again finds them), and each snooze's reason is also in the
deal's history. The reminders themselves are the bot's own posts; their owed announcements are marked sent,
since older code knows no such post and one still owed would block its deal's thread.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REMINDER_KINDS = ("move_reminder", "stall_nudge")


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "reminder_setting" not in existing:
        op.create_table(
            "reminder_setting",
            sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
            sa.Column("pending_after_hours", sa.Integer(), nullable=True),
            sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
            sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.PrimaryKeyConstraint("team_id"),
        )
    if "deal_snooze" not in existing:
        op.create_table(
            "deal_snooze",
            sa.Column("deal_id", sa.Integer(), nullable=False),
            sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
            sa.Column("until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("snoozed_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
            sa.Column("snoozed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.ForeignKeyConstraint(["deal_id"], ["deal.id"]),
            sa.PrimaryKeyConstraint("deal_id"),
        )
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("move_id", sa.Integer(), nullable=True),
        sa.Column("stage_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["deal_id"], ["deal.id"]),
        sa.ForeignKeyConstraint(["move_id"], ["move_request.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reminder_team_deal", "reminder", ["team_id", "deal_id", "at"], unique=False)
    op.add_column("deal", sa.Column("nudged_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column("move_request", sa.Column("reminded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    announcement = sa.table("announcement", sa.column("kind", sa.String), sa.column("status", sa.String))
    op.execute(
        announcement.update()
        .where(announcement.c.kind.in_(_REMINDER_KINDS), announcement.c.status != "sent")
        .values(status="sent")
    )
    op.drop_column("move_request", "reminded_at")
    op.drop_column("deal", "nudged_at")
    op.drop_index("ix_reminder_team_deal", table_name="reminder")
    op.drop_table("reminder")
