"""End to end: signed Slack requests into the real app, and what the bot posts to (fake) Slack."""

import json
import time
from typing import Any

from sqlmodel import col, select

from bot.ask_evidence_form import ASK_EVIDENCE_VIEW, PROMPT_BLOCK, PROMPT_INPUT
from bot.blocks import APPROVE_ACTION, ASK_EVIDENCE_ACTION, REASON_BLOCK, REASON_INPUT, REJECT_ACTION, REJECT_VIEW
from storage.models import Deal, DealEvent, MoveRequest
from tests.conftest import MANAGER, OTHER_MANAGER, OTHER_REP, REP, RunningBot, running_bot
from tests.fakes.slack_api import FakeSlack
from tests.slack_requests import Response, slash_command

CHANNEL = "C_SALES"


def all_text(message: dict[str, Any]) -> str:
    """Everything a person could read in a message: its text and every text inside its blocks."""
    return message.get("text", "") + "\n" + json.dumps(message.get("blocks", []), ensure_ascii=False)


def shown(response: Response) -> str:
    """What the user sees of a slash command's ack: its text (the blocks repeat it)."""
    return str(response.json()["text"])


def mrkdwn_texts(message: dict[str, Any]) -> list[str]:
    """The texts Slack parses for mentions and links: the message text and every mrkdwn object.

    plain_text objects (headers, buttons) are never parsed, so raw user text is safe there.
    """
    found = [message.get("text", "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks", []))
    return found


def stored(bot: RunningBot) -> tuple[list[Any], list[Any], list[Any]]:
    with bot.services.sessions() as session:
        return (
            [(d.number, d.name, d.stage_key, d.status) for d in session.exec(select(Deal)).all()],
            [(e.kind, e.deal_id, e.actor_id) for e in session.exec(select(DealEvent)).all()],
            [(m.id, m.status) for m in session.exec(select(MoveRequest)).all()],
        )


def deal_row(bot: RunningBot, number: int = 1) -> Deal:
    with bot.services.sessions() as session:
        deal = session.exec(select(Deal).where(Deal.number == number)).one()
        return deal


def move_row(bot: RunningBot) -> MoveRequest:
    with bot.services.sessions() as session:
        return session.exec(select(MoveRequest).order_by(col(MoveRequest.id).desc()).limit(1)).one()


def ts(value: str | None) -> str:
    """A message's ts the app stored; a test that reaches for one the app never stored fails here."""
    assert value is not None, "no Slack ts stored"
    return value


def create_deal(bot: RunningBot, text: str = "Acme renewal value:50k company:Acme Corp") -> Deal:
    response = bot.command("/deal", f"new {text}")
    assert response.status == 200
    bot.slack.wait_for(lambda: deal_row(bot).thread_ts is not None)
    return deal_row(bot)


def request_move(bot: RunningBot, text: str = "deal-1 evidence:<https://mail.example.com/m/1|Buyer's reply>") -> Any:
    response = bot.command("/advance", text)
    assert response.status == 200
    bot.slack.wait_for(lambda: move_row(bot).message_ts is not None)
    return response


def click(bot: RunningBot, action_id: str, *, user: str, move: MoveRequest | None = None) -> Any:
    move = move or move_row(bot)
    deal = deal_row(bot)
    return bot.sender.action(
        action_id,
        str(move.id),
        user_id=user,
        channel_id=CHANNEL,
        message_ts=move.message_ts,
        thread_ts=deal.thread_ts,
    )


def test_new_deal_posts_its_card_which_becomes_the_thread(bot: RunningBot) -> None:
    response = bot.command("/deal", "new Acme renewal value:$50,000 company:Acme Corp")
    assert response.status == 200
    assert "Created deal-1" in shown(response)
    card = bot.slack.wait_for(lambda: [m for m in bot.slack.messages if m["channel"] == CHANNEL])[0]
    text = all_text(card)
    assert "deal-1" in text and "Acme renewal" in text
    assert "*Stage:* Meeting booked" in text
    assert "<@U_REP>" in text and "50,000" in text and "Acme Corp" in text
    assert "No evidence yet" in text and "Show me the calendar invite the buyer accepted." in text
    bot.slack.wait_for(lambda: deal_row(bot).thread_ts == card["ts"])
    assert deal_row(bot).channel_id == CHANNEL


def test_deal_names_are_escaped_so_they_ping_nobody(bot: RunningBot) -> None:
    create_deal(bot, "&lt;!channel&gt; &amp; &lt;https://evil.example|Invoice&gt;")
    assert deal_row(bot).name == "<!channel> & <https://evil.example|Invoice>"
    assert bot.slack.messages
    for message in bot.slack.messages:
        for text in mrkdwn_texts(message):
            assert "<!channel>" not in text and "<https://evil" not in text
            assert "&amp;amp;" not in text
        assert "&lt;!channel&gt; &amp; &lt;https://evil.example|Invoice&gt;" in message["text"]


def test_advance_posts_the_move_in_the_thread_and_a_manager_approves_it(bot: RunningBot) -> None:
    deal = create_deal(bot)
    response = request_move(bot)
    assert "Asked to move deal-1" in shown(response) and "Needs confirmed" in shown(response)
    move = move_row(bot)
    posted = bot.slack.message(CHANNEL, ts(move.message_ts))
    assert posted is not None and posted.get("thread_ts") == deal.thread_ts
    text = all_text(posted)
    assert "<@U_REP> asks to move" in text
    assert "Meeting booked" in text and "Needs confirmed" in text
    assert "<https://mail.example.com/m/1|Buyer's reply>" in text
    assert "Buyer confirmed" in text  # the exit-criteria checklist
    assert f"<@{MANAGER}> <@{OTHER_MANAGER}> Show me the buyer's reply confirming their needs and timeline." in text
    buttons = [e for b in posted["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["Approve", "Reject", "Ask for evidence"]

    assert click(bot, APPROVE_ACTION, user=MANAGER).status == 200
    bot.slack.wait_for(lambda: "Approved by" in all_text(bot.slack.message(CHANNEL, ts(move.message_ts)) or {}))
    updated = bot.slack.message(CHANNEL, ts(move.message_ts))
    assert updated is not None
    assert f"Approved by <@{MANAGER}>" in all_text(updated)
    assert not [b for b in updated["blocks"] if b["type"] == "actions"]
    thread = bot.slack.wait_for(
        lambda: [m for m in bot.slack.thread(CHANNEL, ts(deal.thread_ts)) if "approved your move" in m["text"]]
    )
    assert "<@U_REP>" in thread[0]["text"] and "now at *Needs confirmed*" in thread[0]["text"]
    bot.slack.wait_for(
        lambda: "*Stage:* Needs confirmed" in all_text(bot.slack.message(CHANNEL, ts(deal.thread_ts)) or {})
    )
    assert deal_row(bot).stage_key == "needs-confirmed"
    assert move_row(bot).status == "approved" and move_row(bot).decided_by == MANAGER


def test_a_second_click_changes_nothing_and_says_it_was_decided(bot: RunningBot) -> None:
    create_deal(bot)
    request_move(bot)
    click(bot, APPROVE_ACTION, user=MANAGER)
    bot.slack.wait_for(lambda: move_row(bot).status == "approved")
    before = stored(bot)
    click(bot, APPROVE_ACTION, user=OTHER_MANAGER)
    ephemeral = bot.slack.wait_for(lambda: [e for e in bot.slack.ephemerals if e["user"] == OTHER_MANAGER])
    assert "Nothing changed" in ephemeral[0]["text"] and f"Approved by <@{MANAGER}>" in ephemeral[0]["text"]
    assert stored(bot) == before
    assert deal_row(bot).stage_key == "needs-confirmed"


def test_approving_a_move_whose_deal_was_just_lost_says_who_lost_it(bot: RunningBot) -> None:
    create_deal(bot)
    request_move(bot)
    assert bot.command("/deal", "lost deal-1 reason:Chose a competitor").status == 200
    bot.slack.wait_for(lambda: move_row(bot).status == "cancelled")
    before = stored(bot)
    click(bot, APPROVE_ACTION, user=MANAGER)
    ephemeral = bot.slack.wait_for(lambda: [e for e in bot.slack.ephemerals if e["user"] == MANAGER])
    assert f"deal-1 was marked lost by <@{REP}>, so this move was cancelled" in ephemeral[0]["text"]
    assert stored(bot) == before


def test_with_no_manager_advance_says_so_instead_of_promising_a_decision(database_url: str, slack: FakeSlack) -> None:
    with running_bot(database_url, slack, managers="") as lonely:
        create_deal(lonely)
        answer = request_move(lonely)
        assert "No other manager exists yet" in shown(answer) and "/pipeline managers add" in shown(answer)
        assert "will decide" not in shown(answer)
    assert slack.violations == []


def test_a_rep_cannot_approve_and_nothing_changes(bot: RunningBot) -> None:
    create_deal(bot)
    request_move(bot)
    before = stored(bot)
    click(bot, APPROVE_ACTION, user=OTHER_REP)
    ephemeral = bot.slack.wait_for(lambda: [e for e in bot.slack.ephemerals if e["user"] == OTHER_REP])
    assert "Only a sales manager" in ephemeral[0]["text"]
    assert stored(bot) == before


def test_reject_asks_for_a_reason_in_a_modal_and_posts_it_in_the_thread(bot: RunningBot) -> None:
    deal = create_deal(bot)
    request_move(bot)
    move = move_row(bot)
    click(bot, REJECT_ACTION, user=MANAGER)
    opened = bot.slack.wait_for("views.open")[0]
    view = opened.args["view"] if isinstance(opened.args["view"], dict) else json.loads(opened.args["view"])
    assert view["callback_id"] == REJECT_VIEW

    empty = bot.sender.submit_view(
        REJECT_VIEW, {REASON_BLOCK: {REASON_INPUT: "  "}}, private_metadata=view["private_metadata"], user_id=MANAGER
    )
    assert empty.json()["response_action"] == "errors"
    assert move_row(bot).status == "pending"

    done = bot.sender.submit_view(
        REJECT_VIEW,
        {REASON_BLOCK: {REASON_INPUT: "That's our recap, not the buyer's <reply>"}},
        private_metadata=view["private_metadata"],
        user_id=MANAGER,
    )
    assert done.status == 200 and done.text == ""
    assert move_row(bot).status == "rejected"
    reply = bot.slack.wait_for(
        lambda: [m for m in bot.slack.thread(CHANNEL, ts(deal.thread_ts)) if "rejected" in m["text"]]
    )
    assert "That's our recap, not the buyer's &lt;reply&gt;" in reply[0]["text"]
    assert "<@U_REP>" in reply[0]["text"]
    bot.slack.wait_for(lambda: "Rejected by" in all_text(bot.slack.message(CHANNEL, ts(move.message_ts)) or {}))
    assert deal_row(bot).stage_key == "meeting-booked"


def test_reject_button_refuses_the_requester_without_opening_a_modal(bot: RunningBot) -> None:
    create_deal(bot, "Own deal")
    bot.command("/advance", "1 evidence:https://mail.example.com/x", user=MANAGER)
    bot.slack.wait_for(lambda: move_row(bot).message_ts is not None)
    click(bot, REJECT_ACTION, user=MANAGER)
    ephemeral = bot.slack.wait_for(lambda: [e for e in bot.slack.ephemerals if e["user"] == MANAGER])
    assert "another manager" in ephemeral[0]["text"]
    bot.settle()
    assert bot.slack.calls_to("views.open") == []


def test_ask_for_evidence_posts_the_managers_prompt_to_the_rep(bot: RunningBot) -> None:
    """The click opens the form with the stage's prompt; submitting it unchanged posts that prompt to the rep."""
    deal = create_deal(bot)
    request_move(bot)
    click(bot, ASK_EVIDENCE_ACTION, user=MANAGER)
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert view["callback_id"] == ASK_EVIDENCE_VIEW
    [prompt] = [block for block in view["blocks"] if block.get("block_id") == PROMPT_BLOCK]
    submitted = bot.sender.submit_view(
        ASK_EVIDENCE_VIEW,
        {PROMPT_BLOCK: {PROMPT_INPUT: prompt["element"]["initial_value"]}},
        private_metadata=view["private_metadata"],
        user_id=MANAGER,
    )
    assert submitted.status == 200 and submitted.text == ""
    asked = bot.slack.wait_for(
        lambda: [m for m in bot.slack.thread(CHANNEL, ts(deal.thread_ts)) if "asked by" in m["text"]]
    )
    assert asked[0]["text"].startswith("<@U_REP>, show me the buyer's reply confirming their needs and timeline.")
    assert move_row(bot).status == "pending"
    with bot.services.sessions() as session:
        assert session.exec(select(DealEvent).where(DealEvent.kind == "evidence_asked")).first() is not None


def test_advance_without_evidence_explains_the_stage_and_stores_nothing(bot: RunningBot) -> None:
    create_deal(bot)
    before = stored(bot)
    response = bot.command("/advance", "deal-1", trigger_id="")  # no form to open (the CLI, an old client)
    assert "Needs confirmed" in shown(response)
    assert "Buyer confirmed" in shown(response)
    assert "Show me the buyer's reply confirming their needs and timeline." in shown(response)
    assert "Usage" in shown(response)
    assert stored(bot) == before


def test_bad_inputs_get_a_clear_message_and_store_nothing(bot: RunningBot) -> None:
    create_deal(bot)
    before = stored(bot)
    cases = [
        ("/deal", "frobnicate"),
        ("/deal", "show deal-99"),
        ("/deal", "show banana"),
        ("/deal", "lost deal-1"),
        ("/deal", "new Thing value:lots"),
        ("/advance", "deal-1 evidence:javascript:alert(1)"),
        ("/advance", "deal-1 evidence:not-a-link"),
        ("/advance", "deal-1 evidence:https://x.example to:demo"),
        ("/advance", "deal-7 evidence:https://x.example"),
        ("/pipeline", "dance"),
        ("/pipeline", "managers add somebody"),
    ]
    for command, text in cases:
        response = bot.command(command, text)
        assert response.status == 200, (command, text)
        assert shown(response).startswith(":no_entry_sign:"), (command, text, shown(response))
    assert stored(bot) == before
    bot.settle()
    assert not [m for m in bot.slack.messages if m.get("thread_ts")]


def test_raw_and_escaped_evidence_and_deal_id_forms_all_work(bot: RunningBot) -> None:
    create_deal(bot)
    response = bot.command("/advance", "DEAL-1 evidence:https://mail.example.com/a?x=1&amp;y=2 note:per call")
    assert "Asked to move deal-1" in shown(response)
    assert move_row(bot).evidence == [{"url": "https://mail.example.com/a?x=1&y=2", "label": None}]


def test_deal_show_lists_stage_history_and_evidence(bot: RunningBot) -> None:
    create_deal(bot)
    request_move(bot)
    click(bot, APPROVE_ACTION, user=MANAGER)
    bot.slack.wait_for(lambda: move_row(bot).status == "approved")
    response = bot.command("/deal", "show 1")
    lines = [line for text in mrkdwn_texts(response.json()) for line in text.split("\n")]
    assert "*Stage:* Needs confirmed" in lines
    text = json.dumps(response.json(), ensure_ascii=False)
    assert "<@U_REP>" in text and "50,000" in text and "Acme Corp" in text
    assert "https://mail.example.com/m/1" in text
    assert "approved the move" in text and f"<@{MANAGER}>" in text
    assert "In this stage for" in text


def test_list_board_stages_help_and_managers(bot: RunningBot) -> None:
    create_deal(bot)
    bot.command("/deal", "new Beta value:1000", user=OTHER_REP)
    mine = bot.command("/deal", "list")
    assert "deal-1" in shown(mine) or "deal-1" in json.dumps(mine.json())
    assert "Beta" not in json.dumps(mine.json())
    everyone = json.dumps(bot.command("/deal", "list all").json())
    assert "Acme renewal" in everyone and "Beta" in everyone
    board = json.dumps(bot.command("/pipeline", "").json())
    assert "*Meeting booked*: 2 deals" in board and "51,000" in board
    stages = json.dumps(bot.command("/pipeline", "stages").json())
    assert "Product evaluated" in stages and "Show me the buyer's confirmation email." in stages
    assert "/advance" in json.dumps(bot.command("/pipeline", "help").json())
    added = bot.command("/pipeline", "managers add <@U0NEW1|newbie>", user=MANAGER)
    assert "<@U0NEW1> is now a manager" in shown(added)
    refused = bot.command("/pipeline", "managers add <@U0SNEAK1>", user=OTHER_REP)
    assert "Only a sales manager" in shown(refused)


def test_lost_posts_in_the_thread_and_updates_the_card(bot: RunningBot) -> None:
    deal = create_deal(bot)
    response = bot.command("/deal", "lost deal-1 reason:Chose a competitor &lt;cheaper&gt;")
    assert "Marked deal-1" in shown(response)
    reply = bot.slack.wait_for(
        lambda: [m for m in bot.slack.thread(CHANNEL, ts(deal.thread_ts)) if "lost" in m["text"]]
    )
    assert "Chose a competitor &lt;cheaper&gt;" in reply[0]["text"]
    bot.slack.wait_for(lambda: "Lost:" in all_text(bot.slack.message(CHANNEL, ts(deal.thread_ts)) or {}))
    assert deal_row(bot).status == "lost" and deal_row(bot).lost_reason == "Chose a competitor <cheaper>"


def test_unsigned_or_stale_requests_are_refused_and_touch_nothing(bot: RunningBot) -> None:
    body = slash_command("/deal", "new Sneaky")
    assert bot.sender.post(body, sign=False).status == 401
    assert bot.sender.post(body, headers={"X-Slack-Signature": "v0=" + "0" * 64}).status == 401
    assert bot.sender.post(body, timestamp=int(time.time()) - 6 * 60).status == 401
    assert stored(bot) == ([], [], [])


def test_health_check_answers_when_the_database_does(bot: RunningBot) -> None:
    import urllib.request

    url = bot.sender.url.replace("/slack/events", "/healthz")
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200


def test_home_tab_shows_my_deals(bot: RunningBot) -> None:
    create_deal(bot)
    response = bot.sender.send_event({"type": "app_home_opened", "user": REP, "tab": "home", "channel": "D1"})
    assert response.status == 200
    published = bot.slack.wait_for("views.publish")[0]
    assert "Acme renewal" in json.dumps(published.args)
