"""Claims on requests already handled (a replayed slash command): one row per workspace and request key."""

from datetime import datetime

from sqlalchemy import delete, tuple_
from sqlmodel import Session, col, select

from storage.db import insert_for
from storage.models import HandledRequest


def claim_request(session: Session, *, team_id: str, key: str, at: datetime) -> bool:
    """Record the request as handled; False when it already was (a replay, or the same request in flight)."""
    inserted = session.execute(
        insert_for(session, HandledRequest)
        .values(team_id=team_id, request_key=key, handled_at=at)
        .on_conflict_do_nothing()
        .returning(col(HandledRequest.request_key))
    ).first()
    return inserted is not None


def forget_requests_before(session: Session, *, team_id: str, before: datetime) -> None:
    """Drop claims older than `before`: a request that old fails its signature check, so it cannot come back.

    On PostgreSQL the rows another transaction is already dropping are skipped (`SKIP LOCKED`), not waited for: every
    claim drops the old ones on its way, and concurrent claims would otherwise each wait for the first to commit."""
    old = (col(HandledRequest.team_id) == team_id, col(HandledRequest.handled_at) < before)
    if session.get_bind().dialect.name != "postgresql":
        session.execute(delete(HandledRequest).where(*old))
        return
    unlocked = (
        select(col(HandledRequest.team_id), col(HandledRequest.request_key))
        .where(*old)
        .with_for_update(skip_locked=True)
    )
    session.execute(
        delete(HandledRequest).where(tuple_(col(HandledRequest.team_id), col(HandledRequest.request_key)).in_(unlocked))
    )


def release_request(session: Session, *, team_id: str, key: str) -> None:
    """Forget a claim, so the same request may be acted on again (it was refused or failed)."""
    session.execute(
        delete(HandledRequest).where(col(HandledRequest.team_id) == team_id, col(HandledRequest.request_key) == key)
    )
