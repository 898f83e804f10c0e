"""Digest aggregates over stage spells: one statement per number family, each returning a short,
grouped result (per stage, per whole hour or day), so the digest's memory stays flat and its cost
grows with the activity in the window rather than with the length of the history.

Each statement reaches its rows through an index on `stage_spell` (see `storage.models.StageSpell`):
spells entered in a window through `(team_id, entered_at, ...)` or `(team_id, stage_key, entered_at, ...)`,
spells open at a moment through `(team_id, left_at, ...)`: the ones never left (`left_at IS NULL`) and
the few left after that moment, as two branches of a UNION ALL, so that no statement walks the whole
history of the workspace.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Subquery,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session, col
from sqlmodel.sql.sqltypes import UTCDateTime

from storage.models import Deal, DealSnooze, EventKind, SpellEnd, StageSpell
from storage.reminder_queries import snooze_running_at

ROWS_PER_FETCH = 2_000
"""Grouped rows fetched at a time from the longer results, so they are never all held twice."""


def _moment(value: datetime) -> ColumnElement[datetime]:
    return literal(value, UTCDateTime())


def _seconds_between(session: Session, start: Any, end: Any) -> ColumnElement[float]:
    """Seconds from `start` to `end`, as a float. On PostgreSQL `date_part` stays in floating point, where
    EXTRACT (since PostgreSQL 14) computes an exact numeric first: grouping a window's stays by the hour takes
    a third less time. The whole hours and days taken from it are the same (times are whole microseconds,
    far above the float's rounding)."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.date_part(literal_column("'epoch'"), end - start, type_=Float)


def _whole(session: Session, start: Any, end: Any, unit_seconds: float) -> ColumnElement[int]:
    """Whole units from `start` to `end` (never negative here), rounded down: SQLite's CAST truncates,
    PostgreSQL's would round, so it floors."""
    units = _seconds_between(session, start, end) / unit_seconds
    if session.get_bind().dialect.name == "sqlite":
        return cast(units, Integer)
    return cast(func.floor(units), Integer)


def owned_by(team_id: str, owner_id: str | None) -> tuple[ColumnElement[bool], ...]:
    """The condition that a spell's deal is owned by `owner_id` now (nothing when None: every owner)."""
    if owner_id is None:
        return ()
    owned = select(col(Deal.id)).where(col(Deal.team_id) == team_id, col(Deal.owner_id) == owner_id)
    return (col(StageSpell.deal_id).in_(owned),)


def _open_at(team_id: str, at: datetime, *extra: ColumnElement[bool]) -> Subquery:
    """The workspace's spells open at `at` (entered before it, and not left by then) that also meet `extra`:
    their deal, stage and entry. Two disjoint branches, each served by `ix_stage_spell_team_left`: the spells
    never left, and those left at or after `at` (none when `at` is now)."""
    columns = (col(StageSpell.deal_id), col(StageSpell.stage_key), col(StageSpell.entered_at))
    entered = col(StageSpell.entered_at) < _moment(at)
    return union_all(
        select(*columns).where(col(StageSpell.team_id) == team_id, col(StageSpell.left_at).is_(None), entered, *extra),
        select(*columns).where(
            col(StageSpell.team_id) == team_id, col(StageSpell.left_at) >= _moment(at), entered, *extra
        ),
    ).subquery("open_spell")


HOURLY_UNTIL_SECONDS = 30 * 86_400
"""Watched durations are kept to the hour for a month, then to the day: enough for any rate, and few rows."""


def _bucket_hours(session: Session, start: Any, end: Any) -> ColumnElement[int]:
    seconds = _seconds_between(session, start, end)
    whole_hours = _whole(session, start, end, 3600.0)
    whole_days = _whole(session, start, end, 86400.0)
    return case((seconds < HOURLY_UNTIL_SECONDS, whole_hours), else_=whole_days * 24)


@dataclass(frozen=True, slots=True)
class StayRow:
    stage_key: str
    hours: int
    outcome: str
    count: int


@dataclass(frozen=True, slots=True)
class OpenRow:
    stage_key: str
    age_days: int
    deals: int
    value_cents: int


def open_by_stage_and_age(
    session: Session, *, team_id: str, at: datetime, owner_id: str | None = None
) -> list[OpenRow]:
    """Deals open at `at` (their spell then open), per stage and whole days in it, with their value; only
    `owner_id`'s deals when given."""
    spell = _open_at(team_id, at, *owned_by(team_id, owner_id))
    age = _whole(session, spell.c.entered_at, _moment(at), 86400.0).label("age")
    rows = session.connection().execute(
        select(spell.c.stage_key, age, func.count(), func.coalesce(func.sum(col(Deal.value_cents)), 0))
        .select_from(spell)
        .join(Deal, col(Deal.id) == spell.c.deal_id)
        .group_by(spell.c.stage_key, age)
    )
    return [
        OpenRow(key, int(days), int(count), int(value))
        for part in rows.partitions(ROWS_PER_FETCH)
        for key, days, count, value in part
    ]


def close_times(
    session: Session, *, team_id: str, won_key: str, stage_keys: Sequence[str], start: datetime, end: datetime
) -> list[tuple[str, int, int]]:
    """For deals won in [start, end) (a spell at the won stage entered by an approved move): per earlier
    stage, whole days from the deal's latest entry into that stage (before the win) to the win, counted."""
    if not stage_keys:
        return []
    won = aliased(StageSpell)
    earlier = aliased(StageSpell)
    entries = (
        select(
            col(earlier.stage_key).label("stage_key"),
            col(won.entered_at).label("won_at"),
            func.max(col(earlier.entered_at)).label("entered_at"),
        )
        .join(earlier, col(earlier.deal_id) == col(won.deal_id))
        .where(
            col(won.team_id) == team_id,
            col(won.stage_key) == won_key,
            col(won.entered_via) == EventKind.APPROVED,
            col(won.entered_at) >= _moment(start),
            col(won.entered_at) < _moment(end),
            col(earlier.stage_key).in_(stage_keys),
            col(earlier.entered_at) <= col(won.entered_at),
        )
        .group_by(col(won.id), col(earlier.stage_key), col(won.entered_at))
        .subquery()
    )
    days = _whole(session, entries.c.entered_at, entries.c.won_at, 86400.0).label("days")
    rows = session.execute(select(entries.c.stage_key, days, func.count()).group_by(entries.c.stage_key, days)).all()
    return [(str(key), int(day), int(count)) for key, day, count in rows]


def won_in_period(
    session: Session, *, team_id: str, won_key: str, start: datetime, end: datetime, owner_id: str | None = None
) -> tuple[int, int]:
    """Deals that crossed into the won stage from an earlier one in [start, end) (a move back into it is
    not a new win), and their value."""
    count, value = session.execute(
        select(func.count(func.distinct(col(StageSpell.deal_id))), func.coalesce(func.sum(col(Deal.value_cents)), 0))
        .join(Deal, col(Deal.id) == col(StageSpell.deal_id))
        .where(
            col(StageSpell.team_id) == team_id,
            col(StageSpell.stage_key) == won_key,
            col(StageSpell.entered_via) == EventKind.APPROVED,
            col(StageSpell.entered_at) >= _moment(start),
            col(StageSpell.entered_at) < _moment(end),
            *owned_by(team_id, owner_id),
        )
    ).one()
    return int(count), int(value)


def deals_entering(session: Session, *, team_id: str, stage_keys: Sequence[str], start: datetime, end: datetime) -> int:
    """Distinct deals that entered any of `stage_keys` in [start, end)."""
    if not stage_keys:
        return 0
    return int(
        session.execute(
            select(func.count(func.distinct(col(StageSpell.deal_id)))).where(
                col(StageSpell.team_id) == team_id,
                col(StageSpell.stage_key).in_(stage_keys),
                col(StageSpell.entered_at) >= _moment(start),
                col(StageSpell.entered_at) < _moment(end),
            )
        ).scalar_one()
    )


@dataclass(frozen=True)
class StalledRow:
    deal_number: int
    deal_name: str
    owner_id: str
    stage_key: str
    entered_at: datetime
    value_cents: int | None


def stalled_deals(
    session: Session,
    *,
    team_id: str,
    at: datetime,
    stalled_before: Mapping[str, datetime],
    limit: int,
    owner_id: str | None = None,
) -> tuple[list[StalledRow], int]:
    """Deals open at `at` that entered their stage before that stage's cutoff, oldest first."""
    if not stalled_before:
        return [], 0
    spell = _open_at(team_id, at, _stalled(stalled_before), *owned_by(team_id, owner_id))
    rows = session.execute(
        select(
            col(Deal.number),
            col(Deal.name),
            col(Deal.owner_id),
            spell.c.stage_key,
            spell.c.entered_at,
            col(Deal.value_cents),
        )
        .select_from(spell)
        .join(Deal, col(Deal.id) == spell.c.deal_id)
        .order_by(spell.c.entered_at, col(Deal.number))
        .limit(limit)
    ).all()
    # Every spell has its deal (a foreign key), so the total needs no join.
    total = session.execute(select(func.count()).select_from(spell)).scalar_one()
    return [StalledRow(*row) for row in rows], int(total)


def _stalled(stalled_before: Mapping[str, datetime]) -> ColumnElement[bool]:
    return or_(
        *(
            and_(col(StageSpell.stage_key) == key, col(StageSpell.entered_at) < _moment(cutoff))
            for key, cutoff in stalled_before.items()
        )
    )


@dataclass(frozen=True, slots=True)
class OwnerStalledRow:
    """One owner's stalled deals: how many, how many of them snoozed, and the one longest in its stage."""

    owner_id: str
    deals: int
    snoozed: int
    oldest: StalledRow


def stalled_by_owner(
    session: Session,
    *,
    team_id: str,
    at: datetime,
    stalled_before: Mapping[str, datetime],
    limit: int,
    owner_id: str | None = None,
) -> tuple[list[OwnerStalledRow], int]:
    """The owners of deals open at `at` that entered their stage before that stage's cutoff: for each, how many
    such deals, how many of them have a snooze running at `at`, and the earliest entered (the lower deal number
    on a tie). Owners with the most first, then the one whose oldest deal entered first; the first `limit` of
    them, and how many owners there are. One statement ranks each owner's deals, so the rows fetched stay
    within `limit` at any team size."""
    if not stalled_before:
        return [], 0
    spell = _open_at(team_id, at, _stalled(stalled_before), *owned_by(team_id, owner_id))
    owner = col(Deal.owner_id)
    snoozed = case((snooze_running_at(at), 1), else_=0)
    ranked = (
        select(
            owner.label("owner_id"),
            func.count().over(partition_by=owner).label("deals"),
            func.sum(snoozed).over(partition_by=owner).label("snoozed"),
            func.row_number().over(partition_by=owner, order_by=(spell.c.entered_at, col(Deal.number))).label("rank"),
            col(Deal.number).label("number"),
            col(Deal.name).label("name"),
            spell.c.stage_key,
            spell.c.entered_at,
            col(Deal.value_cents).label("value_cents"),
        )
        .select_from(spell)
        .join(Deal, col(Deal.id) == spell.c.deal_id)
        .outerjoin(DealSnooze, col(DealSnooze.deal_id) == col(Deal.id))
        .subquery("ranked")
    )
    oldest = select(ranked).where(ranked.c.rank == 1)
    rows = session.execute(
        oldest.order_by(ranked.c.deals.desc(), ranked.c.entered_at, ranked.c.owner_id).limit(limit)
    ).all()
    total = session.execute(select(func.count()).select_from(oldest.subquery())).scalar_one()
    return [
        OwnerStalledRow(
            row.owner_id,
            int(row.deals),
            int(row.snoozed),
            StalledRow(row.number, row.name, row.owner_id, row.stage_key, row.entered_at, row.value_cents),
        )
        for row in rows
    ], int(total)


BEGAN_IN_WINDOW = -1
"""The age a stay that began in the window is first seen at, told apart from one 0 hours old when it began."""


@dataclass(frozen=True)
class WatchRows:
    """Every stay in a stage at some moment of a window (period analysis: what the rates read)."""

    exits: list[tuple[str, int, str, int]]
    """(stage, hours stayed until it ended or until the window's end, outcome or `open`, count)."""
    entries: list[tuple[str, int, int]]
    """(stage, hours old when first seen: 0 for stays that began in the window, count)."""
    began: list[StayRow]
    """Those of them that began in the window, per stage, hours stayed and outcome: the stays the counts read."""


def stays_watched(session: Session, *, team_id: str, start: datetime, end: datetime) -> WatchRows:
    """Spells in a stage at some moment of [start, end): those open when it began (watched from the age
    they had then) and those entered in it, as they stood at `end`. One grouped statement: three disjoint
    branches, each served by an index, summed per stage, duration, outcome and age when first seen (or
    `BEGAN_IN_WINDOW`, which also yields the stays that began in the window)."""
    ended_by_end = and_(col(StageSpell.left_at).is_not(None), col(StageSpell.left_at) < _moment(end))
    outcome = case((ended_by_end, col(StageSpell.ended)), else_=literal(SpellEnd.OPEN.value))
    until = case((ended_by_end, col(StageSpell.left_at)), else_=_moment(end))
    age_at_start = _bucket_hours(session, col(StageSpell.entered_at), _moment(start))
    seen_from = case((col(StageSpell.entered_at) < _moment(start), age_at_start), else_=literal(BEGAN_IN_WINDOW))
    columns: tuple[ColumnElement[Any], ...] = (
        col(StageSpell.stage_key).label("stage_key"),
        _bucket_hours(session, col(StageSpell.entered_at), until).label("hours"),
        outcome.label("outcome"),
        seen_from.label("seen_from"),
    )
    team = col(StageSpell.team_id) == team_id
    before = col(StageSpell.entered_at) < _moment(start)
    watched = union_all(
        select(*columns).where(
            team, col(StageSpell.entered_at) >= _moment(start), col(StageSpell.entered_at) < _moment(end)
        ),
        select(*columns).where(team, col(StageSpell.left_at).is_(None), before),
        select(*columns).where(team, col(StageSpell.left_at) >= _moment(start), before),
    ).subquery("watched")
    grouped = select(watched.c.stage_key, watched.c.hours, watched.c.outcome, watched.c.seen_from, func.count())
    grouped = grouped.group_by(watched.c.stage_key, watched.c.hours, watched.c.outcome, watched.c.seen_from)
    exits: Counter[tuple[str, int, str]] = Counter()
    entries: Counter[tuple[str, int]] = Counter()
    began: list[StayRow] = []
    for key, hours, kind, seen, count in session.execute(grouped):
        exits[(str(key), int(hours), str(kind))] += int(count)
        entries[(str(key), max(int(seen), 0))] += int(count)
        if int(seen) == BEGAN_IN_WINDOW:
            began.append(StayRow(str(key), int(hours), str(kind), int(count)))
    return WatchRows(
        exits=[(key, hours, kind, count) for (key, hours, kind), count in exits.items()],
        entries=[(key, seen, count) for (key, seen), count in entries.items()],
        began=began,
    )
