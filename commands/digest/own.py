"""The few lines of a rep's own digest that the Home tab shows: cheap enough to recompute on every change.

Definitions (for the deals `owner_id` owns now, as in `commands.digest.compute`'s narrowed digest):
- `pipeline` / `pipeline_then`: the open deals in the stages before the won stage, and their value (None as 0),
  now and at the same moment 7 days earlier (UTC); `change` is the difference.
- `moved`: the approved moves and moves back of those deals in the last 7 days (as the digest's "Moved").
- `won`: those deals that crossed into the won stage from an earlier one in the last 7 days, and their value.
- `expected_wins`, `expected_value_cents`: the digest's forecast for those open deals, with the team's rates
  (`commands.digest.estimators.outlook` over the team's stays of the last `FORECAST_DAYS`), so it equals the
  owner's `forecast.expected_wins` / `expected_value_cents` in `/pipeline digest mine`. `rough` when the chance
  of a stage holding one of those deals rests on fewer than `THIN_SPELLS` ended stays (as the digest warns).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from commands.digest import estimators
from commands.digest.compute import FORECAST_DAYS, watches
from commands.digest.report import Total
from commands.services import Services
from storage import report_queries, spell_queries, workspace_queries
from storage.db import read_only

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class OwnSummary:
    pipeline: Total
    pipeline_then: Total
    moved: int
    won: Total
    expected_wins: float
    expected_value_cents: int
    rough: bool
    currency: str | None = None
    """The workspace's currency, which the values are in (None: it has none)."""

    @property
    def change(self) -> Total:
        return Total(
            self.pipeline.deals - self.pipeline_then.deals, self.pipeline.value_cents - self.pipeline_then.value_cents
        )


class TeamRates:
    """The team's stage rates (the chain the forecast multiplies), read once per workspace however many summaries
    are built with this memo: the Home tabs republished together after a change (the owner's and every
    manager's) read the team's year of stays once instead of once each. The first summary's `at` is the rates'
    `at` for the rest, a few milliseconds apart."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._chains: dict[str, estimators.Chain] = {}

    def chain(self, team_id: str, at: datetime) -> estimators.Chain:
        if team_id not in self._chains:
            pipeline = self._services.pipeline
            before_won = pipeline.keys[: pipeline.index(pipeline.won_stage().key)]
            with self._services.sessions() as session:
                read_only(session)
                start = at - timedelta(days=FORECAST_DAYS)
                rates = spell_queries.stays_watched(session, team_id=team_id, start=start, end=at)
            self._chains[team_id] = estimators.chain(watches(before_won, rates))
        return self._chains[team_id]


def own_summary(
    services: Services, *, team_id: str, owner_id: str, at: datetime, rates: TeamRates | None = None
) -> OwnSummary:
    pipeline = services.pipeline
    won_key = pipeline.won_stage().key
    before_won = pipeline.keys[: pipeline.index(won_key)]
    with services.sessions() as session:
        read_only(session)
        now = spell_queries.open_by_stage_and_age(session, team_id=team_id, at=at, owner_id=owner_id)
        then = spell_queries.open_by_stage_and_age(session, team_id=team_id, at=at - WEEK, owner_id=owner_id)
        moves = report_queries.moves_per_transition(
            session, team_id=team_id, start=at - WEEK, end=at, owner_id=owner_id
        )
        won = spell_queries.won_in_period(
            session, team_id=team_id, won_key=won_key, start=at - WEEK, end=at, owner_id=owner_id
        )
        setting = workspace_queries.setting(session, team_id=team_id)
    open_deals = [row for row in now if row.stage_key in before_won]
    chain = (rates or TeamRates(services)).chain(team_id, at)
    held = {row.stage_key for row in open_deals}
    outlook = estimators.outlook(
        chain,
        [estimators.OpenDeals(row.stage_key, row.age_days, row.deals, row.value_cents) for row in open_deals],
        estimators.CloseTimes(),
    )
    return OwnSummary(
        pipeline=_total(open_deals),
        pipeline_then=_total([row for row in then if row.stage_key in before_won]),
        moved=sum(count for *_, count in moves),
        won=Total(*won),
        expected_wins=round(outlook.expected_wins, 2),
        expected_value_cents=round(outlook.expected_value_cents),
        currency=setting.currency if setting is not None else None,
        rough=any(
            chain.win_chance(position).basis < estimators.THIN_SPELLS
            for position, key in enumerate(before_won)
            if key in held
        ),
    )


def _total(rows: list[spell_queries.OpenRow]) -> Total:
    return Total(sum(row.deals for row in rows), sum(row.value_cents for row in rows))
