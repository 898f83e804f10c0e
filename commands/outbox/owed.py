"""Owing a deal's thread a post, in the transaction of the change it tells of."""

from datetime import datetime

from sqlmodel import Session

from storage import announcement_queries, queries
from storage.models import AnnouncementKind, Deal


def owe_announcement(
    session: Session, deal: Deal, *, kind: AnnouncementKind, subject_id: int | None, at: datetime
) -> None:
    """Owe the deal's thread a post about something other than one event: its card, or a move."""
    assert deal.id is not None and subject_id is not None
    announcement_queries.owe(session, team_id=deal.team_id, deal_id=deal.id, kind=kind, subject_id=subject_id, now=at)


def owe_card_of_imported(session: Session, deal: Deal, *, at: datetime) -> None:
    """An imported deal has no card in Slack (the import posts nothing): the first change made to it from
    Slack owes the card, ahead of its own post, so the deal's thread exists by the time that is posted."""
    assert deal.id is not None
    if deal.thread_ts is not None or deal.crm_id is None:
        return
    if not queries.ever_owed(session, team_id=deal.team_id, deal_id=deal.id, kind=AnnouncementKind.CARD):
        owe_announcement(session, deal, kind=AnnouncementKind.CARD, subject_id=deal.id, at=at)
