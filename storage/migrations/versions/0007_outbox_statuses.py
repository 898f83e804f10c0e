"""one set of outbox statuses: digest deliveries and announcements are pending, sending, sent or given_up

Digest deliveries said claimed, failed (waiting to retry) and abandoned; announcements said failed for given up.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DIGEST = {"claimed": "sending", "failed": "pending", "abandoned": "given_up"}
_ANNOUNCEMENT = {"failed": "given_up"}


def _rename(table: str, renames: dict[str, str]) -> None:
    status = sa.column("status", sa.String)
    cases = sa.case(*((status == old, new) for old, new in renames.items()), else_=status)
    op.execute(sa.table(table, status).update().where(status.in_(list(renames))).values(status=cases))


def upgrade() -> None:
    _rename("digest_delivery", _DIGEST)
    _rename("announcement", _ANNOUNCEMENT)


def downgrade() -> None:
    _rename("digest_delivery", {new: old for old, new in _DIGEST.items()})
    _rename("announcement", {new: old for old, new in _ANNOUNCEMENT.items()})
