"""Simulated pipelines with known stage probabilities and times in stage: the ground truth for the forecast backtest.

A deal is created at the first stage of the default pipeline. At the end of each stay in a stage before
the won stage it either moves forward, with the shape's probability `forward[k]`, or is lost. Of the
forward moves, the share `skip` jumps two stages instead of one (never past the won stage). How long a
stay lasts is drawn from a lognormal distribution whose mean depends on the stage and, optionally, on
how the stay ends (`lost_stay_days`: lost deals may linger). A won deal later moves on to
implementation-started and then live; those stages play no part in the forecast.

Everything is deterministic per (shape, seed): one `random.Random` drives the whole history, which
runs to completion (every deal ends won or lost) so that what happens after `as_of` is known. Only
the standard library is used.

The truth (`true_win_probability`) is the probability that a deal sitting in a stage (a real stay,
not a skip) is eventually won; it follows from the shape alone:

    W(won) = 1,   W(k) = forward[k] * ((1 - s_k) * W(k + 1) + s_k * W(k + 2)),

where s_k is the skip share, or 0 when a skip would pass the won stage. It does not depend on the
time already spent in the stage unless lost stays last longer than forward ones; `age_aware_win_probability`
gives the conditional probability then (what an oracle that also knows the time distributions would say).
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from commands.pipeline.loading import default_pipeline

SECONDS_PER_DAY = 86_400
# Every stay lasts at least an hour, so a deal's entries are strictly increasing at one-second resolution.
MIN_STAY_SECONDS = 3_600

COMPANIES = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Vandelay",
    "Wonka",
    "Oscorp",
    "Pied Piper",
    "Massive Dynamic",
)
OFFERS = ("platform licence", "renewal", "expansion", "pilot", "enterprise plan", "team plan")
OWNERS = tuple(f"U0SIM{n:03d}" for n in range(1, 11))
CHANNELS = tuple(f"C0SIM{n:03d}" for n in range(1, 5))
LOST_REASONS = ("No budget this year", "Chose a competitor", "Project cancelled", "Went silent")


@cache
def stage_keys() -> tuple[str, ...]:
    """The default pipeline's stage keys, in order."""
    return default_pipeline().keys


@cache
def won_position() -> int:
    """Position of the won stage (contract-signed) in `stage_keys()`."""
    return next(position for position, stage in enumerate(default_pipeline().stages) if stage.won)


def open_stage_keys() -> tuple[str, ...]:
    """The stages before the won stage: where a deal can be open, and what the forecast weighs."""
    return stage_keys()[: won_position()]


@dataclass(frozen=True)
class StayTime:
    """A lognormal stay, given by its mean in days and the sigma of its logarithm (at least an hour)."""

    mean_days: float
    sigma: float

    @property
    def mu(self) -> float:
        return math.log(self.mean_days) - self.sigma**2 / 2

    def sample_seconds(self, rng: random.Random) -> int:
        days = rng.lognormvariate(self.mu, self.sigma)
        return max(MIN_STAY_SECONDS, round(days * SECONDS_PER_DAY))

    def survival(self, seconds: float) -> float:
        """P(the stay lasts longer than `seconds`)."""
        if seconds < MIN_STAY_SECONDS:
            return 1.0
        days = seconds / SECONDS_PER_DAY
        return 0.5 * math.erfc((math.log(days) - self.mu) / (self.sigma * math.sqrt(2)))


@dataclass(frozen=True)
class Shape:
    """How a simulated pipeline behaves. Per-stage tuples cover the stages before the won stage, in order."""

    name: str
    description: str
    arrivals_per_day: float
    forward: tuple[float, ...]
    stay_days: tuple[float, ...]
    lost_stay_days: tuple[float, ...] | None = None
    skip: float = 0.0
    stay_sigma: float = 0.8
    implementation_days: float = 14.0
    live_days: float = 45.0
    history_days: int | None = None
    """Days of history this shape needs before the forecast date (None: the run's default)."""

    def __post_init__(self) -> None:
        stages = won_position()
        for field_name in ("forward", "stay_days"):
            if len(getattr(self, field_name)) != stages:
                raise ValueError(f"{self.name}: {field_name} needs {stages} values, one per stage before won")
        if self.lost_stay_days is not None and len(self.lost_stay_days) != stages:
            raise ValueError(f"{self.name}: lost_stay_days needs {stages} values")
        if not all(0.0 <= p < 1.0 for p in self.forward) or not 0.0 <= self.skip < 1.0:
            raise ValueError(f"{self.name}: probabilities must lie in [0, 1)")
        if self.arrivals_per_day <= 0 or min(self.stay_days) <= 0 or min(self.lost_stay_days or (1.0,)) <= 0:
            raise ValueError(f"{self.name}: rates and stays must be positive")

    def forward_stay(self, position: int) -> StayTime:
        return StayTime(self.stay_days[position], self.stay_sigma)

    def lost_stay(self, position: int) -> StayTime:
        days = self.lost_stay_days[position] if self.lost_stay_days is not None else self.stay_days[position]
        return StayTime(days, self.stay_sigma)

    def skip_share(self, position: int) -> float:
        """Of the forward moves out of `position`, the share that jumps two stages (never past won)."""
        return self.skip if position + 2 <= won_position() else 0.0


SHAPES: dict[str, Shape] = {
    shape.name: shape
    for shape in (
        Shape(
            name="steady",
            description="5 new deals a day, one to three weeks per stage, about 10% won from the first stage",
            arrivals_per_day=5.0,
            forward=(0.45, 0.55, 0.60, 0.70),
            stay_days=(10.0, 14.0, 18.0, 12.0),
            skip=0.02,
        ),
        Shape(
            name="slow",
            description="five to six months from first meeting to signature, longer than the 90-day window",
            arrivals_per_day=5.0,
            forward=(0.50, 0.55, 0.60, 0.70),
            stay_days=(30.0, 40.0, 50.0, 35.0),
            skip=0.02,
        ),
        Shape(
            name="glacial",
            description="every stay longer than the 90-day window (100 to 150 days), over a year to close",
            arrivals_per_day=8.0,
            forward=(0.50, 0.55, 0.60, 0.70),
            stay_days=(100.0, 120.0, 150.0, 110.0),
            skip=0.02,
            history_days=1100,  # three years imported from the CRM: a shorter history is not in equilibrium yet
        ),
        Shape(
            name="lingering-losses",
            description="as steady, but lost deals sit twice as long as those that move on",
            arrivals_per_day=5.0,
            forward=(0.45, 0.55, 0.60, 0.70),
            stay_days=(10.0, 14.0, 18.0, 12.0),
            lost_stay_days=(20.0, 28.0, 36.0, 24.0),
            skip=0.02,
        ),
        Shape(
            name="skips",
            description="as steady, but 15% of forward moves jump a stage",
            arrivals_per_day=5.0,
            forward=(0.45, 0.55, 0.60, 0.70),
            stay_days=(10.0, 14.0, 18.0, 12.0),
            skip=0.15,
        ),
    )
}


def true_win_probability(shape: Shape, stage_key: str) -> float:
    """P(a deal in a real stay at `stage_key` is eventually won), from the shape alone."""
    keys = stage_keys()
    position = keys.index(stage_key)
    won = won_position()
    if position >= won:
        return 1.0
    wins = [0.0] * (won + 1)
    wins[won] = 1.0
    for k in range(won - 1, -1, -1):
        skip = shape.skip_share(k)
        wins[k] = shape.forward[k] * ((1 - skip) * wins[k + 1] + skip * (wins[k + 2] if skip else 0.0))
    return wins[position]


def true_win_probabilities(shape: Shape) -> dict[str, float]:
    """`true_win_probability` for every stage before the won stage."""
    return {key: true_win_probability(shape, key) for key in open_stage_keys()}


def age_aware_win_probability(shape: Shape, stage_key: str, seconds_in_stage: float) -> float:
    """P(won | in a real stay at `stage_key` for `seconds_in_stage` so far): the truth given the deal's age.

    Equals `true_win_probability` when lost and forward stays share one distribution."""
    position = stage_keys().index(stage_key)
    if position >= won_position():
        return 1.0
    p = shape.forward[position]
    if p == 0.0:
        return 0.0
    forward_alive = p * shape.forward_stay(position).survival(seconds_in_stage)
    lost_alive = (1 - p) * shape.lost_stay(position).survival(seconds_in_stage)
    if forward_alive + lost_alive == 0.0:
        return 0.0
    return true_win_probability(shape, stage_key) / p * forward_alive / (forward_alive + lost_alive)


@dataclass(frozen=True)
class SimulatedDeal:
    deal_id: str
    name: str
    company: str
    value: str
    owner: str
    channel: str
    created: datetime
    entries: tuple[tuple[str, datetime], ...]
    lost_at: datetime | None
    lost_reason: str | None

    def stage_before(self, moment: datetime) -> tuple[str, datetime] | None:
        """The last stage entered strictly before `moment`, with when (None if the deal did not exist yet)."""
        found = None
        for key, entered_at in self.entries:
            if entered_at >= moment:
                break
            found = (key, entered_at)
        return found

    @property
    def won_at(self) -> datetime | None:
        won_key = stage_keys()[won_position()]
        return next((at for key, at in self.entries if key == won_key), None)

    def is_open_at(self, moment: datetime) -> bool:
        """Known at `moment` (everything strictly before it) to exist, not lost and not yet won."""
        if self.created >= moment or (self.lost_at is not None and self.lost_at < moment):
            return False
        won_at = self.won_at
        return won_at is None or won_at >= moment


@dataclass(frozen=True)
class OpenDeal:
    deal_id: str
    stage_key: str
    entered_at: datetime
    won: bool


@dataclass(frozen=True)
class Simulation:
    shape: Shape
    seed: int
    as_of: datetime
    history_days: int
    deals: tuple[SimulatedDeal, ...]

    def open_at(self, moment: datetime) -> list[OpenDeal]:
        """The deals open at `moment` (not lost, not yet won), each with the stage it is in."""
        found: list[OpenDeal] = []
        for deal in self.deals:
            if deal.is_open_at(moment):
                stage = deal.stage_before(moment)
                assert stage is not None
                found.append(OpenDeal(deal.deal_id, stage[0], stage[1], deal.won_at is not None))
        return found

    def realised_wins(self, moment: datetime) -> int:
        """How many of the deals open at `moment` eventually reach the won stage."""
        return sum(deal.won for deal in self.open_at(moment))

    def oracle_forecast(self, moment: datetime) -> float:
        """Expected wins among the deals open at `moment`, knowing the true win probability of each stage."""
        return sum(true_win_probability(self.shape, deal.stage_key) for deal in self.open_at(moment))

    def age_aware_oracle_forecast(self, moment: datetime) -> float:
        """Expected wins knowing the true rates and time distributions, and each deal's time in its stage."""
        return sum(
            age_aware_win_probability(self.shape, deal.stage_key, (moment - deal.entered_at).total_seconds())
            for deal in self.open_at(moment)
        )

    def complete_data_forecast(self, moment: datetime, lookback_days: int) -> float:
        """What the digest's estimator would forecast if it could see how every stay that began in the
        look-back ended, even after `moment` (no censoring): the best a forecast built from that much
        history can do; its error beside the oracle's is the part no estimator removes."""
        keys = open_stage_keys()
        start = moment - timedelta(days=lookback_days)
        passed = {key: [0, 0, 0, 0] for key in keys}  # all entries: passed, total; real stays: passed, total
        for deal in self.deals:
            for key, real, moved_on, entered_at in _stays_of(deal):
                if key in passed and start <= entered_at < moment:
                    counts = passed[key]
                    counts[0] += moved_on
                    counts[1] += 1
                    if real:
                        counts[2] += moved_on
                        counts[3] += 1

        def rate(key: str, real: bool) -> float:
            counts = passed[key]
            on, total = (counts[2], counts[3]) if real else (counts[0], counts[1])
            return on / total if total else 0.0

        total = 0.0
        for open_deal in self.open_at(moment):
            position = keys.index(open_deal.stage_key)
            chance = rate(open_deal.stage_key, real=True)
            for later in keys[position + 1 :]:
                chance *= rate(later, real=False)
            total += chance
        return total

    def stays(self) -> dict[str, tuple[int, int]]:
        """Per stage before won: (real stays over the whole history, how many of those deals were won)."""
        counts = {key: [0, 0] for key in open_stage_keys()}
        for deal in self.deals:
            won = deal.won_at is not None
            for key, _ in deal.entries:
                if key in counts:
                    counts[key][0] += 1
                    counts[key][1] += won
        return {key: (stays, wins) for key, (stays, wins) in counts.items()}


def _stays_of(deal: SimulatedDeal) -> list[tuple[str, bool, bool, datetime]]:
    """Each stay of the deal as (stage, real rather than skipped, moved on, entered at), to its end."""
    keys = stage_keys()
    found = []
    for index, (key, entered_at) in enumerate(deal.entries):
        following = deal.entries[index + 1] if index + 1 < len(deal.entries) else None
        found.append((key, True, following is not None, entered_at))
        if following is not None:
            for skipped in keys[keys.index(key) + 1 : keys.index(following[0])]:
                found.append((skipped, False, True, following[1]))
    return found


def simulate(shape: Shape, seed: int, as_of: datetime, history_days: int) -> Simulation:
    """Deals created over [as_of - history_days, as_of) by a Poisson process, each followed to its end.
    A shape that names its own history length uses that instead."""
    history_days = shape.history_days or history_days
    if as_of.tzinfo is None:
        raise ValueError("as_of must carry a time zone")
    rng = random.Random(f"{shape.name}:{seed}")
    start = as_of - timedelta(days=history_days)
    span = history_days * SECONDS_PER_DAY
    deals: list[SimulatedDeal] = []
    offset = 0.0
    while True:
        offset += rng.expovariate(shape.arrivals_per_day) * SECONDS_PER_DAY
        if round(offset) >= span:
            break
        deals.append(_deal(rng, shape, number=len(deals) + 1, created=start + timedelta(seconds=round(offset))))
    return Simulation(shape=shape, seed=seed, as_of=as_of, history_days=history_days, deals=tuple(deals))


def _deal(rng: random.Random, shape: Shape, *, number: int, created: datetime) -> SimulatedDeal:
    keys = stage_keys()
    won = won_position()
    company = rng.choice(COMPANIES)
    cents = rng.randrange(100_000, 10_000_001)
    value = f"{cents // 100}" if rng.random() < 0.5 else f"{cents // 100}.{cents % 100:02d}"
    owner = rng.choice(OWNERS)
    channel = rng.choice(CHANNELS) if rng.random() < 0.6 else ""
    entries = [(keys[0], created)]
    position, at = 0, created
    lost_at = None
    while position < won:
        if rng.random() < shape.forward[position]:
            at += timedelta(seconds=shape.forward_stay(position).sample_seconds(rng))
            position += 2 if rng.random() < shape.skip_share(position) else 1
            entries.append((keys[position], at))
        else:
            lost_at = at + timedelta(seconds=shape.lost_stay(position).sample_seconds(rng))
            break
    if lost_at is None:
        for key, mean_days in zip(keys[won + 1 : won + 3], (shape.implementation_days, shape.live_days), strict=False):
            at += timedelta(seconds=StayTime(mean_days, shape.stay_sigma).sample_seconds(rng))
            entries.append((key, at))
    return SimulatedDeal(
        deal_id=f"SIM-{number:06d}",
        name=f"{company} {rng.choice(OFFERS)}",
        company=company,
        value=value,
        owner=owner,
        channel=channel,
        created=created,
        entries=tuple(entries),
        lost_at=lost_at,
        lost_reason=rng.choice(LOST_REASONS) if lost_at is not None else None,
    )


def csv_header() -> list[str]:
    fixed = ["id", "name", "company", "value", "owner", "channel", "created", "lost", "lost_reason"]
    return fixed + [f"entered {key}" for key in stage_keys()]


def csv_rows(simulation: Simulation, as_of: datetime) -> list[list[str]]:
    """The import file's rows: only what was known at `as_of` (every time strictly before it)."""
    rows: list[list[str]] = []
    for deal in simulation.deals:
        if deal.created >= as_of:
            continue
        entered = {key: at for key, at in deal.entries if at < as_of}
        lost = deal.lost_at is not None and deal.lost_at < as_of
        rows.append(
            [
                deal.deal_id,
                deal.name,
                deal.company,
                deal.value,
                deal.owner,
                deal.channel,
                _iso(deal.created),
                _iso(deal.lost_at) if lost and deal.lost_at is not None else "",
                (deal.lost_reason or "") if lost else "",
                *(_iso(entered[key]) if key in entered else "" for key in stage_keys()),
            ]
        )
    return rows


def write_csv(simulation: Simulation, path: Path | str, as_of: datetime) -> int:
    """Write the import file for `as_of`; returns the number of deals written."""
    rows = csv_rows(simulation, as_of)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(csv_header())
        writer.writerows(rows)
    return len(rows)


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def shapes_named(names: Sequence[str]) -> list[Shape]:
    unknown = [name for name in names if name not in SHAPES]
    if unknown:
        raise ValueError(f"unknown shape(s) {', '.join(unknown)}; known: {', '.join(SHAPES)}")
    return [SHAPES[name] for name in names]
