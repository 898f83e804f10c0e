"""The pipeline board: open deals and their value per stage, in pipeline order, the pipeline (the stages
before the won stage) apart from the customers (the won stage and every stage after it)."""

from dataclasses import dataclass

from commands.digest.report import StageGroup, StageTotal
from commands.services import Actor, Services
from storage import queries, workspace_queries


@dataclass(frozen=True)
class Board:
    pipeline: StageGroup
    customers: StageGroup
    lost: int
    currency: str | None = None
    """The workspace's currency, which the totals are in (None: it has none)."""

    @property
    def rows(self) -> tuple[StageTotal, ...]:
        return self.pipeline.stages + self.customers.stages


def pipeline_board(services: Services, actor: Actor) -> Board:
    with services.sessions() as session:
        totals = queries.open_stage_totals(session, team_id=actor.team_id)
        lost = queries.count_lost(session, team_id=actor.team_id)
        currency = workspace_queries.setting(session, team_id=actor.team_id)
    rows = []
    for stage in services.pipeline.stages:
        total = totals.get(stage.key)
        rows.append(StageTotal(stage, total.deals if total else 0, total.value_cents if total else 0))
    won = services.pipeline.index(services.pipeline.won_stage().key)
    return Board(
        pipeline=StageGroup(tuple(rows[:won])),
        customers=StageGroup(tuple(rows[won:])),
        lost=lost,
        currency=currency.currency if currency is not None else None,
    )
