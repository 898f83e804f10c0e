"""Reminders, nudges, snoozes and the reminder setting: what is due, and the claims that make each one once.

A claim is a conditional UPDATE of the marker (`move_request.reminded_at`, `deal.nudged_at`) that only matches
while the reminder is still due. Two processes claiming the same one at once both run it; the database lets
one through (PostgreSQL re-checks the condition on the row the other just changed, SQLite runs writers one
at a time), and the other matches no row.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, exists, false, or_, select, true, tuple_, update
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col

from storage.db import insert_for
from storage.models import (
    Announcement,
    Deal,
    DealSnooze,
    DealStatus,
    DeliveryStatus,
    MoveRequest,
    MoveStatus,
    Reminder,
    ReminderKind,
    ReminderSetting,
)


def setting(session: Session, *, team_id: str) -> ReminderSetting | None:
    return session.get(ReminderSetting, team_id)


def settings_of(session: Session, *, team_ids: Sequence[str]) -> dict[str, ReminderSetting]:
    rows = session.scalars(select(ReminderSetting).where(col(ReminderSetting.team_id).in_(team_ids))).all()
    return {row.team_id: row for row in rows}


def set_pending_after(
    session: Session, *, team_id: str, hours: int | None, changed_by: str, changed_at: datetime
) -> None:
    values = {"pending_after_hours": hours, "changed_by": changed_by, "changed_at": changed_at}
    statement = insert_for(session, ReminderSetting).values(team_id=team_id, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["team_id"], set_=values))


@dataclass(frozen=True)
class PendingRow:
    move_id: int
    team_id: str
    deal_number: int
    requested_by: str
    requested_at: datetime
    reminded_at: datetime | None


def pending_moves_waiting(
    session: Session,
    *,
    requested_before: datetime,
    reminded_before: datetime,
    limit: int,
    after: tuple[datetime, int] | None = None,
) -> list[PendingRow]:
    """Moves of every workspace still pending that were asked for before `requested_before` and whose managers
    were not reminded since `reminded_before`, oldest first, from just after `after` (requested_at, move id).
    Moves the pipeline applies at once never wait."""
    rows = session.execute(
        select(
            col(MoveRequest.id),
            col(MoveRequest.team_id),
            col(Deal.number),
            col(MoveRequest.requested_by),
            col(MoveRequest.requested_at),
            col(MoveRequest.reminded_at),
        )
        .join(Deal, col(Deal.id) == MoveRequest.deal_id)
        .where(
            col(MoveRequest.status) == MoveStatus.PENDING,
            col(MoveRequest.approvals_needed) > 0,
            col(MoveRequest.requested_at) <= requested_before,
            _not_since(col(MoveRequest.reminded_at), reminded_before),
            true() if after is None else tuple_(col(MoveRequest.requested_at), col(MoveRequest.id)) > tuple_(*after),
        )
        .order_by(col(MoveRequest.requested_at), col(MoveRequest.id))
        .limit(limit)
    ).all()
    return [PendingRow(*row) for row in rows]


def claim_move_reminder(
    session: Session,
    *,
    team_id: str,
    move_id: int,
    requested_before: datetime,
    reminded_before: datetime,
    now: datetime,
) -> bool:
    """Mark the move reminded at `now` if it still waits and is still due; False when it is not (decided, or
    another process claimed it first)."""
    result = session.execute(
        update(MoveRequest)
        .where(
            col(MoveRequest.team_id) == team_id,
            col(MoveRequest.id) == move_id,
            col(MoveRequest.status) == MoveStatus.PENDING,
            col(MoveRequest.requested_at) <= requested_before,
            _not_since(col(MoveRequest.reminded_at), reminded_before),
        )
        .values(reminded_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


@dataclass(frozen=True)
class StalledRow:
    deal_id: int
    team_id: str
    number: int
    owner_id: str
    stage_key: str
    stage_entered_at: datetime


def stalled_deals_due(
    session: Session,
    *,
    stalled_before: Mapping[str, datetime],
    nudged_before: datetime,
    at: datetime,
    limit: int,
    after: tuple[datetime, int] | None = None,
) -> list[StalledRow]:
    """Open deals of every workspace that entered their stage before its cutoff (`stalled_before`, by stage
    key), not nudged since `nudged_before`, and not snoozed at `at`; longest in stage first, from just after
    `after` (stage_entered_at, deal id)."""
    rows = session.execute(
        select(
            col(Deal.id),
            col(Deal.team_id),
            col(Deal.number),
            col(Deal.owner_id),
            col(Deal.stage_key),
            col(Deal.stage_entered_at),
        )
        .where(
            _nudge_due(stalled_before, nudged_before, at),
            true() if after is None else tuple_(col(Deal.stage_entered_at), col(Deal.id)) > tuple_(*after),
        )
        .order_by(col(Deal.stage_entered_at), col(Deal.id))
        .limit(limit)
    ).all()
    return [StalledRow(*row) for row in rows]


def claim_nudge(
    session: Session,
    *,
    team_id: str,
    deal_id: int,
    stalled_before: Mapping[str, datetime],
    nudged_before: datetime,
    now: datetime,
) -> bool:
    """Mark the deal nudged at `now` if it is still stalled, unsnoozed and due; False otherwise."""
    result = session.execute(
        update(Deal)
        .where(
            col(Deal.team_id) == team_id,
            col(Deal.id) == deal_id,
            _nudge_due(stalled_before, nudged_before, now),
        )
        .values(nudged_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def add_reminder(
    session: Session,
    *,
    team_id: str,
    deal_id: int,
    kind: ReminderKind,
    move_id: int | None,
    stage_key: str,
    recipients: Sequence[str],
    at: datetime,
) -> Reminder:
    reminder = Reminder(
        team_id=team_id,
        deal_id=deal_id,
        kind=kind,
        move_id=move_id,
        stage_key=stage_key,
        recipients=list(recipients),
        at=at,
    )
    session.add(reminder)
    session.flush()
    return reminder


def snooze_of(session: Session, *, team_id: str, deal_id: int) -> DealSnooze | None:
    row = session.get(DealSnooze, deal_id)
    return row if row is not None and row.team_id == team_id else None


def set_snooze(
    session: Session, *, team_id: str, deal_id: int, until: datetime, reason: str, snoozed_by: str, at: datetime
) -> None:
    values = {"team_id": team_id, "until": until, "reason": reason, "snoozed_by": snoozed_by, "snoozed_at": at}
    statement = insert_for(session, DealSnooze).values(deal_id=deal_id, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["deal_id"], set_=values))


def end_snooze(session: Session, *, team_id: str, deal_id: int) -> None:
    session.execute(delete(DealSnooze).where(col(DealSnooze.team_id) == team_id, col(DealSnooze.deal_id) == deal_id))


def snoozes_by_number(session: Session, *, team_id: str, numbers: Sequence[int], at: datetime) -> dict[int, DealSnooze]:
    """The snoozes running at `at` (set at or before it, ending after it) of the workspace's deals numbered
    `numbers`, by deal number."""
    rows = session.execute(
        select(col(Deal.number), DealSnooze)
        .join(Deal, col(Deal.id) == DealSnooze.deal_id)
        .where(
            col(DealSnooze.team_id) == team_id,
            col(Deal.number).in_(numbers),
            snooze_running_at(at),
        )
    ).all()
    return {number: snooze for number, snooze in rows}


def snooze_running_at(at: datetime) -> ColumnElement[bool]:
    """A deal's snooze runs at `at`: set at or before it, ending after it (the digest's definition)."""
    return and_(col(DealSnooze.until) > at, col(DealSnooze.snoozed_at) <= at)


def _not_since(column: Mapped[datetime | None], before: datetime) -> ColumnElement[bool]:
    return or_(column.is_(None), column <= before)


def _nudge_due(stalled_before: Mapping[str, datetime], nudged_before: datetime, at: datetime) -> ColumnElement[bool]:
    stalled = (
        or_(
            *(
                and_(col(Deal.stage_key) == key, col(Deal.stage_entered_at) < cutoff)
                for key, cutoff in stalled_before.items()
            )
        )
        if stalled_before
        else false()
    )
    snoozed = exists().where(col(DealSnooze.deal_id) == col(Deal.id), col(DealSnooze.until) > at)
    return and_(
        col(Deal.status) == DealStatus.OPEN,
        stalled,
        _not_since(col(Deal.nudged_at), nudged_before),
        ~snoozed,
    )


def earlier_still_owed(session: Session, *, team_id: str, deal_id: int, post: str, move_id: int | None) -> bool:
    """Whether a reminder posted as `post` (an announcement kind) for the deal, and the move when given, is still
    waiting to be posted: while the thread cannot be posted in (a private channel the bot was not invited to),
    it stands for the ones after it."""
    owed = session.execute(
        select(col(Reminder.id))
        .join(Announcement, and_(col(Announcement.subject_id) == Reminder.id, col(Announcement.kind) == post))
        .where(
            col(Reminder.team_id) == team_id,
            col(Reminder.deal_id) == deal_id,
            true() if move_id is None else col(Reminder.move_id) == move_id,
            col(Announcement.status) != DeliveryStatus.SENT,
        )
        .limit(1)
    ).first()
    return owed is not None
