"""Slack's ack never waits for the database: slash commands and Approve are acked at once and answered after
(`bot.after_ack`). Each test holds the tables the use case needs while the request is sent, so an ack that
waited for its use case could not come back until the test let go."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlmodel import select

from bot.blocks import APPROVE_ACTION
from bot.listeners.payload import NO_RESPONSE_URL
from commands.deals.deal import NewDeal, create_deal
from commands.deals.evidence import Evidence
from commands.deals.moves import Advance, request_move
from commands.deals.results import MoveRequested
from commands.services import Actor
from storage.models import Deal, MoveRequest
from tests.conftest import MANAGER, REP, RunningBot
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
    rep = Actor(TEAM, REP)
    deal = create_deal(bot.services, rep, channel_id=CHANNEL, command=NewDeal("Acme renewal", 10_000_00, None, ()))
    evidence = (Evidence("https://mail.example.com/thread/1", None),)
    asked = request_move(bot.services, rep, Advance(deal.number, evidence=evidence, to_key=None, note=None))
    assert isinstance(asked, MoveRequested)
    move_id = asked.move.id
    with database_held(bot.runtime.engine):
        ack = bot.sender.action(APPROVE_ACTION, str(move_id), user_id=MANAGER, message_ts="1700000000.000100")
        assert (ack.status, ack.body) == (200, b"")
    bot.settle()
    with bot.services.sessions() as session:
        assert session.exec(select(MoveRequest)).one().status == "approved"


def test_a_command_without_a_response_url_is_refused_in_its_ack_and_changes_nothing(bot: RunningBot) -> None:
    ack = bot.sender.command("/deal", "new Acme renewal", user_id=REP, response_url="")
    assert ack.status == 200 and ack.json()["text"].startswith(":no_entry_sign:")
    assert NO_RESPONSE_URL.split(",")[0] in ack.json()["text"]
    bot.settle()
    assert deals(bot) == [] and bot.slack.messages == []
