"""Ask for evidence opens a form with the stage's evidence prompt; the manager edits it, and submitting records
the ask with the edited text and posts it in the deal's thread, escaped, once per submission."""

import json
from typing import Any

from sqlmodel import select

from bot.ask_evidence_form import ASK_EVIDENCE_VIEW, PROMPT_BLOCK, PROMPT_INPUT
from bot.blocks import APPROVE_ACTION, ASK_EVIDENCE_ACTION
from commands.text_rules import NOTE_LIMIT
from storage.models import DealEvent
from tests.conftest import MANAGER, OTHER_MANAGER, REP, RunningBot
from tests.slack_requests import Response, new_trigger_id
from tests.test_private_channels import home_click
from tests.test_slack_flows import click, create_deal, move_row, request_move, ts

CHANNEL = "C_SALES"
PROMPT = "Show me the buyer's reply confirming their needs and timeline."


def open_form(bot: RunningBot, *, user: str = MANAGER) -> dict[str, Any]:
    before = len(bot.slack.calls_to("views.open"))
    assert click(bot, ASK_EVIDENCE_ACTION, user=user).status == 200
    opened = bot.slack.wait_for("views.open", count=before + 1)[-1]
    assert opened.ok
    view: dict[str, Any] = opened.args["view"]
    return view


def submit(bot: RunningBot, view: dict[str, Any], prompt: str, *, user: str = MANAGER, trigger: str = "") -> Response:
    response = bot.sender.submit_view(
        ASK_EVIDENCE_VIEW,
        {PROMPT_BLOCK: {PROMPT_INPUT: prompt}},
        private_metadata=view["private_metadata"],
        user_id=user,
        trigger_id=trigger or new_trigger_id(),
    )
    assert response.status == 200
    return response


def asks(bot: RunningBot) -> list[DealEvent]:
    with bot.services.sessions() as session:
        return list(session.exec(select(DealEvent).where(DealEvent.kind == "evidence_asked")).all())


def thread_asks(bot: RunningBot, thread_ts: str | None) -> list[dict[str, Any]]:
    return [m for m in bot.slack.thread(CHANNEL, ts(thread_ts)) if "asked by" in m["text"]]


def test_the_click_opens_the_prompt_to_edit_and_the_edited_text_is_posted_escaped(bot: RunningBot) -> None:
    deal = create_deal(bot)
    request_move(bot)
    view = open_form(bot)
    assert view["callback_id"] == ASK_EVIDENCE_VIEW
    [field] = [block for block in view["blocks"] if block.get("block_id") == PROMPT_BLOCK]
    assert field["element"]["initial_value"] == PROMPT and field["element"]["multiline"] is True
    assert "Ask <@U_REP> for evidence" in view["blocks"][0]["text"]["text"]
    assert asks(bot) == []  # opening the form asks nothing

    edited = "Show me the PO <!channel> & the <https://evil.example|signed NDA>,\nnot our recap."
    bot.settle()
    published = len(bot.slack.calls_to("views.publish"))
    assert submit(bot, view, edited).text == ""

    [asked] = asks(bot)
    assert (asked.actor_id, asked.note) == (MANAGER, edited)
    [post] = bot.slack.wait_for(lambda: thread_asks(bot, deal.thread_ts))
    assert post["text"].startswith("<@U_REP>, show me the PO &lt;!channel&gt; &amp; the &lt;https://evil.example")
    assert "<!channel>" not in json.dumps(post) and "<https://evil" not in json.dumps(post)
    assert f"(asked by <@{MANAGER}>)" in post["text"]
    assert move_row(bot).status == "pending"
    bot.settle()
    assert {REP, MANAGER} <= {call.args["user_id"] for call in bot.slack.calls_to("views.publish")[published:]}


def test_a_prompt_left_empty_or_too_long_is_shown_under_its_field_and_nothing_is_asked(bot: RunningBot) -> None:
    create_deal(bot)
    request_move(bot)
    view = open_form(bot)
    for prompt, message in [
        ("  \n ", "Say what evidence of the buyer's action the rep should show"),
        ("x" * (NOTE_LIMIT + 1), "The request is 1,001 characters long; the most is 1,000."),
        ("Show me\x00this", "can't be stored"),
    ]:
        answer = submit(bot, view, prompt).json()
        assert answer["response_action"] == "errors"
        assert message in answer["errors"][PROMPT_BLOCK]
    assert asks(bot) == []


def test_only_a_manager_who_may_decide_asks(bot: RunningBot) -> None:
    create_deal(bot)
    request_move(bot)
    assert click(bot, ASK_EVIDENCE_ACTION, user=REP).status == 200  # the rep: refused, no form
    told = bot.slack.wait_for(lambda: [e for e in bot.slack.ephemerals if e["user"] == REP])
    assert "Only a sales manager can approve, reject or question a move." in told[0]["text"]
    assert bot.slack.calls_to("views.open") == []

    view = open_form(bot)
    forged = submit(bot, view, PROMPT, user=REP).json()  # the form's submission, but from the rep
    assert forged["errors"][PROMPT_BLOCK].startswith("Only a sales manager can approve, reject or question a move.")
    assert asks(bot) == []


def test_a_move_decided_meanwhile_is_refused(bot: RunningBot) -> None:
    create_deal(bot)
    request_move(bot)
    view = open_form(bot)
    assert click(bot, APPROVE_ACTION, user=OTHER_MANAGER).status == 200
    bot.slack.wait_for(lambda: move_row(bot).status == "approved")

    answer = submit(bot, view, PROMPT).json()
    assert answer["errors"][PROMPT_BLOCK] == "This move was already approved."
    assert asks(bot) == []


def test_a_replayed_submission_asks_once(bot: RunningBot) -> None:
    deal = create_deal(bot)
    request_move(bot)
    view = open_form(bot)
    trigger = new_trigger_id()
    assert submit(bot, view, PROMPT, trigger=trigger).text == ""
    assert submit(bot, view, PROMPT, trigger=trigger).text == ""
    assert len(asks(bot)) == 1
    bot.settle()
    assert len(thread_asks(bot, deal.thread_ts)) == 1


def test_the_home_tab_s_button_opens_the_same_form(bot: RunningBot) -> None:
    create_deal(bot)
    request_move(bot)
    assert home_click(bot, ASK_EVIDENCE_ACTION, str(move_row(bot).id), user=MANAGER) == 200
    opened = bot.slack.wait_for("views.open")[-1]
    assert opened.ok and opened.args["view"]["callback_id"] == ASK_EVIDENCE_VIEW
    assert asks(bot) == []
