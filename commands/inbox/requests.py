"""A request is acted on once: a replayed slash command (same trigger_id) finds its key already claimed.

Each claim and release is its own short transaction, committed before the command runs, so a concurrent
copy of the same request waits for the claim and then sees it.
"""

import logging
import re
from datetime import timedelta

from commands.errors import CommandError, SalesbotError
from commands.services import Services
from storage import request_queries
from storage.db import is_outage

logger = logging.getLogger(__name__)

# Slack's signature is good for 5 minutes, so an older request is refused before it gets here; an hour leaves
# room for clocks that disagree.
KEPT_FOR = timedelta(hours=1)


def first_time(services: Services, *, team_id: str, key: str) -> bool:
    """Claim the request's key; False when it was claimed before. Claims too old to matter are dropped."""
    now = services.clock()
    with services.sessions.begin() as session:
        request_queries.forget_requests_before(session, team_id=team_id, before=now - KEPT_FOR)
        return request_queries.claim_request(session, team_id=team_id, key=key, at=now)


def forget(services: Services, *, team_id: str, key: str) -> None:
    """Release a claim: the request was refused or failed, so acting on it again does no harm."""
    with services.sessions.begin() as session:
        request_queries.release_request(session, team_id=team_id, key=key)


ALREADY_RECEIVED = "This command was already received; nothing was done twice."
NO_TRIGGER = (
    "Slack sent this command without a usable trigger id, so nothing was done (a change is done once per"
    " trigger id). Run the command again."
)
TRIGGER_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")  # Slack's look like 13345224609.738474920.8088930838d88f008e0


class Replayed(SalesbotError):
    """The command's trigger_id was claimed before: Slack's request, sent again."""

    def __init__(self) -> None:
        super().__init__(ALREADY_RECEIVED)


class Once:
    """A changing command is done once per trigger_id: the claim is taken before the change runs, and given back
    when the change does not happen (refused, or the database failed), so the same request may be tried again."""

    def __init__(self, services: Services, *, team_id: str, trigger_id: object) -> None:
        self._services = services
        self._team_id = team_id
        self._trigger_id = trigger_id
        self._taken: str | None = None

    def claim(self) -> None:
        key = self._trigger_id
        if not isinstance(key, str) or not TRIGGER_ID.fullmatch(key):
            raise CommandError(NO_TRIGGER)
        if not first_time(self._services, team_id=self._team_id, key=key):
            raise Replayed
        self._taken = key

    def release(self) -> None:
        key, self._taken = self._taken, None
        if key is None:
            return
        try:
            forget(self._services, team_id=self._team_id, key=key)
        except Exception as error:  # noqa: BLE001 -- the command's own error is the one to report
            if not is_outage(error):
                raise
            logger.warning("replay claim not released team=%s: %r", self._team_id, error)
