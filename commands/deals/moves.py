"""Use cases for moving deals: request a move with evidence, decide it, ask for evidence.

A rep's request is stored as pending, and managers other than the requester approve or reject it: as many
different managers as the strictest stage it enters asks for (one by default, two for some stages). A move into
a stage that needs no approval is applied when asked for, still with its evidence. Moving backwards needs a note
instead of approval.

Every use case that changes a deal or its moves locks the deal's row first and only then reads the
move (`/deal lost` does the same), so concurrent changes to one deal queue in one order instead of
deadlocking, and the one that waited sees what the other left.
"""

from dataclasses import dataclass
from datetime import datetime

from babel.lists import format_list
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from commands.deals.deal import find_deal, require_owner_or_manager, summarize_move
from commands.deals.evidence import Evidence
from commands.deals.history import record
from commands.deals.managers import require_manager, team_managers
from commands.deals.results import (
    DealSummary,
    Decision,
    EvidenceAsked,
    MovedBack,
    MoveRequested,
    MoveSummary,
    evidence_to_json,
    stage_or_placeholder,
)
from commands.errors import CommandError
from commands.formats import format_deal_id
from commands.i18n.translator import Translator, tr, tr_n
from commands.inbox.requests import Claim, claim_in
from commands.outbox.owed import owe_announcement, owe_card_of_imported
from commands.pipeline.names import StageCriteria, StageName, StagePrompt
from commands.pipeline.stages import Pipeline, Stage
from commands.services import Actor, Services
from storage import queries
from storage.models import AnnouncementKind, Deal, DealStatus, EventKind, MoveRequest, MoveStatus


@dataclass(frozen=True)
class Advance:
    """A rep's request to move a deal. `from_key` is the stage a form showed the deal at: the request is refused
    if the deal has moved since, so evidence gathered for one stage is never filed under another."""

    deal_number: int
    evidence: tuple[Evidence, ...]
    to_key: str | None
    note: str | None
    from_key: str | None = None


# TRANSLATORS: completes "Only the owner of deal-42 or a sales manager can …"; "it" is the deal.
MOVE_IT = tr("move it")


class AlreadyDecided(CommandError):
    """A second decision on a move; carries the first one so the reply can say who made it (the Slack side
    renders it from `move`; `text` is the short form)."""

    def __init__(self, move: MoveSummary) -> None:
        if move.status == MoveStatus.CANCELLED:
            # Only marking the deal lost cancels a move.
            message = tr("{deal} was marked lost, so this move was cancelled.", deal=format_deal_id(move.deal_number))
        elif move.status == MoveStatus.APPROVED:
            message = tr("This move was already approved.")
        elif move.status == MoveStatus.REJECTED:
            message = tr("This move was already rejected.")
        else:
            message = tr("This move was already decided.")
        super().__init__(message)
        self.move = move


@dataclass(frozen=True)
class StageNames:
    """`Localized`: stages' names as a list in the reader's language (`Qualified, Demo and Proposal`)."""

    stages: tuple[Stage, ...]

    def in_language(self, t: Translator) -> str:
        return format_list([StageName(stage).in_language(t) for stage in self.stages], locale=t.locale)


@dataclass(frozen=True)
class EvidenceWanted:
    """`Localized`: what evidence each stage asks for, `Stage: its prompt; Next stage: its prompt`."""

    stages: tuple[Stage, ...]

    def in_language(self, t: Translator) -> str:
        return "; ".join(
            f"{StageName(stage).in_language(t)}: {StagePrompt(stage).in_language(t)}" for stage in self.stages
        )


@dataclass(frozen=True)
class EvidenceSlots:
    """`Localized`: a skip's `evidence:` options in the usage line, one per stage it enters."""

    stages: tuple[Stage, ...]

    def in_language(self, t: Translator) -> str:
        # TRANSLATORS: one option of a usage line; keep `evidence:`, translate only "link". {key} is a stage's key.
        return " ".join(t("evidence:<{key} link>", key=stage.key) for stage in self.stages)


def request_move(
    services: Services, actor: Actor, command: Advance, *, claim: Claim | None = None
) -> MoveRequested | MovedBack:
    try:
        return _request_move(services, actor, command, claim)
    except IntegrityError:
        # Another request for the same deal was stored between our check and our insert.
        raise CommandError(
            tr(
                "{deal} already has a move waiting for a manager. "
                "It must be approved or rejected before another one is asked for.",
                deal=format_deal_id(command.deal_number),
            )
        ) from None


def _request_move(services: Services, actor: Actor, command: Advance, claim: Claim | None) -> MoveRequested | MovedBack:
    pipeline = services.pipeline
    now = services.clock()
    with services.sessions.begin() as session:
        claim_in(session, claim, now=now)
        deal = find_deal(session, actor, command.deal_number, for_update=True)
        assert deal.id is not None
        require_owner_or_manager(session, services, actor, deal, doing=MOVE_IT)
        require_open(deal)
        current = current_stage(pipeline, deal)
        if command.from_key is not None and command.from_key != current.key:
            raise CommandError(
                tr(
                    "{deal} moved to {stage} since this form was opened, so nothing was asked. "
                    "Close the form and open it again.",
                    deal=format_deal_id(deal.number),
                    stage=StageName(current),
                )
            )
        target = _target_stage(services, deal, current, command)
        require_no_pending(session, deal)
        owe_card_of_imported(session, deal, at=now)
        if pipeline.index(target.key) < pipeline.index(current.key):
            return _move_back(session, services, actor, deal, target, command.note, now)
        entered = pipeline.between(current.key, target.key)
        _require_evidence(deal, current, entered, command)
        move = MoveRequest(
            team_id=actor.team_id,
            deal_id=deal.id,
            requested_by=actor.user_id,
            requested_at=now,
            from_stage=current.key,
            to_stage=target.key,
            evidence=evidence_to_json(command.evidence),
            note=command.note,
            approvals_needed=pipeline.approvals_needed(current.key, target.key),
        )
        session.add(move)
        session.flush()
        record(
            session,
            deal,
            actor,
            services.pipeline,
            kind=EventKind.REQUESTED,
            at=now,
            from_stage=current.key,
            to_stage=target.key,
            evidence=move.evidence,
            note=command.note,
            move_id=move.id,
        )
        owe_announcement(session, deal, kind=AnnouncementKind.MOVE_REQUESTED, subject_id=move.id, at=now)
        if move.approvals_needed == 0:
            _approve_by_policy(session, services, actor, move, deal, now)
        managers = managers_to_ask(session, services, actor) if move.approvals_needed else ()
        return MoveRequested(
            deal=DealSummary.of(deal, pipeline),
            move=summarize_move(session, services, move, deal),
            managers_to_ask=managers,
        )


def _approve_by_policy(
    session: Session, services: Services, actor: Actor, move: MoveRequest, deal: Deal, now: datetime
) -> None:
    """Apply a move whose stages need no manager's approval, recording that the pipeline approved it."""
    _claim(session, services, move, deal, status=MoveStatus.APPROVED, decided_by=None, now=now)
    target = stage_or_placeholder(services.pipeline, move.to_stage)
    record(
        session,
        deal,
        actor,
        services.pipeline,
        kind=EventKind.APPROVED,
        at=now,
        from_stage=move.from_stage,
        to_stage=move.to_stage,
        evidence=move.evidence,
        note=f"Approved by the pipeline: a move to {target.name} needs no manager's approval.",
        move_id=move.id,
    )
    owe_announcement(session, deal, kind=AnnouncementKind.MOVE_DECIDED, subject_id=move.id, at=now)


def decide_move(
    services: Services, actor: Actor, *, move_id: int, approve: bool, reason: str | None = None
) -> Decision:
    """Approve or reject a pending move. A rejection decides it; an approval decides it when it is the last one
    the move needs, else it is recorded and the move stays pending. A decided move raises AlreadyDecided."""
    if not approve and not (reason and reason.strip()):
        raise CommandError(tr("A rejection needs a reason, so the rep knows what evidence is missing."))
    now = services.clock()
    with services.sessions.begin() as session:
        move, deal = _lock_move(session, actor, move_id)
        _require_may_decide(session, services, actor, move, deal)
        if approve and not _approval_completes(session, services, actor, move, deal, now):
            return _approval_recorded(session, services, actor, move, deal, now)
        status = MoveStatus.APPROVED if approve else MoveStatus.REJECTED
        _claim(session, services, move, deal, status=status, decided_by=actor.user_id, now=now, reason=reason)
        record(
            session,
            deal,
            actor,
            services.pipeline,
            kind=EventKind.APPROVED if approve else EventKind.REJECTED,
            at=now,
            from_stage=move.from_stage,
            to_stage=move.to_stage,
            evidence=move.evidence,
            note=move.decision_reason,
            move_id=move.id,
        )
        owe_announcement(session, deal, kind=AnnouncementKind.MOVE_DECIDED, subject_id=move_id, at=now)
        session.flush()
        return Decision(
            deal=DealSummary.of(deal, services.pipeline), move=summarize_move(session, services, move, deal)
        )


def _claim(
    session: Session,
    services: Services,
    move: MoveRequest,
    deal: Deal,
    *,
    status: MoveStatus,
    decided_by: str | None,
    now: datetime,
    reason: str | None = None,
) -> None:
    """Decide the move if it is still pending (the conditional UPDATE is the last word under races), and on
    approval move the deal."""
    assert move.id is not None
    claimed = queries.claim_decision(
        session,
        team_id=move.team_id,
        move_id=move.id,
        status=status,
        decided_by=decided_by,
        decided_at=now,
        reason=reason.strip() if reason else None,
    )
    session.refresh(move)
    if not claimed:
        raise AlreadyDecided(summarize_move(session, services, move, deal))
    if status == MoveStatus.APPROVED:
        deal.stage_key = move.to_stage
        deal.stage_entered_at = now
        session.add(deal)


def _approval_completes(
    session: Session, services: Services, actor: Actor, move: MoveRequest, deal: Deal, now: datetime
) -> bool:
    """Record the actor's approval; True when it is the last one the move needs.

    The deal's row is locked, so approvals of one move are counted one at a time; the unique key on
    (move, approver) refuses a second approval by the same manager even so.
    """
    assert move.id is not None
    before = queries.approvers(session, team_id=actor.team_id, move_ids=[move.id]).get(move.id, ())
    if actor.user_id in before or not queries.add_approval(
        session, team_id=actor.team_id, move_id=move.id, approver_id=actor.user_id, at=now
    ):
        raise CommandError(
            tr_n(
                "You already approved this move to {stage}. It needs one more approval from another manager "
                "(not you, and not whoever asked for it).",
                "You already approved this move to {stage}. It needs {count} more approvals from another manager "
                "(not you, and not whoever asked for it).",
                move.approvals_needed - len(before),
                stage=StageName(stage_or_placeholder(services.pipeline, move.to_stage)),
            )
        )
    return len(before) + 1 >= move.approvals_needed


def _approval_recorded(
    session: Session, services: Services, actor: Actor, move: MoveRequest, deal: Deal, now: datetime
) -> Decision:
    record(
        session,
        deal,
        actor,
        services.pipeline,
        kind=EventKind.APPROVAL_GIVEN,
        at=now,
        from_stage=move.from_stage,
        to_stage=move.to_stage,
        move_id=move.id,
    )
    session.flush()
    return Decision(deal=DealSummary.of(deal, services.pipeline), move=summarize_move(session, services, move, deal))


def check_may_decide(services: Services, actor: Actor, *, move_id: int) -> MoveSummary:
    """Refuse early (before a rejection modal opens) when this actor could not decide the move."""
    with services.sessions() as session:
        move, deal = _load_move(session, actor, move_id)
        _require_may_decide(session, services, actor, move, deal)
        return summarize_move(session, services, move, deal)


def ask_for_evidence(
    services: Services, actor: Actor, *, move_id: int, prompt: str | None = None, claim: Claim | None = None
) -> EvidenceAsked:
    """Record that a manager asks the rep for (more) evidence; `prompt`, what the manager wrote, is kept as the
    event's note and posted in the thread (None: the stage's own evidence prompt is posted)."""
    now = services.clock()
    with services.sessions.begin() as session:
        claim_in(session, claim, now=now)
        move, deal = _lock_move(session, actor, move_id)
        _require_may_decide(session, services, actor, move, deal)
        record(
            session,
            deal,
            actor,
            services.pipeline,
            kind=EventKind.EVIDENCE_ASKED,
            at=now,
            from_stage=move.from_stage,
            to_stage=move.to_stage,
            note=prompt,
            move_id=move.id,
        )
        return EvidenceAsked(
            deal=DealSummary.of(deal, services.pipeline),
            move=summarize_move(session, services, move, deal),
            asked_by=actor.user_id,
            prompt=prompt,
        )


def _target_stage(services: Services, deal: Deal, current: Stage, command: Advance) -> Stage:
    pipeline = services.pipeline
    deal_id = format_deal_id(deal.number)
    if command.to_key is None:
        following = pipeline.next_after(current.key)
        if following is None:
            raise last_stage(deal.number, current)
        return following
    target = pipeline.resolve(command.to_key)
    if target is None:
        raise CommandError(
            tr("There is no stage '{key}'. The stages are: {keys}.", key=command.to_key, keys=", ".join(pipeline.keys)),
            usage=tr("`/pipeline stages` lists them with their exit criteria."),
        )
    if target.key == current.key:
        raise CommandError(tr("{deal} is already at {stage}.", deal=deal_id, stage=StageName(current)))
    if pipeline.index(target.key) < pipeline.index(current.key) and not command.note:
        raise CommandError(
            tr(
                "Moving {deal} back from {stage} to {target} needs a note that says why.",
                deal=deal_id,
                stage=StageName(current),
                target=StageName(target),
            ),
            # TRANSLATORS: a usage line; keep `/advance`, `to:` and `note:`, translate only the text in <…>.
            usage=tr("`/advance {deal} to:{key} note:<why it goes back>`", deal=deal_id, key=target.key),
        )
    return target


def _require_evidence(deal: Deal, current: Stage, entered: tuple[Stage, ...], command: Advance) -> None:
    refusal = missing_evidence(deal.number, current, entered, given=len(command.evidence))
    if refusal is not None:
        raise refusal


def missing_evidence(
    deal_number: int, current: Stage, entered: tuple[Stage, ...], *, given: int
) -> CommandError | None:
    """The refusal of a move entering `entered` with `given` evidence links, when that is too few (one per stage)."""
    deal_id = format_deal_id(deal_number)
    target = entered[-1]
    if not given:
        return CommandError(
            # TRANSLATORS: {criteria} and {prompt} are the stage's own words, from the pipeline file.
            tr(
                "Moving {deal} to {stage} needs evidence of what the buyer did: {criteria}. {prompt} "
                "Attach it as a link.",
                deal=deal_id,
                stage=StageName(target),
                criteria=StageCriteria(target),
                prompt=StagePrompt(target),
            ),
            # TRANSLATORS: a usage line; keep `/advance` and `evidence:`, translate only the text in <…>.
            usage=tr("`/advance {deal} evidence:<link to the buyer's email, invite or document>`", deal=deal_id),
        )
    if given < len(entered):
        return CommandError(
            # TRANSLATORS: {skipped} lists the stages skipped; {wanted} is each stage's own evidence prompt.
            tr_n(
                "Moving {deal} from {stage} to {target} skips {skipped}. A skip needs one evidence link for each "
                "stage it enters, in order ({count} link, {given} given). {wanted}",
                "Moving {deal} from {stage} to {target} skips {skipped}. A skip needs one evidence link for each "
                "stage it enters, in order ({count} links, {given} given). {wanted}",
                len(entered),
                deal=deal_id,
                stage=StageName(current),
                target=StageName(target),
                skipped=StageNames(entered[:-1]),
                given=given,
                wanted=EvidenceWanted(entered),
            ),
            # TRANSLATORS: a usage line with nothing to translate in it ({evidence} is translated on its own).
            usage=tr(
                "`/advance {deal} to:{key} {evidence}`", deal=deal_id, key=target.key, evidence=EvidenceSlots(entered)
            ),
        )
    return None


def last_stage(deal_number: int, current: Stage) -> CommandError:
    return CommandError(
        tr(
            "{deal} is at the last stage, {stage}. There is no next stage.",
            deal=format_deal_id(deal_number),
            stage=StageName(current),
        )
    )


def current_stage(pipeline: Pipeline, deal: Deal) -> Stage:
    """The deal's stage, or a refusal when the pipeline no longer has it."""
    current = pipeline.find(deal.stage_key)
    if current is None:
        raise CommandError(
            tr(
                "{deal} is at '{key}', a stage that is no longer in the pipeline. "
                "A manager can move it with `to:<key>` and a note.",
                deal=format_deal_id(deal.number),
                key=deal.stage_key,
            )
        )
    return current


def require_open(deal: Deal) -> None:
    if deal.status == DealStatus.LOST:
        raise CommandError(
            tr(
                "{deal} was lost ({reason}). A lost deal does not move.",
                deal=format_deal_id(deal.number),
                reason=deal.lost_reason,
            )
        )


def require_no_pending(session: Session, deal: Deal) -> None:
    assert deal.id is not None
    pending = queries.pending_move(session, team_id=deal.team_id, deal_id=deal.id)
    if pending is not None:
        raise CommandError(
            # TRANSLATORS: {key} is the key of the stage the waiting move goes to (`proposal-sent`).
            tr(
                "{deal} already has a move to {key} waiting for a manager. "
                "It must be approved or rejected before another one is asked for.",
                deal=format_deal_id(deal.number),
                key=pending.to_stage,
            )
        )


def _move_back(
    session: Session,
    services: Services,
    actor: Actor,
    deal: Deal,
    target: Stage,
    note: str | None,
    now: datetime,
) -> MovedBack:
    assert deal.id is not None and note
    from_stage = services.pipeline.stage(deal.stage_key)
    deal.stage_key = target.key
    deal.stage_entered_at = now
    session.add(deal)
    record(
        session,
        deal,
        actor,
        services.pipeline,
        kind=EventKind.MOVED_BACK,
        at=now,
        from_stage=from_stage.key,
        to_stage=target.key,
        note=note,
    )
    return MovedBack(
        deal=DealSummary.of(deal, services.pipeline), from_stage=from_stage, moved_by=actor.user_id, note=note
    )


def _load_move(session: Session, actor: Actor, move_id: int) -> tuple[MoveRequest, Deal]:
    move = queries.get_move(session, team_id=actor.team_id, move_id=move_id)
    deal = queries.get_deal_by_id(session, team_id=actor.team_id, deal_id=move.deal_id) if move else None
    if move is None or deal is None:
        raise CommandError(tr("That move does not exist in this workspace."))
    return move, deal


def _lock_move(session: Session, actor: Actor, move_id: int) -> tuple[MoveRequest, Deal]:
    """The move and its deal, for changing them: the deal's row is locked before the move is read, so
    the move is read as the change that held the lock before us left it (decided, cancelled or still pending)."""
    deal = queries.get_deal_of_move(session, team_id=actor.team_id, move_id=move_id, for_update=True)
    move = queries.get_move(session, team_id=actor.team_id, move_id=move_id) if deal else None
    if move is None or deal is None:
        raise CommandError(tr("That move does not exist in this workspace."))
    return move, deal


def _require_may_decide(session: Session, services: Services, actor: Actor, move: MoveRequest, deal: Deal) -> None:
    # TRANSLATORS: completes "Only a sales manager can …".
    require_manager(session, services, actor, doing=tr("approve, reject or question a move"))
    if move.status != MoveStatus.PENDING:
        raise AlreadyDecided(summarize_move(session, services, move, deal))
    if move.requested_by == actor.user_id:
        raise CommandError(tr("You asked for this move, so another manager has to decide it."))


def managers_to_ask(session: Session, services: Services, actor: Actor) -> tuple[str, ...]:
    managers = team_managers(session, services, team_id=actor.team_id)
    return tuple(sorted(managers - {actor.user_id}))
