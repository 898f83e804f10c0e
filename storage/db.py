"""Engines and sessions for SQLite (embedded default) and PostgreSQL (scale-out)."""

from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

SessionFactory = sessionmaker[Session]

# Waits for locks stay well inside Slack's 3 s ack: a command that cannot get its lock in time
# fails with "nothing was changed, try again" instead of being stored after the user saw an error.
SQLITE_BUSY_TIMEOUT_SECONDS = 2
READ_ONLY = "salesbot_read_only"
POSTGRES_CONNECT_TIMEOUT_SECONDS = 2
POSTGRES_LOCK_TIMEOUT_MS = 2000


def make_engine(url: str) -> Engine:
    """Build an engine; SQLite gets WAL and write-locking transactions so concurrent writers queue."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(
        url,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS,
            "options": f"-c lock_timeout={POSTGRES_LOCK_TIMEOUT_MS}",
        },
    )


def make_session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(engine, class_=Session, expire_on_commit=False)


def read_only(session: Session) -> None:
    """Mark the session's transaction as read-only (call first): on SQLite it then takes no write lock."""
    session.connection(execution_options={READ_ONLY: True})


def insert_for(session: Session, model: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT of the session's dialect, which offers `on_conflict_do_nothing` / `on_conflict_do_update`."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def database_answers(engine: Engine) -> bool:
    """True when a trivial query succeeds: what the health check reports."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any driver failure means "not healthy"; the caller only needs yes or no
        return False
    return True


def is_outage(error: BaseException) -> bool:
    """True when `error` means the database did not answer in time: unreachable, connection lost, pool or
    lock wait timed out, SQLite busy. Such a statement changed nothing and may simply be tried again."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, exc.OperationalError | exc.InterfaceError | exc.TimeoutError)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so BEGIN IMMEDIATE below is honoured.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if ":memory:" not in url:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that reads then writes can fail with "database is locked"
        # when another writer got in between; taking the write lock up front makes it wait.
        # Long reports say they only read, so they do not hold the write lock (WAL lets them run beside writers).
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
