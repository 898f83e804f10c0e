"""Slack redelivers an event it thinks was not handled; each event is acted on once."""

from datetime import timedelta

from commands.services import Services
from storage import queries

# Slack retries an event three times within about an hour; a day leaves room for clocks and outages.
KEPT_FOR = timedelta(days=1)


def first_delivery(services: Services, *, team_id: str, event_id: str) -> bool:
    """Record the event; False when it was recorded before. Records too old to be redelivered are dropped."""
    now = services.clock()
    with services.sessions.begin() as session:
        queries.forget_events_before(session, team_id=team_id, before=now - KEPT_FOR)
        return queries.remember_event(session, team_id=team_id, event_id=event_id, at=now)
