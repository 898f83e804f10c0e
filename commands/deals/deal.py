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
    Money,
    MoveSummary,
    Snooze,
    evidence_to_json,
)
from commands.errors import CommandError
from commands.formats import format_deal_id
from commands.i18n.translator import Text, tr, tr_n
from commands.inbox.requests import Claim, claim_in
from commands.outbox.owed import owe_announcement, owe_card_of_imported
from commands.services import Actor, Services
from storage import queries, reminder_queries, workspace_queries
from storage.db import read_only
from storage.models import AnnouncementKind, Deal, DealEvent, DealStatus, EventKind, MoveRequest, MoveStatus

LIST_LIMIT = 40


@dataclass(frozen=True)
class NewDeal:
    name: str
    value_cents: int | None
    company: str | None
    evidence: tuple[Evidence, ...]
    value_currency: str | None = None
    """The ISO 4217 code of the currency the value was typed in (`€10k`, `10k SEK`); None when none was typed."""


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
    """Store a new deal at the first stage, owned by the caller, numbered deal-<n> in its workspace, its value in
    the currency `value_currency` says (see there)."""
    now = services.clock()
    first = services.pipeline.first()
    with services.sessions.begin() as session:
        claim_in(session, claim, now=now)
        # The number first: it locks the workspace's deal sequence, so two new deals are checked one at a time.
        number = queries.next_deal_number(session, team_id=actor.team_id)
        deal = Deal(
            team_id=actor.team_id,
            number=number,
            name=command.name,
            owner_id=actor.user_id,
            value_cents=command.value_cents,
            value_currency=value_currency(
                session, team_id=actor.team_id, cents=command.value_cents, typed=command.value_currency
            ),
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


class CurrencyRefused(CommandError):
    """A value in another currency than the workspace keeps its deals in. `in_form` says it in a line that fits
    under a form's value field, where `value:` is not typed."""

    def __init__(self, message: Text, *, in_form: Text) -> None:
        super().__init__(message)
        self.in_form = in_form


def value_currency(session: Session, *, team_id: str, cents: int | None, typed: str | None) -> str | None:
    """The currency a value of `cents` typed in `typed` (an ISO 4217 code, None when none was typed) is stored
    in, or a refusal (nothing is changed). Call it in the transaction that stores the value, after
    `queries.next_deal_number` (which queues new deals of the workspace one behind the other).

    A pipeline's totals add one currency. A workspace with a currency keeps every value in it: an amount typed
    without one is in it, one typed in another currency is refused. A workspace without one stores the currency
    typed (None when none was), unless other deals already hold values in a different one.
    """
    if cents is None:
        return None
    typed = typed.upper() if typed else None
    setting = workspace_queries.setting(session, team_id=team_id)
    kept = setting.currency if setting is not None else None
    if kept is not None:
        if typed not in (None, kept):
            raise CurrencyRefused(
                tr(
                    "This workspace keeps deal values in {kept}; the value you typed, {value}, is in {typed}. "
                    "Type it in {kept}, like `value:{example}`.",
                    kept=kept,
                    typed=typed,
                    value=Money(cents, typed),
                    example=amount_example(cents, kept),
                ),
                in_form=tr(
                    "This workspace keeps deal values in {kept}. Type it in {kept}, like {example}.",
                    kept=kept,
                    example=amount_example(cents, kept),
                ),
            )
        return kept
    if typed is None:
        return None
    held = workspace_queries.value_currencies(session, team_id=team_id)
    others = {currency: count for currency, count in held.items() if currency not in (None, typed)}
    if others:
        other, count = max(others.items(), key=lambda item: (item[1], item[0] or ""))
        raise CurrencyRefused(
            # TRANSLATORS: {other} and {typed} are currency codes (USD, EUR); `/pipeline currency` is a command.
            tr_n(
                "{count} deal in this workspace already holds a value in {other}, and a pipeline's totals add one "
                "currency, so a value in {typed} can't be stored. Type it in {other}; a sales manager can make "
                "that the workspace's currency with `/pipeline currency {other}`.",
                "{count} deals in this workspace already hold values in {other}, and a pipeline's totals add one "
                "currency, so a value in {typed} can't be stored. Type it in {other}; a sales manager can make "
                "that the workspace's currency with `/pipeline currency {other}`.",
                count,
                other=other,
                typed=typed,
            ),
            in_form=tr(
                "Other deals hold values in {other}, and a pipeline adds one currency. Type it in {other}.",
                other=other,
            ),
        )
    return typed


SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
"""The currencies `value:` takes by their symbol; any other is the workspace's when typed as a bare number."""


def amount_example(cents: int, currency: str) -> str:
    """The amount as `value:` takes it in the workspace's currency: `€5k`, `€5000.50`, or `5k` (a bare number
    is in the workspace's currency)."""
    whole, fraction = divmod(cents, 100)
    if fraction:
        number = f"{whole}.{fraction:02d}"
    elif whole >= 1000 and whole % 1000 == 0:
        number = f"{whole // 1000}k"
    else:
        number = str(whole)
    return SYMBOLS.get(currency, "") + number


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
                tr(
                    "There is no stage '{key}'. The stages are: {keys}.",
                    key=command.stage_key,
                    keys=", ".join(services.pipeline.keys),
                ),
                usage=tr("`/deal list [mine|all] [stage:<key>]`, e.g. `/deal list all stage:product-evaluated`"),
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
        require_owner_or_manager(
            session,
            services,
            actor,
            deal,
            # TRANSLATORS: completes "Only the owner of deal-42 or a sales manager can …"; "it" is the deal.
            doing=tr("mark it lost"),
        )
        if deal.status == DealStatus.LOST:
            raise CommandError(
                tr("{deal} is already lost ({reason}).", deal=format_deal_id(deal.number), reason=deal.lost_reason)
            )
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
            tr(
                "There is no {deal} in this workspace. `/deal list all` shows the open deals.",
                deal=format_deal_id(number),
            )
        )
    return deal


def require_owner_or_manager(
    session: Session, services: Services, actor: Actor, deal: Deal, *, doing: str | Text
) -> None:
    """`doing` is what only the deal's owner or a manager may do, as a clause in the infinitive, "it" being the
    deal (`tr("move it")`)."""
    if actor.user_id == deal.owner_id:
        return
    if is_manager(session, services, team_id=actor.team_id, user_id=actor.user_id):
        return
    raise CommandError(
        # TRANSLATORS: {doing} is a clause in the infinitive about the deal, like "move it" or "mark it lost".
        tr(
            "Only the owner of {deal} or a sales manager can {doing}.",
            deal=format_deal_id(deal.number),
            doing=doing,
        )
    )
