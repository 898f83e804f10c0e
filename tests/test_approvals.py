"""The approval policy per stage through the use cases (no Slack), and two managers approving at once.

Here the default pipeline's second stage, Needs confirmed, needs two different managers and its third, Product
evaluated, none; three managers can decide.
"""

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.digest_blocks import digest_message
from commands.deals.deal import NewDeal, create_deal, show_deal
from commands.deals.evidence import Evidence
from commands.deals.home import home_overview
from commands.deals.moves import Advance, AlreadyDecided, decide_move, request_move
from commands.deals.results import Decision, MoveRequested
from commands.digest.compute import compute_digest, period_ending
from commands.digest.text import digest_text
from commands.errors import CommandError
from commands.i18n.translator import ENGLISH
from commands.pipeline.loading import default_pipeline
from commands.pipeline.stages import Approval, Pipeline
from commands.services import Actor, Services
from storage.db import make_engine, make_session_factory
from storage.models import Deal, DealEvent, MoveApproval, MoveRequest
from tests.conftest import MANAGER, OTHER_MANAGER, REP, Clock
from tests.test_races import assert_history_matches_events, at_once, every_round

TEAM = "T1"
THIRD_MANAGER = "U_MGR3"
rep = Actor(TEAM, REP)
first, second, third = Actor(TEAM, MANAGER), Actor(TEAM, OTHER_MANAGER), Actor(TEAM, THIRD_MANAGER)
LINK = Evidence("https://mail.example.com/msg/1")
POLICY = {"needs-confirmed": Approval.TWO, "product-evaluated": Approval.NONE}


def with_policy(pipeline: Pipeline) -> Pipeline:
    return replace(
        pipeline,
        stages=tuple(replace(stage, approval=POLICY.get(stage.key, stage.approval)) for stage in pipeline.stages),
    )


@pytest.fixture
def policed(services: Services) -> Services:
    return replace(
        services,
        pipeline=with_policy(default_pipeline()),
        env_managers=frozenset({MANAGER, OTHER_MANAGER, THIRD_MANAGER}),
    )


@pytest.fixture
def workers(engine: Engine, policed: Services) -> Iterator[list[Services]]:
    engines = [make_engine(engine.url.render_as_string(hide_password=False)) for _ in range(2)]
    yield [replace(policed, sessions=make_session_factory(each)) for each in engines]
    for each in engines:
        each.dispose()


def waiting_for_two(services: Services, name: str = "Acme") -> tuple[int, int]:
    """A new deal whose move to Needs confirmed waits for two managers: (deal number, move id)."""
    deal = create_deal(services, rep, channel_id="C1", command=NewDeal(name, None, None, ()))
    requested = request_move(services, rep, Advance(deal.number, (LINK,), None, None))
    assert isinstance(requested, MoveRequested)
    return deal.number, requested.move.id


def stored(services: Services, number: int) -> tuple[Deal, list[tuple[str, str]], MoveRequest, list[str]]:
    """The deal, its events (kind, actor), its last move and that move's approvers in order."""
    with services.sessions() as session:
        deal = session.exec(select(Deal).where(Deal.number == number)).one()
        events = session.exec(select(DealEvent).where(DealEvent.deal_id == deal.id).order_by(col(DealEvent.id))).all()
        move = session.exec(
            select(MoveRequest).where(MoveRequest.deal_id == deal.id).order_by(col(MoveRequest.id).desc())
        ).first()
        assert move is not None
        approvals = session.exec(
            select(MoveApproval.approver_id).where(MoveApproval.move_id == move.id).order_by(col(MoveApproval.id))
        ).all()
        return deal, [(e.kind, e.actor_id) for e in events], move, list(approvals)


def test_the_first_approval_is_recorded_and_the_move_waits(policed: Services) -> None:
    number, move_id = waiting_for_two(policed)

    decision = decide_move(policed, first, move_id=move_id, approve=True)

    assert decision.move.status == "pending" and decision.move.approved_by == (MANAGER,)
    assert decision.move.approvals_missing == 1
    deal, events, move, approvals = stored(policed, number)
    assert deal.stage_key == "meeting-booked" and move.status == "pending" and approvals == [MANAGER]
    assert events[-1] == ("approval_given", MANAGER)
    detail = show_deal(policed, rep, number=number)
    assert detail.pending is not None and detail.pending.approved_by == (MANAGER,)
    assert [kind for kind, _ in events] == [entry.kind for entry in detail.history]


def test_the_second_approval_by_another_manager_moves_the_deal(policed: Services) -> None:
    number, move_id = waiting_for_two(policed)
    decide_move(policed, first, move_id=move_id, approve=True)

    decision = decide_move(policed, second, move_id=move_id, approve=True)

    assert decision.move.status == "approved" and decision.move.approved_by == (MANAGER, OTHER_MANAGER)
    deal, events, move, approvals = stored(policed, number)
    assert deal.stage_key == "needs-confirmed" and move.decided_by == OTHER_MANAGER
    assert approvals == [MANAGER, OTHER_MANAGER]
    assert events[-2:] == [("approval_given", MANAGER), ("approved", OTHER_MANAGER)]
    assert_history_matches_events(policed)


def test_nobody_approves_twice(policed: Services) -> None:
    number, move_id = waiting_for_two(policed)
    decide_move(policed, first, move_id=move_id, approve=True)
    before = stored(policed, number)

    with pytest.raises(CommandError) as refused:
        decide_move(policed, first, move_id=move_id, approve=True)

    assert refused.value.message == (
        "You already approved this move to Needs confirmed. It needs one more approval from another manager "
        "(not you, and not whoever asked for it)."
    )
    assert stored(policed, number) == before


def test_nobody_approves_their_own_request_even_when_two_are_needed(policed: Services) -> None:
    deal = create_deal(policed, first, channel_id="C1", command=NewDeal("Own", None, None, ()))
    requested = request_move(policed, first, Advance(deal.number, (LINK,), None, None))
    assert isinstance(requested, MoveRequested)

    with pytest.raises(CommandError, match="another manager has to decide it"):
        decide_move(policed, first, move_id=requested.move.id, approve=True)

    assert requested.managers_to_ask == (OTHER_MANAGER, THIRD_MANAGER)


@pytest.mark.parametrize("rejecter", [first, second], ids=["the first approver", "another manager"])
def test_a_rejection_by_either_manager_ends_the_move(policed: Services, rejecter: Actor) -> None:
    number, move_id = waiting_for_two(policed)
    decide_move(policed, first, move_id=move_id, approve=True)

    decision = decide_move(policed, rejecter, move_id=move_id, approve=False, reason="Not their budget owner")

    assert decision.move.status == "rejected"
    deal, events, move, _ = stored(policed, number)
    assert deal.stage_key == "meeting-booked" and move.decided_by == rejecter.user_id
    with pytest.raises(AlreadyDecided):
        decide_move(policed, third, move_id=move_id, approve=True)


def test_a_stage_that_needs_no_approval_is_applied_when_asked_for(policed: Services) -> None:
    number, move_id = waiting_for_two(policed)
    decide_move(policed, first, move_id=move_id, approve=True)
    decide_move(policed, second, move_id=move_id, approve=True)

    requested = request_move(policed, rep, Advance(number, (LINK,), None, None))

    assert isinstance(requested, MoveRequested)
    assert requested.move.status == "approved" and requested.move.approved_by_policy
    assert requested.managers_to_ask == ()
    deal, events, move, approvals = stored(policed, number)
    assert deal.stage_key == "product-evaluated" and approvals == [] and move.decided_by is None
    assert events[-2:] == [("requested", REP), ("approved", REP)]
    assert_history_matches_events(policed)


def test_the_home_tab_lists_who_approved_a_waiting_move(policed: Services) -> None:
    _, move_id = waiting_for_two(policed)
    decide_move(policed, first, move_id=move_id, approve=True)

    [waiting] = home_overview(policed, second).waiting

    assert waiting.move.approved_by == (MANAGER,) and waiting.move.approvals_needed == 2


def test_a_move_keeps_the_policy_it_was_asked_under(policed: Services) -> None:
    number, move_id = waiting_for_two(policed)
    relaxed = replace(policed, pipeline=default_pipeline())

    decision = decide_move(relaxed, first, move_id=move_id, approve=True)

    assert decision.move.status == "pending" and stored(relaxed, number)[0].stage_key == "meeting-booked"


def test_the_digest_names_every_approver_and_the_pipeline(policed: Services, clock: Clock) -> None:
    number, move_id = waiting_for_two(policed, "Acme <!channel>")
    decide_move(policed, first, move_id=move_id, approve=True)
    decide_move(policed, second, move_id=move_id, approve=True)
    request_move(policed, rep, Advance(number, (LINK,), None, None))
    clock.advance(hours=1)

    digest = compute_digest(policed, team_id=TEAM, period=period_ending(clock()))

    assert [(m.to_stage.key, m.approved_by, m.decided_by) for m in digest.approved.items] == [
        ("needs-confirmed", (MANAGER, OTHER_MANAGER), OTHER_MANAGER),
        ("product-evaluated", (), None),
    ]
    text = digest_text(ENGLISH, digest)
    assert f"approved by {MANAGER} and {OTHER_MANAGER};" in text
    assert "approved by the pipeline (no approval needed)" in text
    posted = json.dumps([block.to_dict() for block in digest_message(ENGLISH, digest).blocks])
    assert f"approved by <@{MANAGER}> and <@{OTHER_MANAGER}>" in posted
    assert "approved by the pipeline (no approval needed)" in posted and "<!channel>" not in posted
    assert digest.to_json()["approved"]["items"][0]["approved_by"] == [MANAGER, OTHER_MANAGER]


def test_two_second_approvals_at_once_approve_the_move_once(policed: Services, workers: list[Services]) -> None:
    """After the first approval, two other managers click Approve at the same instant: one approves the move,
    the other is told it was already approved; never three approvals, never two decisions."""

    def one_round(index: int) -> str | None:
        number, move_id = waiting_for_two(policed, f"Race {index}")
        decide_move(policed, first, move_id=move_id, approve=True)
        outcomes = at_once(
            lambda: decide_move(workers[0], second, move_id=move_id, approve=True),
            lambda: decide_move(workers[1], third, move_id=move_id, approve=True),
        )
        deal, events, move, approvals = stored(policed, number)
        won = [o for o in outcomes if isinstance(o, Decision)]
        lost = [o for o in outcomes if isinstance(o, AlreadyDecided)]
        if len(won) != 1 or len(lost) != 1:
            return f"outcomes {outcomes!r}"
        winner = won[0].move.approved_by[-1]
        if move.status != "approved" or move.decided_by != winner or deal.stage_key != "needs-confirmed":
            return f"the move is {move.status} by {move.decided_by}, the deal at {deal.stage_key}"
        if approvals != [MANAGER, winner] or lost[0].move.approved_by != (MANAGER, winner):
            return f"approvals {approvals}, the loser was told {lost[0].move.approved_by}"
        if [kind for kind, _ in events] != ["created", "requested", "approval_given", "approved"]:
            return f"events {events}"
        return None

    every_round(one_round)
    assert_history_matches_events(policed)


def test_two_first_approvals_at_once_make_the_two_the_move_needs(policed: Services, workers: list[Services]) -> None:
    """Two managers approve a fresh move at once: one is recorded first and the other completes the move."""

    def one_round(index: int) -> str | None:
        number, move_id = waiting_for_two(policed, f"Race {index}")
        outcomes = at_once(
            lambda: decide_move(workers[0], first, move_id=move_id, approve=True),
            lambda: decide_move(workers[1], second, move_id=move_id, approve=True),
        )
        deal, events, move, approvals = stored(policed, number)
        if not all(isinstance(o, Decision) for o in outcomes):
            return f"outcomes {outcomes!r}"
        if sorted(approvals) != [MANAGER, OTHER_MANAGER] or move.status != "approved":
            return f"approvals {approvals}, the move is {move.status}"
        if events[2:] != [("approval_given", approvals[0]), ("approved", approvals[1])]:
            return f"events {events}"
        return None

    every_round(one_round)


def test_one_manager_clicking_twice_at_once_is_one_approval(policed: Services, workers: list[Services]) -> None:
    def one_round(index: int) -> str | None:
        number, move_id = waiting_for_two(policed, f"Race {index}")
        outcomes = at_once(
            lambda: decide_move(workers[0], first, move_id=move_id, approve=True),
            lambda: decide_move(workers[1], first, move_id=move_id, approve=True),
        )
        _, events, move, approvals = stored(policed, number)
        refused = [o for o in outcomes if isinstance(o, CommandError) and "already approved" in o.message]
        if len([o for o in outcomes if isinstance(o, Decision)]) != 1 or len(refused) != 1:
            return f"outcomes {outcomes!r}"
        if approvals != [MANAGER] or move.status != "pending" or events[-1] != ("approval_given", MANAGER):
            return f"approvals {approvals}, the move is {move.status}, events {events}"
        return None

    every_round(one_round)
