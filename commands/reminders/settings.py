"""A workspace's reminder setting: how long a move waits before its managers are reminded, or off."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from commands.deals.managers import require_manager
from commands.errors import CommandError
from commands.i18n.translator import tr
from commands.inbox.requests import Claim, claim_in
from commands.services import Actor, Services
from storage import reminder_queries
from storage.db import read_only

DEFAULT_PENDING_AFTER_HOURS = 24
MIN_PENDING_AFTER_HOURS = 1
MAX_PENDING_AFTER_HOURS = 14 * 24


@dataclass(frozen=True)
class ShowReminders:
    pass


@dataclass(frozen=True)
class SetPendingReminders:
    """`hours` None turns reminders of pending moves off."""

    hours: int | None


@dataclass(frozen=True)
class ReminderSettings:
    pending_after_hours: int | None
    """None: off."""
    changed_by: str | None
    changed_at: datetime | None
    changed: bool = False

    @property
    def pending_after(self) -> timedelta | None:
        return None if self.pending_after_hours is None else timedelta(hours=self.pending_after_hours)


def reminder_settings(services: Services, actor: Actor) -> ReminderSettings:
    with services.sessions() as session:
        read_only(session)
        row = reminder_queries.setting(session, team_id=actor.team_id)
        if row is None:
            return ReminderSettings(DEFAULT_PENDING_AFTER_HOURS, None, None)
        return ReminderSettings(row.pending_after_hours, row.changed_by, row.changed_at)


def set_pending_reminders(
    services: Services, actor: Actor, command: SetPendingReminders, *, claim: Claim | None = None
) -> ReminderSettings:
    hours = command.hours
    if hours is not None and not MIN_PENDING_AFTER_HOURS <= hours <= MAX_PENDING_AFTER_HOURS:
        raise CommandError(
            # TRANSLATORS: {min} is 1 (hour) and {max} is 14 (days); keep the command in backticks as it is.
            tr(
                "A move can wait between {min} hour and {max} days before its managers are reminded, "
                "like `/pipeline reminders pending 24h`.",
                min=MIN_PENDING_AFTER_HOURS,
                max=MAX_PENDING_AFTER_HOURS // 24,
            )
        )
    now = services.clock()
    with services.sessions.begin() as session:
        claim_in(session, claim, now=now)
        # TRANSLATORS: completes "Only a sales manager can …".
        require_manager(session, services, actor, doing=tr("change when pending moves are reminded"))
        reminder_queries.set_pending_after(
            session, team_id=actor.team_id, hours=hours, changed_by=actor.user_id, changed_at=now
        )
    return ReminderSettings(hours, actor.user_id, now, changed=True)
