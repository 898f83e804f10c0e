"""The reminder tick: find the reminders and nudges due, keep those whose people are in working hours, owe
their posts (once, whatever the number of processes ticking: `commands.reminders.due`), and deliver them.

Time zones come from Slack (users.info), looked up once per person per tick. A pending move's reminder goes out
when at least one manager who may still decide it is in working hours, and mentions only those; while none
is, it waits (a later tick sends it). A nudge waits for its owner's working hours.
"""

import logging
from collections.abc import Callable

from slack_sdk import WebClient

from bot.announcer import Announcer
from bot.listeners.slash import user_time_zone
from commands.reminders.due import due_reminders, owe_move_reminder, owe_nudge
from commands.reminders.quiet_hours import in_working_hours
from commands.services import Services

logger = logging.getLogger(__name__)

ZoneOf = Callable[[str], str]


class ReminderRunner:
    def __init__(self, services: Services, client: WebClient) -> None:
        self._services = services
        self._client = client

    def run_once(self) -> int:
        """Owe and deliver what is due now; the number of reminders and nudges owed by this tick."""
        due = due_reminders(self._services)
        if not due.moves and not due.nudges:
            return 0
        zones: dict[str, str] = {}

        def working(user_id: str) -> bool:
            if user_id not in zones:
                zones[user_id] = user_time_zone(self._client, user_id)
            return in_working_hours(zones[user_id], self._services.clock())

        owed: dict[tuple[str, int], None] = {}
        for move in due.moves:
            mention = tuple(user for user in move.deciders if working(user))
            if mention and owe_move_reminder(self._services, move, mention=mention):
                owed[(move.team_id, move.deal_number)] = None
        for nudge in due.nudges:
            if working(nudge.owner_id) and owe_nudge(self._services, nudge):
                owed[(nudge.team_id, nudge.deal_number)] = None
        announcer = Announcer(self._services, self._client)
        for team_id, number in owed:
            announcer.deliver_for_deal(team_id, number)
        if owed:
            logger.info("reminders and nudges owed for %d deals", len(owed))
        return len(owed)
