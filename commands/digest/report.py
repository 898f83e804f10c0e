"""The digest as plain values: one computation, rendered to Slack, JSON and text."""

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from commands.deals.evidence import Evidence
from commands.digest.estimators import THIN_SPELLS
from commands.pipeline.stages import Stage

T = TypeVar("T")


@dataclass(frozen=True)
class Period:
    """A half-open span of time [start, end), as UTC instants, read in the zone `tz`."""

    start: datetime
    end: datetime
    tz: str


@dataclass(frozen=True)
class Listing(Generic[T]):
    """The first items of a list, and how many there are in all (for "and N more")."""

    items: tuple[T, ...]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass(frozen=True)
class Total:
    deals: int
    value_cents: int


@dataclass(frozen=True)
class Change:
    """Now minus then: how much the deals and their value grew (negative: shrank) since `Digest.week_earlier`."""

    deals: int
    value_cents: int


@dataclass(frozen=True)
class StageTotal:
    stage: Stage
    deals: int
    value_cents: int
    change: Change | None = None
    """Since `Digest.week_earlier`; None where no comparison was made (the board)."""


@dataclass(frozen=True)
class StageGroup:
    """The open deals in a run of stages, with their totals: the pipeline (the stages before the won stage) or
    the customers (the won stage and every stage after it)."""

    stages: tuple[StageTotal, ...]

    @property
    def deals(self) -> int:
        return sum(total.deals for total in self.stages)

    @property
    def value_cents(self) -> int:
        return sum(total.value_cents for total in self.stages)

    @property
    def change(self) -> Change | None:
        changes = [total.change for total in self.stages]
        if any(change is None for change in changes):
            return None
        return Change(
            sum(change.deals for change in changes if change), sum(change.value_cents for change in changes if change)
        )


@dataclass(frozen=True)
class Transition:
    """How many moves in the period went from one stage to another. `kind` is `forward` (to the next stage),
    `skip` (an approved move forward over at least one stage) or `back` (a move back, or an approved move to
    an earlier stage)."""

    from_stage: Stage
    to_stage: Stage
    kind: str
    moves: int


@dataclass(frozen=True)
class LostReason:
    """Deals lost in the period for one reason. Reasons are grouped as written, ignoring case and runs of
    whitespace (`No  Budget ` and `no budget` are one reason, shown as `no budget`); an empty reason reads
    `(no reason given)`."""

    reason: str
    deals: int
    value_cents: int


@dataclass(frozen=True)
class MoveLine:
    deal_number: int
    deal_name: str
    from_stage: Stage
    to_stage: Stage
    requested_by: str
    decided_by: str | None
    """Who decided it: the manager who rejected it, or the last to approve it; None when the pipeline approved it."""
    at: datetime
    evidence: tuple[Evidence, ...]
    reason: str | None
    approved_by: tuple[str, ...] = ()
    """Every manager who approved an approved move, first first; empty when the pipeline approved it (its stage
    needs no approval). Unused for a rejected move."""
    value_cents: int | None = None
    """The deal's value."""


@dataclass(frozen=True)
class NotableMove:
    """A move a manager should look at, and why: `largest` (among the largest by the deal's value), `skip`
    (it jumped over a stage) or `back` (it went to an earlier stage)."""

    move: MoveLine
    why: tuple[str, ...]


@dataclass(frozen=True)
class DealLine:
    deal_number: int
    deal_name: str
    owner_id: str
    stage: Stage
    value_cents: int | None
    at: datetime
    reason: str | None


@dataclass(frozen=True)
class PendingLine:
    deal_number: int
    deal_name: str
    to_stage: Stage
    requested_by: str
    requested_at: datetime
    channel_id: str
    message_ts: str | None
    thread_ts: str | None


@dataclass(frozen=True)
class SnoozeNote:
    """A stalled deal's nudges snoozed at `as_of`: until when, by whom, and why (`commands.deals.snooze`)."""

    until: datetime
    snoozed_by: str
    reason: str


@dataclass(frozen=True)
class StalledLine:
    deal_number: int
    deal_name: str
    owner_id: str
    stage: Stage
    entered_at: datetime
    days_in_stage: int
    stall_after_days: int
    value_cents: int | None
    snooze: SnoozeNote | None = None


@dataclass(frozen=True)
class OwnerStalls:
    """One owner's stalled deals, pipeline and onboarding together. `deals` counts every one of them, snoozed or
    not (a snooze stops the nudges, it does not end the stall); `snoozed` is how many of those `deals` have a
    snooze running at `as_of`; `oldest` is the one longest in its stage (the earliest entry into its current
    stage; the lower deal number on a tie), with its snooze if it has one."""

    owner_id: str
    deals: int
    snoozed: int
    oldest: StalledLine


@dataclass(frozen=True)
class Stalled:
    """The stalled deals at `as_of` (`commands.digest.stalled`; the last stage never stalls), split in two, each
    oldest first with its own count: `pipeline` (stages before the won stage) and `onboarding` (the won stage
    and the stages after it, but the last). `by_owner` groups both per owner, owners with the most stalled deals
    first (then the one whose oldest deal entered its stage first, then by owner id); its `total` counts the
    owners."""

    pipeline: Listing[StalledLine]
    onboarding: Listing[StalledLine]
    by_owner: Listing[OwnerStalls]

    @property
    def total(self) -> int:
        """Every stalled deal: the pipeline's and onboarding's."""
        return self.pipeline.total + self.onboarding.total


@dataclass(frozen=True)
class Conversion:
    """The stays that entered a stage in a window, as they stood at the window's end, and what they say.

    `commands.digest.estimators` defines each rate; in short: `next_rate` is the probability that a stay in
    the stage ends by moving on rather than dropping out, from every stay seen in the stage during the
    window (open ones are censored, not failures), shrunk towards the pipeline-wide rate when few
    stays ended; `won_rate` is the probability that a deal sitting in the stage is eventually won (before
    the won stage only); `median_days` is the Kaplan-Meier median stay.
    """

    entered: int
    moved_on: int
    skipped: int
    dropped_out: int
    lost: int
    moved_back: int
    still_open: int
    next_rate: float | None
    next_rate_raw: float | None
    rate_basis: int
    """The ended stays the rate rests on: every stay in the stage during the window, not only those that began in it."""
    won_rate: float | None
    median_days: float | None
    watched_days: float
    """The longest any of these stays has been watched: a median of None means "more than this"."""

    @property
    def ended(self) -> int:
        return self.moved_on + self.dropped_out

    @property
    def thin(self) -> bool:
        """Fewer than `THIN_SPELLS` ended stays behind the rate: it leans on the pipeline-wide rate."""
        return self.rate_basis < THIN_SPELLS


@dataclass(frozen=True)
class StageConversion:
    stage: Stage
    current: Conversion
    previous: Conversion
    worst: bool


@dataclass(frozen=True)
class RateFactor:
    """One factor of a win probability: a stage's next-stage rate and the ended stays behind it."""

    stage: Stage
    rate: float | None
    ended: int


@dataclass(frozen=True)
class StageForecast:
    """The open deals in one stage before the win, and what they are expected to bring.

    `won_rate` is the probability that a deal that has just entered the stage is eventually won (the
    product of `factors`); `expected_wins` also weighs how long each open deal has already sat there.
    `basis` is the fewest ended stays behind any factor."""

    stage: Stage
    open_deals: int
    open_value_cents: int
    won_rate: float | None
    basis: int
    factors: tuple[RateFactor, ...]
    expected_wins: float
    expected_value_cents: int

    @property
    def thin(self) -> bool:
        return self.basis < THIN_SPELLS


@dataclass(frozen=True)
class ForecastReason:
    """One part of the forecast's change since `Digest.week_earlier` (see `commands.digest.changes`)."""

    reason: str
    """`new` (deals created since), `won`, `lost`, `moved` (to another stage before the win, forward or back, or
    back from a customer stage), `time` (deals still in the same stay, a week older) or `rates` (the same deals
    of a week earlier, read with this week's rates instead of that week's)."""
    deals: int
    expected_wins: float
    expected_value_cents: int


@dataclass(frozen=True)
class ForecastChange:
    """This forecast minus the forecast of a week earlier (the open deals then, with the rates read then);
    `reasons` add up to it."""

    expected_wins: float
    expected_value_cents: int
    reasons: tuple[ForecastReason, ...]


@dataclass(frozen=True)
class Forecast:
    """Expected wins and value from the deals open before the win (see `commands.digest.estimators`).

    `wins_low`..`wins_high` is the 80% interval of the number of wins; `soon_*` the part expected
    within `soon_days`; `basis` the deals that entered the pipeline in the window."""

    expected_wins: float
    expected_value_cents: int
    wins_low: int
    wins_high: int
    soon_days: int
    soon_wins: float
    soon_value_cents: int
    open_deals: int
    basis: int
    stages: tuple[StageForecast, ...]
    change: ForecastChange | None = None

    @property
    def enough_history(self) -> bool:
        return not any(stage.thin for stage in self.stages if stage.open_deals)


@dataclass(frozen=True)
class Digest:
    team_id: str
    as_of: datetime
    period: Period
    window_days: int
    by_stage: tuple[StageTotal, ...]
    won_in_period: StageTotal
    lost_in_period: Total
    week_earlier: datetime
    """The moment every `change` compares with (`commands.digest.changes.week_earlier`)."""
    pipeline: StageGroup
    customers: StageGroup
    transitions: tuple[Transition, ...]
    notable_moves: tuple[NotableMove, ...]
    lost_reasons: Listing[LostReason]
    approved: Listing[MoveLine]
    rejected: Listing[MoveLine]
    new_deals: Listing[DealLine]
    lost_deals: Listing[DealLine]
    pending: Listing[PendingLine]
    stalled: Stalled
    conversion: tuple[StageConversion, ...]
    forecast: Forecast
    owner_id: str | None = None
    """The rep whose deals the digest is narrowed to (`compute_digest`'s `owner_id`); None: the whole team."""
    currency: str | None = None
    """The workspace's currency (ISO 4217) its amounts are written in; None: the number alone. Not part of the
    JSON, whose amounts are plain numbers of cents."""

    @property
    def quiet(self) -> bool:
        """Nothing happened in the period: no move (approved or back), no new deal, no lost deal."""
        return not self.transitions and not self.new_deals.total and not self.lost_deals.total

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: stages as their keys, times as ISO 8601 strings."""
        data = _jsonable(asdict(self))
        del data["currency"]
        for name in ("pipeline", "customers"):
            group: StageGroup = getattr(self, name)
            data[name].update(_jsonable(asdict(_GroupTotals(group.deals, group.value_cents, group.change))))
        data["stalled"]["total"] = self.stalled.total
        data["quiet"] = self.quiet
        return data


@dataclass(frozen=True)
class _GroupTotals:
    deals: int
    value_cents: int
    change: Change | None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) >= {"key", "name", "exit_criteria", "evidence_prompt"}:
            return value["key"]
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
