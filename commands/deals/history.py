"""Appending to a deal's history: every change is an event, and some owe a post in the deal's thread."""

from datetime import datetime
from typing import Any

from sqlmodel import Session

from commands.pipeline.stages import Pipeline
from commands.services import Actor
from storage import announcement_queries, spells
from storage.models import AnnouncementKind, Deal, DealEvent, EventKind

ANNOUNCED_EVENTS = frozenset({EventKind.APPROVAL_GIVEN, EventKind.EVIDENCE_ASKED, EventKind.LOST, EventKind.MOVED_BACK})
"""Events whose own row is what the thread announces (moves and cards are announced by their own rows)."""


def record(
    session: Session, deal: Deal, actor: Actor, pipeline: Pipeline, *, kind: EventKind, at: datetime, **facts: Any
) -> DealEvent:
    """Append an event to the deal's history and bring its stage spells up to date, in the caller's
    transaction; for the kinds in ANNOUNCED_EVENTS also owe its thread post."""
    assert deal.id is not None
    event = DealEvent(team_id=deal.team_id, deal_id=deal.id, kind=kind, actor_id=actor.user_id, at=at, **facts)
    session.add(event)
    session.flush()
    spells.follow(session, event=event, stage_keys=pipeline.keys)
    if kind in ANNOUNCED_EVENTS:
        assert event.id is not None
        announcement_queries.owe(
            session, team_id=deal.team_id, deal_id=deal.id, kind=AnnouncementKind(kind), subject_id=event.id, now=at
        )
    return event
