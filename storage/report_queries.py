"""Aggregates over the event history for digests: lists of events in a period (a short first page
plus the total count), losses, and moves left waiting. Stage history lives in `storage.spell_queries`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from storage.models import Deal, DealEvent, MoveRequest


@dataclass(frozen=True)
class EventRow:
    deal_number: int
    deal_name: str
    owner_id: str
    value_cents: int | None
    kind: str
    actor_id: str
    at: datetime
    from_stage: str | None
    to_stage: str | None
    evidence: list[dict[str, Any]]
    note: str | None
    requested_by: str | None


def events_in_period(
    session: Session, *, team_id: str, kind: str, start: datetime, end: datetime, limit: int
) -> tuple[list[EventRow], int]:
    base = (
        select(
            col(Deal.number),
            col(Deal.name),
            col(Deal.owner_id),
            col(Deal.value_cents),
            col(DealEvent.kind),
            col(DealEvent.actor_id),
            col(DealEvent.at),
            col(DealEvent.from_stage),
            col(DealEvent.to_stage),
            col(DealEvent.evidence),
            col(DealEvent.note),
            col(MoveRequest.requested_by),
        )
        .join(Deal, col(Deal.id) == col(DealEvent.deal_id))
        .outerjoin(MoveRequest, col(MoveRequest.id) == col(DealEvent.move_id))
        .where(
            col(DealEvent.team_id) == team_id,
            col(DealEvent.kind) == kind,
            col(DealEvent.at) >= start,
            col(DealEvent.at) < end,
        )
    )
    rows = session.execute(base.order_by(col(DealEvent.at), col(DealEvent.id)).limit(limit)).all()
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    return [EventRow(*row) for row in rows], int(total)


def lost_in_period(session: Session, *, team_id: str, start: datetime, end: datetime) -> tuple[int, int]:
    lost = (
        select(col(DealEvent.deal_id))
        .where(
            col(DealEvent.team_id) == team_id,
            col(DealEvent.kind) == "lost",
            col(DealEvent.at) >= start,
            col(DealEvent.at) < end,
        )
        .distinct()
        .subquery()
    )
    count, value = session.execute(
        select(func.count(), func.coalesce(func.sum(col(Deal.value_cents)), 0))
        .select_from(lost)
        .join(Deal, col(Deal.id) == lost.c.deal_id)
    ).one()
    return int(count), int(value)


@dataclass(frozen=True)
class PendingRow:
    deal_number: int
    deal_name: str
    to_stage: str
    requested_by: str
    requested_at: datetime
    channel_id: str
    message_ts: str | None
    thread_ts: str | None


def pending_older_than(
    session: Session, *, team_id: str, at: datetime, requested_before: datetime, limit: int
) -> tuple[list[PendingRow], int]:
    """Moves requested before `requested_before` and still undecided at `at`, oldest first."""
    base = (
        select(
            col(Deal.number),
            col(Deal.name),
            col(MoveRequest.to_stage),
            col(MoveRequest.requested_by),
            col(MoveRequest.requested_at),
            col(Deal.channel_id),
            col(MoveRequest.message_ts),
            col(Deal.thread_ts),
        )
        .join(Deal, col(Deal.id) == col(MoveRequest.deal_id))
        .where(
            col(MoveRequest.team_id) == team_id,
            col(MoveRequest.requested_at) < requested_before,
            or_(col(MoveRequest.decided_at).is_(None), col(MoveRequest.decided_at) >= at),
        )
    )
    rows = session.execute(base.order_by(col(MoveRequest.requested_at)).limit(limit)).all()
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    return [PendingRow(*row) for row in rows], int(total)


def team_ids(session: Session) -> Sequence[str]:
    return session.execute(select(col(Deal.team_id)).distinct()).scalars().all()
