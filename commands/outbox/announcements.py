"""What a deal's thread is owed, and taking it for delivery.

Each change writes its announcement in the change's own transaction (see `storage.announcement_queries.owe`),
so the thread can never miss a change: if posting fails or the process dies, the announcement waits
here and is delivered later, in order. Delivery re-reads the change from the database, so a late
announcement still says what happened.
"""

import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlmodel import Session, col

from commands.deals.deal import summarize_move
from commands.deals.moves import managers_to_ask
from commands.deals.results import (
    ApprovalGiven,
    DealSummary,
    Decision,
    EvidenceAsked,
    MarkedLost,
    MovedBack,
    MoveRequested,
    stage_or_placeholder,
)
from commands.outbox.retry import ERROR_TEXT_LIMIT, THREAD_POSTS
from commands.pipeline.stages import Stage
from commands.reminders.results import MoveReminder, StallNudge
from commands.reminders.subjects import reminder_subject
from commands.services import Actor, Services
from storage import announcement_queries as announcements
from storage import outbox_queries, queries
from storage.db import read_only
from storage.models import Announcement, AnnouncementKind, Deal, DealEvent

logger = logging.getLogger(__name__)

# A post refused because the bot is not in the channel waits for the invite (`owed_in_channel`); this slow
# retry only covers an invite whose event never reached us.
NO_ACCESS_RETRY = timedelta(hours=6)
CATCH_UP_BATCH = 100


@dataclass(frozen=True)
class CardOwed:
    deal: DealSummary
    evidence_missing: Stage | None


Subject = (
    CardOwed
    | MoveRequested
    | Decision
    | ApprovalGiven
    | EvidenceAsked
    | MarkedLost
    | MovedBack
    | MoveReminder
    | StallNudge
)


@dataclass(frozen=True)
class Owed:
    id: int
    team_id: str
    deal_number: int
    subject: Subject


@dataclass(frozen=True)
class Posted:
    """The messages a delivery posted that later posts refer to: the deal's card (its thread) and the move's."""

    card_ts: str | None = None
    move_message_ts: str | None = None


def undelivered_for_deal(services: Services, *, team_id: str, deal_number: int) -> list[int]:
    with services.sessions() as session:
        read_only(session)
        rows = announcements.undelivered_for_deal(session, team_id=team_id, deal_number=deal_number)
        return [row.id for row in rows if row.id is not None]


def deals_owed(services: Services) -> list[tuple[str, int]]:
    """(team, deal number) of each deal with an announcement due again, oldest first."""
    now = services.clock()
    with services.sessions() as session:
        rows = outbox_queries.due(
            session,
            Announcement,
            now=now,
            stale_before=THREAD_POSTS.stale_before(now),
            order_by=(col(Announcement.id),),
            limit=CATCH_UP_BATCH,
        )
        deals: dict[tuple[str, int], None] = {}
        for row in rows:
            deal = queries.get_deal_by_id(session, team_id=row.team_id, deal_id=row.deal_id)
            if deal is not None:
                deals[(row.team_id, deal.number)] = None
        return list(deals)


def take(services: Services, announcement_id: int) -> Owed | None:
    """Claim an announcement and load what it announces; None when another process has it or it is done."""
    now = services.clock()
    with services.sessions.begin() as session:
        stale_before = THREAD_POSTS.stale_before(now)
        if not outbox_queries.claim(
            session, Announcement, row_id=announcement_id, now=now, stale_before=stale_before, due_only=False
        ):
            return None
        row = session.get(Announcement, announcement_id)
        assert row is not None
        deal = queries.get_deal_by_id(session, team_id=row.team_id, deal_id=row.deal_id)
        assert deal is not None
        return Owed(row.id or 0, row.team_id, deal.number, _subject(session, services, row, deal))


def delivered(services: Services, owed: Owed, posted: Posted) -> None:
    """Mark it sent and remember what it posted, in one transaction: a thread post takes the write lock twice
    (here and in `take`), and no later post of the deal sees it sent without its card or move message."""
    with services.sessions.begin() as session:
        if posted.card_ts is not None:
            queries.set_thread_ts(session, team_id=owed.team_id, number=owed.deal_number, thread_ts=posted.card_ts)
        if posted.move_message_ts is not None:
            assert isinstance(owed.subject, MoveRequested)
            queries.set_move_message_ts(
                session, team_id=owed.team_id, move_id=owed.subject.move.id, message_ts=posted.move_message_ts
            )
        outbox_queries.sent(session, Announcement, row_id=owed.id, now=services.clock())


def not_delivered(services: Services, announcement_id: int, *, error: str, no_access: bool = False) -> None:
    """Put it back to retry with backoff; after THREAD_POSTS.max_attempts it is given up, kept and logged. One
    refused because the bot is not in the channel is never given up: it waits for the bot to be invited."""
    now = services.clock()
    with services.sessions.begin() as session:
        row = session.get(Announcement, announcement_id)
        if row is None:
            return
        if no_access:
            announcements.wait_for_access(
                session,
                announcement_id=announcement_id,
                error=error[:ERROR_TEXT_LIMIT],
                next_attempt_at=now + NO_ACCESS_RETRY,
            )
            return
        give_up = THREAD_POSTS.gives_up(row.attempts)
        outbox_queries.not_sent(
            session,
            Announcement,
            row_id=announcement_id,
            error=error[:ERROR_TEXT_LIMIT],
            next_attempt_at=THREAD_POSTS.next_attempt(row.attempts, now),
            give_up=give_up,
        )
    if give_up:
        logger.error("announcement %s given up after %s attempts: %s", announcement_id, row.attempts, error)


def owed_in_channel(services: Services, *, team_id: str, channel_id: str) -> list[int]:
    """The numbers of the channel's deals whose threads are owed posts, made due now: the bot was just invited.

    Posts given up on before (under the old retry rule, say) are owed again too: nothing the team did is lost.
    """
    with services.sessions.begin() as session:
        return announcements.revive_in_channel(session, team_id=team_id, channel_id=channel_id, now=services.clock())


def _subject(session: Session, services: Services, row: Announcement, deal: Deal) -> Subject:
    pipeline = services.pipeline
    summary = DealSummary.of(deal, pipeline)
    if row.kind == AnnouncementKind.CARD:
        created = queries.deal_events(session, team_id=row.team_id, deal_id=row.deal_id)[0]
        missing = summary.stage if not created.evidence and deal.stage_key == pipeline.first().key else None
        return CardOwed(summary, missing)
    if row.kind in (AnnouncementKind.MOVE_REQUESTED, AnnouncementKind.MOVE_DECIDED):
        move = queries.get_move(session, team_id=row.team_id, move_id=row.subject_id)
        assert move is not None
        move_summary = summarize_move(session, services, move, deal)
        if row.kind == AnnouncementKind.MOVE_DECIDED:
            return Decision(summary, move_summary)
        asked = managers_to_ask(session, services, Actor(row.team_id, move.requested_by))
        still_to_ask = tuple(user for user in asked if user not in move_summary.approved_by)
        return MoveRequested(summary, move_summary, still_to_ask if move.approvals_needed else ())
    if row.kind in (AnnouncementKind.MOVE_REMINDER, AnnouncementKind.STALL_NUDGE):
        return reminder_subject(session, services, row.subject_id, deal)
    event = session.get(DealEvent, row.subject_id)
    assert event is not None
    related = queries.get_move(session, team_id=row.team_id, move_id=event.move_id) if event.move_id else None
    related_summary = summarize_move(session, services, related, deal) if related else None
    if row.kind == AnnouncementKind.APPROVAL_GIVEN:
        assert related is not None and related_summary is not None
        asked = managers_to_ask(session, services, Actor(row.team_id, related.requested_by))
        still_to_ask = tuple(user for user in asked if user not in related_summary.approved_by)
        return ApprovalGiven(summary, related_summary, event.actor_id, still_to_ask)
    if row.kind == AnnouncementKind.EVIDENCE_ASKED:
        assert related_summary is not None
        return EvidenceAsked(summary, related_summary, event.actor_id, event.note)
    if row.kind == AnnouncementKind.LOST:
        return MarkedLost(summary, event.actor_id, related_summary)
    if row.kind == AnnouncementKind.MOVED_BACK:
        at_the_time = replace(summary, stage=stage_or_placeholder(pipeline, event.to_stage or deal.stage_key))
        return MovedBack(
            at_the_time, stage_or_placeholder(pipeline, event.from_stage or ""), event.actor_id, event.note or ""
        )
    raise ValueError(f"unknown announcement kind {row.kind!r}")
