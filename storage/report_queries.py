"""Aggregates over the event history for digests: lists of events in a period (a short first page
plus the total count), losses and their reasons, moves per transition and the largest ones, moves left
waiting, and each open deal's stay at a moment (for the week's changes). The rates' stage history lives in
`storage.spell_queries`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, any_, func, literal, or_, select, union_all
from sqlmodel import Session, col
from sqlmodel.sql.sqltypes import UTCDateTime

from storage.models import Deal, DealEvent, EventKind, MoveRequest, StageSpell

STAGE_MOVES = (EventKind.APPROVED, EventKind.MOVED_BACK)


def _event_owned_by(team_id: str, owner_id: str | None) -> tuple[ColumnElement[bool], ...]:
    """The condition that an event's deal is owned by `owner_id` now (nothing when None: every owner)."""
    if owner_id is None:
        return ()
    owned = select(col(Deal.id)).where(col(Deal.team_id) == team_id, col(Deal.owner_id) == owner_id)
    return (col(DealEvent.deal_id).in_(owned),)


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
    move_id: int | None


def _event_columns() -> tuple[Any, ...]:
    return (
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
        col(DealEvent.move_id),
    )


def events_in_period(
    session: Session,
    *,
    team_id: str,
    kind: str,
    start: datetime,
    end: datetime,
    limit: int,
    owner_id: str | None = None,
) -> tuple[list[EventRow], int]:
    """The first `limit` events of `kind` in [start, end), oldest first, and how many there are; only those
    of `owner_id`'s deals when given."""
    in_period = (
        col(DealEvent.team_id) == team_id,
        col(DealEvent.kind) == kind,
        col(DealEvent.at) >= start,
        col(DealEvent.at) < end,
        *_event_owned_by(team_id, owner_id),
    )
    page = (
        select(*_event_columns())
        .join(Deal, col(Deal.id) == col(DealEvent.deal_id))
        .outerjoin(MoveRequest, col(MoveRequest.id) == col(DealEvent.move_id))
        .where(*in_period)
        .order_by(col(DealEvent.at), col(DealEvent.id))
        .limit(limit)
    )
    rows = session.execute(page).all()
    # Every event has its deal (a foreign key) and the move join is outer, so the total counts the events
    # alone: from the index on (team_id, kind, at), without reading the deals.
    total = session.execute(select(func.count()).select_from(DealEvent).where(*in_period)).scalar_one()
    return [EventRow(*row) for row in rows], int(total)


def lost_in_period(
    session: Session, *, team_id: str, start: datetime, end: datetime, owner_id: str | None = None
) -> tuple[int, int]:
    """Deals lost in [start, end) (each once, however often), and their value; only `owner_id`'s when given."""
    lost = select(col(DealEvent.deal_id)).where(
        col(DealEvent.team_id) == team_id,
        col(DealEvent.kind) == EventKind.LOST,
        col(DealEvent.at) >= start,
        col(DealEvent.at) < end,
        *_event_owned_by(team_id, owner_id),
    )
    # PostgreSQL would hash-join the whole deal table for an IN (a week's losses are far fewer than it
    # guesses); `= ANY(ARRAY(...))` looks each one up by its key instead.
    if session.get_bind().dialect.name == "postgresql":
        lost_deal = col(Deal.id) == any_(func.array(lost.scalar_subquery()))
    else:
        lost_deal = col(Deal.id).in_(lost)
    count, value = session.execute(
        select(func.count(), func.coalesce(func.sum(col(Deal.value_cents)), 0)).where(lost_deal)
    ).one()
    return int(count), int(value)


def moves_per_transition(
    session: Session, *, team_id: str, start: datetime, end: datetime, owner_id: str | None = None
) -> list[tuple[str, str, str, int]]:
    """(kind, from stage, to stage, count) of the approved moves and moves back in [start, end)."""
    rows = session.execute(
        select(col(DealEvent.kind), col(DealEvent.from_stage), col(DealEvent.to_stage), func.count())
        .where(
            col(DealEvent.team_id) == team_id,
            col(DealEvent.kind).in_(STAGE_MOVES),
            col(DealEvent.at) >= start,
            col(DealEvent.at) < end,
            *_event_owned_by(team_id, owner_id),
        )
        .group_by(col(DealEvent.kind), col(DealEvent.from_stage), col(DealEvent.to_stage))
    ).all()
    return [(str(kind), str(source or ""), str(target or ""), int(count)) for kind, source, target, count in rows]


def largest_moves(
    session: Session,
    *,
    team_id: str,
    start: datetime,
    end: datetime,
    transitions: Sequence[tuple[str, str, str]],
    limit: int,
    owner_id: str | None = None,
) -> list[EventRow]:
    """The `limit` moves in [start, end) of these (kind, from stage, to stage), largest deal value first (a deal
    without a value last), then oldest first."""
    if not transitions or limit < 1:
        return []
    wanted = or_(
        *(
            and_(col(DealEvent.kind) == kind, col(DealEvent.from_stage) == source, col(DealEvent.to_stage) == target)
            for kind, source, target in transitions
        )
    )
    rows = session.execute(
        select(*_event_columns())
        .join(Deal, col(Deal.id) == col(DealEvent.deal_id))
        .outerjoin(MoveRequest, col(MoveRequest.id) == col(DealEvent.move_id))
        .where(
            col(DealEvent.team_id) == team_id,
            col(DealEvent.kind).in_(STAGE_MOVES),
            col(DealEvent.at) >= start,
            col(DealEvent.at) < end,
            wanted,
            *_event_owned_by(team_id, owner_id),
        )
        .order_by(func.coalesce(col(Deal.value_cents), -1).desc(), col(DealEvent.at), col(DealEvent.id))
        .limit(limit)
    ).all()
    return [EventRow(*row) for row in rows]


def lost_by_note(
    session: Session, *, team_id: str, start: datetime, end: datetime, owner_id: str | None = None
) -> list[tuple[str, int, int]]:
    """(reason as written, losses, their deals' value) of the deals lost in [start, end)."""
    rows = session.execute(
        select(col(DealEvent.note), func.count(), func.coalesce(func.sum(col(Deal.value_cents)), 0))
        .join(Deal, col(Deal.id) == col(DealEvent.deal_id))
        .where(
            col(DealEvent.team_id) == team_id,
            col(DealEvent.kind) == EventKind.LOST,
            col(DealEvent.at) >= start,
            col(DealEvent.at) < end,
            *_event_owned_by(team_id, owner_id),
        )
        .group_by(col(DealEvent.note))
    ).all()
    return [(str(note or ""), int(count), int(value)) for note, count, value in rows]


@dataclass(frozen=True, slots=True)
class OpenStay:
    deal_id: int
    stage_key: str
    entered_at: datetime
    value_cents: int


def open_stays_at(session: Session, *, team_id: str, at: datetime, owner_id: str | None = None) -> list[OpenStay]:
    """Every deal open at `at` (entered its stage before `at`, not left it by then) with its stage, entry and
    value (None as 0). Two disjoint branches, each served by `ix_stage_spell_team_left`: the stays never left,
    and those left at or after `at`."""
    moment = literal(at, UTCDateTime())
    columns = (col(StageSpell.deal_id), col(StageSpell.stage_key), col(StageSpell.entered_at))
    team, entered = col(StageSpell.team_id) == team_id, col(StageSpell.entered_at) < moment
    stays = union_all(
        select(*columns).where(team, col(StageSpell.left_at).is_(None), entered),
        select(*columns).where(team, col(StageSpell.left_at) >= moment, entered),
    ).subquery("open_stay")
    owner = () if owner_id is None else (col(Deal.owner_id) == owner_id,)
    rows = session.execute(
        select(stays.c.deal_id, stays.c.stage_key, stays.c.entered_at, func.coalesce(col(Deal.value_cents), 0))
        .select_from(stays)
        .join(Deal, col(Deal.id) == stays.c.deal_id)
        .where(*owner)
    ).all()
    return [OpenStay(int(deal_id), str(key), entered_at, int(value)) for deal_id, key, entered_at, value in rows]


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
    session: Session,
    *,
    team_id: str,
    at: datetime,
    requested_before: datetime,
    limit: int,
    owner_id: str | None = None,
) -> tuple[list[PendingRow], int]:
    """Moves requested before `requested_before` and still undecided at `at`, oldest first; the total comes
    with the first page (a window count), so the moves are read once."""
    total = func.count().over().label("total")
    page = (
        select(
            col(Deal.number),
            col(Deal.name),
            col(MoveRequest.to_stage),
            col(MoveRequest.requested_by),
            col(MoveRequest.requested_at),
            col(Deal.channel_id),
            col(MoveRequest.message_ts),
            col(Deal.thread_ts),
            total,
        )
        .join(Deal, col(Deal.id) == col(MoveRequest.deal_id))
        .where(
            col(MoveRequest.team_id) == team_id,
            col(MoveRequest.requested_at) < requested_before,
            or_(col(MoveRequest.decided_at).is_(None), col(MoveRequest.decided_at) >= at),
            *(() if owner_id is None else (col(Deal.owner_id) == owner_id,)),
        )
        .order_by(col(MoveRequest.requested_at))
        .limit(limit)
    )
    if limit < 1:
        return [], int(session.execute(select(func.count()).select_from(page.limit(None).subquery())).scalar_one())
    rows = session.execute(page).all()
    return [PendingRow(*row[:-1]) for row in rows], int(rows[0][-1]) if rows else 0


def team_ids(session: Session) -> Sequence[str]:
    return session.execute(select(col(Deal.team_id)).distinct()).scalars().all()
