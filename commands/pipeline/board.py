"""The pipeline board: open deals and their value per stage, in pipeline order."""

from dataclasses import dataclass

from commands.digest.report import StageTotal
from commands.services import Actor, Services
from storage import queries


@dataclass(frozen=True)
class Board:
    rows: tuple[StageTotal, ...]
    lost: int

    @property
    def open_deals(self) -> int:
        return sum(row.deals for row in self.rows)

    @property
    def open_value_cents(self) -> int:
        return sum(row.value_cents for row in self.rows)


def pipeline_board(services: Services, actor: Actor) -> Board:
    with services.sessions() as session:
        totals = queries.open_stage_totals(session, team_id=actor.team_id)
        lost = queries.count_lost(session, team_id=actor.team_id)
    rows = []
    for stage in services.pipeline.stages:
        total = totals.get(stage.key)
        rows.append(StageTotal(stage, total.deals if total else 0, total.value_cents if total else 0))
    return Board(rows=tuple(rows), lost=lost)
