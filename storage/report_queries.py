"""Aggregates over the event history for digests. Every number is computed in SQL, so a digest over
a million events needs no more memory than one over ten: rows come back per stage, or as a short
first page of a list plus its total count.

Stages are given as `stage_order`, a mapping of stage key to its position in the pipeline; it
becomes a CASE expression, so the database can compare positions ("entered a stage at or after
Contract signed") without a stage table.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, cast, exists, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select
from sqlmodel import Session, col
from sqlmodel.sql.sqltypes import UTCDateTime

from storage.models import Deal, DealEvent, MoveRequest

STAGE_CHANGES = ("created", "approved", "moved_back")
UNKNOWN_STAGE = -1


def _position(column: Any, stage_order: Mapping[str, int]) -> ColumnElement[int]:
    if not stage_order:
        return literal(UNKNOWN_STAGE)
    return case(dict(stage_order), value=column, else_=UNKNOWN_STAGE)


def _moment(value: datetime) -> ColumnElement[datetime]:
    return literal(value, UTCDateTime())


def _seconds_between(session: Session, start: Any, end: Any) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return cast(func.extract("epoch", end - start), Float)


@dataclass(frozen=True)
class StageCount:
    stage_key: str
    deals: int
    value_cents: int
    oldest_entered_at: datetime | None = None


def _current_stage(team_id: str, at: datetime) -> Any:
    """Each deal's latest stage change before `at`, numbered 1 per deal (a subquery)."""
    return (
        select(
            col(DealEvent.deal_id),
            col(DealEvent.to_stage),
            col(DealEvent.at).label("entered_at"),
            func.row_number()
            .over(partition_by=col(DealEvent.deal_id), order_by=(col(DealEvent.at).desc(), col(DealEvent.id).desc()))
            .label("latest"),
        )
        .where(col(DealEvent.team_id) == team_id, col(DealEvent.kind).in_(STAGE_CHANGES), col(DealEvent.at) < at)
        .subquery()
    )


def _lost_before(team_id: str, at: datetime) -> Any:
    return select(col(DealEvent.deal_id)).where(
        col(DealEvent.team_id) == team_id, col(DealEvent.kind) == "lost", col(DealEvent.at) < at
    )


def _open_at(team_id: str, at: datetime) -> tuple[Any, ColumnElement[bool]]:
    current = _current_stage(team_id, at)
    condition = and_(current.c.latest == 1, current.c.deal_id.not_in(_lost_before(team_id, at)))
    return current, condition


def open_deals_by_stage(session: Session, *, team_id: str, at: datetime) -> list[StageCount]:
    current, is_open = _open_at(team_id, at)
    rows = session.execute(
        select(current.c.to_stage, func.count(), func.coalesce(func.sum(col(Deal.value_cents)), 0))
        .join(Deal, col(Deal.id) == current.c.deal_id)
        .where(is_open)
        .group_by(current.c.to_stage)
    ).all()
    return [StageCount(key, int(count), int(value)) for key, count, value in rows]


@dataclass(frozen=True)
class StalledRow:
    deal_number: int
    deal_name: str
    owner_id: str
    stage_key: str
    entered_at: datetime
    value_cents: int | None


def stalled_deals(
    session: Session, *, team_id: str, at: datetime, stalled_before: Mapping[str, datetime], limit: int
) -> tuple[list[StalledRow], int]:
    """Open deals that entered their stage before that stage's cutoff, oldest first."""
    if not stalled_before:
        return [], 0
    current, is_open = _open_at(team_id, at)
    stalled = or_(
        *(
            and_(current.c.to_stage == key, current.c.entered_at < _moment(cutoff))
            for key, cutoff in stalled_before.items()
        )
    )
    base = (
        select(
            col(Deal.number),
            col(Deal.name),
            col(Deal.owner_id),
            current.c.to_stage,
            current.c.entered_at,
            col(Deal.value_cents),
        )
        .join(Deal, col(Deal.id) == current.c.deal_id)
        .where(is_open, stalled)
    )
    rows = session.execute(base.order_by(current.c.entered_at, col(Deal.number)).limit(limit)).all()
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    return [StalledRow(*row) for row in rows], int(total)


def _entries(team_id: str, stage_order: Mapping[str, int], start: datetime, end: datetime) -> Any:
    """Stage entries in [start, end): a row per stage change, entering positions (low, high].

    An approved move enters every stage it crosses (a skip enters the skipped stages too);
    a new deal enters its first stage; a move back re-enters only its target.
    """
    high = _position(col(DealEvent.to_stage), stage_order)
    low = case(
        (col(DealEvent.kind) == "approved", _position(col(DealEvent.from_stage), stage_order)),
        else_=high - 1,
    )
    changes = (
        select(
            col(DealEvent.deal_id),
            col(DealEvent.at),
            col(DealEvent.kind),
            low.label("low"),
            high.label("high"),
            func.lead(col(DealEvent.at))
            .over(partition_by=col(DealEvent.deal_id), order_by=(col(DealEvent.at), col(DealEvent.id)))
            .label("left_at"),
        )
        .where(
            col(DealEvent.team_id) == team_id,
            col(DealEvent.kind).in_((*STAGE_CHANGES, "lost")),
            col(DealEvent.at) >= start,  # lead() looks only forward, so earlier events are never needed
            col(DealEvent.at) < end,
        )
        .subquery()
    )
    return select(changes).where(changes.c.kind != "lost", changes.c.high > changes.c.low).subquery()


def _advanced_to(
    team_id: str, stage_order: Mapping[str, int], entries: Any, end: datetime, *, at_least: int
) -> ColumnElement[bool]:
    """The entry's deal had a move approved into position `at_least` or beyond, at or after the entry."""
    later = aliased(DealEvent)
    return exists(
        select(literal(1)).where(
            col(later.team_id) == team_id,
            col(later.deal_id) == entries.c.deal_id,
            col(later.kind) == "approved",
            col(later.at) >= entries.c.at,
            col(later.at) < _moment(end),
            _position(col(later.to_stage), stage_order) >= at_least,
        )
    )


@dataclass(frozen=True)
class ConversionRow:
    entered: int
    reached_next: int
    reached_won: int
    median_days: float | None


def stage_conversion(
    session: Session,
    *,
    team_id: str,
    stage_order: Mapping[str, int],
    won_position: int,
    start: datetime,
    end: datetime,
) -> list[ConversionRow]:
    """For each stage position: deals that entered it in [start, end), and whether a move approved at or
    after that entry (and before `end`) took them past it, or to the won stage or beyond."""
    entries = _entries(team_id, stage_order, start, end)
    results = []
    for position in range(len(stage_order)):
        entered_here = and_(entries.c.low < position, entries.c.high >= position)
        went_on = _advanced_to(team_id, stage_order, entries, end, at_least=position + 1)
        was_won = or_(
            entries.c.high >= won_position, _advanced_to(team_id, stage_order, entries, end, at_least=won_position)
        )
        entered, reached_next, reached_won = session.execute(
            select(
                func.count(func.distinct(entries.c.deal_id)),
                func.count(func.distinct(case((went_on, entries.c.deal_id)))),
                func.count(func.distinct(case((was_won, entries.c.deal_id)))),
            ).where(entered_here)
        ).one()
        results.append(
            ConversionRow(
                int(entered),
                int(reached_next),
                int(reached_won),
                _median_days(session, entries, position, end) if entered else None,
            )
        )
    return results


def _median_days(session: Session, entries: Any, position: int, end: datetime) -> float | None:
    """Median time in the stage per entry: 0 when a skip passed through it, else until the deal's next change."""
    until = func.coalesce(entries.c.left_at, _moment(end))
    days = case(
        (entries.c.high > position, literal(0.0)),
        else_=_seconds_between(session, entries.c.at, until) / 86400.0,
    ).label("days")
    in_stage = and_(entries.c.low < position, entries.c.high >= position)
    count = session.execute(select(func.count()).select_from(entries).where(in_stage)).scalar_one()
    if not count:
        return None
    middle: Select[Any] = select(days).where(in_stage).order_by(days).offset((count - 1) // 2).limit(2 - count % 2)
    values = [float(value) for value in session.execute(middle).scalars()]
    return sum(values) / len(values)


def deals_entering_before_won(
    session: Session, *, team_id: str, stage_order: Mapping[str, int], won_position: int, start: datetime, end: datetime
) -> int:
    """Distinct deals that entered any stage before the won stage in [start, end): what a forecast rests on."""
    entries = _entries(team_id, stage_order, start, end)
    return int(
        session.execute(
            select(func.count(func.distinct(entries.c.deal_id))).where(entries.c.low < won_position - 1)
        ).scalar_one()
    )


def won_in_period(
    session: Session, *, team_id: str, stage_order: Mapping[str, int], won_position: int, start: datetime, end: datetime
) -> tuple[int, int]:
    entries = _entries(team_id, stage_order, start, end)
    entered_won = (
        select(entries.c.deal_id)
        .where(entries.c.kind != "moved_back", entries.c.low < won_position, entries.c.high >= won_position)
        .distinct()
        .subquery()
    )
    count, value = session.execute(
        select(func.count(), func.coalesce(func.sum(col(Deal.value_cents)), 0))
        .select_from(entered_won)
        .join(Deal, col(Deal.id) == entered_won.c.deal_id)
    ).one()
    return int(count), int(value)


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
