"""approval policy per stage: how many approvals a move needs, and each manager's approval

Existing moves keep meaning one approval: they need one, and each approved move's decider becomes its one approval.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "move_request", sa.Column("approvals_needed", sa.Integer(), server_default=sa.text("1"), nullable=False)
    )
    op.create_table(
        "move_approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("move_id", sa.Integer(), nullable=False),
        sa.Column("approver_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["move_id"], ["move_request.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("move_id", "approver_id", name="uq_move_approval_once"),
    )
    move = sa.table(
        "move_request",
        sa.column("id", sa.Integer),
        sa.column("team_id", sa.String),
        sa.column("status", sa.String),
        sa.column("decided_by", sa.String),
        sa.column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime),
    )
    approval = sa.table(
        "move_approval",
        sa.column("team_id", sa.String),
        sa.column("move_id", sa.Integer),
        sa.column("approver_id", sa.String),
        sa.column("at", sqlmodel.sql.sqltypes.UTCDateTime),
    )
    approved = sa.select(move.c.team_id, move.c.id, move.c.decided_by, move.c.decided_at).where(
        move.c.status == "approved", move.c.decided_by.is_not(None), move.c.decided_at.is_not(None)
    )
    op.execute(approval.insert().from_select(["team_id", "move_id", "approver_id", "at"], approved))


def downgrade() -> None:
    # Code before 0008 knows no approval_given post: one still owed would block its deal's thread there.
    announcement = sa.table("announcement", sa.column("kind", sa.String), sa.column("status", sa.String))
    op.execute(
        announcement.update()
        .where(announcement.c.kind == "approval_given", announcement.c.status != "sent")
        .values(status="sent")
    )
    op.drop_table("move_approval")
    op.drop_column("move_request", "approvals_needed")
