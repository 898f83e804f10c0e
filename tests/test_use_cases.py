"""The rules of the pipeline, driven through the use cases (no Slack), on every backend."""

import pytest
from sqlmodel import select

from commands.deals.deal import ListDeals, MarkLost, NewDeal, create_deal, list_deals, mark_lost, show_deal
from commands.deals.evidence import Evidence
from commands.deals.managers import ChangeManager, change_manager, list_managers
from commands.deals.moves import Advance, AlreadyDecided, ask_for_evidence, decide_move, request_move
from commands.deals.results import MovedBack, MoveRequested
from commands.errors import CommandError
from commands.services import Actor, Services
from storage.models import Deal, DealEvent, MoveRequest
from tests.conftest import MANAGER, OTHER_MANAGER, OTHER_REP, REP, Clock

TEAM = "T1"
rep = Actor(TEAM, REP)
manager = Actor(TEAM, MANAGER)
other_manager = Actor(TEAM, OTHER_MANAGER)
LINK = Evidence("https://mail.example.com/msg/1")


def new_deal(services: Services, name: str = "Acme renewal", actor: Actor = rep) -> int:
    deal = create_deal(
        services, actor, channel_id="C1", command=NewDeal(name=name, value_cents=500000, company="Acme", evidence=())
    )
    return deal.number


def advance(
    services: Services,
    number: int,
    *evidence: Evidence,
    to: str | None = None,
    note: str | None = None,
    actor: Actor = rep,
) -> MoveRequested | MovedBack:
    return request_move(services, actor, Advance(deal_number=number, evidence=evidence, to_key=to, note=note))


def snapshot(services: Services) -> tuple[list[tuple], list[tuple], list[tuple]]:
    with services.sessions() as session:
        deals = [(d.number, d.stage_key, d.status) for d in session.exec(select(Deal)).all()]
        events = [(e.kind, e.deal_id) for e in session.exec(select(DealEvent)).all()]
        moves = [(m.id, m.status) for m in session.exec(select(MoveRequest)).all()]
    return deals, events, moves


def test_deal_numbers_run_from_one_per_workspace(services: Services) -> None:
    assert [new_deal(services) for _ in range(3)] == [1, 2, 3]
    other = create_deal(services, Actor("T2", REP), channel_id="C9", command=NewDeal("Other", None, None, ()))
    assert other.number == 1


def test_new_deal_starts_at_first_stage_with_a_created_event(services: Services) -> None:
    number = new_deal(services)
    detail = show_deal(services, rep, number=number)
    assert detail.deal.stage.key == "meeting-booked"
    assert detail.deal.owner_id == REP
    assert [entry.kind for entry in detail.history] == ["created"]


def test_advance_without_evidence_names_the_stage_criteria_and_prompt(services: Services) -> None:
    number = new_deal(services)
    before = snapshot(services)
    with pytest.raises(CommandError) as refused:
        advance(services, number)
    assert "Needs confirmed" in refused.value.message
    assert "Show me the buyer's reply confirming their needs and timeline." in refused.value.message
    assert "budget" in refused.value.message.lower()
    assert snapshot(services) == before


def test_request_then_approve_moves_one_stage(services: Services, clock: Clock) -> None:
    number = new_deal(services)
    requested = advance(services, number, LINK)
    assert isinstance(requested, MoveRequested)
    assert requested.managers_to_ask == (MANAGER, OTHER_MANAGER)
    assert show_deal(services, rep, number=number).deal.stage.key == "meeting-booked"
    clock.advance(hours=2)
    decision = decide_move(services, manager, move_id=requested.move.id, approve=True)
    assert decision.deal.stage.key == "needs-confirmed"
    assert decision.move.decided_by == MANAGER
    detail = show_deal(services, rep, number=number)
    assert [entry.kind for entry in detail.history] == ["created", "requested", "approved"]
    assert detail.deal.stage_entered_at == clock.now
    assert detail.pending is None


def test_a_move_is_decided_once(services: Services) -> None:
    requested = advance(services, new_deal(services), LINK)
    assert isinstance(requested, MoveRequested)
    decide_move(services, manager, move_id=requested.move.id, approve=True)
    with pytest.raises(AlreadyDecided) as second:
        decide_move(services, other_manager, move_id=requested.move.id, approve=False, reason="no")
    assert second.value.move.status == "approved"
    assert second.value.move.decided_by == MANAGER
    assert show_deal(services, rep, number=1).deal.stage.key == "needs-confirmed"


def test_only_managers_decide_and_never_their_own_request(services: Services) -> None:
    number = new_deal(services, actor=manager)
    requested = advance(services, number, LINK, actor=manager)
    assert isinstance(requested, MoveRequested)
    assert requested.managers_to_ask == (OTHER_MANAGER,)
    with pytest.raises(CommandError, match="Only a sales manager"):
        decide_move(services, rep, move_id=requested.move.id, approve=True)
    with pytest.raises(CommandError, match="another manager"):
        decide_move(services, manager, move_id=requested.move.id, approve=True)
    decide_move(services, other_manager, move_id=requested.move.id, approve=True)


def test_only_the_owner_or_a_manager_may_move_or_lose_a_deal(services: Services) -> None:
    number = new_deal(services)
    before = snapshot(services)
    with pytest.raises(CommandError, match="Only the owner"):
        advance(services, number, LINK, actor=Actor(TEAM, OTHER_REP))
    with pytest.raises(CommandError, match="Only the owner"):
        mark_lost(services, Actor(TEAM, OTHER_REP), MarkLost(number, "budget cut"))
    assert snapshot(services) == before
    assert isinstance(advance(services, number, LINK, actor=manager), MoveRequested)


def test_one_pending_move_per_deal(services: Services) -> None:
    number = new_deal(services)
    advance(services, number, LINK)
    with pytest.raises(CommandError, match="already has a move"):
        advance(services, number, LINK)


def test_rejection_needs_a_reason_and_keeps_the_stage(services: Services) -> None:
    requested = advance(services, new_deal(services), LINK)
    assert isinstance(requested, MoveRequested)
    with pytest.raises(CommandError, match="reason"):
        decide_move(services, manager, move_id=requested.move.id, approve=False, reason="  ")
    decision = decide_move(services, manager, move_id=requested.move.id, approve=False, reason="That's our email")
    assert decision.deal.stage.key == "meeting-booked"
    assert decision.move.decision_reason == "That's our email"


def test_skipping_a_stage_needs_evidence_for_every_stage_entered(services: Services) -> None:
    number = new_deal(services)
    with pytest.raises(CommandError) as refused:
        advance(services, number, LINK, to="product-evaluated")
    assert "skips Needs confirmed" in refused.value.message
    assert "2 links, 1 given" in refused.value.message
    second = Evidence("https://mail.example.com/msg/2")
    requested = advance(services, number, LINK, second, to="product-evaluated")
    assert isinstance(requested, MoveRequested)
    assert [(entry.stage.key, entry.evidence) for entry in requested.move.evidence_by_stage] == [
        ("needs-confirmed", (LINK,)),
        ("product-evaluated", (second,)),
    ]
    decide_move(services, manager, move_id=requested.move.id, approve=True)
    assert show_deal(services, rep, number=number).deal.stage.key == "product-evaluated"


def test_moving_back_needs_a_note_not_approval(services: Services) -> None:
    number = new_deal(services)
    requested = advance(services, number, LINK)
    assert isinstance(requested, MoveRequested)
    decide_move(services, manager, move_id=requested.move.id, approve=True)
    with pytest.raises(CommandError, match="needs a note"):
        advance(services, number, to="meeting-booked")
    moved = advance(services, number, to="meeting-booked", note="Champion left; re-qualify")
    assert isinstance(moved, MovedBack)
    detail = show_deal(services, rep, number=number)
    assert detail.deal.stage.key == "meeting-booked"
    assert detail.history[-1].kind == "moved_back"
    assert detail.history[-1].note == "Champion left; re-qualify"


def test_unknown_stage_and_last_stage_and_same_stage_are_refused(services: Services) -> None:
    number = new_deal(services)
    with pytest.raises(CommandError, match="no stage 'demo'"):
        advance(services, number, LINK, to="demo")
    with pytest.raises(CommandError, match="already at Meeting booked"):
        advance(services, number, LINK, to="meeting-booked")
    evidence = [Evidence(f"https://e.example.com/{i}") for i in range(6)]
    requested = advance(services, number, *evidence, to="live")
    assert isinstance(requested, MoveRequested)
    decide_move(services, manager, move_id=requested.move.id, approve=True)
    with pytest.raises(CommandError, match="last stage, Live"):
        advance(services, number, LINK)


def test_lost_needs_an_open_deal_and_cancels_the_pending_move(services: Services) -> None:
    number = new_deal(services)
    requested = advance(services, number, LINK)
    assert isinstance(requested, MoveRequested)
    lost = mark_lost(services, rep, MarkLost(number, "Chose a competitor"))
    assert lost.cancelled_move is not None and lost.cancelled_move.status == "cancelled"
    with pytest.raises(AlreadyDecided):
        decide_move(services, manager, move_id=requested.move.id, approve=True)
    with pytest.raises(CommandError, match="already lost"):
        mark_lost(services, rep, MarkLost(number, "again"))
    with pytest.raises(CommandError, match="lost"):
        advance(services, number, LINK)
    assert show_deal(services, rep, number=number).deal.status == "lost"


def test_ask_for_evidence_is_recorded(services: Services) -> None:
    requested = advance(services, new_deal(services), LINK)
    assert isinstance(requested, MoveRequested)
    asked = ask_for_evidence(services, manager, move_id=requested.move.id)
    assert asked.move.to_stage.evidence_prompt == "Show me the buyer's reply confirming their needs and timeline."
    assert show_deal(services, rep, number=1).history[-1].kind == "evidence_asked"
    with pytest.raises(CommandError, match="Only a sales manager"):
        ask_for_evidence(services, rep, move_id=requested.move.id)


def test_workspaces_never_see_each_other(services: Services) -> None:
    number = new_deal(services)
    stranger = Actor("T2", REP)
    with pytest.raises(CommandError, match="no deal-1"):
        show_deal(services, stranger, number=number)
    requested = advance(services, number, LINK)
    assert isinstance(requested, MoveRequested)
    with pytest.raises(CommandError, match="does not exist"):
        decide_move(services, Actor("T2", MANAGER), move_id=requested.move.id, approve=True)
    assert list_deals(services, stranger, ListDeals("all", None)).deals == ()


def test_list_filters_by_owner_and_stage(services: Services) -> None:
    new_deal(services, "Mine")
    create_deal(services, Actor(TEAM, OTHER_REP), channel_id="C1", command=NewDeal("Theirs", None, None, ()))
    assert [d.name for d in list_deals(services, rep, ListDeals("mine", None)).deals] == ["Mine"]
    assert [d.name for d in list_deals(services, rep, ListDeals("all", None)).deals] == ["Mine", "Theirs"]
    assert list_deals(services, rep, ListDeals("all", "needs-confirmed")).deals == ()
    with pytest.raises(CommandError, match="no stage 'nope'"):
        list_deals(services, rep, ListDeals("all", "nope"))


def test_managers_added_and_removed_from_slack(services: Services) -> None:
    with pytest.raises(CommandError, match="Only a sales manager"):
        change_manager(services, rep, ChangeManager("add", OTHER_REP))
    added = change_manager(services, manager, ChangeManager("add", OTHER_REP))
    assert added.changed and OTHER_REP in added.managers.all
    assert change_manager(services, manager, ChangeManager("add", OTHER_REP)).changed is False
    with pytest.raises(CommandError, match="SALES_MANAGERS"):
        change_manager(services, manager, ChangeManager("remove", OTHER_MANAGER))
    removed = change_manager(services, manager, ChangeManager("remove", OTHER_REP))
    assert removed.changed and OTHER_REP not in list_managers(services, manager).all


def test_first_manager_can_be_added_by_anyone_when_there_are_none(services: Services) -> None:
    bare = Services(sessions=services.sessions, pipeline=services.pipeline, clock=services.clock)
    change_manager(bare, rep, ChangeManager("add", REP))
    with pytest.raises(CommandError, match="Only a sales manager"):
        change_manager(bare, Actor(TEAM, OTHER_REP), ChangeManager("add", OTHER_REP))
