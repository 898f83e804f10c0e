"""Which reminders and nudges are due, and owing them to deal threads exactly once.

- A *pending move* is due a reminder when it has waited at least the workspace's setting (default 24 hours,
  `commands.reminders.settings`) since it was asked for, and its managers were not reminded in the last
  `REMIND_EVERY` (24 hours). Moves applied by the pipeline never wait; a workspace with reminders off gets none.
- A *stalled deal* (`commands.digest.stalled`: longer than its stage's `stall_after_days` in its stage) is due
  a nudge to its owner when it is open, in a stage before the won stage, not snoozed, and its owner was not
  nudged in the last `NUDGE_EVERY` (7 days). Stages from the win on are not nudged: a nudge asks for the
  buyer's next step towards the win, and after it the deal is the implementation's (the digest still lists
  those deals as stalled). This is the Home tab's rule too (`before_win`).
- Each is claimed in one transaction that marks it (a conditional UPDATE: see `storage.reminder_queries`) and
  owes its post, so two processes ticking at once owe one post; the post then goes out through the outbox. While
  an earlier reminder of the same move (or nudge of the same deal) is still owed, because its thread cannot be
  posted in yet, a claim owes nothing more: the thread gets one reminder when the bot is invited, not one a day.

Whose working hours count is the caller's (the Slack side knows the time zones): a move's reminder mentions the
deciders in their working hours and is deferred while none of them is; a nudge waits for its owner's.
"""

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from sqlmodel import Session

from commands.deals.managers import team_managers
from commands.digest.stalled import before_win, stall_cutoffs
from commands.outbox.owed import owe_announcement, owe_card_of_imported
from commands.reminders.results import DueReminders, MoveDue, NudgeDue
from commands.reminders.settings import DEFAULT_PENDING_AFTER_HOURS, MIN_PENDING_AFTER_HOURS
from commands.services import Services
from storage import queries, reminder_queries
from storage.db import read_only
from storage.models import AnnouncementKind, Deal, ReminderKind

Row = TypeVar("Row")
Key = tuple[datetime, int]

REMIND_EVERY = timedelta(days=1)
NUDGE_EVERY = timedelta(days=7)
PAGE = 200
"""Moves and deals are read this many at a time; a tick reads every page, so those it leaves (a workspace with
reminders off, deciders outside working hours) never hide the others."""


def due_reminders(services: Services) -> DueReminders:
    now = services.clock()
    with services.sessions() as session:
        read_only(session)
        waiting = _every_page(
            lambda after: reminder_queries.pending_moves_waiting(
                session,
                requested_before=now - timedelta(hours=MIN_PENDING_AFTER_HOURS),
                reminded_before=now - REMIND_EVERY,
                limit=PAGE,
                after=after,
            ),
            lambda row: (row.requested_at, row.move_id),
        )
        after = _pending_after(session, {row.team_id for row in waiting})
        waited_enough = [row for row in waiting if _waited(after[row.team_id], row.requested_at, now)]
        moves = []
        for team_id in dict.fromkeys(row.team_id for row in waited_enough):
            rows = [row for row in waited_enough if row.team_id == team_id]
            approvers = queries.approvers(session, team_id=team_id, move_ids=[row.move_id for row in rows])
            managers = sorted(team_managers(session, services, team_id=team_id))
            for row in rows:
                left = {row.requested_by, *approvers.get(row.move_id, ())}
                deciders = tuple(manager for manager in managers if manager not in left)
                moves.append(MoveDue(team_id, row.move_id, row.deal_number, deciders))
        cutoffs = stall_cutoffs(before_win(services.pipeline), now)
        stalled = _every_page(
            lambda after: reminder_queries.stalled_deals_due(
                session, stalled_before=cutoffs, nudged_before=now - NUDGE_EVERY, at=now, limit=PAGE, after=after
            ),
            lambda row: (row.stage_entered_at, row.deal_id),
        )
        nudges = tuple(NudgeDue(row.team_id, row.deal_id, row.number, row.owner_id, row.stage_key) for row in stalled)
        return DueReminders(tuple(move for move in moves if move.deciders), nudges)


def owe_move_reminder(services: Services, due: MoveDue, *, mention: tuple[str, ...]) -> bool:
    """Claim the move's reminder and owe its post, mentioning `mention`; False when it is no longer due
    (decided, reminded by another process, or the setting changed)."""
    now = services.clock()
    with services.sessions.begin() as session:
        # The deal's row first, like every change to a deal (commands.deals.moves), so a decision in flight
        # and this claim queue in one order.
        deal = queries.get_deal_of_move(session, team_id=due.team_id, move_id=due.move_id, for_update=True)
        after = _pending_after(session, {due.team_id})[due.team_id]
        if deal is None or deal.id is None or after is None:
            return False
        claimed = reminder_queries.claim_move_reminder(
            session,
            team_id=due.team_id,
            move_id=due.move_id,
            requested_before=now - timedelta(hours=after),
            reminded_before=now - REMIND_EVERY,
            now=now,
        )
        if not claimed:
            return False
        _owe_post(session, deal, kind=ReminderKind.MOVE_PENDING, move_id=due.move_id, recipients=mention, now=now)
        return True


def owe_nudge(services: Services, due: NudgeDue) -> bool:
    """Claim the deal's nudge and owe its post; False when it is no longer due (moved, lost, snoozed, or
    nudged by another process)."""
    now = services.clock()
    with services.sessions.begin() as session:
        deal = queries.get_deal_by_id(session, team_id=due.team_id, deal_id=due.deal_id)
        claimed = reminder_queries.claim_nudge(
            session,
            team_id=due.team_id,
            deal_id=due.deal_id,
            stalled_before=stall_cutoffs(before_win(services.pipeline), now),
            nudged_before=now - NUDGE_EVERY,
            now=now,
        )
        if not claimed or deal is None:
            return False
        session.refresh(deal)
        _owe_post(session, deal, kind=ReminderKind.STALLED, move_id=None, recipients=(deal.owner_id,), now=now)
        return True


POSTS = {ReminderKind.MOVE_PENDING: AnnouncementKind.MOVE_REMINDER, ReminderKind.STALLED: AnnouncementKind.STALL_NUDGE}


def _owe_post(
    session: Session,
    deal: Deal,
    *,
    kind: ReminderKind,
    move_id: int | None,
    recipients: tuple[str, ...],
    now: datetime,
) -> None:
    """Record the claimed reminder and owe its post to the deal's thread, unless an earlier one of the same move
    (or, for a nudge, the same deal) is still waiting to be posted: that one stands for this one."""
    assert deal.id is not None
    post = POSTS[kind]
    if reminder_queries.earlier_still_owed(session, team_id=deal.team_id, deal_id=deal.id, post=post, move_id=move_id):
        return
    owe_card_of_imported(session, deal, at=now)
    reminder = reminder_queries.add_reminder(
        session,
        team_id=deal.team_id,
        deal_id=deal.id,
        kind=kind,
        move_id=move_id,
        stage_key=deal.stage_key,
        recipients=recipients,
        at=now,
    )
    owe_announcement(session, deal, kind=post, subject_id=reminder.id, at=now)


def _every_page(read: Callable[[Key | None], Sequence[Row]], key: Callable[[Row], Key]) -> list[Row]:
    rows: list[Row] = []
    page = read(None)
    while True:
        rows += page
        if len(page) < PAGE:
            return rows
        page = read(key(page[-1]))


def _waited(hours: int | None, requested_at: datetime, now: datetime) -> bool:
    return hours is not None and requested_at <= now - timedelta(hours=hours)


def _pending_after(session: Session, team_ids: set[str]) -> dict[str, int | None]:
    """Each workspace's wait before a reminder, in hours (None: off)."""
    rows = reminder_queries.settings_of(session, team_ids=sorted(team_ids))
    return {
        team_id: rows[team_id].pending_after_hours if team_id in rows else DEFAULT_PENDING_AFTER_HOURS
        for team_id in team_ids
    }
