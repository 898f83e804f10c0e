"""Use cases for deals: create, show, list, mark lost."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session

from commands.deals.evidence import Evidence
from commands.deals.history import record
from commands.deals.managers import is_manager
from commands.deals.results import (
    DealDetail,
    DealList,
    DealSummary,
    HistoryEntry,
    MarkedLost,
    MoveSummary,
    Snooze,
    evidence_to_json,
)
from commands.errors import CommandError
from commands.formats import format_deal_id
from commands.inbox.requests import Claim, claim_in
from commands.outbox.owed import owe_announcement, owe_card_of_imported
from commands.services import Actor, Services
from storage import queries, reminder_queries
from storage.db import read_only
from storage.models import AnnouncementKind, Deal, DealEvent, DealStatus, EventKind, MoveRequest, MoveStatus

LIST_LIMIT = 40


@dataclass(frozen=True)
class NewDeal:
    name: str
    value_cents: int | None
    company: str | None
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class ListDeals:
    scope: Literal["mine", "all"]
    stage_key: str | None


@dataclass(frozen=True)
class MarkLost:
    deal_number: int
    reason: str


def create_deal(
    services: Services, actor: Actor, *, channel_id: str, command: NewDeal, claim: Claim | None = None
) -> DealSummary:
    """Store a new deal at the first stage, owned by the caller, numbered deal-<n> in its workspace."""
    now = services.clock()
    first = services.pipeline.first()
    with services.sessions.begin() as session:
        claim_in(session, claim, now=now)
        deal = Deal(
            team_id=actor.team_id,
            number=queries.next_deal_number(session, team_id=actor.team_id),
            name=command.name,
            owner_id=actor.user_id,
            value_cents=command.value_cents,
            company=command.company,
            stage_key=first.key,
            channel_id=channel_id,
            created_at=now,
            stage_entered_at=now,
        )
        session.add(deal)
        session.flush()
        assert deal.id is not None
        record(
            session,
            deal,
            actor,
            services.pipeline,
            kind=EventKind.CREATED,
            at=now,
            to_stage=first.key,
            evidence=evidence_to_json(command.evidence),
        )
        owe_announcement(session, deal, kind=AnnouncementKind.CARD, subject_id=deal.id, at=now)
        return DealSummary.of(deal, services.pipeline)


def show_deal(services: Services, actor: Actor, *, number: int) -> DealDetail:
    with services.sessions() as session:
        read_only(session)
        deal = find_deal(session, actor, number)
        assert deal.id is not None
        pending = queries.pending_move(session, team_id=actor.team_id, deal_id=deal.id)
        events = queries.deal_events(session, team_id=actor.team_id, deal_id=deal.id)
        snooze = reminder_queries.snooze_of(session, team_id=actor.team_id, deal_id=deal.id)
        now = services.clock()
        return DealDetail(
            deal=DealSummary.of(deal, services.pipeline),
            pending=summarize_move(session, services, pending, deal) if pending else None,
            history=_history(session, services, deal, events),
            time_in_stage=now - deal.stage_entered_at,
            snooze=Snooze.of(snooze) if snooze is not None and snooze.until > now else None,
        )


def _history(session: Session, services: Services, deal: Deal, events: Sequence[DealEvent]) -> tuple[HistoryEntry, ...]:
    assert deal.id is not None
    by_pipeline = queries.moves_approved_by_policy(session, team_id=deal.team_id, deal_id=deal.id)
    return tuple(
        HistoryEntry.of(
            event, services.pipeline, by_pipeline=event.kind == EventKind.APPROVED and event.move_id in by_pipeline
        )
        for event in events
    )


def list_deals(services: Services, actor: Actor, command: ListDeals) -> DealList:
    stage = None
    if command.stage_key is not None:
        stage = services.pipeline.resolve(command.stage_key)
        if stage is None:
            raise CommandError(
                f"There is no stage '{command.stage_key}'. The stages are: {', '.join(services.pipeline.keys)}.",
                usage="`/deal list [mine|all] [stage:<key>]`, e.g. `/deal list all stage:product-evaluated`",
            )
    owner = actor.user_id if command.scope == "mine" else None
    stage_key = stage.key if stage else None
    with services.sessions() as session:
        deals = queries.list_deals(
            session, team_id=actor.team_id, owner_id=owner, stage_key=stage_key, limit=LIST_LIMIT
        )
        total = queries.count_deals(session, team_id=actor.team_id, owner_id=owner, stage_key=stage_key)
        return DealList(
            scope=command.scope,
            stage=stage,
            deals=tuple(DealSummary.of(deal, services.pipeline) for deal in deals),
            total=total,
        )


def mark_lost(services: Services, actor: Actor, command: MarkLost, *, claim: Claim | None = None) -> MarkedLost:
    """Close the deal as lost with its reason; a pending move on it is cancelled."""
    now = services.clock()
    with services.sessions.begin() as session:
        claim_in(session, claim, now=now)
        # The deal's row first, like every change to a deal (see commands.deals.moves), then its pending move.
        deal = find_deal(session, actor, command.deal_number, for_update=True)
        assert deal.id is not None
        require_owner_or_manager(session, services, actor, deal, doing="mark it lost")
        if deal.status == DealStatus.LOST:
            raise CommandError(f"{format_deal_id(deal.number)} is already lost ({deal.lost_reason}).")
        owe_card_of_imported(session, deal, at=now)
        cancelled = queries.pending_move(session, team_id=actor.team_id, deal_id=deal.id)
        if cancelled is not None:
            assert cancelled.id is not None
            queries.claim_decision(
                session,
                team_id=actor.team_id,
                move_id=cancelled.id,
                status=MoveStatus.CANCELLED,
                decided_by=actor.user_id,
                decided_at=now,
                reason="The deal was marked lost.",
            )
            session.refresh(cancelled)
        deal.status = DealStatus.LOST
        deal.lost_reason = command.reason
        session.add(deal)
        record(
            session,
            deal,
            actor,
            services.pipeline,
            kind=EventKind.LOST,
            at=now,
            from_stage=deal.stage_key,
            note=command.reason,
            move_id=cancelled.id if cancelled else None,
        )
        return MarkedLost(
            deal=DealSummary.of(deal, services.pipeline),
            marked_by=actor.user_id,
            cancelled_move=summarize_move(session, services, cancelled, deal) if cancelled else None,
        )


def summarize_move(session: Session, services: Services, move: MoveRequest, deal: Deal) -> MoveSummary:
    """The move as the use cases return it, with who has approved it so far."""
    assert move.id is not None
    approved_by = queries.approvers(session, team_id=move.team_id, move_ids=[move.id]).get(move.id, ())
    return MoveSummary.of(move, deal.number, services.pipeline, approved_by=approved_by)


def find_deal(session: Session, actor: Actor, number: int, *, for_update: bool = False) -> Deal:
    deal = queries.get_deal(session, team_id=actor.team_id, number=number, for_update=for_update)
    if deal is None:
        raise CommandError(
            f"There is no {format_deal_id(number)} in this workspace. `/deal list all` shows the open deals."
        )
    return deal


def require_owner_or_manager(session: Session, services: Services, actor: Actor, deal: Deal, *, doing: str) -> None:
    if actor.user_id == deal.owner_id:
        return
    if is_manager(session, services, team_id=actor.team_id, user_id=actor.user_id):
        return
    raise CommandError(f"Only the owner of {format_deal_id(deal.number)} or a sales manager can {doing}.")
