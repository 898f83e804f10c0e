"""A request is acted on once: a replayed slash command (same trigger_id) finds its key already claimed.

A use case takes the claim first thing in its own write transaction (`claim_in`): a concurrent copy of the
same request waits for that transaction and then sees the claim, and a refusal or a failure rolls the claim
back with the change, so the same request may be tried again. Where something must happen before the use
case (a Slack call), `Once.claim` takes it in a short transaction of its own and `Once.release` gives it back.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from commands.errors import CommandError, SalesbotError
from commands.i18n.translator import N_, tr
from commands.services import Services
from storage import request_queries
from storage.db import is_outage

logger = logging.getLogger(__name__)

# Slack's signature is good for 5 minutes, so an older request is refused before it gets here; an hour leaves
# room for clocks that disagree.
KEPT_FOR = timedelta(hours=1)


@dataclass(frozen=True)
class Claim:
    """A changing request's key, to be claimed inside the use case's transaction (`claim_in`)."""

    team_id: str
    key: str


def first_time(services: Services, *, team_id: str, key: str) -> bool:
    """Claim the request's key in its own transaction; False when it was claimed before."""
    with services.sessions.begin() as session:
        return _claim(session, team_id=team_id, key=key, now=services.clock())


def claim_in(session: Session, claim: Claim | None, *, now: datetime) -> None:
    """Claim the request's key in the caller's transaction (first thing, so concurrent copies queue on it);
    raise Replayed when it was claimed before. No claim: nothing to do (not a Slack request)."""
    if claim is not None and not _claim(session, team_id=claim.team_id, key=claim.key, now=now):
        raise Replayed


def _claim(session: Session, *, team_id: str, key: str, now: datetime) -> bool:
    """Claims too old to matter are dropped on the way."""
    request_queries.forget_requests_before(session, team_id=team_id, before=now - KEPT_FOR)
    return request_queries.claim_request(session, team_id=team_id, key=key, at=now)


def forget(services: Services, *, team_id: str, key: str) -> None:
    """Release a claim: the request was refused or failed, so acting on it again does no harm."""
    with services.sessions.begin() as session:
        request_queries.release_request(session, team_id=team_id, key=key)


ALREADY_RECEIVED = N_("This command was already received; nothing was done twice.")
NO_TRIGGER = N_(
    "Slack sent this command without a usable trigger id, so nothing was done (a change is done once per"
    " trigger id). Run the command again."
)
TRIGGER_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")  # Slack's look like 13345224609.738474920.8088930838d88f008e0


class Replayed(SalesbotError):
    """The command's trigger_id was claimed before: Slack's request, sent again."""

    def __init__(self) -> None:
        super().__init__(tr(ALREADY_RECEIVED))


class Once:
    """A changing command is done once per trigger_id: `key` for the use case to claim in its transaction, or
    `claim` before the change runs and `release` when the change does not happen (refused, or the database
    failed), so the same request may be tried again."""

    def __init__(self, services: Services, *, team_id: str, trigger_id: object) -> None:
        self._services = services
        self._team_id = team_id
        self._trigger_id = trigger_id
        self._taken: str | None = None

    def key(self) -> Claim:
        """The claim for the use case to take in its own transaction (nothing to release)."""
        key = self._trigger_id
        if not isinstance(key, str) or not TRIGGER_ID.fullmatch(key):
            raise CommandError(tr(NO_TRIGGER))
        return Claim(self._team_id, key)

    def claim(self) -> None:
        """Claim now, in a transaction of its own, for a command with work to do before its use case."""
        claim = self.key()
        if not first_time(self._services, team_id=claim.team_id, key=claim.key):
            raise Replayed
        self._taken = claim.key

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
