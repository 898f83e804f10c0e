"""The moves a rep may ask for on a deal, for a form to offer: the forward stages from where the deal is.

A form offers only what the typed command would accept: the deal is open, the person owns it or is a manager,
no move of it is waiting, and a skip enters at most as many stages as a request may carry evidence links (one
link per stage entered). Moving backwards stays typed (`/advance … to:<key> note:<why>`).
"""

from dataclasses import dataclass

from commands.deals.deal import find_deal, require_owner_or_manager
from commands.deals.moves import MOVE_IT, current_stage, last_stage, require_no_pending, require_open
from commands.errors import CommandError
from commands.i18n.translator import tr
from commands.pipeline.stages import Pipeline, Stage
from commands.services import Actor, Services
from commands.text_rules import EVIDENCE_COUNT_LIMIT


@dataclass(frozen=True)
class MoveOptions:
    """`targets`: the stages the deal may be asked to move to, nearest first (none at the last stage)."""

    deal_number: int
    deal_name: str
    current: Stage
    targets: tuple[Stage, ...]

    def target(self, key: str | None) -> Stage | None:
        """The target named `key`, the next stage when `key` is None, None when `key` is not a forward target."""
        if key is None:
            return self.targets[0] if self.targets else None
        return next((stage for stage in self.targets if stage.is_called(key)), None)

    def entered(self, target: Stage) -> tuple[Stage, ...]:
        """The stages a move to `target` enters, in order: each needs its own evidence."""
        return self.targets[: self.targets.index(target) + 1]


def forward_targets(pipeline: Pipeline, from_key: str) -> tuple[Stage, ...]:
    """The stages after `from_key` a request may move to: as far as EVIDENCE_COUNT_LIMIT stages ahead."""
    start = pipeline.index(from_key) + 1
    return pipeline.stages[start : start + EVIDENCE_COUNT_LIMIT]


def move_options(services: Services, actor: Actor, *, deal_number: int) -> MoveOptions:
    """What a form may offer for the deal, refused as `request_move` would refuse any move of it."""
    with services.sessions() as session:
        deal = find_deal(session, actor, deal_number)
        require_owner_or_manager(session, services, actor, deal, doing=MOVE_IT)
        require_open(deal)
        current = current_stage(services.pipeline, deal)
        require_no_pending(session, deal)
        return MoveOptions(deal.number, deal.name, current, forward_targets(services.pipeline, current.key))


def require_target(options: MoveOptions) -> None:
    """Refuse a form for a deal at the last stage: there is nowhere forward to move it."""
    if not options.targets:
        raise last_stage(options.deal_number, options.current)


def options_at(pipeline: Pipeline, *, deal_number: int, deal_name: str, from_key: str) -> MoveOptions:
    """The options a form opened at `from_key` offered (to rebuild it without reading the database); refused when
    the pipeline no longer has that stage or nothing follows it."""
    current = pipeline.find(from_key)
    targets = forward_targets(pipeline, current.key) if current is not None else ()
    if current is None or not targets:
        raise CommandError(tr("This form is out of date. Close it and open it again."))
    return MoveOptions(deal_number, deal_name, current, targets)
