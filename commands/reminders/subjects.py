"""A reminder or nudge as its post tells it, read again when it is delivered."""

from sqlmodel import Session

from commands.deals.deal import summarize_move
from commands.deals.results import DealSummary, stage_or_placeholder
from commands.digest.stalled import days_in_stage
from commands.reminders.results import MoveReminder, StallNudge
from commands.services import Services
from storage import queries
from storage.models import Deal, DealStatus, Reminder, ReminderKind


def reminder_subject(session: Session, services: Services, reminder_id: int, deal: Deal) -> MoveReminder | StallNudge:
    reminder = session.get(Reminder, reminder_id)
    assert reminder is not None
    summary = DealSummary.of(deal, services.pipeline)
    if reminder.kind == ReminderKind.MOVE_PENDING:
        assert reminder.move_id is not None
        move = queries.get_move(session, team_id=reminder.team_id, move_id=reminder.move_id)
        assert move is not None
        move_summary = summarize_move(session, services, move, deal)
        mention = tuple(user for user in reminder.recipients if user not in move_summary.approved_by)
        return MoveReminder(summary, move_summary, mention, services.clock() - move.requested_at)
    stage = stage_or_placeholder(services.pipeline, reminder.stage_key)
    return StallNudge(
        deal=summary,
        owner_id=deal.owner_id,
        stage=stage,
        days_in_stage=days_in_stage(deal.stage_entered_at, services.clock()),
        next_stage=services.pipeline.next_after(stage.key) if services.pipeline.find(stage.key) else None,
        still_stalled=deal.status == DealStatus.OPEN and deal.stage_key == reminder.stage_key,
    )
