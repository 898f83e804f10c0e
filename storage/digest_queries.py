"""Keyword-only queries for digest schedules and deliveries.

Queries that act for a user are scoped by `team_id`. The scheduler's queries (active schedules,
deliveries to retry) span every workspace: one process delivers for all of them.

A delivery row is the claim on one channel's digest for one period: its unique key
(team, channel, period_key) lets exactly one process insert it, and every later change of owner
is a conditional UPDATE that only one process can win.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.db import insert_for
from storage.models import DigestDelivery, DigestSchedule


def get_schedule(session: Session, *, team_id: str, channel_id: str) -> DigestSchedule | None:
    return session.get(DigestSchedule, (team_id, channel_id))


def save_schedule(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    frequency: str,
    weekday: str | None,
    at_time: str,
    tz: str,
    quiet: str,
    changed_by: str,
    changed_at: datetime,
) -> DigestSchedule:
    """Create or replace the channel's schedule in one statement, so two at once cannot collide on the key."""
    values = {
        "frequency": frequency,
        "weekday": weekday,
        "at_time": at_time,
        "tz": tz,
        "quiet": quiet,
        "active": True,
        "changed_by": changed_by,
        "changed_at": changed_at,
    }
    statement = insert_for(session, DigestSchedule).values(team_id=team_id, channel_id=channel_id, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["team_id", "channel_id"], set_=values))
    schedule = session.get(DigestSchedule, (team_id, channel_id), populate_existing=True)
    assert schedule is not None
    return schedule


def deactivate_schedule(
    session: Session, *, team_id: str, channel_id: str, changed_by: str, changed_at: datetime
) -> bool:
    """Turn an active schedule off, keeping the row; False when the channel had no active schedule."""
    result = session.execute(
        update(DigestSchedule)
        .where(
            col(DigestSchedule.team_id) == team_id,
            col(DigestSchedule.channel_id) == channel_id,
            col(DigestSchedule.active).is_(True),
        )
        .values(active=False, changed_by=changed_by, changed_at=changed_at)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def all_active_schedules(session: Session) -> Sequence[DigestSchedule]:
    return session.exec(
        select(DigestSchedule)
        .where(col(DigestSchedule.active).is_(True))
        .order_by(col(DigestSchedule.team_id), col(DigestSchedule.channel_id))
    ).all()


def existing_deliveries(session: Session, *, period_keys: Iterable[str]) -> set[tuple[str, str, str]]:
    """(team, channel, period_key) of the delivery rows among these period keys, whatever their status."""
    keys = sorted(set(period_keys))
    if not keys:
        return set()
    rows = session.exec(
        select(DigestDelivery.team_id, DigestDelivery.channel_id, DigestDelivery.period_key).where(
            col(DigestDelivery.period_key).in_(keys)
        )
    ).all()
    return {(team_id, channel_id, period_key) for team_id, channel_id, period_key in rows}


def insert_delivery(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    period_key: str,
    period_start: datetime,
    period_end: datetime,
    tz: str,
    status: str,
    claimed_by: str,
    claimed_at: datetime,
    attempts: int,
    last_error: str | None = None,
) -> int:
    """Insert the claim row; raises IntegrityError when that channel and period already has one."""
    delivery = DigestDelivery(
        team_id=team_id,
        channel_id=channel_id,
        period_key=period_key,
        period_start=period_start,
        period_end=period_end,
        tz=tz,
        status=status,
        attempts=attempts,
        claimed_by=claimed_by,
        claimed_at=claimed_at,
        last_error=last_error,
    )
    session.add(delivery)
    session.flush()
    assert delivery.id is not None
    return delivery.id


def get_delivery(session: Session, *, delivery_id: int, for_update: bool = False) -> DigestDelivery | None:
    return session.get(DigestDelivery, delivery_id, with_for_update=for_update)
