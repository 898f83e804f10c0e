"""A request is acted on once: a replayed slash command (same trigger_id) finds its key already claimed.

Each claim and release is its own short transaction, committed before the command runs, so a concurrent
copy of the same request waits for the claim and then sees it.
"""

from datetime import timedelta

from commands.services import Services
from storage import request_queries

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
