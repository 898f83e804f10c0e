"""Races: two people changing the same deal, or the same workspace's managers, at the same instant.

Each test runs many rounds; in each, the rivals wait at a barrier and then call the use cases at once,
each on its own connection pool (as on two app workers). On PostgreSQL these are real races; on SQLite
writers queue, so the same assertions hold trivially. Every round must end in one of the outcomes the
two calls could have had one after the other, and every loser must get a refusal that tells the truth.
"""

import datetime
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from commands.deals.deal import MarkLost, NewDeal, create_deal, mark_lost
from commands.deals.evidence import Evidence
from commands.deals.managers import ChangeManager, change_manager
from commands.deals.moves import Advance, AlreadyDecided, ask_for_evidence, decide_move, request_move
from commands.deals.results import DealSummary, Decision, EvidenceAsked, ManagerChanged, MarkedLost, MoveRequested
from commands.digest.schedules import SetSchedule, set_schedule
from commands.errors import CommandError
from commands.inbox.requests import Claim, Replayed
from commands.services import Actor, Services
from commands.workspace.settings import SetCurrency, set_currency, workspace_settings
from storage import spells
from storage.db import make_engine, make_session_factory
from storage.models import Deal, DealEvent, DigestSchedule, Manager, MoveRequest
from tests.conftest import MANAGER, OTHER_MANAGER, OTHER_REP, REP

ROUNDS = 40
TEAM = "T1"
CHANNEL = "C_SALES"
LINK = Evidence("https://mail.example.com/buyer-reply")

rep = Actor(TEAM, REP)
manager = Actor(TEAM, MANAGER)
other_manager = Actor(TEAM, OTHER_MANAGER)

Outcome = object
"""What a rival's call returned, or the exception it raised."""


@pytest.fixture
def workers(engine: Engine, services: Services) -> Iterator[list[Services]]:
    """App workers: the same services, each over its own connection pool."""
    engines = [make_engine(engine.url.render_as_string(hide_password=False)) for _ in range(4)]
    yield [replace(services, sessions=make_session_factory(each)) for each in engines]
    for each in engines:
        each.dispose()


def at_once(*calls: Callable[[], object]) -> list[Outcome]:
    """Run the calls in threads released together; each one's result or exception, in call order."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Outcome] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            outcomes[index] = call()
        except Exception as error:  # the test judges every outcome, errors included
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a rival never returned"
    return outcomes


def every_round(one_round: Callable[[int], str | None]) -> None:
    """Play ROUNDS rounds; each returns what went wrong in it, if anything."""
    failures = [f"round {index}: {problem}" for index in range(ROUNDS) if (problem := one_round(index))]
    assert not failures, f"{len(failures)} of {ROUNDS} rounds went wrong:\n" + "\n".join(failures[:10])


def pending_deal(services: Services, name: str) -> tuple[int, int]:
    """A new deal with a move to the next stage waiting for a manager: (deal number, move id)."""
    deal = create_deal(services, rep, channel_id=CHANNEL, command=NewDeal(name, None, None, ()))
    requested = request_move(services, rep, Advance(deal.number, (LINK,), None, None))
    assert isinstance(requested, MoveRequested)
    return deal.number, requested.move.id


def stored(services: Services, number: int) -> tuple[Deal, list[str], list[MoveRequest]]:
    """The deal, its event kinds in order, and its moves."""
    with services.sessions() as session:
        deal = session.exec(select(Deal).where(Deal.team_id == TEAM, Deal.number == number)).one()
        events = session.exec(select(DealEvent).where(DealEvent.deal_id == deal.id).order_by(col(DealEvent.id))).all()
        moves = session.exec(
            select(MoveRequest).where(MoveRequest.deal_id == deal.id).order_by(col(MoveRequest.id))
        ).all()
        return deal, [event.kind for event in events], list(moves)


def assert_history_matches_events(services: Services) -> None:
    with services.sessions() as session:
        assert list(spells.compare(session, stage_keys=services.pipeline.keys)) == []


def decide(worker: Services, move_id: int, how: str) -> Callable[[], object]:
    if how == "ask":
        return lambda: ask_for_evidence(worker, manager, move_id=move_id)
    return lambda: decide_move(worker, manager, move_id=move_id, approve=how == "approve", reason="Not signed")


DECIDED_EVENT = {"approve": "approved", "reject": "rejected", "ask": "evidence_asked"}


@pytest.mark.parametrize("how", ["approve", "reject", "ask"])
def test_a_decision_and_marking_the_deal_lost_at_once_happen_one_after_the_other(
    services: Services, workers: list[Services], how: str
) -> None:
    def one_round(index: int) -> str | None:
        number, move_id = pending_deal(services, f"Race {index}")
        decided, lost = at_once(
            decide(workers[0], move_id, how),
            lambda: mark_lost(workers[1], other_manager, MarkLost(number, "Went with a competitor")),
        )
        deal, events, [move] = stored(services, number)
        if not isinstance(lost, MarkedLost):
            return f"lost: {lost!r}"
        if deal.status != "lost":
            return f"the deal is {deal.status}"
        if isinstance(decided, Decision | EvidenceAsked):
            # The decision came first; marking lost then found the deal as the decision left it.
            expected = "cancelled" if how == "ask" else DECIDED_EVENT[how]
            if move.status != expected or (lost.cancelled_move is not None) != (how == "ask"):
                return f"decided first, but the move is {move.status}, cancelled by lost: {lost.cancelled_move}"
            if events != ["created", "requested", DECIDED_EVENT[how], "lost"]:
                return f"decided first, but the events are {events}"
            return None
        if isinstance(decided, AlreadyDecided):
            # Marking lost came first and cancelled the move; the manager is told so, and by whom.
            if decided.move.status != "cancelled" or decided.move.decided_by != OTHER_MANAGER:
                return f"lost first, but the manager was told {decided.move}"
            if decided.message != f"deal-{number} was marked lost, so this move was cancelled.":
                return f"lost first, but the manager was told {decided.message!r}"
            if lost.cancelled_move is None or move.status != "cancelled":
                return f"lost first, but the move is {move.status}"
            if events != ["created", "requested", "lost"]:
                return f"lost first, but the events are {events}"
            return None
        return f"decision: {decided!r}"

    every_round(one_round)
    assert_history_matches_events(services)


def test_asking_for_evidence_and_approving_at_once_never_ask_about_a_decided_move(
    services: Services, workers: list[Services]
) -> None:
    def one_round(index: int) -> str | None:
        number, move_id = pending_deal(services, f"Race {index}")
        asked, approved = at_once(
            lambda: ask_for_evidence(workers[0], other_manager, move_id=move_id),
            lambda: decide_move(workers[1], manager, move_id=move_id, approve=True),
        )
        deal, events, [move] = stored(services, number)
        if not isinstance(approved, Decision):
            return f"approve: {approved!r}"
        if move.status != "approved" or deal.stage_key != "needs-confirmed":
            return f"the move is {move.status} and the deal at {deal.stage_key}"
        if isinstance(asked, EvidenceAsked):
            if events != ["created", "requested", "evidence_asked", "approved"]:
                return f"asked first, but the events are {events}"
            return None
        if isinstance(asked, AlreadyDecided):
            if asked.move.status != "approved" or events != ["created", "requested", "approved"]:
                return f"approved first, but asking was told {asked.move.status} and the events are {events}"
            return None
        return f"ask: {asked!r}"

    every_round(one_round)
    assert_history_matches_events(services)


def test_two_requests_for_one_deal_at_once_store_one(services: Services, workers: list[Services]) -> None:
    def one_round(index: int) -> str | None:
        number = create_deal(services, rep, channel_id=CHANNEL, command=NewDeal(f"Race {index}", None, None, ())).number
        outcomes = at_once(
            lambda: request_move(workers[0], rep, Advance(number, (LINK,), None, None)),
            lambda: request_move(workers[1], manager, Advance(number, (LINK,), None, None)),
        )
        _, events, moves = stored(services, number)
        requested = [o for o in outcomes if isinstance(o, MoveRequested)]
        refused = [o for o in outcomes if isinstance(o, CommandError) and "already has a move" in o.message]
        if len(requested) != 1 or len(refused) != 1:
            return repr(outcomes)
        if [m.status for m in moves] != ["pending"] or events != ["created", "requested"]:
            return f"moves {[m.status for m in moves]}, events {events}"
        return None

    every_round(one_round)


def test_the_same_request_twice_at_once_is_done_once(services: Services, workers: list[Services]) -> None:
    """A replay claimed in the use case's own transaction: the copy that comes second waits for the first one's
    transaction and is told it was already received, with nothing changed twice."""

    def one_round(index: int) -> str | None:
        new = NewDeal(f"Replayed {index}", None, None, ())
        created = at_once(
            *(
                lambda w=w: create_deal(w, rep, channel_id=CHANNEL, command=new, claim=Claim(TEAM, f"new-{index}"))
                for w in workers[:2]
            )
        )
        deals = [o for o in created if isinstance(o, DealSummary)]
        if len(deals) != 1 or sum(isinstance(o, Replayed) for o in created) != 1:
            return f"create: {created!r}"
        number = deals[0].number
        advance = Advance(number, (LINK,), None, None)
        asked = at_once(
            *(lambda w=w: request_move(w, rep, advance, claim=Claim(TEAM, f"adv-{index}")) for w in workers[:2])
        )
        if sum(isinstance(o, MoveRequested) for o in asked) != 1 or sum(isinstance(o, Replayed) for o in asked) != 1:
            return f"advance: {asked!r}"
        _, events, moves = stored(services, number)
        if len(moves) != 1 or events != ["created", "requested"]:
            return f"moves {len(moves)}, events {events}"
        return None

    every_round(one_round)


def test_a_request_while_the_pending_move_is_approved_comes_before_or_after_it(
    services: Services, workers: list[Services]
) -> None:
    def one_round(index: int) -> str | None:
        number, move_id = pending_deal(services, f"Race {index}")
        approved, requested = at_once(
            lambda: decide_move(workers[0], manager, move_id=move_id, approve=True),
            lambda: request_move(workers[1], rep, Advance(number, (LINK,), None, None)),
        )
        deal, events, moves = stored(services, number)
        statuses = [m.status for m in moves]
        if not isinstance(approved, Decision):
            return f"approve: {approved!r}"
        if deal.stage_key != "needs-confirmed":
            return f"the deal is at {deal.stage_key}"
        if isinstance(requested, MoveRequested):
            # Approved first: the new request starts where the approval left the deal.
            if requested.move.from_stage.key != "needs-confirmed" or statuses != ["approved", "pending"]:
                return f"approved first, but the new move is {requested.move} and the moves {statuses}"
            return None
        if isinstance(requested, CommandError) and "already has a move" in requested.message:
            if statuses != ["approved"] or events != ["created", "requested", "approved"]:
                return f"requested first, but the moves are {statuses} and the events {events}"
            return None
        return f"request: {requested!r}"

    every_round(one_round)
    assert_history_matches_events(services)


def test_a_form_s_request_while_the_pending_move_is_approved_is_never_filed_from_the_new_stage(
    services: Services, workers: list[Services]
) -> None:
    """The advance form, opened at Meeting booked, asks for a skip to Product evaluated with a link for each stage
    entered, while a manager approves the move to Needs confirmed that someone else asked for meanwhile. Whichever
    goes first, the form's request is refused: the move is still waiting, or the deal has moved since the form was
    opened (its first link was evidence for Needs confirmed, not for a move from there)."""
    links = (LINK, Evidence("https://mail.example.com/demo-recap"))

    def one_round(index: int) -> str | None:
        number, move_id = pending_deal(services, f"Race {index}")
        form = Advance(number, links, to_key="product-evaluated", note=None, from_key="meeting-booked")
        approved, requested = at_once(
            lambda: decide_move(workers[0], manager, move_id=move_id, approve=True),
            lambda: request_move(workers[1], rep, form),
        )
        deal, events, moves = stored(services, number)
        if not isinstance(approved, Decision) or deal.stage_key != "needs-confirmed":
            return f"approve: {approved!r}, the deal at {deal.stage_key}"
        refused = isinstance(requested, CommandError) and (
            "already has a move" in requested.message or "since this form was opened" in requested.message
        )
        if not refused or [m.status for m in moves] != ["approved"]:
            return f"request: {requested!r}, moves {[m.status for m in moves]}"
        if events != ["created", "requested", "approved"]:
            return f"events {events}"
        return None

    every_round(one_round)
    assert_history_matches_events(services)


def test_marking_a_deal_lost_twice_at_once_loses_it_once(services: Services, workers: list[Services]) -> None:
    def one_round(index: int) -> str | None:
        number, _ = pending_deal(services, f"Race {index}")
        outcomes = at_once(
            lambda: mark_lost(workers[0], rep, MarkLost(number, "No budget")),
            lambda: mark_lost(workers[1], manager, MarkLost(number, "Went dark")),
        )
        _, events, [move] = stored(services, number)
        lost = [o for o in outcomes if isinstance(o, MarkedLost)]
        refused = [o for o in outcomes if isinstance(o, CommandError) and "is already lost" in o.message]
        if len(lost) != 1 or len(refused) != 1:
            return repr(outcomes)
        if events != ["created", "requested", "lost"] or move.status != "cancelled":
            return f"events {events}, move {move.status}"
        return None

    every_round(one_round)
    assert_history_matches_events(services)


def active_managers(services: Services, team: str) -> list[str]:
    with services.sessions() as session:
        rows = session.exec(select(Manager).where(Manager.team_id == team, Manager.active)).all()
        return sorted(row.user_id for row in rows)


def test_with_no_manager_only_one_of_several_people_adding_at_once_becomes_the_first(
    services: Services, workers: list[Services]
) -> None:
    bare = [replace(worker, env_managers=frozenset()) for worker in workers]
    people = [REP, OTHER_REP, "U_REP3", "U_REP4"]

    def one_round(index: int) -> str | None:
        team = f"T_FIRST_{index}"

        def add_self(worker: Services, person: str) -> Callable[[], object]:
            return lambda: change_manager(worker, Actor(team, person), ChangeManager("add", person))

        outcomes = at_once(*(add_self(worker, person) for worker, person in zip(bare, people, strict=True)))
        added = [o for o in outcomes if not isinstance(o, Exception)]
        refused = [o for o in outcomes if isinstance(o, CommandError) and "Only a sales manager" in o.message]
        managers = active_managers(services, team)
        if len(added) != 1 or len(refused) != len(people) - 1 or len(managers) != 1:
            return f"managers {managers}, outcomes {outcomes!r}"
        return None

    every_round(one_round)


def test_two_managers_removing_each_other_at_once_leave_one(services: Services, workers: list[Services]) -> None:
    bare = [replace(worker, env_managers=frozenset()) for worker in workers]

    def one_round(index: int) -> str | None:
        team = f"T_PAIR_{index}"
        change_manager(bare[0], Actor(team, REP), ChangeManager("add", REP))
        change_manager(bare[0], Actor(team, REP), ChangeManager("add", OTHER_REP))
        outcomes = at_once(
            lambda: change_manager(bare[0], Actor(team, REP), ChangeManager("remove", OTHER_REP)),
            lambda: change_manager(bare[1], Actor(team, OTHER_REP), ChangeManager("remove", REP)),
        )
        removed = [o for o in outcomes if not isinstance(o, Exception)]
        refused = [o for o in outcomes if isinstance(o, CommandError) and "Only a sales manager" in o.message]
        managers = active_managers(services, team)
        if len(removed) != 1 or len(refused) != 1 or len(managers) != 1:
            return f"managers {managers}, outcomes {outcomes!r}"
        return None

    every_round(one_round)


def test_two_managers_adding_the_same_person_at_once_both_hear_it_is_done(
    services: Services, workers: list[Services]
) -> None:
    def one_round(index: int) -> str | None:
        person = f"U_NEW{index}"
        outcomes = at_once(
            lambda: change_manager(workers[0], manager, ChangeManager("add", person)),
            lambda: change_manager(workers[1], other_manager, ChangeManager("add", person)),
        )
        changed = sorted(o.changed for o in outcomes if isinstance(o, ManagerChanged))
        if changed != [False, True] or person not in active_managers(services, TEAM):
            return f"outcomes {outcomes!r}"
        return None

    every_round(one_round)


def test_two_managers_scheduling_a_new_channel_at_once_both_hear_it_is_done(workers: list[Services]) -> None:
    """The schedule is one upsert: two first schedules of a channel at once cannot collide on its key."""
    first, second = workers[0], workers[1]

    def one_round(index: int) -> str | None:
        channel = f"C_DIGEST{index}"
        weekly = SetSchedule("weekly", "mon", datetime.time(9, 0), "Europe/Berlin")
        daily = SetSchedule("daily", None, datetime.time(8, 30), "Europe/Berlin")
        outcomes = at_once(
            lambda: set_schedule(first, manager, channel_id=channel, command=weekly, default_tz="UTC"),
            lambda: set_schedule(second, other_manager, channel_id=channel, command=daily, default_tz="UTC"),
        )
        errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
        if errors:
            return f"refused: {errors!r}"
        with first.sessions() as session:
            rows = session.execute(select(DigestSchedule).where(DigestSchedule.channel_id == channel)).all()
        return None if len(rows) == 1 else f"{len(rows)} schedules"

    every_round(one_round)


def test_a_currency_set_while_a_deal_is_created_never_leaves_a_value_in_another(workers: list[Services]) -> None:
    """A manager sets the workspace's currency to EUR while a rep adds a deal worth $5,000: one of them is refused,
    and no deal is left holding dollars in a euro workspace (both first lock the workspace's deal numbers)."""

    def one_round(index: int) -> str | None:
        team = f"T_CUR{index}"
        outcomes = at_once(
            lambda: set_currency(workers[0], Actor(team, MANAGER), SetCurrency("EUR")),
            lambda: create_deal(
                workers[1],
                Actor(team, REP),
                channel_id=CHANNEL,
                command=NewDeal("Dollar deal", 500_000, None, (), value_currency="USD"),
            ),
        )
        refused = [outcome for outcome in outcomes if isinstance(outcome, CommandError)]
        unexpected = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, CommandError)]
        currency = workspace_settings(workers[0], team).currency
        with workers[0].sessions() as session:
            held = session.exec(select(Deal.value_currency).where(Deal.team_id == team)).all()
        if unexpected or len(refused) != 1:
            return f"outcomes {outcomes}"
        if currency == "EUR" and "USD" in held:
            return f"a USD deal in a EUR workspace: {outcomes}"
        return None

    every_round(one_round)
