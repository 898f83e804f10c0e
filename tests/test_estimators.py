"""The estimators against cases whose truth is known: counted by hand, enumerated, or simulated."""

import itertools
import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commands.digest.estimators import (
    AGE_PRIOR_SPELLS,
    PRIOR_SPELLS,
    CloseTimes,
    OpenDeals,
    Outcome,
    Stay,
    Watch,
    chain,
    incidence,
    median_days,
    next_rate,
    outlook,
    raw_rate,
    shrunk,
    wins_interval,
)

ON, LOST, BACK, OPEN, SKIP = Outcome.MOVED_ON, Outcome.LOST, Outcome.MOVED_BACK, Outcome.OPEN, Outcome.SKIPPED


def test_with_every_stay_ended_the_rate_is_the_plain_share() -> None:
    stays = [Stay(24, ON, 3), Stay(48, LOST, 1), Stay(100, BACK, 1), Stay(5, ON, 2)]
    assert raw_rate(Watch("s", tuple(stays))) == (pytest.approx(5 / 7), 7)


def test_an_open_stay_is_not_a_failure() -> None:
    # Four moved on after 10 days; six entered yesterday and are still there. The old rate said 4/10.
    stays = [Stay(240, ON, 4), Stay(24, OPEN, 6)]
    assert raw_rate(Watch("s", tuple(stays))) == (1.0, 4)


def test_censoring_keeps_quick_losses_from_speaking_for_everyone() -> None:
    # Hand-computed Aalen-Johansen: 4 stays. Lost at 1h (n=4): F_out = 1/4, S = 3/4. One censored at 2h.
    # Moved on at 3h (n=2): F_on = 3/4 · 1/2 = 3/8, S = 3/8. Moved on at 4h (n=1): F_on = 3/4, S = 0.
    stays = [Stay(1, LOST, 1), Stay(2, OPEN, 1), Stay(3, ON, 1), Stay(4, ON, 1)]
    curve = incidence(stays)
    assert curve.hours == (1, 3, 4)
    assert curve.moved_on == pytest.approx((0, 3 / 8, 3 / 4))
    assert curve.dropped_out == pytest.approx((1 / 4, 1 / 4, 1 / 4))
    assert raw_rate(Watch("s", tuple(stays)))[0] == pytest.approx(3 / 4)  # the naive share of the ended says 2/3


def test_stays_older_than_the_window_join_at_the_age_they_had() -> None:
    # Two stays began before the window, 100h old when it began: one moved on at 120h, one is still open at
    # 300h. Two began in it: lost at 10h, moved on at 50h. At 10h only the two young ones are at risk (the old
    # ones were not watched that young): F_out = 1/2, S = 1/2. At 50h one: F_on = 1/2, S = 0. The old ones join
    # at 100h, when nothing is left to share out, so their exit at 120h changes nothing.
    watch = Watch(
        "s",
        (Stay(10, LOST, 1), Stay(50, ON, 1), Stay(120, ON, 1), Stay(300, OPEN, 1)),
        {0: 2, 100: 2},
    )
    assert watch.curve.hours == (10, 50, 120)
    assert watch.curve.moved_on == pytest.approx((0, 1 / 2, 1 / 2))
    # Seen from the start instead, the old stays would have been at risk at 10h and 50h too.
    assert Watch("s", watch.exits).curve.moved_on[:2] == pytest.approx((0, 3 / 4 * 1 / 3))


def test_a_late_joiner_keeps_the_estimate_going() -> None:
    # Young stays: 4, two moved on at 5h and 6h, two still open at 8h. An old stay joins at 20h and is lost at
    # 30h: at 30h one at risk, S(30-) = S(6) = 1 * (3/4) * (2/3) = 1/2, so F_out = 1/2 and the rate is 1/2.
    watch = Watch("s", (Stay(5, ON, 1), Stay(6, ON, 1), Stay(8, OPEN, 2), Stay(30, LOST, 1)), {0: 4, 20: 1})
    assert raw_rate(watch) == (pytest.approx(0.5), 3)


def test_shrinkage_is_a_beta_prior_worth_ten_stays() -> None:
    assert PRIOR_SPELLS == 10
    assert shrunk(1.0, 2, 0.5) == pytest.approx((2 + 5) / 12)
    assert shrunk(None, 0, 0.4) == 0.4
    assert shrunk(0.3, 1000, 0.9) == pytest.approx((300 + 9) / 1010)
    rate = next_rate(Watch("s", (Stay(10, ON, 3),)), prior=0.5)
    assert (rate.value, rate.raw, rate.ended, rate.thin) == (pytest.approx(8 / 13), 1.0, 3, True)


def test_kaplan_meier_median() -> None:
    # 48h, 72h ended; one censored at 60h; one at 200h: S(48) = 3/4, S(72) = 3/4 · 1/2 = 3/8 -> 3 days.
    median = median_days([Stay(48, ON, 1), Stay(60, OPEN, 1), Stay(72, LOST, 1), Stay(200, OPEN, 1)])
    assert median is not None and median.days == 3.0
    unknown = median_days([Stay(24, ON, 1), Stay(480, OPEN, 3)])
    assert unknown is not None and (unknown.days, unknown.longest_days) == (None, 20.0)
    assert median_days([Stay(0, SKIP, 5)]) is None  # skips take no time and are not stays


def test_median_of_censored_exponential_stays_is_unbiased() -> None:
    # Stays last Exp(mean 10 days) -> true median 10 ln 2 = 6.93 days. Deals enter uniformly over 90 days
    # and are watched until day 90, so most long stays are cut: the KM median must not be pulled down.
    rng = random.Random(7)
    stays = []
    for _ in range(4000):
        entered = rng.uniform(0, 90)
        length = rng.expovariate(1 / 10)
        watched = 90 - entered
        ended = length <= watched
        stays.append(Stay(int((length if ended else watched) * 24), ON if ended else OPEN, 1))
    median = median_days(stays)
    assert median is not None and median.days == pytest.approx(10 * math.log(2), rel=0.06)


def test_rate_is_unbiased_when_losses_take_longer_and_stays_are_cut() -> None:
    # 30% move on after ~5 days, 70% are lost after ~30 days; entries over 90 days, watched to day 90.
    # Among the stays ended by then quick moves are over-represented; Aalen-Johansen corrects for it.
    rng = random.Random(11)
    stays = []
    for _ in range(6000):
        entered = rng.uniform(0, 90)
        moves_on = rng.random() < 0.3
        length = rng.expovariate(1 / (5 if moves_on else 30))
        watched = 90 - entered
        outcome = (ON if moves_on else LOST) if length <= watched else OPEN
        stays.append(Stay(int(min(length, watched) * 24), outcome, 1))
    ended = [stay for stay in stays if stay.outcome != OPEN]
    naive = sum(stay.outcome == ON for stay in ended) / len(ended)
    assert naive > 0.34  # the share among ended stays is biased high
    assert raw_rate(Watch("s", tuple(stays)))[0] == pytest.approx(0.3, abs=0.025)


def test_watching_every_stay_of_the_window_sees_stays_longer_than_it() -> None:
    # Stays last Exp(mean 200 days), 40% move on; entries at a steady rate for 3 years; a 90-day window.
    # Only stays that began in the window: few ended, and nothing beyond 90 days. Every stay in the stage
    # during the window, each watched from the age it had when the window began: the rate is still right.
    rng = random.Random(5)
    window_start, window_end = 3 * 365 - 90, 3 * 365
    exits: dict[tuple[int, Outcome], int] = {}
    entries: dict[int, int] = {}
    for _ in range(20_000):
        entered = rng.uniform(0, window_end)
        moves_on = rng.random() < 0.4
        left = entered + rng.expovariate(1 / 200)
        if left < window_start:
            continue
        ended = left < window_end
        hours = int(((left if ended else window_end) - entered) * 24)
        outcome = (ON if moves_on else LOST) if ended else OPEN
        exits[(hours, outcome)] = exits.get((hours, outcome), 0) + 1
        seen_from = int(max(0.0, window_start - entered) * 24)
        entries[seen_from] = entries.get(seen_from, 0) + 1
    watch = Watch("s", tuple(Stay(h, o, c) for (h, o), c in exits.items()), entries)
    assert raw_rate(watch)[0] == pytest.approx(0.4, abs=0.03)
    assert watch.ended > 1_000


@given(st.lists(st.tuples(st.integers(0, 4), st.floats(0.01, 0.99)), min_size=0, max_size=4))
def test_the_interval_is_the_exact_poisson_binomial_quantiles(groups: list[tuple[int, float]]) -> None:
    probabilities = [p for count, p in groups for _ in range(count)]
    distribution: dict[int, float] = {}
    for outcome in itertools.product((0, 1), repeat=len(probabilities)):
        weight = math.prod(p if won else 1 - p for won, p in zip(outcome, probabilities, strict=True))
        distribution[sum(outcome)] = distribution.get(sum(outcome), 0.0) + weight

    def quantile(q: float) -> int:
        total = 0.0
        for wins in sorted(distribution):
            total += distribution[wins]
            if total >= q - 1e-12:
                return wins
        return max(distribution)

    assert wins_interval(groups) == (quantile(0.1), quantile(0.9))


def test_the_interval_of_many_deals() -> None:
    # 10,000 deals at 30%: mean 3,000, sd 45.8; the 10th and 90th percentiles are about 1.28 sd away.
    low, high = wins_interval([(10_000, 0.3)])
    assert (low, high) == (pytest.approx(3000 - 58.7, abs=2), pytest.approx(3000 + 58.7, abs=2))


def stages(*spec: list[Stay]) -> list[Watch]:
    """Stages whose stays all began in the window."""
    return [Watch(f"s{index}", tuple(stays)) for index, stays in enumerate(spec)]


def test_the_win_chance_is_the_product_of_next_stage_rates() -> None:
    estimate = chain(
        stages(
            [Stay(24, ON, 60), Stay(24, LOST, 40)],
            [Stay(24, ON, 30), Stay(24, LOST, 20), Stay(0, SKIP, 10)],  # skips count as passing
        )
    )
    prior = 100 / 160  # pooled: 60 + 30 + 10 moved on, of 160 ended
    assert estimate.prior == pytest.approx(prior)
    first, second = shrunk(0.6, 100, prior), shrunk(40 / 60, 60, prior)
    second_real = shrunk(0.6, 50, prior)
    assert first is not None and second is not None
    assert estimate.win_chance(0).probability == pytest.approx(first * second)
    assert estimate.win_chance(1).probability == pytest.approx(second_real)  # a deal sitting there did not skip
    assert [factor.rate.ended for factor in estimate.win_chance(0).factors] == [100, 60]


def test_an_old_deal_is_judged_by_stays_that_lasted_as_long() -> None:
    # Moving on happens in the first 5 days; losses come at day 20. A deal 10 days in will be lost.
    estimate = chain(stages([Stay(24 * day, ON, 10) for day in range(1, 6)] + [Stay(24 * 20, LOST, 50)]))
    assert estimate.win_chance(0).probability == pytest.approx(0.5)
    old = outlook(estimate, [OpenDeals("s0", 10, 1, 100)], CloseTimes())
    # Every stay that lasted 10 days was lost: 0 of 50, tempered by 40 pseudo-stays at the stage's 1/2.
    assert old.expected_wins == pytest.approx(shrunk(0.0, 50, 0.5, strength=AGE_PRIOR_SPELLS))
    assert AGE_PRIOR_SPELLS == 40
    young = outlook(estimate, [OpenDeals("s0", 0, 1, 100)], CloseTimes())
    assert young.expected_wins > 0.45


def test_soon_share_reads_the_observed_time_to_close() -> None:
    closes = CloseTimes({"s0": {10: 3, 40: 1, 100: 4}})
    assert closes.soon_share("s0", 0) == 3 / 8
    assert closes.soon_share("s0", 20) == 1 / 5  # of those that sat at least 20 days, one closed within 30 more
    assert closes.soon_share("s0", 200) == 0.0
    assert closes.soon_share("unknown", 0) == 0.0
