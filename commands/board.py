"""The pipeline board: open deals and their value per stage, in pipeline order."""

from commands.digest_report import StageTotal
from commands.results import Board
from commands.services import Actor, Services
from storage import queries


def pipeline_board(services: Services, actor: Actor) -> Board:
    with services.sessions() as session:
        totals = queries.open_stage_totals(session, team_id=actor.team_id)
        lost = queries.count_lost(session, team_id=actor.team_id)
    rows = []
    for stage in services.pipeline.stages:
        total = totals.get(stage.key)
        rows.append(StageTotal(stage, total.deals if total else 0, total.value_cents if total else 0))
    return Board(rows=tuple(rows), lost=lost)
