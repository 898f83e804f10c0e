"""a workspace's language and currency (workspace_setting), and the currency each deal's value was typed in

Downgrading drops them: the values themselves stay in deal.value_cents.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workspace_setting",
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column(
            "language", sqlmodel.sql.sqltypes.AutoString(length=8), server_default=sa.text("'en'"), nullable=False
        ),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id"),
    )
    op.add_column("deal", sa.Column("value_currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True))


def downgrade() -> None:
    op.drop_column("deal", "value_currency")
    op.drop_table("workspace_setting")
