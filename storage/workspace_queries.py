"""A workspace's language and currency, and the currencies its deals' values were typed in."""

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, func, update
from sqlmodel import Session, col, select

from storage.db import insert_for
from storage.models import Deal, WorkspaceSetting


def setting(session: Session, *, team_id: str) -> WorkspaceSetting | None:
    return session.get(WorkspaceSetting, team_id)


def set_language(session: Session, *, team_id: str, language: str, changed_by: str, changed_at: datetime) -> None:
    values = {"language": language, "language_changed_by": changed_by, "language_changed_at": changed_at}
    statement = insert_for(session, WorkspaceSetting).values(team_id=team_id, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["team_id"], set_=values))


def set_currency(session: Session, *, team_id: str, currency: str, changed_by: str, changed_at: datetime) -> None:
    values = {"currency": currency, "currency_changed_by": changed_by, "currency_changed_at": changed_at}
    statement = insert_for(session, WorkspaceSetting).values(team_id=team_id, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["team_id"], set_=values))


def value_currencies(session: Session, *, team_id: str) -> dict[str | None, int]:
    """How many deals hold a value in each currency (None: typed before the workspace had one)."""
    statement = (
        select(Deal.value_currency, func.count())
        .where(Deal.team_id == team_id, col(Deal.value_cents).is_not(None))
        .group_by(col(Deal.value_currency))
    )
    return {currency: count for currency, count in session.exec(statement).all()}


def adopt_currency(session: Session, *, team_id: str, currency: str) -> int:
    """Values typed before the workspace had a currency are counted in `currency` from now on; how many."""
    statement = (
        update(Deal)
        .where(col(Deal.team_id) == team_id, col(Deal.value_cents).is_not(None), col(Deal.value_currency).is_(None))
        .values(value_currency=currency)
    )
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return result.rowcount
