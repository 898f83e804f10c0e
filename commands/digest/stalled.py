"""When a deal is stalled, and how long it has been in its stage: one rule for the digest and the Home tab.

- *Age in stage* at a moment `at`: the whole days (rounded down) from the deal's entry into its current stage
  (its creation, or the approval or move back that brought it there) to `at`.
- A deal open at `at` is *stalled* when it entered its stage before that stage's cutoff, `at` minus the stage's
  `stall_after_days`: its time in stage is strictly longer than `stall_after_days` days. A deal exactly
  `stall_after_days` days in its stage is not stalled yet; its age then reads `stall_after_days`, and so does
  its age in the day after, while it is stalled.
- The last stage of the pipeline (e.g. "Live") never stalls: it is where a deal is meant to stay, whatever its
  `stall_after_days`. Every other stage may, with its own `stall_after_days`: the won stage too (e.g. "Contract
  signed": onboarding that does not start is worth a line), and the stages after it.
- Which stages are watched is the reader's: the digest watches `stall_watched` (every stage but the last),
  split into the pipeline (`before_win`) and onboarding (`onboarding`: the won stage and the stages after it,
  but the last); the Home tab and the reminders' nudges only `before_win`, since they list the work left to
  win a deal. A deal in a stage no longer in the pipeline file is never stalled.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from commands.pipeline.stages import Pipeline, Stage


def days_in_stage(entered_at: datetime, at: datetime) -> int:
    return (at - entered_at).days


def stall_cutoff(stage: Stage, at: datetime) -> datetime:
    """A deal that entered `stage` before this moment is stalled at `at`."""
    return at - timedelta(days=stage.stall_after_days)


def before_win(pipeline: Pipeline) -> tuple[Stage, ...]:
    """The stages before the won stage (`Pipeline.is_after_win` is true of none of them, nor is it the won one)."""
    return tuple(stage for stage in pipeline.stages if not stage.won and not pipeline.is_after_win(stage.key))


def onboarding(pipeline: Pipeline) -> tuple[Stage, ...]:
    """The won stage and the stages after it, but the last stage (which never stalls); empty when the won
    stage is the last."""
    return tuple(stage for stage in pipeline.stages[:-1] if stage.won or pipeline.is_after_win(stage.key))


def stall_watched(pipeline: Pipeline) -> tuple[Stage, ...]:
    """Every stage that can stall: all but the last stage of the pipeline."""
    return pipeline.stages[:-1]


def stall_cutoffs(watched: Iterable[Stage], at: datetime) -> dict[str, datetime]:
    """Each watched stage's cutoff at `at`, by stage key (what `storage.spell_queries.stalled_deals` takes)."""
    return {stage.key: stall_cutoff(stage, at) for stage in watched}


def is_stalled(cutoffs: dict[str, datetime], stage_key: str, entered_at: datetime) -> bool:
    """Whether a deal that entered `stage_key` at `entered_at` is stalled, given `stall_cutoffs` of the moment."""
    cutoff = cutoffs.get(stage_key)
    return cutoff is not None and entered_at < cutoff
