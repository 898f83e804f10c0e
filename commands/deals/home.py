"""What a person sees on the app's Home tab: their open deals, and moves waiting for a manager.

A manager decides every waiting move from here too, which is the way to decide a move whose deal has
no thread (its channel is private and the bot was not invited yet).
"""

from dataclasses import dataclass

from commands.deals.deal import ListDeals, list_deals
from commands.deals.managers import is_manager
from commands.deals.results import DealList, DealSummary, MoveSummary
from commands.services import Actor, Services
from storage import queries


@dataclass(frozen=True)
class WaitingMove:
    move: MoveSummary
    deal: DealSummary


@dataclass(frozen=True)
class HomeOverview:
    mine: DealList
    waiting: tuple[WaitingMove, ...]
    decides: bool


def home_overview(services: Services, actor: Actor) -> HomeOverview:
    mine = list_deals(services, actor, ListDeals(scope="mine", stage_key=None))
    with services.sessions() as session:
        if not is_manager(session, services, team_id=actor.team_id, user_id=actor.user_id):
            return HomeOverview(mine, (), decides=False)
        waiting = []
        moves = queries.pending_moves(session, team_id=actor.team_id)
        approvers = queries.approvers(session, team_id=actor.team_id, move_ids=[move.id for move in moves if move.id])
        for move in moves:
            deal = queries.get_deal_by_id(session, team_id=actor.team_id, deal_id=move.deal_id)
            if deal is not None and move.id is not None:
                summary = DealSummary.of(deal, services.pipeline)
                approved_by = approvers.get(move.id, ())
                waiting.append(
                    WaitingMove(MoveSummary.of(move, deal.number, services.pipeline, approved_by=approved_by), summary)
                )
        return HomeOverview(mine, tuple(waiting), decides=True)
