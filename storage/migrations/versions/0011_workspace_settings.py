"""a workspace's language and currency (workspace_setting), and the currency each deal's value was typed in

Downgrading keeps both in workspace_setting_kept and deal_value_currency_kept, which the next upgrade reads back and
drops: nothing a team set or typed is lost on the way down and up again.

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

SETTINGS_KEPT = "workspace_setting_kept"
CURRENCIES_KEPT = "deal_value_currency_kept"


def _setting_columns() -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column(
            "language", sqlmodel.sql.sqltypes.AutoString(length=8), server_default=sa.text("'en'"), nullable=False
        ),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
        sa.Column("language_changed_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("language_changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("currency_changed_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("currency_changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("team_id"),
    ]


def _currencies(name: str) -> sa.TableClause:
    return sa.table(
        name, sa.column("team_id", sa.String), sa.column("number", sa.Integer), sa.column("value_currency", sa.String)
    )


def upgrade() -> None:
    op.create_table("workspace_setting", *_setting_columns())
    op.add_column("deal", sa.Column("value_currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True))
    present = sa.inspect(op.get_bind()).get_table_names()
    if SETTINGS_KEPT in present:
        op.execute(sa.text(f"insert into workspace_setting select * from {SETTINGS_KEPT}"))
        op.drop_table(SETTINGS_KEPT)
    if CURRENCIES_KEPT in present:
        deal, kept = _currencies("deal"), _currencies(CURRENCIES_KEPT)
        same = sa.and_(kept.c.team_id == deal.c.team_id, kept.c.number == deal.c.number)
        chosen = sa.select(kept.c.value_currency).where(same).scalar_subquery()
        op.execute(deal.update().where(sa.exists().where(same)).values(value_currency=chosen))
        op.drop_table(CURRENCIES_KEPT)


def downgrade() -> None:
    op.create_table(SETTINGS_KEPT, *_setting_columns())
    op.execute(sa.text(f"insert into {SETTINGS_KEPT} select * from workspace_setting"))
    op.create_table(
        CURRENCIES_KEPT,
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("value_currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "number"),
    )
    deal = _currencies("deal")
    held = sa.select(deal.c.team_id, deal.c.number, deal.c.value_currency).where(deal.c.value_currency.is_not(None))
    op.execute(_currencies(CURRENCIES_KEPT).insert().from_select(["team_id", "number", "value_currency"], held))
    op.drop_column("deal", "value_currency")
    op.drop_table("workspace_setting")
