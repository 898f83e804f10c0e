"""Importing deal histories from a CRM: every imported change becomes an ordinary event, marked as imported.

An import is one transaction: it stores every new deal of the file with its events and stage
spells, or nothing. Deals whose CRM id the workspace already has are skipped, so importing the
same file again changes nothing. Nothing is posted to Slack: an imported deal's card is first
owed when someone moves it (see `commands.deals.moves`).
"""

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from commands.crm.exports import ImportedDeal
from commands.errors import CommandError
from commands.formats import format_deal_id, plural
from commands.pipeline.stages import Pipeline
from commands.services import Services
from storage import import_queries, queries, spells, workspace_queries
from storage.db import read_only
from storage.models import DealStatus, EventKind

IMPORT_ACTOR = "import"
"""The actor of every imported event: the audit trail says the import did it, not a person."""
BATCH_DEALS = 5_000
PROGRESS_EVERY = 2 * BATCH_DEALS  # a whole number of batches, so a progress line falls on a batch's end

Progress = Callable[[int, int], None]
"""Called with (deals written so far, deals to write) every PROGRESS_EVERY deals."""


@dataclass(frozen=True)
class ImportSummary:
    team_id: str
    source: str
    dry_run: bool
    imported: int
    already_imported: int
    events: int
    lost: int
    open_by_stage: tuple[tuple[str, int], ...]
    """Open imported deals per current stage, in pipeline order (stages with none left out)."""
    first_number: int | None = None
    last_number: int | None = None

    def text(self, pipeline: Pipeline) -> str:
        would = "would be " if self.dry_run else ""
        lines = [
            f"{self.source} into {self.team_id}: {plural(self.imported, 'deal')} "
            f"{would}imported, {self.already_imported} skipped as already imported."
        ]
        if self.first_number is not None and self.last_number is not None:
            lines.append(f"Numbered {format_deal_id(self.first_number)} to {format_deal_id(self.last_number)}.")
        lines.append(f"Events {would}written: {self.events}. Lost: {self.lost}.")
        if self.open_by_stage:
            stages = ", ".join(f"{pipeline.stage(key).name} {count}" for key, count in self.open_by_stage)
            lines.append(f"Open by stage: {stages}.")
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        return "\n".join(lines)


@dataclass(frozen=True)
class _History:
    """A deal's imported events (without the deal id) and the state they leave it in."""

    events: list[dict[str, Any]]
    stage_key: str
    stage_entered_at: datetime


def import_deals(
    services: Services,
    *,
    team_id: str,
    deals: Sequence[ImportedDeal],
    source: str,
    dry_run: bool,
    progress: Progress | None = None,
) -> ImportSummary:
    """Store the deals not imported before, with their history, in one transaction (or, dry, only count them)."""
    pipeline = services.pipeline
    note = f"Imported from {source}"
    if dry_run:
        with services.sessions() as session:
            read_only(session)
            known = import_queries.imported_crm_ids(session, team_id=team_id)
        tally = _Tally(team_id, source, dry_run, already_imported=sum(deal.crm_id in known for deal in deals))
        for deal in deals:
            if deal.crm_id not in known:
                tally.add(deal, history_of(deal, pipeline, note=note))
        return tally.summary(pipeline)
    try:
        with services.sessions.begin() as session:
            known = import_queries.imported_crm_ids(session, team_id=team_id)
            fresh = [deal for deal in deals if deal.crm_id not in known]
            tally = _Tally(team_id, source, dry_run, already_imported=len(deals) - len(fresh))
            if not fresh:
                return tally.summary(pipeline)
            first = queries.reserve_deal_numbers(session, team_id=team_id, count=len(fresh))
            setting = workspace_queries.setting(session, team_id=team_id)  # read behind the numbers' lock
            currency = setting.currency if setting is not None else None
            for offset, batch in _batches(fresh, BATCH_DEALS):
                histories = [history_of(deal, pipeline, note=note) for deal in batch]
                _write_batch(session, team_id, batch, histories, first + offset, pipeline, currency)
                for deal, history in zip(batch, histories, strict=True):
                    tally.add(deal, history)
                written = offset + len(batch)
                if progress is not None and written % PROGRESS_EVERY == 0:
                    progress(written, len(fresh))
            return replace(tally.summary(pipeline), first_number=first, last_number=first + len(fresh) - 1)
    except IntegrityError:
        # Only a concurrent import of the same deals can collide with the CRM ids checked above.
        raise CommandError(
            f"Another import into {team_id} stored some of these deals at the same time, so nothing was imported. "
            "Run the import again: the deals already there are skipped."
        ) from None


def history_of(deal: ImportedDeal, pipeline: Pipeline, *, note: str) -> _History:
    """The events an imported deal's path makes: created at its first stage, a move for each later stage
    it entered (forward: approved, skipping what lies between; backward: moved back), then lost if it was."""
    first_key, _ = deal.entries[0]
    events: list[dict[str, Any]] = [_event(EventKind.CREATED, deal.created_at, None, first_key, note)]
    current, entered_at = first_key, deal.created_at
    for key, at in deal.entries[1:]:
        if key == current:
            continue
        forward = pipeline.index(key) > pipeline.index(current)
        kind, move_note = (EventKind.APPROVED, None) if forward else (EventKind.MOVED_BACK, "Imported: moved back")
        events.append(_event(kind, at, current, key, move_note))
        current, entered_at = key, at
    if deal.lost_at is not None:
        events.append(_event(EventKind.LOST, deal.lost_at, current, None, deal.lost_reason))
    return _History(events, current, entered_at)


def _write_batch(
    session: Session,
    team_id: str,
    deals: Sequence[ImportedDeal],
    histories: Sequence[_History],
    first_number: int,
    pipeline: Pipeline,
    currency: str | None,
) -> None:
    """`currency`: the workspace's, which a CRM file's values (they carry none) are counted in."""
    rows = [
        {
            "team_id": team_id,
            "number": first_number + position,
            "name": deal.name,
            "owner_id": deal.owner_id,
            "value_cents": deal.value_cents,
            "value_currency": currency if deal.value_cents is not None else None,
            "company": deal.company,
            "stage_key": history.stage_key,
            "status": DealStatus.LOST if deal.lost_at is not None else DealStatus.OPEN,
            "lost_reason": deal.lost_reason,
            "channel_id": deal.channel_id,
            "thread_ts": None,
            "created_at": deal.created_at,
            "stage_entered_at": history.stage_entered_at,
            "crm_id": deal.crm_id,
        }
        for position, (deal, history) in enumerate(zip(deals, histories, strict=True))
    ]
    deal_ids = import_queries.insert_deals(session, team_id=team_id, rows=rows)
    import_queries.insert_events(
        session,
        rows=[
            {"team_id": team_id, "deal_id": deal_id, **event}
            for deal_id, history in zip(deal_ids, histories, strict=True)
            for event in history.events
        ],
    )
    derived = [
        (deal_id, spells.derive(_changes(history), pipeline.keys))
        for deal_id, history in zip(deal_ids, histories, strict=True)
    ]
    spells.insert_spells(session, team_id=team_id, spells_by_deal=derived)


def _changes(history: _History) -> Iterator[spells.Change]:
    for event in history.events:
        yield spells.Change(event["kind"], event["at"], event["from_stage"], event["to_stage"])


def _event(
    kind: EventKind, at: datetime, from_stage: str | None, to_stage: str | None, note: str | None
) -> dict[str, Any]:
    return {
        "kind": kind,
        "actor_id": IMPORT_ACTOR,
        "at": at,
        "from_stage": from_stage,
        "to_stage": to_stage,
        "evidence": [],
        "note": note,
        "move_id": None,
    }


def _batches(deals: Sequence[ImportedDeal], size: int) -> Iterator[tuple[int, Sequence[ImportedDeal]]]:
    for offset in range(0, len(deals), size):
        yield offset, deals[offset : offset + size]


class _Tally:
    """What the summary counts, added up deal by deal (so the histories need not be kept)."""

    def __init__(self, team_id: str, source: str, dry_run: bool, *, already_imported: int) -> None:
        self.team_id, self.source, self.dry_run, self.already_imported = team_id, source, dry_run, already_imported
        self.imported = self.events = self.lost = 0
        self.open_stages: Counter[str] = Counter()

    def add(self, deal: ImportedDeal, history: _History) -> None:
        self.imported += 1
        self.events += len(history.events)
        if deal.lost_at is not None:
            self.lost += 1
        else:
            self.open_stages[history.stage_key] += 1

    def summary(self, pipeline: Pipeline) -> ImportSummary:
        return ImportSummary(
            team_id=self.team_id,
            source=self.source,
            dry_run=self.dry_run,
            imported=self.imported,
            already_imported=self.already_imported,
            events=self.events,
            lost=self.lost,
            open_by_stage=tuple((key, self.open_stages[key]) for key in pipeline.keys if self.open_stages[key]),
        )
