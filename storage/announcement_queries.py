"""Announcements owed to deal threads: written with each change, claimed and delivered after it."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from storage.models import Announcement, AnnouncementKind, Deal


def owe(
    session: Session, *, team_id: str, deal_id: int, kind: AnnouncementKind, subject_id: int, now: datetime
) -> None:
    session.add(
        Announcement(
            team_id=team_id, deal_id=deal_id, kind=kind, subject_id=subject_id, created_at=now, next_attempt_at=now
        )
    )


def undelivered_for_deal(session: Session, *, team_id: str, deal_number: int) -> Sequence[Announcement]:
    return session.exec(
        select(Announcement)
        .join(Deal, col(Deal.id) == Announcement.deal_id)
        .where(
            Announcement.team_id == team_id,
            Deal.number == deal_number,
            col(Announcement.status).in_(("pending", "sending")),
        )
        .order_by(col(Announcement.id))
    ).all()


def due(session: Session, *, now: datetime, stale_before: datetime, limit: int) -> Sequence[Announcement]:
    """Announcements to retry: pending and due, or claimed by a process that has been silent too long."""
    return session.exec(
        select(Announcement)
        .where(
            or_(
                and_(col(Announcement.status) == "pending", col(Announcement.next_attempt_at) <= now),
                and_(col(Announcement.status) == "sending", col(Announcement.claimed_at) < stale_before),
            )
        )
        .order_by(col(Announcement.id))
        .limit(limit)
    ).all()


def claim(session: Session, *, announcement_id: int, now: datetime, stale_before: datetime) -> bool:
    """Take an announcement to deliver it; False when another process has it (or it is done)."""
    result = session.execute(
        update(Announcement)
        .where(
            col(Announcement.id) == announcement_id,
            or_(
                col(Announcement.status) == "pending",
                and_(col(Announcement.status) == "sending", col(Announcement.claimed_at) < stale_before),
            ),
        )
        .values(status="sending", claimed_at=now, attempts=Announcement.attempts + 1)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def mark_sent(session: Session, *, announcement_id: int, now: datetime) -> None:
    session.execute(
        update(Announcement)
        .where(col(Announcement.id) == announcement_id)
        .values(status="sent", sent_at=now, last_error=None)
    )


def mark_unsent(
    session: Session, *, announcement_id: int, error: str, next_attempt_at: datetime, give_up: bool
) -> None:
    session.execute(
        update(Announcement)
        .where(col(Announcement.id) == announcement_id)
        .values(status="failed" if give_up else "pending", last_error=error, next_attempt_at=next_attempt_at)
    )


def wait_for_access(session: Session, *, announcement_id: int, error: str, next_attempt_at: datetime) -> None:
    """Back to pending without counting the attempt: the channel refused the bot, which is no fault of the post."""
    session.execute(
        update(Announcement)
        .where(col(Announcement.id) == announcement_id)
        .values(status="pending", attempts=0, last_error=error, next_attempt_at=next_attempt_at)
    )


def revive_in_channel(session: Session, *, team_id: str, channel_id: str, now: datetime) -> list[int]:
    """Make every undelivered announcement of the channel's deals due now; the deal numbers, in order."""
    deal_ids = select(col(Deal.id)).where(Deal.team_id == team_id, Deal.channel_id == channel_id)
    session.execute(
        update(Announcement)
        .where(
            col(Announcement.team_id) == team_id,
            col(Announcement.deal_id).in_(deal_ids),
            col(Announcement.status).in_(("pending", "failed")),
        )
        .values(status="pending", attempts=0, next_attempt_at=now)
    )
    numbers = session.exec(
        select(Deal.number)
        .join(Announcement, col(Announcement.deal_id) == Deal.id)
        .where(Deal.team_id == team_id, Deal.channel_id == channel_id, Announcement.status == "pending")
        .group_by(col(Deal.number))
        .order_by(col(Deal.number))
    ).all()
    return list(numbers)
