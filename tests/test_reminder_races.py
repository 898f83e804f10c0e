"""Two reminder ticks at the same instant (two app processes) owe one reminder, one nudge.

Each round stores a move due a reminder and a deal due a nudge, then four workers, each on its own connection
pool, claim both at once from behind a barrier. On PostgreSQL these are real races (run with TEST_DATABASE_URL);
on SQLite writers queue, and the same must hold.
"""

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import partial

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from commands.deals.deal import NewDeal, create_deal
from commands.deals.evidence import Evidence
from commands.deals.moves import Advance, request_move
from commands.reminders.due import due_reminders, owe_move_reminder, owe_nudge
from commands.services import Actor, Services
from storage.db import make_engine, make_session_factory
from storage.models import Announcement, AnnouncementKind, Reminder, ReminderKind
from tests.conftest import REP, Clock

ROUNDS = 15
WORKERS = 4
TEAM = "T1"
rep = Actor(TEAM, REP)


@pytest.fixture
def workers(engine: Engine, services: Services) -> Iterator[list[Services]]:
    engines = [make_engine(engine.url.render_as_string(hide_password=False)) for _ in range(WORKERS)]
    yield [replace(services, sessions=make_session_factory(each)) for each in engines]
    for each in engines:
        each.dispose()


def at_once(calls: Sequence[Callable[[], bool]]) -> list[bool | Exception]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[bool | Exception] = [False] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = calls[index]()
        except Exception as error:  # the test judges every outcome, errors included
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a worker never returned"
    return outcomes


def owed(services: Services, kind: ReminderKind, announced: AnnouncementKind) -> tuple[int, int]:
    with services.sessions() as session:
        reminders = session.exec(select(Reminder).where(col(Reminder.kind) == kind)).all()
        announcements = session.exec(select(Announcement).where(col(Announcement.kind) == announced)).all()
        return len(reminders), len(announcements)


def test_racing_ticks_owe_one_reminder_and_one_nudge(services: Services, workers: list[Services], clock: Clock) -> None:
    for round_number in range(ROUNDS):
        deal = create_deal(services, rep, channel_id="C1", command=NewDeal(f"Acme {round_number}", None, None, ()))
        request_move(services, rep, Advance(deal.number, (Evidence("https://mail.example.com/r"),), None, None))
        stalled = create_deal(services, rep, channel_id="C1", command=NewDeal(f"Beta {round_number}", None, None, ()))
        clock.advance(days=15)
        due = due_reminders(services)
        [move] = [m for m in due.moves if m.deal_number == deal.number]
        nudge = next(n for n in due.nudges if n.deal_number == stalled.number)

        outcomes = at_once(
            [partial(owe_move_reminder, worker, move, mention=move.deciders) for worker in workers]
            + [partial(owe_nudge, worker, nudge) for worker in workers]
        )
        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        assert outcomes[:WORKERS].count(True) == 1, f"round {round_number}: {outcomes}"
        assert outcomes[WORKERS:].count(True) == 1, f"round {round_number}: {outcomes}"
        reminded_before = owed(services, ReminderKind.MOVE_PENDING, AnnouncementKind.MOVE_REMINDER)
        nudged_before = owed(services, ReminderKind.STALLED, AnnouncementKind.STALL_NUDGE)
        assert owe_move_reminder(services, move, mention=move.deciders) is False
        assert owe_nudge(services, nudge) is False
        assert owed(services, ReminderKind.MOVE_PENDING, AnnouncementKind.MOVE_REMINDER) == reminded_before
        assert owed(services, ReminderKind.STALLED, AnnouncementKind.STALL_NUDGE) == nudged_before
    assert owed(services, ReminderKind.MOVE_PENDING, AnnouncementKind.MOVE_REMINDER) == (ROUNDS, ROUNDS)
    assert owed(services, ReminderKind.STALLED, AnnouncementKind.STALL_NUDGE) == (ROUNDS, ROUNDS)
