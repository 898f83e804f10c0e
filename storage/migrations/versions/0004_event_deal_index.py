"""index deal events by deal and kind for the digest

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deal_event", schema=None) as batch_op:
        batch_op.create_index("ix_deal_event_team_deal_kind_at", ["team_id", "deal_id", "kind", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deal_event", schema=None) as batch_op:
        batch_op.drop_index("ix_deal_event_team_deal_kind_at")
