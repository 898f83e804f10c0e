"""digest schedules and deliveries; event index for digests

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("period_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("period_start", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("period_end", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("tz", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("message_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("chart_uploaded", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "channel_id", "period_key", name="uq_digest_delivery_period"),
    )
    with op.batch_alter_table("digest_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_digest_delivery_status", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "digest_schedule",
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("frequency", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("weekday", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
        sa.Column("at_time", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("tz", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "channel_id"),
    )
    with op.batch_alter_table("deal_event", schema=None) as batch_op:
        batch_op.create_index("ix_deal_event_team_kind_at", ["team_id", "kind", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deal_event", schema=None) as batch_op:
        batch_op.drop_index("ix_deal_event_team_kind_at")

    op.drop_table("digest_schedule")
    with op.batch_alter_table("digest_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_delivery_status")

    op.drop_table("digest_delivery")
