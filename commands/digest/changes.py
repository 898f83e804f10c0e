"""What changed since the same moment a week earlier, reconstructed from the stage history.

- *A week earlier* is `week_earlier(as_of, tz)`: the same local wall time 7 local calendar days before the
  digest's end, in the digest's zone (168 hours, or 167 or 169 across a DST change). For a weekly digest it is
  the period's start. It is read from the stays in stages (`storage.report_queries.open_stays_at`), never from
  an earlier digest, so a digest computed for any moment has its comparison.
- The state at a moment is every deal open then: it had entered its stage before that moment and had not
  left it by then. A deal's value is the one it has now (values are set when a deal is created and never
  change).
- A stage's *change* is its open deals and their value now minus the same a week earlier.
- The forecast's change is this forecast's expected wins and value minus those of the forecast a week
  earlier: the deals open before the won stage then, each counted at the age it had in its stay then, with
  the rates read over the `forecast_days` before that moment. It is split into reasons, which add up to it:
  the deals counted now or then are compared one by one with this week's rates,
    - `new`: open now before the win, not open a week earlier (created since): + their chance now;
    - `won`: before the win a week earlier, at the won stage or after it now: - their chance then;
    - `lost`: before the win a week earlier, lost since: - their chance then;
    - `moved`: before the win now, in another stay a week earlier (moved forward or back, or back from a
      customer stage): their chance now - their chance then;
    - `time`: in the same stay now as a week earlier, a week older: their chance now - their chance then;
  and `rates`: the deals of a week earlier read with this week's rates minus read with that week's.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from commands.digest import estimators
from commands.digest.report import Change, ForecastChange, ForecastReason, StageTotal
from storage.report_queries import OpenStay

WEEK_DAYS = 7
REASONS = ("new", "won", "lost", "moved", "time", "rates")


def week_earlier(as_of: datetime, tz: str) -> datetime:
    """`as_of` at the same local wall time 7 local calendar days earlier in `tz`, as a UTC instant."""
    zone = ZoneInfo(tz)
    local = as_of.astimezone(zone)
    earlier = (local.replace(tzinfo=None) - timedelta(days=WEEK_DAYS)).replace(tzinfo=zone)
    return earlier.astimezone(as_of.tzinfo)


def with_changes(totals: Sequence[StageTotal], then: Iterable[OpenStay]) -> tuple[StageTotal, ...]:
    """Each stage's total with its change since the moment `then` was read at."""
    deals: dict[str, int] = defaultdict(int)
    value: dict[str, int] = defaultdict(int)
    for stay in then:
        deals[stay.stage_key] += 1
        value[stay.stage_key] += stay.value_cents
    return tuple(
        StageTotal(
            total.stage,
            total.deals,
            total.value_cents,
            Change(total.deals - deals[total.stage.key], total.value_cents - value[total.stage.key]),
        )
        for total in totals
    )


def forecast_change(
    *,
    open_keys: Sequence[str],
    chain_now: estimators.Chain,
    chain_then: estimators.Chain,
    now: Sequence[OpenStay],
    then: Sequence[OpenStay],
    as_of: datetime,
    earlier: datetime,
) -> ForecastChange:
    """The forecast's change from `earlier` to `as_of` and its reasons (see the module's docstring).

    `open_keys` are the stages before the won stage, in order; `now` and `then` every deal open at `as_of` and
    at `earlier`."""
    positions = {key: index for index, key in enumerate(open_keys)}
    now_by_deal = {stay.deal_id: stay for stay in now}
    then_by_deal = {stay.deal_id: stay for stay in then}
    parts: dict[str, tuple[list[OpenStay], list[OpenStay]]] = {reason: ([], []) for reason in REASONS[:-1]}
    for deal_id in now_by_deal.keys() | then_by_deal.keys():
        current, before = now_by_deal.get(deal_id), then_by_deal.get(deal_id)
        reason = _reason(current, before, positions)
        if reason is None:
            continue
        if current is not None and current.stage_key in positions:
            parts[reason][0].append(current)
        if before is not None and before.stage_key in positions:
            parts[reason][1].append(before)
    reasons: list[tuple[str, int, float, float]] = []
    for reason, (current_stays, earlier_stays) in parts.items():
        wins_now, value_now = _expected(chain_now, positions, current_stays, as_of)
        wins_then, value_then = _expected(chain_now, positions, earlier_stays, earlier)
        deals = len({stay.deal_id for stay in [*current_stays, *earlier_stays]})
        reasons.append((reason, deals, wins_now - wins_then, value_now - value_then))
    then_stays = [stay for stay in then if stay.stage_key in positions]
    wins_now, value_now = _expected(chain_now, positions, then_stays, earlier)
    wins_then, value_then = _expected(chain_then, positions, then_stays, earlier)
    reasons.append(("rates", len(then_stays), wins_now - wins_then, value_now - value_then))
    return ForecastChange(
        expected_wins=round(sum(wins for _, _, wins, _ in reasons), 2),
        expected_value_cents=round(sum(value for _, _, _, value in reasons)),
        reasons=tuple(
            ForecastReason(reason, deals, round(wins, 2), round(value)) for reason, deals, wins, value in reasons
        ),
    )


def _reason(current: OpenStay | None, before: OpenStay | None, positions: dict[str, int]) -> str | None:
    now_open = current is not None and current.stage_key in positions
    then_open = before is not None and before.stage_key in positions
    if not now_open and not then_open:
        return None
    if before is None:
        return "new"
    if current is None:
        return "lost"
    if not now_open:
        return "won"
    if not then_open or (current.stage_key, current.entered_at) != (before.stage_key, before.entered_at):
        return "moved"
    return "time"


def _expected(
    chain: estimators.Chain, positions: dict[str, int], stays: Iterable[OpenStay], at: datetime
) -> tuple[float, float]:
    """Expected wins and value of these stays at `at`: each counts its chance of a win at the whole days it has
    sat in its stage (as the forecast does)."""
    groups: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for stay in stays:
        age_days = int((at - stay.entered_at).total_seconds() // 86_400)
        group = groups[(positions[stay.stage_key], age_days)]
        group[0] += 1
        group[1] += stay.value_cents
    wins = value = 0.0
    for (position, age_days), (count, cents) in groups.items():
        probability = chain.win_probability(position, age_days * 24)
        wins += count * probability
        value += cents * probability
    return wins, value
