"""One error boundary: each kind of request tells the person in its own way, and "the database did not answer"
is said only when it did not (a bug is not dressed up as an outage)."""

import json
import logging
import re

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.blocks import APPROVE_ACTION, REASON_BLOCK, REASON_INPUT, REJECT_VIEW
from bot.error_boundary import SOMETHING_BROKE
from bot.listeners import actions as action_listeners
from bot.listeners import slash as command_listeners
from bot.listeners import views as view_listeners
from commands.errors import CommandError, DatabaseUnavailable
from tests.conftest import MANAGER, RunningBot
from tests.slack_requests import view_submission
from tests.test_input_limits import asked_move, new_deal, pending_move

DOWN = DatabaseUnavailable().message
MARKUP = re.compile(r"[`*_~]|<[@#!]")


def outage(*_: object, **__: object) -> None:
    raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection unexpectedly"))


def constraint_bug(*_: object, **__: object) -> None:
    raise IntegrityError("INSERT INTO deal", {}, ValueError("NOT NULL constraint failed: deal.name"))


@pytest.mark.parametrize(("failure", "said"), [(outage, DOWN), (constraint_bug, SOMETHING_BROKE)])
def test_a_slash_command_says_the_database_is_down_only_when_it_is(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, failure: object, said: str
) -> None:
    monkeypatch.setattr(command_listeners, "show_deal", failure)
    answer = bot.command("/deal", "show deal-1")
    assert answer.status == 200
    assert answer.json()["text"] == said
    tracebacks = [record for record in caplog.records if record.exc_info]
    assert bool(tracebacks) is (said == SOMETHING_BROKE)  # a bug is logged with its stack; an outage is not


@pytest.mark.parametrize(("failure", "said"), [(outage, "database did not answer"), (constraint_bug, "went wrong")])
def test_a_click_is_told_in_the_thread_and_acked_once(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, failure: object, said: str
) -> None:
    new_deal(bot)
    asked_move(bot, "evidence:https://mail.example.com/m/1")
    move = pending_move(bot)
    monkeypatch.setattr(action_listeners, "decide_move", failure)
    caplog.set_level(logging.WARNING, logger="slack_bolt")
    answer = bot.sender.action(
        APPROVE_ACTION, str(move.id), user_id=MANAGER, message_ts="1700000000.000100", thread_ts="1700000000.000001"
    )
    assert answer.status == 200
    (note,) = bot.slack.wait_for(lambda: [e for e in bot.slack.ephemerals if e["user"] == MANAGER])
    assert said in note["text"] and note["thread_ts"] == "1700000000.000001"
    assert not any("ack()" in record.getMessage() for record in caplog.records)  # no second listener, no 3 s wait
    assert pending_move(bot).status == "pending"


def reject(bot: RunningBot, move_id: int, reason: str) -> dict[str, object]:
    body = view_submission(
        REJECT_VIEW,
        {REASON_BLOCK: {REASON_INPUT: reason}},
        private_metadata=json.dumps({"move_id": move_id, "channel_id": "C_SALES"}),
        user_id=MANAGER,
    )
    answer = bot.sender.post(body)
    return answer.json() if answer.text else {}


def test_a_modal_error_is_plain_text_under_the_field(bot: RunningBot) -> None:
    new_deal(bot)
    asked_move(bot, "evidence:https://mail.example.com/m/1")
    move = pending_move(bot)
    assert move.id is not None
    assert reject(bot, move.id, "Not the buyer's signature") == {}
    again = reject(bot, move.id, "Still not the buyer")
    assert again["response_action"] == "errors"
    errors = again["errors"]
    assert isinstance(errors, dict)
    error = errors[REASON_BLOCK]
    assert error == "This move was already rejected."
    assert not MARKUP.search(error)


def test_a_modal_refusal_with_markup_in_its_message_is_shown_without_it(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_deal(bot)
    asked_move(bot, "evidence:https://mail.example.com/m/1")
    move = pending_move(bot)
    assert move.id is not None

    def refuse(*_: object, **__: object) -> None:
        raise CommandError("Check it with `/deal show deal-1` *first*.")

    monkeypatch.setattr(view_listeners, "decide_move", refuse)
    assert reject(bot, move.id, "No")["errors"] == {REASON_BLOCK: "Check it with /deal show deal-1 first."}
    monkeypatch.setattr(view_listeners, "decide_move", outage)
    assert reject(bot, move.id, "No")["errors"] == {REASON_BLOCK: DOWN}
    assert pending_move(bot).status == "pending"
