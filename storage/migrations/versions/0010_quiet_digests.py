"""digest schedules say what a quiet period posts: short (one line, the default), skip (nothing) or full

Downgrading keeps every schedule's choice other than the default in digest_schedule_quiet_kept, which the next
upgrade reads back and drops: nothing a team set is lost on the way down and up again.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEPT = "digest_schedule_quiet_kept"
DEFAULT = "short"


def _table(name: str) -> sa.TableClause:
    return sa.table(
        name, sa.column("team_id", sa.String), sa.column("channel_id", sa.String), sa.column("quiet", sa.String)
    )


def upgrade() -> None:
    op.add_column(
        "digest_schedule",
        sa.Column(
            "quiet", sqlmodel.sql.sqltypes.AutoString(length=8), server_default=sa.text(f"'{DEFAULT}'"), nullable=False
        ),
    )
    if not sa.inspect(op.get_bind()).has_table(KEPT):
        return
    schedule, kept = _table("digest_schedule"), _table(KEPT)
    chosen = (
        sa.select(kept.c.quiet)
        .where(kept.c.team_id == schedule.c.team_id, kept.c.channel_id == schedule.c.channel_id)
        .scalar_subquery()
    )
    matched = sa.exists().where(kept.c.team_id == schedule.c.team_id, kept.c.channel_id == schedule.c.channel_id)
    op.execute(schedule.update().where(matched).values(quiet=chosen))
    op.drop_table(KEPT)


def downgrade() -> None:
    op.create_table(
        KEPT,
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("quiet", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "channel_id"),
    )
    schedule, kept = _table("digest_schedule"), _table(KEPT)
    chosen = sa.select(schedule.c.team_id, schedule.c.channel_id, schedule.c.quiet).where(schedule.c.quiet != DEFAULT)
    op.execute(kept.insert().from_select(["team_id", "channel_id", "quiet"], chosen))
    op.drop_column("digest_schedule", "quiet")
