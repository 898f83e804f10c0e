"""The buyer-centric pipeline model: stages named for what the buyer has done.

A stage's exit criteria must be required, factual, inspectable and buyer-centric; the evidence
prompt is what a manager asks to see before a deal may move on. `lost` is not a stage: it is a
terminal state handled elsewhere. Reading a pipeline from a YAML file lives in
`commands.pipeline.loading`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_STALL_AFTER_DAYS = 14
RESERVED_KEYS = ("lost",)
KEY_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class Approval(StrEnum):
    """Who must approve a move into a stage: nobody (it happens at once), one manager, or two different ones."""

    NONE = "none"
    ONE = "one"
    TWO = "two"

    @property
    def needed(self) -> int:
        return {Approval.NONE: 0, Approval.ONE: 1, Approval.TWO: 2}[self]


@dataclass(frozen=True)
class Stage:
    key: str
    name: str
    exit_criteria: tuple[str, ...]
    evidence_prompt: str
    stall_after_days: int = DEFAULT_STALL_AFTER_DAYS
    won: bool = False
    approval: Approval = Approval.ONE

    def __post_init__(self) -> None:
        if not KEY_PATTERN.fullmatch(self.key) or self.key in RESERVED_KEYS:
            raise ValueError(f"invalid stage key {self.key!r}")
        if not self.name.strip() or not self.evidence_prompt.strip():
            raise ValueError(f"stage {self.key!r} needs a name and an evidence prompt")
        if not self.exit_criteria or not all(criterion.strip() for criterion in self.exit_criteria):
            raise ValueError(f"stage {self.key!r} needs non-empty exit criteria")
        if isinstance(self.stall_after_days, bool) or self.stall_after_days < 1:
            raise ValueError(f"stage {self.key!r}: stall_after_days must be an integer >= 1")


@dataclass(frozen=True)
class Pipeline:
    stages: tuple[Stage, ...]
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.stages:
            raise ValueError("a pipeline needs at least one stage")
        if len(set(self.keys)) != len(self.keys):
            raise ValueError("stage keys must be unique")
        if sum(stage.won for stage in self.stages) != 1:
            raise ValueError("exactly one stage must be the won stage")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(stage.key for stage in self.stages)

    def find(self, key: str) -> Stage | None:
        wanted = key.strip().lower()
        return next((stage for stage in self.stages if stage.key == wanted), None)

    def stage(self, key: str) -> Stage:
        found = self.find(key)
        if found is None:
            raise KeyError(f"no stage {key!r}; stages are: {', '.join(self.keys)}")
        return found

    def index(self, key: str) -> int:
        return self.stages.index(self.stage(key))

    def first(self) -> Stage:
        return self.stages[0]

    def next_after(self, key: str) -> Stage | None:
        position = self.index(key) + 1
        return self.stages[position] if position < len(self.stages) else None

    def won_stage(self) -> Stage:
        return next(stage for stage in self.stages if stage.won)

    def between(self, from_key: str, to_key: str) -> tuple[Stage, ...]:
        """Stages strictly after `from_key` up to and including `to_key`: what a move would skip past.

        Empty when `to_key` is not after `from_key`.
        """
        return self.stages[self.index(from_key) + 1 : self.index(to_key) + 1]

    def is_after_win(self, key: str) -> bool:
        return self.index(key) > self.index(self.won_stage().key)

    def approvals_needed(self, from_key: str, to_key: str) -> int:
        """How many managers must approve a forward move: the strictest stage it enters (a skip enters several)."""
        return max((stage.approval.needed for stage in self.between(from_key, to_key)), default=1)
