"""Announcements owed to deal threads: written with each change, and found again by deal or by channel.

Claiming, marking sent and retrying them is the outbox's, shared with digests (`storage.outbox_queries`)."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import Announcement, AnnouncementKind, Deal, DeliveryStatus


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
            col(Announcement.status).in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
        )
        .order_by(col(Announcement.id))
    ).all()


def wait_for_access(session: Session, *, announcement_id: int, error: str, next_attempt_at: datetime) -> None:
    """Back to pending without counting the attempt: the channel refused the bot, which is no fault of the post."""
    session.execute(
        update(Announcement)
        .where(col(Announcement.id) == announcement_id)
        .values(status=DeliveryStatus.PENDING, attempts=0, last_error=error, next_attempt_at=next_attempt_at)
    )


def revive_in_channel(session: Session, *, team_id: str, channel_id: str, now: datetime) -> list[int]:
    """Make every undelivered announcement of the channel's deals due now; the deal numbers, in order."""
    deal_ids = select(col(Deal.id)).where(Deal.team_id == team_id, Deal.channel_id == channel_id)
    session.execute(
        update(Announcement)
        .where(
            col(Announcement.team_id) == team_id,
            col(Announcement.deal_id).in_(deal_ids),
            col(Announcement.status).in_((DeliveryStatus.PENDING, DeliveryStatus.GIVEN_UP)),
        )
        .values(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now)
    )
    numbers = session.exec(
        select(Deal.number)
        .join(Announcement, col(Announcement.deal_id) == Deal.id)
        .where(Deal.team_id == team_id, Deal.channel_id == channel_id, Announcement.status == DeliveryStatus.PENDING)
        .group_by(col(Deal.number))
        .order_by(col(Deal.number))
    ).all()
    return list(numbers)
