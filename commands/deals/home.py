"""What a person sees on the app's Home tab: the work in front of them.

For everyone: a few lines of their own digest (`commands.digest.own`), their stalled deals, then their moves
waiting for a manager, then their open deals by stage
in pipeline order, each with its days in stage and what the buyer must do to reach the next stage. For a manager,
above that: every move waiting for a manager (decided from here too, which is the way to decide a move whose deal
has no thread: its channel is private and the bot was not invited yet), then the team's stalled deals.

Days in stage and stalled are defined once, in `commands.digest.stalled`; here only the stages before the won
stage are watched, since the Home tab lists the work left to win a deal.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from commands.deals.managers import is_manager, team_managers
from commands.deals.results import DealSummary, MoveSummary, stage_or_placeholder
from commands.digest.own import OwnSummary, TeamRates, own_summary
from commands.digest.stalled import before_win, days_in_stage, is_stalled, stall_cutoffs
from commands.pipeline.stages import Pipeline, Stage
from commands.services import Actor, Services
from storage import queries, spell_queries
from storage.db import read_only
from storage.models import Deal, MoveRequest

OWN_DEALS_LIMIT = 500
"""The person's open deals read for the tab; more are counted, not listed (the tab shows far fewer anyway)."""
TEAM_STALLED_LIMIT = 50


@dataclass(frozen=True)
class WaitingMove:
    move: MoveSummary
    deal: DealSummary


@dataclass(frozen=True)
class OpenDeal:
    """A deal as the tab lists it: `days_in_stage` and `stalled` as `commands.digest.stalled` defines them;
    `move_pending` when a move of it waits for a manager (no other may be asked for meanwhile)."""

    deal: DealSummary
    days_in_stage: int
    stalled: bool
    move_pending: bool = False


@dataclass(frozen=True)
class StageGroup:
    """The person's open deals in one stage, and `next_stage`, whose exit criteria the buyer must meet next."""

    stage: Stage
    next_stage: Stage | None
    deals: tuple[OpenDeal, ...]


@dataclass(frozen=True)
class StalledDeal:
    number: int
    name: str
    owner_id: str
    stage: Stage
    days_in_stage: int


@dataclass(frozen=True)
class TeamStalled:
    """The team's stalled deals, longest in stage first as the digest lists them; `total` counts those not listed
    too."""

    deals: tuple[StalledDeal, ...]
    total: int


@dataclass(frozen=True)
class HomeOverview:
    as_of: datetime
    stages: tuple[StageGroup, ...]
    stalled: tuple[OpenDeal, ...]
    pending: tuple[WaitingMove, ...]
    total_deals: int
    waiting: tuple[WaitingMove, ...]
    team_stalled: TeamStalled | None
    decides: bool
    week: OwnSummary
    """The few lines of the person's own digest (`commands.digest.own`)."""

    @property
    def listed_deals(self) -> int:
        return sum(len(group.deals) for group in self.stages)


def home_overview(services: Services, actor: Actor, *, rates: TeamRates | None = None) -> HomeOverview:
    """`rates`: the team's rates, shared by the tabs built together (`TeamRates`)."""
    now = services.clock()
    cutoffs = stall_cutoffs(before_win(services.pipeline), now)
    with services.sessions() as session:
        read_only(session)
        deals = queries.list_deals(session, team_id=actor.team_id, owner_id=actor.user_id, limit=OWN_DEALS_LIMIT)
        total = queries.count_deals(session, team_id=actor.team_id, owner_id=actor.user_id)
        pending = queries.pending_moves(session, team_id=actor.team_id)
        waiting_deals = {move.deal_id for move in pending}
        own = [_open_deal(deal, services.pipeline, cutoffs, now, waiting_deals) for deal in deals]
        decides = is_manager(session, services, team_id=actor.team_id, user_id=actor.user_id)
        own_ids = {deal.id for deal in deals}
        return HomeOverview(
            as_of=now,
            stages=_by_stage(services.pipeline, own),
            stalled=tuple(sorted((item for item in own if item.stalled), key=lambda item: item.deal.stage_entered_at)),
            pending=_waiting(session, services.pipeline, actor.team_id, [m for m in pending if m.deal_id in own_ids]),
            total_deals=total,
            waiting=_waiting(session, services.pipeline, actor.team_id, pending) if decides else (),
            team_stalled=_team_stalled(session, services.pipeline, actor.team_id, cutoffs, now) if decides else None,
            decides=decides,
            week=own_summary(services, team_id=actor.team_id, owner_id=actor.user_id, at=now, rates=rates),
        )


def concerned(services: Services, *, team_id: str, deal_number: int) -> tuple[str, ...]:
    """Whose Home tab a change to the deal changes: its owner's and every manager's (from the settings and
    stored), in a stable order."""
    with services.sessions() as session:
        read_only(session)
        deal = queries.get_deal(session, team_id=team_id, number=deal_number)
        managers = team_managers(session, services, team_id=team_id)
    owner = [deal.owner_id] if deal is not None else []
    return tuple(dict.fromkeys([*owner, *sorted(managers)]))


def _open_deal(
    deal: Deal, pipeline: Pipeline, cutoffs: dict[str, datetime], now: datetime, waiting_deals: set[int]
) -> OpenDeal:
    return OpenDeal(
        DealSummary.of(deal, pipeline),
        days_in_stage(deal.stage_entered_at, now),
        is_stalled(cutoffs, deal.stage_key, deal.stage_entered_at),
        move_pending=deal.id in waiting_deals,
    )


def _by_stage(pipeline: Pipeline, deals: Sequence[OpenDeal]) -> tuple[StageGroup, ...]:
    """The deals grouped by stage: the pipeline's stages in order, then any stage no longer in it."""
    order = {key: index for index, key in enumerate(pipeline.keys)}
    keys = sorted({item.deal.stage.key for item in deals}, key=lambda key: (order.get(key, len(order)), key))
    return tuple(
        StageGroup(
            stage=stage_or_placeholder(pipeline, key),
            next_stage=pipeline.next_after(key) if key in order else None,
            deals=tuple(item for item in deals if item.deal.stage.key == key),
        )
        for key in keys
    )


def _waiting(
    session: Session, pipeline: Pipeline, team_id: str, moves: Sequence[MoveRequest]
) -> tuple[WaitingMove, ...]:
    """The moves with their deals and approvers: three queries however many moves wait (the tab is rebuilt for
    every manager after every change)."""
    waiting = []
    approvers = queries.approvers(session, team_id=team_id, move_ids=[move.id for move in moves if move.id])
    deals = queries.deals_by_id(session, team_id=team_id, deal_ids=[move.deal_id for move in moves])
    for move in moves:
        deal = deals.get(move.deal_id)
        if deal is not None and move.id is not None:
            summary = DealSummary.of(deal, pipeline)
            approved_by = approvers.get(move.id, ())
            waiting.append(WaitingMove(MoveSummary.of(move, deal.number, pipeline, approved_by=approved_by), summary))
    return tuple(waiting)


def _team_stalled(
    session: Session, pipeline: Pipeline, team_id: str, cutoffs: dict[str, datetime], now: datetime
) -> TeamStalled:
    rows, total = spell_queries.stalled_deals(
        session, team_id=team_id, at=now, stalled_before=cutoffs, limit=TEAM_STALLED_LIMIT
    )
    return TeamStalled(
        tuple(
            StalledDeal(
                row.deal_number,
                row.deal_name,
                row.owner_id,
                stage_or_placeholder(pipeline, row.stage_key),
                days_in_stage(row.entered_at, now),
            )
            for row in rows
        ),
        total,
    )
