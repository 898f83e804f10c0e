"""Slack redelivers an event it thinks was not handled; each event is acted on once."""

from commands.services import Services
from storage import queries


def first_delivery(services: Services, *, team_id: str, event_id: str) -> bool:
    with services.sessions.begin() as session:
        return queries.remember_event(session, team_id=team_id, event_id=event_id, at=services.clock())
