"""Every stay in each stage while a window was open (period analysis): the data behind the rates.

A rate estimated only from the stays that began in a window knows nothing about stays longer than
the window. Watching every stay that was in the stage at some moment of the window, each from the
age it had when the window began, uses every exit the window saw (left truncation).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, cast, func, literal, select, union_all
from sqlmodel import Session, col

from storage.models import SpellEnd, StageSpell
from storage.spell_queries import _moment, _seconds_between

HOURLY_UNTIL_SECONDS = 30 * 86_400
"""Durations are kept to the hour for a month, then to the day: enough for any median or rate, and few rows."""


def _bucket_hours(session: Session, start: Any, end: Any) -> ColumnElement[int]:
    seconds = _seconds_between(session, start, end)
    hours, days = seconds / 3600.0, seconds / 86400.0
    if session.get_bind().dialect.name == "sqlite":
        whole_hours, whole_days = cast(hours, Integer), cast(days, Integer)
    else:
        whole_hours, whole_days = cast(func.floor(hours), Integer), cast(func.floor(days), Integer)
    return case((seconds < HOURLY_UNTIL_SECONDS, whole_hours), else_=whole_days * 24)


@dataclass(frozen=True)
class WatchRows:
    exits: list[tuple[str, int, str, int]]
    """(stage, hours stayed until it ended or until the window's end, outcome or `open`, count)."""
    entries: list[tuple[str, int, int]]
    """(stage, hours old when first seen: 0 for stays that began in the window, count)."""


def stays_watched(session: Session, *, team_id: str, start: datetime, end: datetime) -> WatchRows:
    """Spells in a stage at some moment of [start, end): those open when it began and those entered in it."""
    ended_by_end = and_(col(StageSpell.left_at).is_not(None), col(StageSpell.left_at) < _moment(end))
    outcome = case((ended_by_end, col(StageSpell.ended)), else_=literal(SpellEnd.OPEN.value))
    until = case((ended_by_end, col(StageSpell.left_at)), else_=_moment(end))
    age_at_start = _bucket_hours(session, col(StageSpell.entered_at), _moment(start))
    seen_from = case((col(StageSpell.entered_at) < _moment(start), age_at_start), else_=literal(0))
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
    exits = session.execute(
        select(watched.c.stage_key, watched.c.hours, watched.c.outcome, func.count()).group_by(
            watched.c.stage_key, watched.c.hours, watched.c.outcome
        )
    ).all()
    entries = session.execute(
        select(watched.c.stage_key, watched.c.seen_from, func.count()).group_by(
            watched.c.stage_key, watched.c.seen_from
        )
    ).all()
    return WatchRows(
        exits=[(str(key), int(hours), str(kind), int(count)) for key, hours, kind, count in exits],
        entries=[(str(key), int(hours), int(count)) for key, hours, count in entries],
    )
