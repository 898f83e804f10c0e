"""What a person sees on the app's Home tab: their open deals, and moves waiting for a manager."""

from commands.deals import list_deals
from commands.managers import is_manager
from commands.parsing import ListDeals
from commands.results import DealList, MoveSummary
from commands.services import Actor, Services
from storage import queries


def home_overview(services: Services, actor: Actor) -> tuple[DealList, tuple[MoveSummary, ...]]:
    mine = list_deals(services, actor, ListDeals(scope="mine", stage_key=None))
    with services.sessions() as session:
        if not is_manager(session, services, team_id=actor.team_id, user_id=actor.user_id):
            return mine, ()
        waiting = []
        for move in queries.pending_moves(session, team_id=actor.team_id):
            deal = queries.get_deal_by_id(session, team_id=actor.team_id, deal_id=move.deal_id)
            if deal is not None:
                waiting.append(MoveSummary.of(move, deal.number, services.pipeline))
        return mine, tuple(waiting)
