"""The digest's estimators: how a stage converts, how long deals stay, and what will likely close.

They work on stage spells (a deal's stay in a stage, see `storage.spells`) that *entered* the stage
in a window [start, end), seen as of `end`. A spell that has not ended by `end` is still open: it is
not a failure, it is a stay whose outcome we do not know yet (it is *censored*). Counting such stays
as "did not convert" is what made the old rates too low; every number here treats them as unknown.

Definitions (the README repeats them in a sales manager's words):

- **Next-stage rate** of a stage over a window: the probability that a stay in it ends by moving on
  (to the next stage, or past it on a skip) rather than dropping out (lost, or moved back). Estimated
  with the Aalen-Johansen estimator of the two competing outcomes' cumulative incidence, F_on and
  F_out, as F_on(t) / (F_on(t) + F_out(t)) at the longest duration t observed, over every stay that
  was in the stage at some moment of the window (a `Watch`): a stay that began before the window is
  watched from the age it had when the window began (left truncation), and a stay still open at the
  window's end counts for the time it has lasted and no further (censoring). With every stay begun and
  ended inside the window this is exactly moved_on / (moved_on + dropped_out); otherwise it does not
  let the quick outcomes, the only ones a recent stay can have had, speak for the slow ones, and a
  stage whose stays outlast the window still has evidence (period analysis).
- **Shrinkage**: a rate that rests on few ended stays is pulled towards the pipeline-wide rate (all
  stages before the win pooled) by a Beta prior worth `PRIOR_SPELLS` stays:
  (rate * ended + PRIOR_SPELLS * pipeline_rate) / (ended + PRIOR_SPELLS). The digest says when a rate
  rests on fewer than `THIN_SPELLS` ended stays.
- **Win probability** of a stage k before the won stage (a Markov chain over the stages): the product
  of the next-stage rates from k up to the stage before the won stage. The first factor counts only
  real stays in k (a deal open in k is not skipping it); the later ones count every entry, skips
  included, because a deal that has left k may pass the next stage either way.
- **Days in stage**: the Kaplan-Meier median of the stays' durations (real stays; skips last no
  time), open stays censored. None when fewer than half have ended within the longest follow-up;
  `longest_days` then says how long we have watched.
- **Forecast**: each open deal before the won stage is an independent Bernoulli trial whose
  probability is its stage's win probability (from the rates over the forecast's look-back), with the
  first factor conditioned on how long the deal has already sat in its stage: of the stays that
  lasted at least that long and then ended, the share that moved on, shrunk towards the stage's rate
  by `AGE_PRIOR_SPELLS` pseudo-stays (only when at least `AGE_NEEDS_ENDED` such stays ended).
  Expected wins are the sum of these probabilities, expected value the sum of value times
  probability, and the 80% interval the 10th and 90th percentiles of the exact distribution of the
  number of wins (a Poisson-binomial distribution).
  Expected wins within `SOON_DAYS`: each deal's win probability times the share of the deals won in
  the look-back that had sat in that stage at least as long and were won within `SOON_DAYS` more (the
  observed time to close).
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

import numpy

PRIOR_SPELLS = 10.0
THIN_SPELLS = 20
SOON_DAYS = 30
AGE_NEEDS_ENDED = 5
"""Stays that ended after a deal's age, below which its age says nothing and the stage's rate is used."""
AGE_PRIOR_SPELLS = 40.0
"""How many pseudo-stays at the stage's own rate temper the rate read from stays that lasted as long as a deal has:
enough that a handful of old stays cannot swing it, few enough that a real age effect shows."""
INTERVAL = (0.1, 0.9)


class Outcome(StrEnum):
    """How a stay stood at the end of the window."""

    MOVED_ON = "moved_on"
    SKIPPED = "skipped"
    LOST = "lost"
    MOVED_BACK = "moved_back"
    OPEN = "open"

    @property
    def moved_on(self) -> bool:
        return self in (Outcome.MOVED_ON, Outcome.SKIPPED)

    @property
    def dropped_out(self) -> bool:
        return self in (Outcome.LOST, Outcome.MOVED_BACK)


@dataclass(frozen=True)
class Stay:
    """`count` stays in one stage that lasted `hours` (whole hours) and stood at `outcome`."""

    hours: int
    outcome: Outcome
    count: int


@dataclass(frozen=True)
class Incidence:
    """Aalen-Johansen cumulative incidences at each observed duration (hours, ascending)."""

    hours: tuple[int, ...] = ()
    moved_on: tuple[float, ...] = ()
    dropped_out: tuple[float, ...] = ()
    survival: tuple[float, ...] = ()

    def at(self, hours: float) -> tuple[float, float, float]:
        """(F_on, F_out, S) just after `hours`: everything that ended at or before it."""
        index = _last_at_or_before(self.hours, hours)
        if index < 0:
            return 0.0, 0.0, 1.0
        return self.moved_on[index], self.dropped_out[index], self.survival[index]

    @property
    def final(self) -> tuple[float, float, float]:
        return self.at(math.inf)


def incidence(stays: Iterable[Stay], entries: Mapping[int, int] | None = None) -> Incidence:
    """Aalen-Johansen estimate of the two competing outcomes; open stays are censored at their age.

    At each duration t with n stays at risk, d_on moving on and d_out dropping out:
    F_on(t) += S(t-) * d_on / n, F_out(t) += S(t-) * d_out / n, S(t) = S(t-) * (1 - (d_on + d_out) / n).
    Stays censored at t are at risk at t (they were seen to last that long). `entries` maps a duration
    to how many stays were first seen at it (stays that had already lasted that long when the window
    began: left truncation); they join the risk set there. Without it every stay is seen from the start.
    """
    by_hour: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for stay in stays:
        slot = by_hour[stay.hours]
        slot[0 if stay.outcome.moved_on else 1 if stay.outcome.dropped_out else 2] += stay.count
        if entries is None:
            by_hour[0][3] += stay.count
    for hour, count in (entries or {}).items():
        by_hour[hour][3] += count
    at_risk = 0
    survival, on, out = 1.0, 0.0, 0.0
    hours, ons, outs, survivals = [], [], [], []
    for hour in sorted(by_hour):
        moved, dropped, censored, joined = by_hour[hour]
        at_risk += joined
        if at_risk > 0 and (moved or dropped):
            on += survival * moved / at_risk
            out += survival * dropped / at_risk
            survival *= 1 - (moved + dropped) / at_risk
            hours.append(hour)
            ons.append(on)
            outs.append(out)
            survivals.append(survival)
        at_risk -= moved + dropped + censored
    return Incidence(tuple(hours), tuple(ons), tuple(outs), tuple(survivals))


@dataclass(frozen=True)
class Rate:
    """A rate with what it rests on: `raw` from the data alone, `value` after shrinkage."""

    value: float | None
    raw: float | None
    ended: int

    @property
    def thin(self) -> bool:
        return self.ended < THIN_SPELLS


@dataclass(frozen=True)
class Watch:
    """Every stay in one stage while a window was open: how each stood at the window's end (`exits`:
    duration and outcome), and the age at which each was first seen (`entries`: a stay that began
    before the window was first seen at the age it had when the window began; None means every stay
    began in the window, so all were seen from the start).

    Watching every stay in the window rather than only those that began in it is what keeps a stage
    whose stays outlast the window from having almost nothing to go on (period analysis)."""

    stage_key: str
    exits: tuple[Stay, ...] = ()
    entries: Mapping[int, int] | None = None

    def _count(self, wanted: Iterable[Outcome]) -> int:
        kinds = set(wanted)
        return sum(stay.count for stay in self.exits if stay.outcome in kinds)

    @property
    def entered(self) -> int:
        return sum(stay.count for stay in self.exits)

    @property
    def moved_on(self) -> int:
        return self._count((Outcome.MOVED_ON, Outcome.SKIPPED))

    @property
    def skipped(self) -> int:
        return self._count((Outcome.SKIPPED,))

    @property
    def dropped_out(self) -> int:
        return self._count((Outcome.LOST, Outcome.MOVED_BACK))

    @property
    def lost(self) -> int:
        return self._count((Outcome.LOST,))

    @property
    def moved_back(self) -> int:
        return self._count((Outcome.MOVED_BACK,))

    @property
    def still_open(self) -> int:
        return self._count((Outcome.OPEN,))

    @property
    def ended(self) -> int:
        return self.moved_on + self.dropped_out

    def real(self) -> Watch:
        """The same without skips: they began in the window and took no time, so they were seen at 0."""
        skipped = self._count((Outcome.SKIPPED,))
        exits = tuple(stay for stay in self.exits if stay.outcome != Outcome.SKIPPED)
        if self.entries is None:
            return Watch(self.stage_key, exits)
        entries = dict(self.entries)
        entries[0] = entries.get(0, 0) - skipped
        return Watch(self.stage_key, exits, entries)

    @cached_property
    def curve(self) -> Incidence:
        return incidence(self.exits, self.entries)


def raw_rate(watch: Watch) -> tuple[float | None, int]:
    """The next-stage rate from the data alone (Aalen-Johansen), and how many stays ended."""
    on, out, _ = watch.curve.final
    return (on / (on + out) if on + out > 0 else None), watch.ended


def shrunk(raw: float | None, ended: int, prior: float | None, *, strength: float = PRIOR_SPELLS) -> float | None:
    """The Beta-prior posterior mean: `strength` pseudo-stays at the prior's rate."""
    if prior is None:
        return raw
    if raw is None:
        return prior
    return (raw * ended + strength * prior) / (ended + strength)


def pipeline_rate(watches: Sequence[Watch]) -> float | None:
    """Moving on among ended stays, all stages before the win pooled: what thin rates shrink towards."""
    moved = sum(watch.moved_on for watch in watches)
    ended = moved + sum(watch.dropped_out for watch in watches)
    return moved / ended if ended else None


def next_rate(watch: Watch, prior: float | None) -> Rate:
    raw, ended = raw_rate(watch)
    return Rate(shrunk(raw, ended, prior), raw, ended)


@dataclass(frozen=True)
class Median:
    """Kaplan-Meier median of days in stage; None when under half the stays have ended."""

    days: float | None
    longest_days: float


def median_days(stays: Sequence[Stay]) -> Median | None:
    """The Kaplan-Meier median over real stays (open ones censored); None when nobody entered."""
    real = [stay for stay in stays if stay.outcome != Outcome.SKIPPED]
    if not real:
        return None
    curve = incidence(real)
    longest = max(stay.hours for stay in real) / 24
    for hours, survival in zip(curve.hours, curve.survival, strict=True):
        if survival <= 0.5:
            return Median(hours / 24, longest)
    return Median(None, longest)


@dataclass(frozen=True)
class Factor:
    stage_key: str
    rate: Rate


@dataclass(frozen=True)
class WinChance:
    """A stage's probability of being won, and the next-stage rates it is the product of."""

    stage_key: str
    probability: float | None
    factors: tuple[Factor, ...]

    @property
    def basis(self) -> int:
        """The fewest ended stays behind any factor."""
        return min((factor.rate.ended for factor in self.factors), default=0)

    @property
    def thin(self) -> bool:
        return any(factor.rate.thin for factor in self.factors)


@dataclass(frozen=True)
class Chain:
    """The Markov chain over the stages before the won stage, as estimated from one window."""

    stages: tuple[Watch, ...]
    prior: float | None
    all_entries: tuple[Rate, ...]
    real_stays: tuple[Rate, ...]
    real_curves: tuple[Incidence, ...]
    ended_hours: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]
    """Per stage, the durations at which real stays ended (ascending) and how many ended at or before each."""

    def win_chance(self, position: int) -> WinChance:
        factors = [Factor(self.stages[position].stage_key, self.real_stays[position])]
        factors += [
            Factor(stage.stage_key, rate)
            for stage, rate in zip(self.stages[position + 1 :], self.all_entries[position + 1 :], strict=True)
        ]
        return WinChance(self.stages[position].stage_key, _product(f.rate.value for f in factors), tuple(factors))

    def after(self, position: int) -> float | None:
        """The probability of being won once a deal has left stage `position` forwards."""
        return _product(rate.value for rate in self.all_entries[position + 1 :])

    def win_probability(self, position: int, age_hours: float) -> float:
        """The chance that a deal that has sat `age_hours` in stage `position` is eventually won: its chance of
        moving on given that age, times `after`; 0 when either is unknown. What the forecast counts per deal."""
        first = self.moves_on_given_age(position, age_hours)
        after = self.after(position)
        return first * after if first is not None and after is not None else 0.0

    def moves_on_given_age(self, position: int, age_hours: float) -> float | None:
        """The stage's next-stage rate for a stay that has already lasted `age_hours`: among stays that
        ended after that age, the share that moved on (F_on(inf) - F_on(age)) / (F(inf) - F(age)),
        shrunk towards the stage's own rate by `PRIOR_SPELLS`."""
        stage_rate = self.real_stays[position].value
        hours, ended_by = self.ended_hours[position]
        index = bisect.bisect_right(hours, age_hours)
        ended_after = (ended_by[-1] if ended_by else 0) - (ended_by[index - 1] if index else 0)
        if ended_after < AGE_NEEDS_ENDED:
            return stage_rate
        curve = self.real_curves[position]
        on_end, out_end, _ = curve.final
        on_age, out_age, _ = curve.at(age_hours)
        remaining = (on_end - on_age) + (out_end - out_age)
        if remaining <= 0:
            return stage_rate
        return shrunk((on_end - on_age) / remaining, ended_after, stage_rate, strength=AGE_PRIOR_SPELLS)


def chain(watches: Sequence[Watch]) -> Chain:
    """Estimate the chain from every stay seen in each stage before the won stage."""
    prior = pipeline_rate(watches)
    real = [watch.real() for watch in watches]
    return Chain(
        stages=tuple(watches),
        prior=prior,
        all_entries=tuple(next_rate(watch, prior) for watch in watches),
        real_stays=tuple(next_rate(watch, prior) for watch in real),
        real_curves=tuple(watch.curve for watch in real),
        ended_hours=tuple(_ended_by_hour(watch) for watch in real),
    )


def _ended_by_hour(watch: Watch) -> tuple[tuple[int, ...], tuple[int, ...]]:
    counts: dict[int, int] = defaultdict(int)
    for stay in watch.exits:
        if stay.outcome != Outcome.OPEN:
            counts[stay.hours] += stay.count
    hours = tuple(sorted(counts))
    return hours, tuple(itertools.accumulate(counts[hour] for hour in hours))


def _product(values: Iterable[float | None]) -> float | None:
    result = 1.0
    for value in values:
        if value is None:
            return None
        result *= value
    return result


@dataclass(frozen=True)
class OpenDeals:
    """`count` open deals in one stage that have sat there `age_days` whole days, worth `value_cents`."""

    stage_key: str
    age_days: int
    count: int
    value_cents: int


@dataclass(frozen=True)
class CloseTimes:
    """For deals won in the window: how many days after entering a stage they were won, per stage."""

    days_by_stage: Mapping[str, Mapping[int, int]] = field(default_factory=dict)

    def soon_share(self, stage_key: str, age_days: int, within_days: int = SOON_DAYS) -> float:
        """Of the deals won that had sat in the stage at least `age_days`, the share won within
        `within_days` more; 0 when no deal won after sitting there that long."""
        days, counts = self._cumulative.get(stage_key, ((), ()))
        total = counts[-1] if counts else 0

        def won_before(day: int) -> int:
            index = bisect.bisect_left(days, day)
            return counts[index - 1] if index else 0

        later = total - won_before(age_days)
        soon = won_before(age_days + within_days) - won_before(age_days)
        return soon / later if later else 0.0

    @cached_property
    def _cumulative(self) -> dict[str, tuple[list[int], list[int]]]:
        """Per stage, the days in ascending order and the running count of wins up to each."""
        result = {}
        for stage_key, by_day in self.days_by_stage.items():
            days = sorted(by_day)
            result[stage_key] = (days, list(itertools.accumulate(by_day[day] for day in days)))
        return result


@dataclass(frozen=True)
class StageOutlook:
    stage_key: str
    open_deals: int
    open_value_cents: int
    expected_wins: float
    expected_value_cents: float


@dataclass(frozen=True)
class Outlook:
    expected_wins: float
    expected_value_cents: float
    low: int
    high: int
    soon_wins: float
    soon_value_cents: float
    stages: tuple[StageOutlook, ...]


def outlook(
    estimate: Chain, open_deals: Sequence[OpenDeals], close_times: CloseTimes, *, soon_days: int = SOON_DAYS
) -> Outlook:
    """Expected wins and value from the open deals, with the 80% interval and the part expected soon."""
    positions = {stage.stage_key: index for index, stage in enumerate(estimate.stages)}
    per_stage: dict[str, list[float]] = {stage.stage_key: [0, 0, 0.0, 0.0] for stage in estimate.stages}
    trials: list[tuple[int, float]] = []
    soon_wins = soon_value = 0.0
    for group in open_deals:
        position = positions.get(group.stage_key)
        if position is None:
            continue
        probability = estimate.win_probability(position, group.age_days * 24)
        totals = per_stage[group.stage_key]
        totals[0] += group.count
        totals[1] += group.value_cents
        totals[2] += group.count * probability
        totals[3] += group.value_cents * probability
        trials.append((group.count, probability))
        share = close_times.soon_share(group.stage_key, group.age_days, soon_days)
        soon_wins += group.count * probability * share
        soon_value += group.value_cents * probability * share
    low, high = wins_interval(trials)
    stages = tuple(
        StageOutlook(key, int(total[0]), int(total[1]), total[2], total[3]) for key, total in per_stage.items()
    )
    return Outlook(
        expected_wins=sum(stage.expected_wins for stage in stages),
        expected_value_cents=sum(stage.expected_value_cents for stage in stages),
        low=low,
        high=high,
        soon_wins=soon_wins,
        soon_value_cents=soon_value,
        stages=stages,
    )


def wins_interval(trials: Sequence[tuple[int, float]], quantiles: tuple[float, float] = INTERVAL) -> tuple[int, int]:
    """The quantiles of the number of successes among independent trials, `count` of them at each
    probability: the exact Poisson-binomial distribution, by convolving one binomial per group."""
    distribution = numpy.ones(1)
    offset = 0
    for count, probability in trials:
        if count == 0 or probability <= 0:
            continue
        if probability >= 1:
            offset += count
            continue
        distribution = numpy.convolve(distribution, _binomial(count, probability))
        distribution, trimmed = _trim(distribution)
        offset += trimmed
    cumulative = numpy.cumsum(distribution) / distribution.sum()
    low = int(numpy.searchsorted(cumulative, quantiles[0] - 1e-12))
    high = int(numpy.searchsorted(cumulative, quantiles[1] - 1e-12))
    return offset + low, offset + high


def _binomial(count: int, probability: float) -> numpy.ndarray:
    k = numpy.arange(count + 1)
    log_choose = numpy.array([math.lgamma(count + 1) - math.lgamma(i + 1) - math.lgamma(count - i + 1) for i in k])
    return numpy.exp(log_choose + k * math.log(probability) + (count - k) * math.log1p(-probability))


def _trim(distribution: numpy.ndarray, tail: float = 1e-13) -> tuple[numpy.ndarray, int]:
    """Drop the negligible ends of a distribution; returns it and how many values were cut at the start."""
    significant = numpy.nonzero(distribution > tail * distribution.max())[0]
    first, last = int(significant[0]), int(significant[-1])
    return distribution[first : last + 1], first


def _last_at_or_before(values: Sequence[int], limit: float) -> int:
    return bisect.bisect_right(values, limit) - 1
