"""Plain values the use cases return; `bot/blocks.py` renders them, the CLI prints them."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from commands.deals.evidence import Evidence
from commands.i18n.translator import Translator
from commands.pipeline.stages import Pipeline, Stage
from storage.models import Deal, DealEvent, DealSnooze, DealStatus, MoveRequest


def stage_or_placeholder(pipeline: Pipeline, key: str) -> Stage:
    """The stage for a stored key, or a stand-in if the team's pipeline file no longer has it."""
    stage = pipeline.find(key)
    if stage is not None:
        return stage
    return Stage(
        key=key,
        name=f"{key} (no longer in the pipeline)",
        exit_criteria=("(unknown: this stage was removed from the pipeline file)",),
        evidence_prompt="Show me the evidence.",
    )


def evidence_from_json(items: list[dict[str, Any]]) -> tuple[Evidence, ...]:
    return tuple(Evidence(url=item["url"], label=item.get("label")) for item in items)


def evidence_to_json(evidence: tuple[Evidence, ...]) -> list[dict[str, Any]]:
    return [{"url": item.url, "label": item.label} for item in evidence]


@dataclass(frozen=True)
class Money:
    """`Localized`: an amount as the reader's locale writes it (a message parameter: `value=Money(cents, "EUR")`)."""

    cents: int
    currency: str | None

    def in_language(self, t: Translator) -> str:
        return t.money(self.cents, self.currency)


@dataclass(frozen=True)
class DealSummary:
    number: int
    name: str
    owner_id: str
    value_cents: int | None
    value_currency: str | None
    """The ISO 4217 code of the value (`t.money(value_cents, value_currency)`); None for a value typed before the
    workspace had a currency, and for no value."""
    company: str | None
    stage: Stage
    status: str
    lost_reason: str | None
    channel_id: str
    thread_ts: str | None
    created_at: datetime
    stage_entered_at: datetime

    @property
    def is_lost(self) -> bool:
        return self.status == DealStatus.LOST

    @classmethod
    def of(cls, deal: Deal, pipeline: Pipeline) -> "DealSummary":
        return cls(
            number=deal.number,
            name=deal.name,
            owner_id=deal.owner_id,
            value_cents=deal.value_cents,
            value_currency=deal.value_currency,
            company=deal.company,
            stage=stage_or_placeholder(pipeline, deal.stage_key),
            status=deal.status,
            lost_reason=deal.lost_reason,
            channel_id=deal.channel_id,
            thread_ts=deal.thread_ts,
            created_at=deal.created_at,
            stage_entered_at=deal.stage_entered_at,
        )


@dataclass(frozen=True)
class StageEvidence:
    """The evidence links offered for one stage a move enters."""

    stage: Stage
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class MoveSummary:
    id: int
    deal_number: int
    requested_by: str
    requested_at: datetime
    from_stage: Stage
    to_stage: Stage
    evidence_by_stage: tuple[StageEvidence, ...]
    note: str | None
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    message_ts: str | None
    approvals_needed: int = 1
    approved_by: tuple[str, ...] = ()
    """The managers who approved it so far, first first."""

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        return tuple(item for entry in self.evidence_by_stage for item in entry.evidence)

    @property
    def approvals_missing(self) -> int:
        return max(self.approvals_needed - len(self.approved_by), 0)

    @property
    def approved_by_policy(self) -> bool:
        """Approved at once because the stage it entered needs no manager's approval."""
        return self.approvals_needed == 0

    @classmethod
    def of(
        cls, move: MoveRequest, deal_number: int, pipeline: Pipeline, *, approved_by: tuple[str, ...] = ()
    ) -> "MoveSummary":
        assert move.id is not None
        entered = entered_stages(pipeline, move.from_stage, move.to_stage)
        return cls(
            id=move.id,
            deal_number=deal_number,
            requested_by=move.requested_by,
            requested_at=move.requested_at,
            from_stage=stage_or_placeholder(pipeline, move.from_stage),
            to_stage=stage_or_placeholder(pipeline, move.to_stage),
            evidence_by_stage=assign_evidence(entered, evidence_from_json(move.evidence)),
            note=move.note,
            status=move.status,
            decided_by=move.decided_by,
            decided_at=move.decided_at,
            decision_reason=move.decision_reason,
            message_ts=move.message_ts,
            approvals_needed=move.approvals_needed,
            approved_by=approved_by,
        )


def entered_stages(pipeline: Pipeline, from_key: str, to_key: str) -> tuple[Stage, ...]:
    """The stages a forward move enters: any it skips, then its target."""
    if pipeline.find(from_key) is None or pipeline.find(to_key) is None:
        return (stage_or_placeholder(pipeline, to_key),)
    return pipeline.between(from_key, to_key)


def assign_evidence(stages: tuple[Stage, ...], evidence: tuple[Evidence, ...]) -> tuple[StageEvidence, ...]:
    """Pair links with stages in order: one per stage, any extra links go to the target stage."""
    if not stages:
        return ()
    leading = tuple(StageEvidence(stage, evidence[i : i + 1]) for i, stage in enumerate(stages[:-1]))
    return (*leading, StageEvidence(stages[-1], evidence[len(stages) - 1 :]))


@dataclass(frozen=True)
class HistoryEntry:
    kind: str
    actor_id: str
    at: datetime
    from_stage: Stage | None
    to_stage: Stage | None
    evidence: tuple[Evidence, ...]
    note: str | None
    by_pipeline: bool = False
    """An approval the pipeline gave (the stage needs none): the actor is who asked for the move."""

    @classmethod
    def of(cls, event: DealEvent, pipeline: Pipeline, *, by_pipeline: bool = False) -> "HistoryEntry":
        return cls(
            kind=event.kind,
            actor_id=event.actor_id,
            at=event.at,
            from_stage=stage_or_placeholder(pipeline, event.from_stage) if event.from_stage else None,
            to_stage=stage_or_placeholder(pipeline, event.to_stage) if event.to_stage else None,
            evidence=evidence_from_json(event.evidence),
            note=event.note,
            by_pipeline=by_pipeline,
        )


@dataclass(frozen=True)
class DealDetail:
    deal: DealSummary
    pending: MoveSummary | None
    history: tuple[HistoryEntry, ...]
    time_in_stage: timedelta
    snooze: "Snooze | None" = None  # the deal's running snooze, if any


@dataclass(frozen=True)
class Snooze:
    until: datetime
    reason: str
    snoozed_by: str
    snoozed_at: datetime

    @classmethod
    def of(cls, row: DealSnooze) -> "Snooze":
        return cls(row.until, row.reason, row.snoozed_by, row.snoozed_at)


@dataclass(frozen=True)
class DealList:
    scope: str
    stage: Stage | None
    deals: tuple[DealSummary, ...]
    total: int


@dataclass(frozen=True)
class MoveRequested:
    """A forward move stored as pending; managers to prompt are listed for the thread post."""

    deal: DealSummary
    move: MoveSummary
    managers_to_ask: tuple[str, ...]


@dataclass(frozen=True)
class MovedBack:
    deal: DealSummary
    from_stage: Stage
    moved_by: str
    note: str


@dataclass(frozen=True)
class Decision:
    deal: DealSummary
    move: MoveSummary


@dataclass(frozen=True)
class ApprovalGiven:
    """A manager's approval of a move that still waits for another manager's; `move` is as it stands now."""

    deal: DealSummary
    move: MoveSummary
    approver_id: str
    managers_to_ask: tuple[str, ...]


@dataclass(frozen=True)
class EvidenceAsked:
    """`prompt` is what the manager asked for, as they wrote it; None for an ask stored before it was kept (the
    stage's evidence prompt stands in)."""

    deal: DealSummary
    move: MoveSummary
    asked_by: str
    prompt: str | None = None


@dataclass(frozen=True)
class MarkedLost:
    deal: DealSummary
    marked_by: str
    cancelled_move: MoveSummary | None


@dataclass(frozen=True)
class ManagerList:
    from_settings: tuple[str, ...]
    added: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.from_settings) | set(self.added)))


@dataclass(frozen=True)
class ManagerChanged:
    user_id: str
    action: str
    changed: bool
    managers: ManagerList
