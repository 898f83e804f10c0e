"""The outbox: rows that owe Slack a post (thread announcements, digest deliveries), claimed, sent or retried.

Both tables carry the same columns (`status`, `attempts`, `claimed_at`, `next_attempt_at`, `last_error`) and move
through the same statuses (`DeliveryStatus`). Taking a row, giving it up and recording a failed attempt are
conditional UPDATEs, so of two processes racing for a row only one wins: on PostgreSQL the second waits for the
first's row lock and re-reads the row. Marking a row sent is not: only its claimant posts it.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, or_, update
from sqlmodel import Session, col, select

from storage.models import Announcement, DeliveryStatus, DigestDelivery

Row = TypeVar("Row", Announcement, DigestDelivery)
Outbox = type[Announcement] | type[DigestDelivery]


def retryable(table: Outbox, *, now: datetime | None, stale_before: datetime) -> ColumnElement[bool]:
    """Pending (and due at `now`, unless `now` is None), or claimed at or before `stale_before` by a process that never
    finished."""
    pending = col(table.status) == DeliveryStatus.PENDING
    if now is not None:
        pending = and_(pending, col(table.next_attempt_at) <= now)
    return or_(pending, and_(col(table.status) == DeliveryStatus.SENDING, col(table.claimed_at) <= stale_before))


def due(
    session: Session, table: type[Row], *, now: datetime, stale_before: datetime, order_by: Sequence[Any], limit: int
) -> Sequence[Row]:
    return session.exec(
        select(table).where(retryable(table, now=now, stale_before=stale_before)).order_by(*order_by).limit(limit)
    ).all()


def claim(
    session: Session,
    table: Outbox,
    *,
    row_id: int,
    now: datetime,
    stale_before: datetime,
    due_only: bool,
    **values: Any,
) -> bool:
    """Take the row to post it (one more attempt); False when another process has it, it is done, or (`due_only`)
    its next attempt is not due yet."""
    return _change(
        session,
        table,
        row_id,
        retryable(table, now=now if due_only else None, stale_before=stale_before),
        status=DeliveryStatus.SENDING,
        claimed_at=now,
        attempts=table.attempts + 1,
        **values,
    )


def give_up_retryable(
    session: Session, table: Outbox, *, row_id: int, now: datetime, stale_before: datetime, **values: Any
) -> bool:
    """Give up a row nobody is posting (due, or claimed and stale); False when another process took it first."""
    condition = retryable(table, now=now, stale_before=stale_before)
    return _change(session, table, row_id, condition, status=DeliveryStatus.GIVEN_UP, **values)


def sent(session: Session, table: Outbox, *, row_id: int, now: datetime, **values: Any) -> None:
    session.execute(
        update(table)
        .where(col(table.id) == row_id)
        .values(status=DeliveryStatus.SENT, sent_at=now, last_error=None, **values)
    )


def not_sent(
    session: Session, table: Outbox, *, row_id: int, error: str, next_attempt_at: datetime, give_up: bool
) -> bool:
    """Record a failed attempt of a row still claimed: pending again from `next_attempt_at`, or given up.
    False when the row is no longer claimed (a stale claim another process took over)."""
    return _change(
        session,
        table,
        row_id,
        col(table.status) == DeliveryStatus.SENDING,
        status=DeliveryStatus.GIVEN_UP if give_up else DeliveryStatus.PENDING,
        last_error=error,
        next_attempt_at=next_attempt_at,
    )


def _change(session: Session, table: Outbox, row_id: int, condition: ColumnElement[bool], **values: Any) -> bool:
    result = session.execute(update(table).where(col(table.id) == row_id, condition).values(**values))
    return result.rowcount == 1  # type: ignore[attr-defined]
