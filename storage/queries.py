"""Keyword-only queries. Each takes the caller's session; the use case owns the transaction.

Every query is scoped by `team_id`: one workspace never reads or writes another's rows.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, text, update
from sqlmodel import Session, col, select

from storage.db import insert_for
from storage.models import (
    Announcement,
    AnnouncementKind,
    Deal,
    DealEvent,
    DealSequence,
    DealStatus,
    HandledEvent,
    Manager,
    MoveApproval,
    MoveRequest,
    MoveStatus,
)


def next_deal_number(session: Session, *, team_id: str) -> int:
    """Hand out the workspace's next deal number.

    The increment is an UPDATE on the workspace's sequence row inside the caller's
    transaction: concurrent callers queue on that row's lock, and a rolled-back
    transaction gives its number back, so numbers stay unique and gap-free.
    """
    return reserve_deal_numbers(session, team_id=team_id, count=1)


def lock_deal_numbers(session: Session, *, team_id: str) -> None:
    """Hold the workspace's deal numbers until the caller's transaction ends, handing none out: a change that
    new deals must see whole (the workspace's currency) queues with them, on the row `next_deal_number` locks."""
    session.execute(insert_for(session, DealSequence).values(team_id=team_id, last_number=0).on_conflict_do_nothing())
    session.execute(
        update(DealSequence)
        .where(col(DealSequence.team_id) == team_id)
        .values(last_number=col(DealSequence.last_number))
    )


def reserve_deal_numbers(session: Session, *, team_id: str, count: int) -> int:
    """Hand out `count` consecutive deal numbers at once (an import); returns the first.

    The same row update as `next_deal_number`, so the block is unique and gap-free too; the
    row stays locked until the caller's transaction ends.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")
    session.execute(insert_for(session, DealSequence).values(team_id=team_id, last_number=0).on_conflict_do_nothing())
    last = session.execute(
        update(DealSequence)
        .where(col(DealSequence.team_id) == team_id)
        .values(last_number=col(DealSequence.last_number) + count)
        .returning(col(DealSequence.last_number))
    ).scalar_one()
    return int(last) - count + 1


def get_deal(session: Session, *, team_id: str, number: int, for_update: bool = False) -> Deal | None:
    statement = select(Deal).where(Deal.team_id == team_id, Deal.number == number)
    if for_update:
        statement = statement.with_for_update()
    return session.exec(statement).first()


def get_deal_by_id(session: Session, *, team_id: str, deal_id: int) -> Deal | None:
    return session.exec(select(Deal).where(Deal.team_id == team_id, Deal.id == deal_id)).first()


def deals_by_id(session: Session, *, team_id: str, deal_ids: Collection[int]) -> dict[int, Deal]:
    """The workspace's deals with these ids, in one query, by id."""
    if not deal_ids:
        return {}
    rows = session.exec(select(Deal).where(Deal.team_id == team_id, col(Deal.id).in_(set(deal_ids)))).all()
    return {deal.id: deal for deal in rows if deal.id is not None}


def get_deal_of_move(session: Session, *, team_id: str, move_id: int, for_update: bool = False) -> Deal | None:
    """The deal a move belongs to; with `for_update`, its row is locked (and only its row, not the move's)."""
    statement = (
        select(Deal)
        .join(MoveRequest, col(MoveRequest.deal_id) == col(Deal.id))
        .where(Deal.team_id == team_id, MoveRequest.team_id == team_id, MoveRequest.id == move_id)
    )
    if for_update:
        statement = statement.with_for_update(of=Deal)
    return session.exec(statement).first()


def set_thread_ts(session: Session, *, team_id: str, number: int, thread_ts: str) -> None:
    """Remember the deal's thread, unless one is already remembered (a conditional update: the first wins)."""
    session.execute(
        update(Deal)
        .where(col(Deal.team_id) == team_id, col(Deal.number) == number, col(Deal.thread_ts).is_(None))
        .values(thread_ts=thread_ts)
    )


def list_deals(
    session: Session,
    *,
    team_id: str,
    owner_id: str | None = None,
    stage_key: str | None = None,
    status: DealStatus | None = DealStatus.OPEN,
    limit: int = 200,
) -> Sequence[Deal]:
    statement = select(Deal).where(Deal.team_id == team_id)
    if owner_id is not None:
        statement = statement.where(Deal.owner_id == owner_id)
    if stage_key is not None:
        statement = statement.where(Deal.stage_key == stage_key)
    if status is not None:
        statement = statement.where(Deal.status == status)
    return session.exec(statement.order_by(col(Deal.number)).limit(limit)).all()


def count_deals(session: Session, *, team_id: str, owner_id: str | None = None, stage_key: str | None = None) -> int:
    statement = select(func.count()).select_from(Deal).where(Deal.team_id == team_id, Deal.status == DealStatus.OPEN)
    if owner_id is not None:
        statement = statement.where(Deal.owner_id == owner_id)
    if stage_key is not None:
        statement = statement.where(Deal.stage_key == stage_key)
    return session.exec(statement).one()


def deal_events(session: Session, *, team_id: str, deal_id: int) -> Sequence[DealEvent]:
    return session.exec(
        select(DealEvent).where(DealEvent.team_id == team_id, DealEvent.deal_id == deal_id).order_by(col(DealEvent.id))
    ).all()


def pending_move(session: Session, *, team_id: str, deal_id: int) -> MoveRequest | None:
    return session.exec(
        select(MoveRequest).where(
            MoveRequest.team_id == team_id,
            MoveRequest.deal_id == deal_id,
            MoveRequest.status == MoveStatus.PENDING,
        )
    ).first()


def get_move(session: Session, *, team_id: str, move_id: int) -> MoveRequest | None:
    return session.exec(select(MoveRequest).where(MoveRequest.team_id == team_id, MoveRequest.id == move_id)).first()


def pending_moves(session: Session, *, team_id: str) -> Sequence[MoveRequest]:
    return session.exec(
        select(MoveRequest)
        .where(MoveRequest.team_id == team_id, MoveRequest.status == MoveStatus.PENDING)
        .order_by(col(MoveRequest.requested_at))
    ).all()


def claim_decision(
    session: Session,
    *,
    team_id: str,
    move_id: int,
    status: str,
    decided_by: str | None,
    decided_at: datetime,
    reason: str | None = None,
) -> bool:
    """Decide a pending move if nobody has yet; True when this call made the decision.

    The `status = 'pending'` condition makes it safe under races: on PostgreSQL a second
    concurrent UPDATE waits for the first's row lock, re-reads the row, and matches nothing.
    """
    result = session.execute(
        update(MoveRequest)
        .where(
            col(MoveRequest.team_id) == team_id,
            col(MoveRequest.id) == move_id,
            col(MoveRequest.status) == MoveStatus.PENDING,
        )
        .values(status=status, decided_by=decided_by, decided_at=decided_at, decision_reason=reason)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def add_approval(session: Session, *, team_id: str, move_id: int, approver_id: str, at: datetime) -> bool:
    """Record one manager's approval of a move; False when that manager had already approved it."""
    inserted = session.execute(
        insert_for(session, MoveApproval)
        .values(team_id=team_id, move_id=move_id, approver_id=approver_id, at=at)
        .on_conflict_do_nothing(index_elements=["move_id", "approver_id"])
        .returning(col(MoveApproval.id))
    ).first()
    return inserted is not None


def approvers(session: Session, *, team_id: str, move_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Who approved each of the moves, in the order they approved; moves nobody approved are left out."""
    if not move_ids:
        return {}
    rows = session.execute(
        select(col(MoveApproval.move_id), col(MoveApproval.approver_id))
        .where(col(MoveApproval.team_id) == team_id, col(MoveApproval.move_id).in_(move_ids))
        .order_by(col(MoveApproval.move_id), col(MoveApproval.at), col(MoveApproval.id))
    ).all()
    found: dict[int, tuple[str, ...]] = {}
    for move_id, approver_id in rows:
        found[move_id] = (*found.get(move_id, ()), approver_id)
    return found


def moves_approved_by_policy(session: Session, *, team_id: str, deal_id: int) -> set[int]:
    """The deal's moves applied at once because the stages they entered need no approval."""
    rows = session.execute(
        select(col(MoveRequest.id)).where(
            col(MoveRequest.team_id) == team_id,
            col(MoveRequest.deal_id) == deal_id,
            col(MoveRequest.approvals_needed) == 0,
            col(MoveRequest.status) == MoveStatus.APPROVED,
        )
    ).scalars()
    return {move_id for move_id in rows if move_id is not None}


def set_move_message_ts(session: Session, *, team_id: str, move_id: int, message_ts: str) -> None:
    """Remember the thread message that shows the move, unless one is already remembered (the first wins)."""
    session.execute(
        update(MoveRequest)
        .where(
            col(MoveRequest.team_id) == team_id, col(MoveRequest.id) == move_id, col(MoveRequest.message_ts).is_(None)
        )
        .values(message_ts=message_ts)
    )


MANAGERS_LOCK_NAMESPACE = 7_240_114
"""The first key of the workspace's advisory lock on its managers (the second is the team id's hash)."""


def lock_managers(session: Session, *, team_id: str) -> None:
    """Make the caller's transaction the only one changing the workspace's managers until it ends.

    A change reads the managers and then writes; row locks cannot serialize that while there is no
    manager row yet (the first manager may be added by anyone), so on PostgreSQL the lock is an advisory
    transaction lock keyed by the workspace, which exists with or without rows. On SQLite every writing
    transaction already holds the database's write lock (BEGIN IMMEDIATE), so there is nothing to add.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:team_id))"),
            {"namespace": MANAGERS_LOCK_NAMESPACE, "team_id": team_id},
        )


def active_managers(session: Session, *, team_id: str) -> set[str]:
    rows = session.exec(select(Manager.user_id).where(Manager.team_id == team_id, col(Manager.active).is_(True))).all()
    return set(rows)


def set_manager(
    session: Session, *, team_id: str, user_id: str, active: bool, changed_by: str, changed_at: datetime
) -> None:
    manager = session.get(Manager, (team_id, user_id))
    if manager is None:
        manager = Manager(team_id=team_id, user_id=user_id, changed_by=changed_by, changed_at=changed_at)
    manager.active = active
    manager.changed_by = changed_by
    manager.changed_at = changed_at
    session.add(manager)


@dataclass(frozen=True)
class StageTotal:
    stage_key: str
    deals: int
    value_cents: int


def open_stage_totals(session: Session, *, team_id: str) -> dict[str, StageTotal]:
    rows = session.exec(
        select(col(Deal.stage_key), func.count(), func.coalesce(func.sum(col(Deal.value_cents)), 0))
        .where(Deal.team_id == team_id, Deal.status == DealStatus.OPEN)
        .group_by(Deal.stage_key)
    ).all()
    return {key: StageTotal(key, int(count), int(value or 0)) for key, count, value in rows}


def count_lost(session: Session, *, team_id: str) -> int:
    return session.exec(
        select(func.count()).select_from(Deal).where(Deal.team_id == team_id, Deal.status == DealStatus.LOST)
    ).one()


def forget_events_before(session: Session, *, team_id: str, before: datetime) -> None:
    session.execute(
        delete(HandledEvent).where(col(HandledEvent.team_id) == team_id, col(HandledEvent.handled_at) < before)
    )


def remember_event(session: Session, *, team_id: str, event_id: str, at: datetime) -> bool:
    """Record an event delivery; False when it was recorded before (a redelivery)."""
    inserted = session.execute(
        insert_for(session, HandledEvent)
        .values(team_id=team_id, event_id=event_id, handled_at=at)
        .on_conflict_do_nothing()
        .returning(col(HandledEvent.event_id))
    ).first()
    return inserted is not None


def ever_owed(session: Session, *, team_id: str, deal_id: int, kind: AnnouncementKind) -> bool:
    """Whether the deal's thread was ever owed a post of this kind (delivered or not)."""
    return (
        session.exec(
            select(Announcement.id).where(
                Announcement.team_id == team_id, Announcement.deal_id == deal_id, Announcement.kind == kind
            )
        ).first()
        is not None
    )


def deal_numbers(session: Session, *, deal_ids: Sequence[int]) -> dict[int, int]:
    """Each deal's number by its id (for reports that only know ids)."""
    if not deal_ids:
        return {}
    rows = session.exec(select(Deal.id, Deal.number).where(col(Deal.id).in_(deal_ids))).all()
    return {int(deal_id): number for deal_id, number in rows if deal_id is not None}
