"""End to end, the approval policy per stage: signed Slack requests into the app running a pipeline whose stages
need no approval, one manager, or two different managers, and what the bot posts to (fake) Slack."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.blocks import APPROVE_ACTION, REASON_BLOCK, REASON_INPUT, REJECT_ACTION, REJECT_VIEW
from storage.models import DealEvent, MoveApproval
from tests.conftest import MANAGER, OTHER_MANAGER, REP, SQLITE_PREFIX, RunningBot, migrate, running_bot
from tests.fakes.slack_api import FakeSlack
from tests.test_slack_flows import CHANNEL, all_text, click, create_deal, deal_row, move_row, shown, stored, ts

PIPELINE = """\
stages:
  - key: meeting-booked
    name: Meeting booked
    exit_criteria: [Buyer booked a needs-assessment meeting]
    evidence_prompt: Show me the calendar invite the buyer accepted.
  - key: needs-confirmed
    name: Needs confirmed
    exit_criteria: [Buyer confirmed the budget]
    evidence_prompt: Show me the buyer's reply.
    approval: none
  - key: proposal-received
    name: Proposal received
    exit_criteria: [Buyer acknowledged the proposal]
    evidence_prompt: Show me the buyer's acknowledgement.
  - key: contract-signed
    name: Contract signed
    exit_criteria: [Buyer signed the contract]
    evidence_prompt: Show me the signed contract.
    won: true
    approval: two
"""
LINK = "evidence:https://mail.example.com/m/"


@pytest.fixture
def bot(database_url: str, slack: FakeSlack, sqlite_template: Path, tmp_path: Path) -> Iterator[RunningBot]:
    if database_url.startswith(SQLITE_PREFIX):
        migrate(database_url, sqlite_template)
    pipeline_file = tmp_path / "pipeline.yaml"
    pipeline_file.write_text(PIPELINE, encoding="utf-8")
    with running_bot(database_url, slack, pipeline_file=pipeline_file) as running:
        yield running
    assert slack.violations == [], "the bot sent something Slack would refuse"


def advance(bot: RunningBot, text: str) -> str:
    response = bot.command("/advance", text)
    assert response.status == 200
    bot.slack.wait_for(lambda: move_row(bot).message_ts is not None)
    return shown(response)


def thread_replies(bot: RunningBot, containing: str) -> list[dict[str, Any]]:
    thread_ts = ts(deal_row(bot).thread_ts)
    return [m for m in bot.slack.thread(CHANNEL, thread_ts) if containing in m["text"]]


def move_message(bot: RunningBot) -> dict[str, Any]:
    return bot.slack.message(CHANNEL, ts(move_row(bot).message_ts)) or {}


def move_message_showing(bot: RunningBot, text: str) -> dict[str, Any]:
    bot.slack.wait_for(lambda: text in all_text(move_message(bot)))
    return move_message(bot)


def buttons(message: dict[str, Any]) -> list[str]:
    return [e["text"]["text"] for b in message.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


def events(bot: RunningBot) -> list[tuple[str, str, str | None]]:
    with bot.services.sessions() as session:
        rows = session.exec(select(DealEvent).order_by(col(DealEvent.id))).all()
        return [(row.kind, row.actor_id, row.note) for row in rows]


def approvers(bot: RunningBot) -> list[str]:
    with bot.services.sessions() as session:
        return list(session.exec(select(MoveApproval.approver_id).order_by(col(MoveApproval.id))).all())


def test_a_stage_that_needs_no_approval_is_entered_at_once_and_the_thread_says_the_pipeline_approved(
    bot: RunningBot,
) -> None:
    create_deal(bot)

    answer = advance(bot, f"deal-1 {LINK}1")

    assert "Moved deal-1 · Acme renewal to *Needs confirmed*" in answer and "needs no manager's approval" in answer
    assert deal_row(bot).stage_key == "needs-confirmed"
    move = move_row(bot)
    assert (move.status, move.decided_by, move.approvals_needed) == ("approved", None, 0)
    assert [kind for kind, *_ in events(bot)] == ["created", "requested", "approved"]
    assert "Approved by the pipeline" in str(events(bot)[-1][2]) and approvers(bot) == []
    outcome = move_message_showing(bot, "Approved by the pipeline")
    assert buttons(outcome) == [] and "https://mail.example.com/m/1" in all_text(outcome)
    detail = all_text(bot.command("/deal", "show deal-1").json())
    assert "the pipeline approved the move Meeting booked → Needs confirmed (no manager's approval needed)" in detail
    assert "<@U_REP> approved" not in detail
    reply = bot.slack.wait_for(lambda: thread_replies(bot, "approved by the pipeline"))
    assert "<@U_REP>" in reply[0]["text"] and "now at *Needs confirmed*" in reply[0]["text"]
    bot.slack.wait_for(
        lambda: "*Stage:* Needs confirmed" in all_text(bot.slack.message(CHANNEL, ts(deal_row(bot).thread_ts)) or {})
    )


def test_a_stage_that_needs_no_approval_still_needs_evidence(bot: RunningBot) -> None:
    create_deal(bot)
    before = stored(bot)

    answer = bot.command("/advance", "deal-1", trigger_id="")  # no form to open: the typed refusal

    assert "needs evidence of what the buyer did" in shown(answer)
    assert stored(bot) == before


def test_a_stage_that_needs_two_managers_waits_for_a_second_different_one(bot: RunningBot) -> None:
    create_deal(bot)
    answer = advance(bot, f"deal-1 to:contract-signed {LINK}1 {LINK}2 {LINK}3")
    assert "Two different managers will decide" in answer
    assert "needs the approval of two different managers" in all_text(move_message(bot))

    click(bot, APPROVE_ACTION, user=MANAGER)

    progress = bot.slack.wait_for(lambda: thread_replies(bot, "approved the move to *Contract signed*"))
    assert f"<@{MANAGER}> approved" in progress[0]["text"] and "waiting for one more" in progress[0]["text"]
    assert f"<@{OTHER_MANAGER}>" in progress[0]["text"]
    edited = move_message_showing(bot, "(1 of 2)")
    assert f"Approved so far by <@{MANAGER}> (1 of 2)" in all_text(edited)
    assert buttons(edited) == ["Approve", "Reject", "Ask for evidence"]
    assert (move_row(bot).status, deal_row(bot).stage_key) == ("pending", "meeting-booked")
    detail = all_text(bot.command("/deal", "show deal-1").json())
    assert "*Pending move:* to Contract signed" in detail and f"Approved so far by <@{MANAGER}> (1 of 2)" in detail
    assert f"<@{MANAGER}> approved the move (it waited for another manager's approval)" in detail

    click(bot, APPROVE_ACTION, user=MANAGER)
    refused = bot.slack.wait_for(lambda: [e for e in bot.slack.ephemerals if e["user"] == MANAGER])
    assert "You already approved this move to Contract signed" in refused[0]["text"]
    assert approvers(bot) == [MANAGER] and move_row(bot).status == "pending"

    click(bot, APPROVE_ACTION, user=OTHER_MANAGER)

    bot.slack.wait_for(lambda: move_row(bot).status == "approved")
    assert deal_row(bot).stage_key == "contract-signed" and approvers(bot) == [MANAGER, OTHER_MANAGER]
    assert [(kind, actor) for kind, actor, _ in events(bot)] == [
        ("created", REP),
        ("requested", REP),
        ("approval_given", MANAGER),
        ("approved", OTHER_MANAGER),
    ]
    done = move_message_showing(bot, "Approved by <@")
    assert f"Approved by <@{MANAGER}> and <@{OTHER_MANAGER}>" in all_text(done) and buttons(done) == []
    reply = bot.slack.wait_for(lambda: thread_replies(bot, "approved your move"))
    assert f"<@{MANAGER}> and <@{OTHER_MANAGER}> approved your move" in reply[0]["text"]


def test_a_rejection_after_the_first_approval_ends_the_move(bot: RunningBot) -> None:
    create_deal(bot)
    advance(bot, f"deal-1 to:contract-signed {LINK}1 {LINK}2 {LINK}3")
    click(bot, APPROVE_ACTION, user=MANAGER)
    bot.slack.wait_for(lambda: approvers(bot) == [MANAGER])

    click(bot, REJECT_ACTION, user=OTHER_MANAGER)
    opened = bot.slack.wait_for("views.open")[0]
    view = opened.args["view"] if isinstance(opened.args["view"], dict) else json.loads(opened.args["view"])
    bot.sender.submit_view(
        REJECT_VIEW,
        {REASON_BLOCK: {REASON_INPUT: "The signature page is missing"}},
        private_metadata=view["private_metadata"],
        user_id=OTHER_MANAGER,
    )

    assert move_row(bot).status == "rejected" and deal_row(bot).stage_key == "meeting-booked"
    bot.slack.wait_for(lambda: "Rejected by" in all_text(move_message(bot)))
    assert buttons(move_message(bot)) == []


def test_a_skip_needs_the_strictest_stage_it_enters(bot: RunningBot) -> None:
    create_deal(bot)

    advance(bot, f"deal-1 to:proposal-received {LINK}1 {LINK}2")

    assert (move_row(bot).status, move_row(bot).approvals_needed) == ("pending", 1)
    click(bot, APPROVE_ACTION, user=MANAGER)
    bot.slack.wait_for(lambda: move_row(bot).status == "approved")
    assert deal_row(bot).stage_key == "proposal-received" and approvers(bot) == [MANAGER]


def test_the_home_tab_shows_who_approved_a_move_waiting_for_a_second_manager(bot: RunningBot) -> None:
    create_deal(bot)
    advance(bot, f"deal-1 to:contract-signed {LINK}1 {LINK}2 {LINK}3")
    click(bot, APPROVE_ACTION, user=MANAGER)
    bot.slack.wait_for(lambda: approvers(bot) == [MANAGER])
    bot.settle()  # the Home tabs the click refreshed are published by now
    before = len(bot.slack.calls_to("views.publish"))

    event = {"type": "app_home_opened", "user": OTHER_MANAGER, "tab": "home", "channel": "D1"}
    assert bot.sender.send_event(event, event_id="EvHome").status == 200

    published = bot.slack.wait_for("views.publish", count=before + 1)[before]
    assert published.args["user_id"] == OTHER_MANAGER
    view = published.args["view"] if isinstance(published.args["view"], dict) else json.loads(published.args["view"])
    home = json.dumps(view)
    assert f"Approved so far by <@{MANAGER}> (1 of 2)" in home
    assert APPROVE_ACTION in home


def test_a_move_that_needs_more_managers_than_there_are_says_so(bot: RunningBot) -> None:
    bot.command("/deal", "new Own deal", user=MANAGER)
    bot.slack.wait_for(lambda: deal_row(bot).thread_ts is not None)

    response = bot.command("/advance", f"deal-1 to:contract-signed {LINK}1 {LINK}2 {LINK}3", user=MANAGER)

    warning = "It needs 2 more managers' approvals but only 1 other manager can give one"
    assert warning in shown(response) and "/pipeline managers add" in shown(response)
    bot.slack.wait_for(lambda: move_row(bot).message_ts is not None)
    assert warning in all_text(move_message(bot))


def test_pipeline_stages_tells_each_stages_approval_policy(bot: RunningBot) -> None:
    stages = json.dumps(bot.command("/pipeline", "stages").json(), ensure_ascii=False)
    assert stages.count("Moves here at once, with the evidence; no approval needed.") == 1
    assert stages.count("Two different managers approve each move here.") == 1
    assert "A manager approves each move here." in stages
