"""The digest as plain values: one computation, rendered to Slack, JSON and text."""

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from commands.parsing import Evidence
from commands.pipeline import Stage

T = TypeVar("T")

MIN_HISTORY_FOR_FORECAST = 10
"""Below this many deals behind a stage's rate, the forecast says the history is too thin."""


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
class StageTotal:
    stage: Stage
    deals: int
    value_cents: int


@dataclass(frozen=True)
class MoveLine:
    deal_number: int
    deal_name: str
    from_stage: Stage
    to_stage: Stage
    requested_by: str
    decided_by: str
    at: datetime
    evidence: tuple[Evidence, ...]
    reason: str | None


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
class StalledLine:
    deal_number: int
    deal_name: str
    owner_id: str
    stage: Stage
    entered_at: datetime
    days_in_stage: int
    stall_after_days: int
    value_cents: int | None


@dataclass(frozen=True)
class Conversion:
    """Of the deals that entered a stage in a window: how many went on, and how long they stayed."""

    entered: int
    reached_next: int
    reached_won: int
    median_days: float | None

    @property
    def next_rate(self) -> float | None:
        return self.reached_next / self.entered if self.entered else None

    @property
    def won_rate(self) -> float | None:
        return self.reached_won / self.entered if self.entered else None


@dataclass(frozen=True)
class StageConversion:
    stage: Stage
    current: Conversion
    previous: Conversion
    worst: bool


@dataclass(frozen=True)
class StageForecast:
    stage: Stage
    open_deals: int
    open_value_cents: int
    won_rate: float | None
    basis: int

    @property
    def enough_history(self) -> bool:
        return self.basis >= MIN_HISTORY_FOR_FORECAST


@dataclass(frozen=True)
class Forecast:
    expected_wins: float
    expected_value_cents: int
    open_deals: int
    basis: int
    stages: tuple[StageForecast, ...]

    @property
    def enough_history(self) -> bool:
        return all(stage.enough_history for stage in self.stages if stage.open_deals)


@dataclass(frozen=True)
class Digest:
    team_id: str
    as_of: datetime
    period: Period
    window_days: int
    by_stage: tuple[StageTotal, ...]
    won_in_period: StageTotal
    lost_in_period: Total
    approved: Listing[MoveLine]
    rejected: Listing[MoveLine]
    new_deals: Listing[DealLine]
    lost_deals: Listing[DealLine]
    pending: Listing[PendingLine]
    stalled: Listing[StalledLine]
    conversion: tuple[StageConversion, ...]
    forecast: Forecast

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: stages as their keys, times as ISO 8601 strings."""
        return _jsonable(asdict(self))


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
