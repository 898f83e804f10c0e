"""Stage history as facts: each deal's stays in each stage ("spells"), derived from its events.

A spell opens when a deal enters a stage and ends when it leaves it:
- `created` opens a spell at the deal's first stage;
- an `approved` move ends the open spell as moved on, gives every stage it jumps over a spell that
  is entered and left at the same instant (ended: skipped), and opens a spell at its target;
- `moved_back` ends the open spell as moved back and opens one at its target;
- `lost` ends the open spell as lost.

`derive` is the one definition. The use cases apply it one event at a time (`follow`, in the
event's own transaction), the migration and `rebuild` apply it to whole histories, so the table
and the event log cannot tell two stories. Stages are known by their keys in pipeline order: a
jump between two keys of which one is no longer in the pipeline skips nothing.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import delete, insert, select
from sqlmodel import Session, col

from storage.models import Deal, DealEvent, EventKind, SpellEnd, StageSpell

STAGE_CHANGES = (EventKind.CREATED, EventKind.APPROVED, EventKind.MOVED_BACK, EventKind.LOST)
REBUILD_BATCH_DEALS = 2_000


@dataclass(frozen=True)
class Change:
    """The part of a deal event that moves it between stages."""

    kind: str
    at: datetime
    from_stage: str | None
    to_stage: str | None


@dataclass(frozen=True)
class Spell:
    stage_key: str
    entered_at: datetime
    entered_via: str
    left_at: datetime | None = None
    ended: SpellEnd = SpellEnd.OPEN


_ENDINGS: dict[str, SpellEnd] = {
    EventKind.APPROVED: SpellEnd.MOVED_ON,
    EventKind.MOVED_BACK: SpellEnd.MOVED_BACK,
    EventKind.LOST: SpellEnd.LOST,
}


def step(open_spell: Spell | None, change: Change, stage_keys: Sequence[str]) -> tuple[Spell | None, list[Spell]]:
    """Apply one change: the open spell as it ends (None if nothing was open or it stays open), and the
    spells the change adds (the last of them open, unless the deal was lost)."""
    if change.kind not in STAGE_CHANGES or (change.kind != EventKind.LOST and not change.to_stage):
        return None, []
    ending = _ENDINGS.get(change.kind)
    closed = None
    if open_spell is not None and ending is not None:
        closed = replace(open_spell, left_at=change.at, ended=ending)
    if change.kind == EventKind.LOST:
        return closed, []
    assert change.to_stage is not None
    added = [
        Spell(key, change.at, change.kind, change.at, SpellEnd.SKIPPED)
        for key in _jumped_over(change.from_stage, change.to_stage, stage_keys)
        if change.kind == EventKind.APPROVED
    ]
    added.append(Spell(change.to_stage, change.at, change.kind))
    return closed, added


def derive(changes: Iterable[Change], stage_keys: Sequence[str]) -> list[Spell]:
    """One deal's spells from its stage changes, given in the order they happened."""
    spells: list[Spell] = []
    for change in changes:
        current = spells[-1] if spells and spells[-1].ended == SpellEnd.OPEN else None
        closed, added = step(current, change, stage_keys)
        if closed is not None:
            spells[-1] = closed
        spells.extend(added)
    return spells


def _jumped_over(from_stage: str | None, to_stage: str, stage_keys: Sequence[str]) -> Sequence[str]:
    if from_stage not in stage_keys or to_stage not in stage_keys:
        return ()
    return stage_keys[stage_keys.index(from_stage) + 1 : stage_keys.index(to_stage)]


def follow(session: Session, *, event: DealEvent, stage_keys: Sequence[str]) -> None:
    """Bring the deal's spells up to date with one new event, in the caller's transaction."""
    if event.kind not in STAGE_CHANGES:
        return
    row = session.execute(
        select(StageSpell).where(col(StageSpell.deal_id) == event.deal_id, col(StageSpell.ended) == SpellEnd.OPEN)
    ).scalar_one_or_none()
    current = _spell_of(row) if row is not None else None
    closed, added = step(current, _change_of(event), stage_keys)
    if closed is not None and row is not None:
        row.left_at, row.ended = closed.left_at, closed.ended
        session.add(row)
        session.flush()
    session.add_all(StageSpell(team_id=event.team_id, deal_id=event.deal_id, **_columns(spell)) for spell in added)
    session.flush()


def insert_spells(session: Session, *, team_id: str, spells_by_deal: Iterable[tuple[int, Sequence[Spell]]]) -> int:
    """Bulk-insert derived spells (import, rebuild); returns how many rows were written."""
    rows = [
        {"team_id": team_id, "deal_id": deal_id, **_columns(spell)}
        for deal_id, spells in spells_by_deal
        for spell in spells
    ]
    if rows:
        # Core's executemany through the table: the ORM's bulk insert would start a new statement whenever
        # the next row's empty columns differ (open spells have no left_at).
        session.execute(insert(StageSpell.__table__), rows)  # type: ignore[attr-defined,arg-type]
    return len(rows)


@dataclass(frozen=True)
class Difference:
    team_id: str
    deal_id: int
    stored: tuple[Spell, ...]
    derived: tuple[Spell, ...]


def compare(
    session: Session, *, stage_keys: Sequence[str], team_id: str | None = None, fix: bool = False
) -> Iterator[Difference]:
    """Derive every deal's spells from its events and yield each deal whose stored spells differ.

    With `fix`, the deal's stored spells are replaced by the derived ones (in the caller's
    transaction). Deals are read in batches, so memory stays flat however long the history is.
    """
    last_deal_id = 0
    while True:
        deals = _deal_batch(session, team_id=team_id, after=last_deal_id)
        if not deals:
            return
        last_deal_id = deals[-1][0]
        derived = _derived_for(session, [deal_id for deal_id, _ in deals], stage_keys)
        stored = _stored_for(session, [deal_id for deal_id, _ in deals])
        for deal_id, deal_team in deals:
            want, have = tuple(derived.get(deal_id, ())), tuple(stored.get(deal_id, ()))
            if want == have:
                continue
            yield Difference(deal_team, deal_id, have, want)
            if fix:
                session.execute(delete(StageSpell).where(col(StageSpell.deal_id) == deal_id))
                insert_spells(session, team_id=deal_team, spells_by_deal=[(deal_id, want)])


def _deal_batch(session: Session, *, team_id: str | None, after: int) -> list[tuple[int, str]]:
    statement = select(col(Deal.id), col(Deal.team_id)).where(col(Deal.id) > after)
    if team_id is not None:
        statement = statement.where(col(Deal.team_id) == team_id)
    rows = session.execute(statement.order_by(col(Deal.id)).limit(REBUILD_BATCH_DEALS)).all()
    return [(int(deal_id), str(team)) for deal_id, team in rows]


def _derived_for(session: Session, deal_ids: list[int], stage_keys: Sequence[str]) -> dict[int, list[Spell]]:
    events = session.execute(
        select(
            col(DealEvent.deal_id),
            col(DealEvent.kind),
            col(DealEvent.at),
            col(DealEvent.from_stage),
            col(DealEvent.to_stage),
        )
        .where(col(DealEvent.deal_id).in_(deal_ids), col(DealEvent.kind).in_(STAGE_CHANGES))
        .order_by(col(DealEvent.deal_id), col(DealEvent.at), col(DealEvent.id))
    ).all()
    return {
        deal_id: derive((Change(*row[1:]) for row in rows), stage_keys)
        for deal_id, rows in groupby(events, key=lambda row: int(row[0]))
    }


def _stored_for(session: Session, deal_ids: list[int]) -> dict[int, list[Spell]]:
    rows = session.execute(
        select(StageSpell)
        .where(col(StageSpell.deal_id).in_(deal_ids))
        .order_by(col(StageSpell.deal_id), col(StageSpell.entered_at), col(StageSpell.id))
    ).scalars()
    return {deal_id: [_spell_of(row) for row in spells] for deal_id, spells in groupby(rows, key=lambda r: r.deal_id)}


def _change_of(event: DealEvent) -> Change:
    return Change(event.kind, event.at, event.from_stage, event.to_stage)


def _spell_of(row: StageSpell) -> Spell:
    return Spell(row.stage_key, row.entered_at, row.entered_via, row.left_at, SpellEnd(row.ended))


def _columns(spell: Spell) -> dict[str, Any]:
    return {
        "stage_key": spell.stage_key,
        "entered_at": spell.entered_at,
        "entered_via": spell.entered_via,
        "left_at": spell.left_at,
        "ended": str(spell.ended),
    }
