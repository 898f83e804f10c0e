"""Hardening of the request path, through signed HTTP requests into the real app.

Signatures are checked before the body is read; a malformed body is refused with one log line and no
traceback; a replayed slash command changes nothing twice; a command whose text holds the word 'payload'
reaches its listener (slack-bolt's form parser would drop it); and every signed request that bolt has no
listener for, or whose fields are of odd types, gets a 200 with a clear message or an empty ack.
"""

import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from sqlalchemy import Engine, func
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel, col, select

import storage.models  # noqa: F401  (registers every table in SQLModel.metadata)
from bot.blocks import APPROVE_ACTION
from bot.http import MAX_BODY_BYTES
from commands.inbox.events import first_delivery
from commands.inbox.requests import first_time
from commands.services import Services
from storage.models import Deal, HandledEvent, HandledRequest, Manager, MoveRequest
from tests.conftest import MANAGER, REP, Clock, RunningBot
from tests.slack_requests import JSON, SIGNING_SECRET, block_action, slash_command, view_submission

REFUSAL = ":no_entry_sign:"
ALREADY = "This command was already received; nothing was done twice."


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.exc_info or record.exc_text]


def form_fields(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def deal_names(bot: RunningBot) -> list[str]:
    with bot.services.sessions() as session:
        return [deal.name for deal in session.exec(select(Deal).order_by(col(Deal.number)))]


# ---------------------------------------------------------------- signatures first

UNREADABLE_BODIES = [
    b"payload=%7Bnot-json",
    b"payload=%5B1%2C2%5D",
    b"{not json",
    b"",
    slash_command("/deal", "new Forged deal"),
]


@pytest.mark.parametrize("body", UNREADABLE_BODIES)
def test_an_unsigned_or_badly_signed_request_is_401_whatever_its_body(
    bot: RunningBot, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    caplog.set_level(logging.INFO)
    before, calls = row_counts(bot.runtime.engine), len(bot.slack.calls)
    unsigned = bot.sender.post(body, sign=False)
    spoiled = bot.sender.post(body, headers={"X-Slack-Signature": "v0=" + "0" * 64})
    stale = bot.sender.post(body, timestamp=int(time.time()) - 6 * 60)
    other_secret = bot.sender.post(body, headers={"X-Slack-Signature": "v1=abc", "X-Slack-Request-Timestamp": "x"})
    assert [r.status for r in (unsigned, spoiled, stale, other_secret)] == [401, 401, 401, 401]
    assert tracebacks(caplog) == []
    assert row_counts(bot.runtime.engine) == before
    assert bot.slack.calls[calls:] == []


def test_a_body_that_is_not_utf8_is_401_even_with_a_correct_hmac(bot: RunningBot) -> None:
    """Slack signs UTF-8 text; slack_sdk's verifier (like bolt's) reads the body as text, so such a body is
    refused as unsigned, before anything tries to read it."""
    body = b"\xff\xfe\x00garbage"
    stamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}
    assert bot.sender.post(body, sign=False, headers=headers).status == 401
    assert bot.sender.post(body, sign=False).status == 401


def test_a_body_over_the_limit_is_413_before_its_signature_is_checked(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert bot.sender.post(b"x" * (MAX_BODY_BYTES + 1), sign=False).status == 413
    assert bot.sender.post(b"x" * MAX_BODY_BYTES, sign=False).status == 401
    assert tracebacks(caplog) == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        (b"payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
        (b'payload="block_actions"', "application/x-www-form-urlencoded"),
        (b"{not json", JSON),
        (b"[1, 2]", JSON),
    ],
)
def test_a_malformed_signed_body_is_400_with_one_warning_and_no_traceback(
    bot: RunningBot, caplog: pytest.LogCaptureFixture, body: bytes, content_type: str
) -> None:
    caplog.set_level(logging.INFO)
    before = row_counts(bot.runtime.engine)
    response = bot.sender.post(body, content_type=content_type)
    assert response.status == 400
    assert tracebacks(caplog) == []
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert row_counts(bot.runtime.engine) == before


# ---------------------------------------------------------------- replays


def replay(bot: RunningBot, body: bytes) -> tuple[Any, Any]:
    """The same signed request twice: same body (response_url included), same timestamp, same signature (within
    Slack's 5 minutes). What each copy's sender sees: the first and the second reply on that one response_url."""
    stamp, body = int(time.time()), bot.served_reply_url(body)
    return bot.send(body, timestamp=stamp).json(), bot.send(body, timestamp=stamp).json()


def test_a_replayed_deal_new_creates_one_deal(bot: RunningBot) -> None:
    first, second = replay(bot, slash_command("/deal", "new Acme renewal", user_id=REP, trigger_id="111.222.aaa"))
    assert "Created deal-1" in first["text"]
    assert second["text"] == ALREADY
    assert deal_names(bot) == ["Acme renewal"]
    bot.settle()
    assert len(bot.slack.messages) == 1  # one card, not two


def test_every_changing_command_is_idempotent_on_its_trigger_id(bot: RunningBot) -> None:
    assert "Created deal-1" in bot.command("/deal", "new Acme", trigger_id="t-new").json()["text"]
    bot.slack.wait_for(lambda: bot.slack.messages)

    asked = replay(bot, slash_command("/advance", "deal-1 evidence:https://mail.example.com/1", trigger_id="t-adv"))
    assert "Asked to move" in asked[0]["text"] and asked[1]["text"] == ALREADY

    added = replay(bot, slash_command("/pipeline", "managers add <@U0NEW>", user_id=MANAGER, trigger_id="t-mgr"))
    assert REFUSAL not in added[0]["text"] and added[1]["text"] == ALREADY

    scheduled = replay(
        bot, slash_command("/pipeline", "schedule daily 09:00 tz:UTC", user_id=MANAGER, trigger_id="t-s")
    )
    assert REFUSAL not in scheduled[0]["text"] and scheduled[1]["text"] == ALREADY

    lost = replay(bot, slash_command("/deal", "lost deal-1 reason:budget cut", trigger_id="t-lost"))
    assert "lost" in lost[0]["text"] and lost[1]["text"] == ALREADY

    with bot.services.sessions() as session:
        assert len(session.exec(select(MoveRequest)).all()) == 1
        assert [m.user_id for m in session.exec(select(Manager))] == ["U0NEW"]
        assert len(session.exec(select(HandledRequest)).all()) == 5


def test_reading_commands_are_answered_again_when_replayed(bot: RunningBot) -> None:
    bot.command("/deal", "new Acme", trigger_id="t-new")
    first, second = replay(bot, slash_command("/deal", "show deal-1", trigger_id="t-show"))
    assert first == second and "Acme" in first["text"]


def test_a_refused_command_leaves_no_claim_so_the_same_request_is_refused_again(bot: RunningBot) -> None:
    first, second = replay(bot, slash_command("/deal", "lost deal-9 reason:gone", trigger_id="t-refused"))
    assert first["text"].startswith(REFUSAL) and "deal-9" in first["text"]
    assert second == first
    with bot.services.sessions() as session:
        assert session.exec(select(HandledRequest)).all() == []


def test_a_database_failure_leaves_no_claim(bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise OperationalError("INSERT INTO deal", {}, Exception("connection lost"))

    monkeypatch.setattr("bot.listeners.slash.create_deal", fail)
    body = slash_command("/deal", "new Acme", trigger_id="t-db")
    answer = bot.send(body).json()
    assert "did not answer" in answer["text"]
    with bot.services.sessions() as session:
        assert session.exec(select(HandledRequest)).all() == []
    monkeypatch.undo()
    assert "Created deal-1" in bot.send(body).json()["text"]


def test_claims_older_than_any_replay_are_dropped(services: Services, clock: Clock) -> None:
    assert first_time(services, team_id="T1", key="old")
    assert not first_time(services, team_id="T1", key="old")
    clock.advance(minutes=61)
    assert first_time(services, team_id="T2", key="other-team")
    assert first_time(services, team_id="T1", key="new")
    with services.sessions() as session:
        keys = {(row.team_id, row.request_key) for row in session.exec(select(HandledRequest))}
    assert keys == {("T1", "new"), ("T2", "other-team")}


def test_event_deliveries_older_than_any_redelivery_are_dropped(services: Services, clock: Clock) -> None:
    assert first_delivery(services, team_id="T1", event_id="Ev1")
    clock.advance(hours=23)
    assert not first_delivery(services, team_id="T1", event_id="Ev1")  # still within Slack's retries
    clock.advance(hours=2)
    assert first_delivery(services, team_id="T2", event_id="Ev2")
    assert first_delivery(services, team_id="T1", event_id="Ev3")
    with services.sessions() as session:
        kept = {(row.team_id, row.event_id) for row in session.exec(select(HandledEvent))}
    assert kept == {("T1", "Ev3"), ("T2", "Ev2")}


def test_a_changing_command_without_a_usable_trigger_id_is_refused(bot: RunningBot) -> None:
    fields = form_fields(slash_command("/deal", "new Acme"))
    del fields["trigger_id"]
    answer = bot.send(urlencode(fields).encode())
    assert answer.status == 200 and answer.json()["text"].startswith(REFUSAL)
    fields["trigger_id"] = "t" * 300
    assert bot.send(urlencode(fields).encode()).json()["text"].startswith(REFUSAL)
    assert deal_names(bot) == []


# ---------------------------------------------------------------- the word 'payload'


@pytest.mark.parametrize("name", ["Acme payload team", "payload", "Payload=1 & payload=2", "{payload}"])
def test_a_command_whose_text_holds_the_word_payload_reaches_its_listener(bot: RunningBot, name: str) -> None:
    response = bot.command("/deal", f"new {name}")
    assert response.status == 200
    assert "Created deal-1" in response.json()["text"]
    assert deal_names(bot) == [name]


def test_a_command_from_a_channel_named_payloads_reaches_its_listener(bot: RunningBot) -> None:
    response = bot.command("/deal", "new Acme", channel_name="payloads")
    assert "Created deal-1" in response.json()["text"]


def test_a_replayed_command_with_the_word_payload_is_still_caught(bot: RunningBot) -> None:
    first, second = replay(bot, slash_command("/deal", "new payload", trigger_id="t-payload"))
    assert "Created deal-1" in first["text"] and second["text"] == ALREADY


# ---------------------------------------------------------------- every signed request gets a 200


def test_an_unknown_button_is_acknowledged_and_the_clicker_told(bot: RunningBot) -> None:
    response = bot.sender.action("move_frobnicate", "1", user_id=MANAGER, message_ts="1.0")
    assert (response.status, response.text) == (200, "")
    told = bot.slack.wait_for(lambda: [e for e in bot.slack.ephemerals if e["user"] == MANAGER])
    assert "no longer available" in told[0]["text"]


def test_an_unknown_command_or_modal_gets_a_clear_answer(bot: RunningBot) -> None:
    answer = bot.command("/frobnicate", "now")
    assert answer.status == 200 and "/frobnicate" in answer.json()["text"]
    form = view_submission("some_other_modal", {"b": {"a": "x"}}, private_metadata="{}", user_id=MANAGER)
    assert bot.sender.post(form).status == 200


@pytest.mark.parametrize("missing", ["user_id", "team_id", "channel_id"])
def test_a_command_without_an_id_is_refused_clearly(bot: RunningBot, missing: str) -> None:
    fields = form_fields(slash_command("/deal", "new Acme"))
    del fields[missing]
    response = bot.send(urlencode(fields).encode())
    assert response.status == 200 and response.json()["text"].startswith(REFUSAL)
    assert deal_names(bot) == []


@pytest.mark.parametrize("field", ["user_id", "team_id", "channel_id"])
def test_ids_longer_than_the_columns_are_refused_before_the_database(bot: RunningBot, field: str) -> None:
    before = row_counts(bot.runtime.engine)
    ids: dict[str, Any] = {"user" if field == "user_id" else field: "U" * 40}
    response = bot.command("/deal", "new Acme", **ids)
    assert response.status == 200 and response.json()["text"].startswith(REFUSAL)
    assert row_counts(bot.runtime.engine) == before


def _click(**changes: Any) -> bytes:
    payload = json.loads(form_fields(block_action(APPROVE_ACTION, "1", user_id=MANAGER, message_ts="1.0"))["payload"])
    payload.update(changes)
    return urlencode({"payload": json.dumps(payload)}).encode()


ODD_SHAPES = {
    "action without id": _click(actions=[{"block_id": "b", "value": "1"}]),
    "action is a string": _click(actions=["move_approve"]),
    "action id is a number": _click(actions=[{"action_id": 5}]),
    "empty actions": _click(actions=[]),
    "no actions": _click(actions=None),
    "unknown type": _click(type="block_suggestion"),
    "no type": _click(type=None),
    "team is a number": _click(team=5),
    "user is a number": _click(user=5),
    "channel is a boolean": _click(channel=True),
    "enterprise is a number": _click(enterprise=1.5),
    "view is a string": _click(type="view_submission", view="callback_id"),
    "response_urls is null": _click(type="view_submission", response_urls=None),
    "authorizations is a number": _click(authorizations=3),
}


@pytest.mark.parametrize("name", ODD_SHAPES)
def test_odd_json_shapes_are_acknowledged_without_a_traceback(
    bot: RunningBot, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    caplog.set_level(logging.INFO)
    before = row_counts(bot.runtime.engine)
    response = bot.sender.post(ODD_SHAPES[name])
    assert response.status == 200, (response.status, response.text)
    assert tracebacks(caplog) == []
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) <= 1
    assert row_counts(bot.runtime.engine) == before


def test_an_event_of_odd_shape_is_acknowledged(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for envelope in ({"type": "event_callback", "event": 5}, {"type": "event_callback", "event": {"type": 1}}, {}):
        response = bot.sender.post(json.dumps({"team_id": "T1", **envelope}).encode(), content_type=JSON)
        assert response.status == 200, envelope
    assert tracebacks(caplog) == []
