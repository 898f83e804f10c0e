"""What the reminder tick finds due, and what a reminder or nudge says when it is delivered."""

from dataclasses import dataclass
from datetime import timedelta

from commands.deals.results import DealSummary, MoveSummary
from commands.pipeline.stages import Stage


@dataclass(frozen=True)
class MoveDue:
    """A pending move whose managers are due a reminder; `deciders` are the managers who may still decide it
    (every manager but its requester and those who approved it already)."""

    team_id: str
    move_id: int
    deal_number: int
    deciders: tuple[str, ...]


@dataclass(frozen=True)
class NudgeDue:
    """A stalled deal whose owner is due a nudge."""

    team_id: str
    deal_id: int
    deal_number: int
    owner_id: str
    stage_key: str


@dataclass(frozen=True)
class DueReminders:
    moves: tuple[MoveDue, ...]
    nudges: tuple[NudgeDue, ...]

    @property
    def people(self) -> frozenset[str]:
        """Everyone a reminder may mention: whose working hours the tick needs to know."""
        return frozenset(user for move in self.moves for user in move.deciders) | {
            nudge.owner_id for nudge in self.nudges
        }


@dataclass(frozen=True)
class MoveReminder:
    """A reminder as delivered: `mention` are the managers it names (those in working hours when it was
    claimed, who may still decide), `waiting` how long the move has waited. Not posted when the move was decided
    in the meantime (`still_waiting` false)."""

    deal: DealSummary
    move: MoveSummary
    mention: tuple[str, ...]
    waiting: timedelta

    @property
    def still_waiting(self) -> bool:
        return self.move.status == "pending" and bool(self.mention)


@dataclass(frozen=True)
class StallNudge:
    """A nudge as delivered: the owner, the stage the deal stalled in, its whole days there, and the stage
    it would move to next (None at the last stage). Not posted when the deal was lost or moved meanwhile."""

    deal: DealSummary
    owner_id: str
    stage: Stage
    days_in_stage: int
    next_stage: Stage | None
    still_stalled: bool
