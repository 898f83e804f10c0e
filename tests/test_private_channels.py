"""Deals in a channel the bot cannot post in (a private channel it was not invited to).

The person is told at once, through the command's response_url (which works where the bot cannot post);
nothing stored is lost; managers decide from the Home tab; and when the bot is invited, every post the
deal's thread was owed goes out, in order.
"""

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlencode

from sqlmodel import col, select

from bot.blocks import APPROVE_ACTION
from commands.outbox.announcements import NO_ACCESS_RETRY
from storage.models import Announcement, Deal, MoveRequest
from tests.conftest import MANAGER, REP, RunningBot
from tests.fakes.slack_api import BOT_USER_ID
from tests.slack_requests import block_action

PRIVATE = "C_PRIVATE"


def run(bot: RunningBot, command: str, text: str, *, user: str = REP) -> tuple[str, str]:
    """A slash command in the private channel: (its reply, the note that followed it on the response_url)."""
    url = bot.slack.response_url(command.strip("/"))
    reply = bot.command(command, text, user=user, channel_id=PRIVATE, response_url=url).json()["text"]
    notes = bot.slack.wait_for(lambda: [response for response in bot.slack.responses if response["url"] == url][1:])
    return str(reply), str(notes[0]["text"])


def owed(bot: RunningBot) -> list[Announcement]:
    with bot.services.sessions() as session:
        return list(session.exec(select(Announcement).order_by(col(Announcement.id))).all())


def open_home(bot: RunningBot, user: str, event_id: str) -> str:
    bot.settle()  # the Home tabs refreshed after earlier changes are published first
    before = len(bot.slack.calls_to("views.publish"))
    bot.sender.send_event({"type": "app_home_opened", "user": user, "tab": "home", "channel": "D1"}, event_id=event_id)
    calls = bot.slack.wait_for("views.publish", count=before + 1)
    return json.dumps(calls[-1].args["view"], ensure_ascii=False)


def home_click(bot: RunningBot, action_id: str, value: str, *, user: str) -> int:
    """A click on a button of the Home tab: Slack sends a view container and no channel."""
    body = block_action(action_id, value, user_id=user, message_ts="0")
    payload = json.loads(parse_qs(body.decode())["payload"][0])
    payload["container"] = {"type": "view", "view_id": "V_HOME"}
    payload["view"] = {"id": "V_HOME", "type": "home", "blocks": []}
    for key in ("channel", "message", "response_url"):
        payload.pop(key)
    return bot.sender.post(urlencode({"payload": json.dumps(payload)}).encode()).status


def invite(bot: RunningBot, user: str = BOT_USER_ID, event_id: str = "EvJoin") -> None:
    bot.slack.join(PRIVATE, user)
    event = {"type": "member_joined_channel", "user": user, "channel": PRIVATE, "channel_type": "G", "team": "T1"}
    assert bot.sender.send_event(event, event_id=event_id).status == 200


def test_a_deal_in_a_channel_the_bot_is_not_in_is_stored_and_the_rep_is_told_how_to_invite_it(
    bot: RunningBot,
) -> None:
    bot.slack.add_private_channel(PRIVATE, members=[REP, MANAGER])
    ack, note = run(bot, "/deal", "new Acme renewal value:10k")
    assert "Created deal-1" in ack and "posted in this channel" not in ack
    assert f"I can't post in <#{PRIVATE}>" in note and "`/invite`" in note and f"<@{BOT_USER_ID}>" in note
    bot.settle()
    assert bot.slack.messages == []
    with bot.services.sessions() as session:
        assert session.exec(select(Deal)).one().channel_id == PRIVATE
    (card,) = owed(bot)
    assert (card.kind, card.status, card.attempts, card.last_error) == ("card", "pending", 0, "channel_not_found")
    assert card.next_attempt_at - card.created_at >= NO_ACCESS_RETRY - timedelta(seconds=5)


def test_a_move_without_a_thread_is_decided_from_the_home_tab_and_the_thread_catches_up_on_invite(
    bot: RunningBot,
) -> None:
    bot.slack.add_private_channel(PRIVATE, members=[REP, MANAGER])
    run(bot, "/deal", "new Acme renewal value:10k")
    ack, note = run(bot, "/advance", "deal-1 evidence:https://mail.example.com/thread/1")
    assert "on my Home tab" in ack and "in the deal's thread." not in ack
    assert "can't post" in note

    home = open_home(bot, MANAGER, "EvHome1")
    assert "deal-1" in home and APPROVE_ACTION in home and "is not in <#C_PRIVATE> yet" in home
    with bot.services.sessions() as session:
        move = session.exec(select(MoveRequest)).one()
    publishes = len(bot.slack.calls_to("views.publish"))
    assert home_click(bot, APPROVE_ACTION, str(move.id), user=MANAGER) == 200
    bot.settle()
    republished = [call.args for call in bot.slack.calls_to("views.publish")[publishes:]]
    assert MANAGER in [args["user_id"] for args in republished]
    assert all(APPROVE_ACTION not in json.dumps(args["view"]) for args in republished)
    with bot.services.sessions() as session:
        assert session.exec(select(MoveRequest)).one().status == "approved"
        assert session.exec(select(Deal)).one().stage_key == bot.services.pipeline.stages[1].key
    bot.settle()
    assert bot.slack.messages == []

    invite(bot)
    bot.slack.wait_for(lambda: all(row.status == "sent" for row in owed(bot)) or None, timeout=10)
    card = next(message for message in bot.slack.messages if message["thread_ts"] is None)
    thread = bot.slack.thread(PRIVATE, card["ts"])
    texts = [message["text"] for message in thread]
    assert len(texts) == 2
    assert "asks to move" in texts[0] and "Approved by" in texts[0]
    assert "approved your move" in texts[1]
    assert bot.services.pipeline.stages[1].name in card["text"]


def test_another_member_joining_delivers_nothing_and_a_given_up_post_is_delivered_on_invite(
    bot: RunningBot,
) -> None:
    bot.slack.add_private_channel(PRIVATE, members=[REP])
    run(bot, "/deal", "new Acme renewal")
    with bot.services.sessions.begin() as session:
        card = session.exec(select(Announcement)).one()
        card.status = "given_up"  # given up by an earlier version's retry rule
    invite(bot, user=MANAGER, event_id="EvOther")
    bot.settle()  # the listener for that event has run
    assert bot.slack.messages == []
    invite(bot, event_id="EvBot")
    bot.slack.wait_for(lambda: [row.status for row in owed(bot)] == ["sent"] or None)
    assert len(bot.slack.messages) == 1


def test_a_refused_click_on_the_home_tab_is_told_on_the_tab(bot: RunningBot) -> None:
    bot.slack.add_private_channel(PRIVATE, members=[REP, MANAGER])
    run(bot, "/deal", "new Acme renewal")
    run(bot, "/advance", "deal-1 evidence:https://mail.example.com/thread/1")
    with bot.services.sessions() as session:
        move = session.exec(select(MoveRequest)).one()
    bot.settle()
    publishes = len(bot.slack.calls_to("views.publish"))
    assert home_click(bot, APPROVE_ACTION, str(move.id), user=REP) == 200
    view = bot.slack.wait_for("views.publish", count=publishes + 1)[-1].args["view"]
    assert "Only a sales manager can" in view["blocks"][0]["text"]["text"]
    with bot.services.sessions() as session:
        assert session.exec(select(MoveRequest)).one().status == "pending"


def test_a_digest_asked_for_in_a_channel_the_bot_is_not_in_says_how_to_invite_it(bot: RunningBot) -> None:
    bot.slack.add_private_channel(PRIVATE, members=[REP, MANAGER])
    ack, note = run(bot, "/pipeline", "digest", user=MANAGER)
    assert "Posting the pipeline digest" in ack
    assert f"I can't post the digest in <#{PRIVATE}>" in note and "`/invite`" in note
