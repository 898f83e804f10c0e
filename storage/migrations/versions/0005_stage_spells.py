"""stage spells derived from deal events; the CRM id of imported deals

Revision ID: 0005
Revises: 0004

The backfill derives every deal's spells from its events with `storage.spells.derive`, so it
needs the pipeline's stage keys in order (to know which stages a skip jumped over):
`storage.migrate.upgrade_to_head(engine, stage_keys=...)` hands them over.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import context, op
from sqlmodel import Session

from storage import spells

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stage_spell",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("stage_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("entered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("entered_via", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("left_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ended", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.ForeignKeyConstraint(["deal_id"], ["deal.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stage_spell", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stage_spell_team_entered", ["team_id", "entered_at", "stage_key", "left_at", "ended"], unique=False
        )
        batch_op.create_index(
            "ix_stage_spell_team_stage", ["team_id", "stage_key", "entered_at", "entered_via", "deal_id"], unique=False
        )
        batch_op.create_index(
            "ix_stage_spell_team_left",
            ["team_id", "left_at", "entered_at", "stage_key", "ended", "deal_id"],
            unique=False,
        )
        batch_op.create_index("ix_stage_spell_deal", ["deal_id", "entered_at", "stage_key"], unique=False)
        batch_op.create_index(
            "uq_stage_spell_one_open",
            ["deal_id"],
            unique=True,
            sqlite_where=sa.text("ended = 'open'"),
            postgresql_where=sa.text("ended = 'open'"),
        )
    # A plain ADD COLUMN and a unique index: SQLite can do both in place, where a batch table rebuild of
    # `deal` would have to drop a table that other tables' foreign keys point at.
    op.add_column("deal", sa.Column("crm_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.create_index("uq_deal_team_crm_id", "deal", ["team_id", "crm_id"], unique=True)
    # The digest's moves left waiting: undecided, or decided after its moment.
    op.create_index("ix_move_request_team_decided", "move_request", ["team_id", "decided_at"], unique=False)
    _backfill()


def _backfill() -> None:
    connection = op.get_bind()
    if connection.execute(sa.text("SELECT 1 FROM deal_event LIMIT 1")).first() is None:
        return
    stage_keys = context.config.attributes.get("stage_keys")
    if not stage_keys:
        raise RuntimeError(
            "Migration 0005 derives stage spells from the deal history and needs the pipeline's stage keys: "
            "run it through storage.migrate.upgrade_to_head(engine, stage_keys=pipeline.keys)."
        )
    session = Session(bind=connection)
    for _ in spells.compare(session, stage_keys=tuple(stage_keys), fix=True):
        pass
    session.flush()


def downgrade() -> None:
    op.drop_index("ix_move_request_team_decided", table_name="move_request")
    op.drop_index("uq_deal_team_crm_id", table_name="deal")
    op.drop_column("deal", "crm_id")
    op.drop_table("stage_spell")
