"""Appending to a deal's history: every change is an event, and some owe a post in the deal's thread."""

from datetime import datetime
from typing import Any

from sqlmodel import Session

from commands.pipeline import Pipeline
from commands.services import Actor
from storage import announcement_queries, queries, spells
from storage.models import Deal, DealEvent

ANNOUNCED_EVENTS = frozenset({"evidence_asked", "lost", "moved_back"})
"""Events whose own row is what the thread announces (moves and cards are announced by their own rows)."""


def record(
    session: Session, deal: Deal, actor: Actor, pipeline: Pipeline, *, kind: str, at: datetime, **facts: Any
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
        announcement_queries.owe(session, team_id=deal.team_id, deal_id=deal.id, kind=kind, subject_id=event.id, now=at)
    return event


def owe_announcement(session: Session, deal: Deal, *, kind: str, subject_id: int | None, at: datetime) -> None:
    """Owe the deal's thread a post about something other than one event: its card, or a move."""
    assert deal.id is not None and subject_id is not None
    announcement_queries.owe(session, team_id=deal.team_id, deal_id=deal.id, kind=kind, subject_id=subject_id, now=at)


def owe_card_of_imported(session: Session, deal: Deal, *, at: datetime) -> None:
    """An imported deal has no card in Slack (the import posts nothing): the first change made to it from
    Slack owes the card, ahead of its own post, so the deal's thread exists by the time that is posted."""
    assert deal.id is not None
    if deal.thread_ts is not None or deal.crm_id is None:
        return
    if not queries.ever_owed(session, team_id=deal.team_id, deal_id=deal.id, kind="card"):
        owe_announcement(session, deal, kind="card", subject_id=deal.id, at=at)
