"""Slack's ack never waits for the database: slash commands and Approve are acked at once and answered after
(`bot.after_ack`). Each test holds the tables the use case needs while the request is sent, so an ack that
waited for its use case could not come back until the test let go."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot import after_ack
from bot.blocks import APPROVE_ACTION, REJECT_ACTION, REJECT_VIEW
from bot.listeners.payload import NO_RESPONSE_URL
from commands.deals.deal import NewDeal, create_deal
from commands.deals.evidence import Evidence
from commands.deals.moves import Advance, request_move
from commands.deals.results import MoveRequested
from commands.services import Actor
from storage.models import Deal, MoveRequest
from tests.conftest import MANAGER, REP, RunningBot
from tests.fakes.slack_api import RESPOND
from tests.slack_requests import shown_reply

TEAM = "T1"
CHANNEL = "C_SALES"


@contextmanager
def database_held(engine: Engine) -> Iterator[None]:
    """Nobody else can write to the database (SQLite), or to the deal and move tables (PostgreSQL), until the
    block ends."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        else:
            cursor.execute("LOCK TABLE deal, move_request IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        raw.rollback()
        raw.close()


def pending_move(bot: RunningBot) -> int:
    rep = Actor(TEAM, REP)
    deal = create_deal(bot.services, rep, channel_id=CHANNEL, command=NewDeal("Acme renewal", 10_000_00, None, ()))
    evidence = (Evidence("https://mail.example.com/thread/1", None),)
    asked = request_move(bot.services, rep, Advance(deal.number, evidence=evidence, to_key=None, note=None))
    assert isinstance(asked, MoveRequested)
    return asked.move.id


def deals(bot: RunningBot) -> list[str]:
    with bot.services.sessions() as session:
        return [deal.name for deal in session.exec(select(Deal))]


def test_a_command_is_acked_while_the_database_is_held_and_answered_once_it_is_free(bot: RunningBot) -> None:
    url = bot.slack.response_url("new")
    with database_held(bot.runtime.engine):
        ack = bot.sender.command("/deal", "new Acme renewal value:10k", user_id=REP, response_url=url)
        assert (ack.status, ack.body) == (200, b"")
        assert [response for response in bot.slack.responses if response["url"] == url] == []
    reply = shown_reply(ack, bot.slack, url).json()
    assert reply["response_type"] == "ephemeral" and reply["text"].startswith("Created deal-1 · Acme renewal")
    assert deals(bot) == ["Acme renewal"]
    bot.settle()
    assert [message["text"] for message in bot.slack.messages if "Acme renewal" in message["text"]]


def test_an_approve_click_is_acked_while_the_database_is_held_and_decided_once_it_is_free(bot: RunningBot) -> None:
    move_id = pending_move(bot)
    with database_held(bot.runtime.engine):
        ack = bot.sender.action(APPROVE_ACTION, str(move_id), user_id=MANAGER, message_ts="1700000000.000100")
        assert (ack.status, ack.body) == (200, b"")
    bot.settle()
    with bot.services.sessions() as session:
        assert session.exec(select(MoveRequest)).one().status == "approved"


def test_a_form_opens_while_the_answers_are_queued(bot: RunningBot) -> None:
    """Slack's trigger id lasts 3 seconds: a click's form does not wait behind the answers to other requests."""
    move_id = pending_move(bot)
    busy = threading.Event()
    for _ in range(4):  # every answer thread taken, and more waiting
        bot.listeners.after_ack.answer("a long answer", busy.wait)
    try:
        ack = bot.sender.action(REJECT_ACTION, str(move_id), user_id=MANAGER, message_ts="1700000000.000100")
        assert (ack.status, ack.body) == (200, b"")
        assert bot.slack.wait_for("views.open")[0].args["view"]["callback_id"] == REJECT_VIEW
        ack = bot.sender.command("/deal", "new", user_id=REP, response_url=bot.slack.response_url("form"))
        assert (ack.status, ack.body) == (200, b"")
        assert len(bot.slack.wait_for("views.open", count=2)) == 2
    finally:
        busy.set()


def test_a_reply_the_response_url_refuses_goes_to_the_channel_instead(bot: RunningBot) -> None:
    bot.slack.fail_next(RESPOND, status=404)
    ack = bot.sender.command("/deal", "new Silent deal", user_id=REP, response_url=bot.slack.response_url("gone"))
    assert (ack.status, ack.body) == (200, b"")
    (note,) = bot.slack.wait_for(lambda: [e for e in bot.slack.ephemerals if e["user"] == REP])
    assert note["channel"] == CHANNEL and note["text"].startswith("Created deal-1 · Silent deal")


def test_a_command_is_refused_in_its_ack_while_the_answers_queue_is_full(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(after_ack, "ANSWER_QUEUE_LIMIT", 2)
    busy = threading.Event()
    for _ in range(2):
        bot.listeners.after_ack.answer("a long answer", busy.wait)
    try:
        ack = bot.sender.command("/deal", "new Acme renewal", user_id=REP, response_url=bot.slack.response_url("busy"))
        assert ack.json()["text"].startswith(":no_entry_sign:") and "nothing was done" in ack.json()["text"]
    finally:
        busy.set()
    bot.settle()
    assert deals(bot) == []
    assert "Created deal-1" in bot.command("/deal", "new Acme renewal").json()["text"]


def test_a_command_without_a_response_url_is_refused_in_its_ack_and_changes_nothing(bot: RunningBot) -> None:
    ack = bot.sender.command("/deal", "new Acme renewal", user_id=REP, response_url="")
    assert ack.status == 200 and ack.json()["text"].startswith(":no_entry_sign:")
    assert NO_RESPONSE_URL.split(",")[0] in ack.json()["text"]
    bot.settle()
    assert deals(bot) == [] and bot.slack.messages == []
