"""The fake Slack Web API and the signed-request builders, checked with the real slack_sdk and slack_bolt."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack_api import BOT_USER_ID, FakeSlack
from tests.slack_requests import (
    JSON,
    SIGNING_SECRET,
    SlackSender,
    event,
    new_trigger_id,
    signed_headers,
    slash_command,
)

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}
MODAL = {"type": "modal", "callback_id": "deal", "title": {"type": "plain_text", "text": "Deal"}, "blocks": [SECTION]}


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.base_url)


def api_error(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as raised:
        call()
    return dict(raised.value.response.data)


# ---------------------------------------------------------------- messages


def test_post_message_is_answered_and_recorded(fake: FakeSlack, client: WebClient) -> None:
    first = client.chat_postMessage(channel="C1", text="hello", blocks=[SECTION])
    reply = client.chat_postMessage(channel="C1", text="reply", thread_ts=first["ts"])

    assert first["ok"] and first["channel"] == "C1" and first["message"]["text"] == "hello"
    assert float(reply["ts"]) > float(first["ts"])
    assert fake.message("C1", first["ts"]) == {
        "type": "message",
        "channel": "C1",
        "ts": first["ts"],
        "thread_ts": None,
        "text": "hello",
        "blocks": [SECTION],
        "user": "UBOT",
        "bot_id": "BBOT",
    }
    assert [m["text"] for m in fake.thread("C1", first["ts"])] == ["reply"]
    assert [call.args["text"] for call in fake.calls_to("chat.postMessage")] == ["hello", "reply"]
    assert fake.calls_to("chat.postMessage")[0].headers["authorization"] == "Bearer xoxb-test"
    assert fake.violations == []


def test_update_keeps_history_and_needs_an_existing_message(fake: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C1", text="v1")
    client.chat_update(channel="C1", ts=posted["ts"], text="v2")

    updated = fake.message("C1", posted["ts"])
    assert updated is not None and updated["text"] == "v2"
    assert [m["text"] for m in fake.message_history("C1", posted["ts"])] == ["v1", "v2"]
    assert api_error(lambda: client.chat_update(channel="C1", ts="1.000001", text="x"))["error"] == "message_not_found"
    assert (
        api_error(lambda: client.chat_update(channel="C2", ts=posted["ts"], text="x"))["error"] == "message_not_found"
    )


def test_ephemeral_permalink_user_and_dm(fake: FakeSlack, client: WebClient) -> None:
    fake.user_timezones["U2"] = "Asia/Tokyo"
    posted = client.chat_postMessage(channel="C1", text="hi")

    ephemeral = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    permalink = client.chat_getPermalink(channel="C1", message_ts=posted["ts"])
    user = client.users_info(user="U2")["user"]
    dm = client.conversations_open(users="U1")

    assert fake.ephemerals[0]["message_ts"] == ephemeral["message_ts"]
    assert fake.ephemerals[0]["text"] == "only you"
    assert permalink["permalink"] == f"https://fake.slack.com/archives/C1/p{posted['ts'].replace('.', '')}"
    assert (user["tz"], user["tz_offset"]) == ("Asia/Tokyo", 9 * 3600)
    assert client.users_info(user="U1")["user"]["tz"] == "America/New_York"
    assert dm["channel"]["id"] == "DU1"


# ---------------------------------------------------------------- refusals


def test_unknown_method_is_refused(client: WebClient) -> None:
    assert api_error(lambda: client.api_call("chat.postMessages"))["error"] == "unknown_method"


def test_retired_files_upload_is_unknown(client: WebClient) -> None:
    assert api_error(lambda: client.api_call("files.upload", data={"channels": "C1"}))["error"] == "unknown_method"


def test_call_without_token_is_refused(fake: FakeSlack) -> None:
    anonymous = WebClient(base_url=fake.base_url)
    assert api_error(lambda: anonymous.chat_postMessage(channel="C1", text="x"))["error"] == "not_authed"


def test_missing_required_argument_is_refused(fake: FakeSlack, client: WebClient) -> None:
    error = api_error(lambda: client.api_call("chat.postMessage", json={"text": "no channel"}))

    assert error == {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": ["[ERROR] missing required field: channel"]},
    }
    assert fake.messages == []


def test_form_encoded_arguments_are_accepted(fake: FakeSlack, client: WebClient) -> None:
    client.api_call("chat.postMessage", params={"channel": "C1", "text": "form"})
    assert fake.messages[0]["text"] == "form"


def test_json_body_for_form_only_method_is_ignored_like_slack_does(client: WebClient) -> None:
    error = api_error(lambda: client.api_call("files.getUploadURLExternal", json={"filename": "x.png", "length": 3}))

    assert error["error"] == "invalid_arguments"
    assert "[ERROR] missing required field: filename" in error["response_metadata"]["messages"]


# ---------------------------------------------------------------- Block Kit


def test_section_text_over_3000_chars_is_refused_and_recorded(fake: FakeSlack, client: WebClient) -> None:
    long_section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}

    error = api_error(lambda: client.chat_postMessage(channel="C1", text="t", blocks=[long_section]))

    assert error["error"] == "invalid_blocks"
    assert len(fake.violations) == 1 and "3000" in fake.violations[0]
    assert fake.messages == []


def test_more_than_50_blocks_is_refused(fake: FakeSlack, client: WebClient) -> None:
    error = api_error(lambda: client.chat_postMessage(channel="C1", text="t", blocks=[SECTION] * 51))

    assert error["error"] == "invalid_blocks"
    assert fake.violations == ["chat.postMessage: 51 blocks, more than the limit of 50"]


def test_nested_element_limits_are_checked(fake: FakeSlack, client: WebClient) -> None:
    button = {"type": "button", "text": {"type": "plain_text", "text": "b" * 76}, "action_id": "a"}

    error = api_error(
        lambda: client.chat_postMessage(channel="C1", text="t", blocks=[{"type": "actions", "elements": [button]}])
    )

    assert error["error"] == "invalid_blocks"
    assert "75" in fake.violations[0]


def test_misspelt_field_is_refused_although_slack_sdk_drops_it(fake: FakeSlack, client: WebClient) -> None:
    typo = {**SECTION, "acessory": {"type": "button", "text": {"type": "plain_text", "text": "Go"}}}

    assert (
        api_error(lambda: client.chat_postMessage(channel="C1", text="t", blocks=[typo]))["error"] == "invalid_blocks"
    )
    assert fake.violations == ["chat.postMessage: block 0: (section) unknown field or element at .acessory"]


def test_blocks_sent_as_form_string_are_validated(fake: FakeSlack, client: WebClient) -> None:
    params = {"channel": "C1", "text": "t", "blocks": '[{"type": "no_such_block"}]'}

    assert api_error(lambda: client.api_call("chat.postMessage", params=params))["error"] == "invalid_blocks"
    assert "unknown block type" in fake.violations[0]


def test_blocks_without_text_fallback_are_answered_but_recorded(fake: FakeSlack, client: WebClient) -> None:
    with pytest.warns(UserWarning, match="text"):  # slack_sdk warns too, but only a test failure gets noticed
        assert client.chat_postMessage(channel="C1", blocks=[SECTION])["ok"]
    assert fake.violations == [
        "chat.postMessage: blocks sent without a plain `text` fallback (notifications, screen readers)"
    ]


def test_views_open_needs_a_trigger_and_a_valid_view(fake: FakeSlack, client: WebClient) -> None:
    missing_trigger = api_error(lambda: client.api_call("views.open", json={"view": MODAL}))
    long_title = {**MODAL, "title": {"type": "plain_text", "text": "t" * 25}}
    bad_view = api_error(lambda: client.views_open(trigger_id="trig-1", view=long_title))
    fake.reset()
    opened = client.views_open(trigger_id="trig-1", view=MODAL)

    assert missing_trigger["error"] == "invalid_arguments"
    assert bad_view["error"] == "invalid_arguments"
    assert opened["view"]["id"].startswith("V") and opened["view"]["callback_id"] == "deal"
    assert fake.views[0]["view"] == MODAL and fake.views[0]["trigger_id"] == "trig-1"
    assert fake.violations == []


def test_a_trigger_opens_one_view_within_three_seconds(fake: FakeSlack, client: WebClient) -> None:
    fresh = new_trigger_id()
    stale = f"{int(time.time()) - 5}.1.abcdef"
    assert client.views_open(trigger_id=fresh, view=MODAL)["ok"]
    assert api_error(lambda: client.views_open(trigger_id=fresh, view=MODAL))["error"] == "exchanged_trigger_id"
    assert api_error(lambda: client.views_open(trigger_id=stale, view=MODAL))["error"] == "expired_trigger_id"
    assert client.views_open(trigger_id=f"{int(time.time()) - 2}.1.abcdef", view=MODAL)["ok"]


def test_views_update_targets_an_open_view(fake: FakeSlack, client: WebClient) -> None:
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Deal"}, "blocks": [SECTION]}
    opened = client.views_open(trigger_id="trig-1", view=modal)["view"]

    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal)["view"]
    stale = api_error(lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal))
    unknown = api_error(lambda: client.views_update(view_id="V_NOPE", view=modal))

    assert updated["id"] == opened["id"]
    assert (stale["error"], unknown["error"]) == ("hash_conflict", "not_found")


def test_home_view_over_100_blocks_is_refused(fake: FakeSlack, client: WebClient) -> None:
    home = {"type": "home", "blocks": [SECTION] * 101}

    assert api_error(lambda: client.views_publish(user_id="U1", view=home))["error"] == "invalid_arguments"
    assert "views.publish: 101 blocks, more than the limit of 100" in fake.violations
    assert client.views_publish(user_id="U1", view={"type": "home", "blocks": [SECTION]})["ok"]


# ---------------------------------------------------------------- files


def test_files_upload_v2_goes_through_all_three_steps(fake: FakeSlack, client: WebClient) -> None:
    result = client.files_upload_v2(
        channel="C1", file=b"png bytes", filename="x.png", title="t", initial_comment="chart", thread_ts="1.000100"
    )

    assert [call.method for call in fake.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    assert result["file"]["title"] == "t"
    [stored] = fake.files
    assert stored["data"] == b"png bytes"
    assert (stored["channel_id"], stored["initial_comment"], stored["thread_ts"]) == ("C1", "chart", "1.000100")
    assert fake.violations == []


def test_complete_upload_needs_uploaded_bytes(client: WebClient) -> None:
    ticket = client.files_getUploadURLExternal(filename="x.png", length=3)

    error = api_error(lambda: client.files_completeUploadExternal(files=[{"id": ticket["file_id"]}], channel_id="C1"))

    assert error["error"] == "file_not_found"


# ---------------------------------------------------------------- private channels and bot membership

PRIVATE = "C_PRIVATE"
REFERENCE_METHODS = Path(__file__).resolve().parents[2] / "shared" / "slack-api-ref" / "methods"
NOT_FOUND = {"ok": False, "error": "channel_not_found"}


def test_a_private_channel_without_the_bot_refuses_every_bot_call_with_channel_not_found(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.add_private_channel(PRIVATE, members=["U1"])
    refusals = {
        "chat.postMessage": lambda: client.chat_postMessage(channel=PRIVATE, text="hi"),
        "chat.update": lambda: client.chat_update(channel=PRIVATE, ts="1700000000.000100", text="v2"),
        "chat.postEphemeral": lambda: client.chat_postEphemeral(channel=PRIVATE, user="U1", text="psst"),
        "chat.getPermalink": lambda: client.chat_getPermalink(channel=PRIVATE, message_ts="1700000000.000100"),
        "files.completeUploadExternal": lambda: client.files_upload_v2(channel=PRIVATE, file=b"png", filename="x.png"),
    }

    errors = {method: api_error(call) for method, call in refusals.items()}

    assert errors == dict.fromkeys(refusals, NOT_FOUND)
    assert fake.messages == [] and fake.ephemerals == [] and fake.files == []
    assert [call.response for call in fake.calls_to("chat.postMessage")] == [NOT_FOUND]
    assert fake.violations == []  # Slack's answer, not an app bug: the app cannot know beforehand
    assert not fake.is_member(PRIVATE) and fake.is_member(PRIVATE, "U1")


def test_an_upload_is_refused_when_any_of_its_channels_is_private_without_the_bot(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.add_private_channel(PRIVATE)
    first = client.files_getUploadURLExternal(filename="a.png", length=3)
    client.files_upload_v2(channel="C1", file=b"png", filename="ok.png")  # a public channel: shared

    error = api_error(
        lambda: client.files_completeUploadExternal(files=[{"id": first["file_id"]}], channels=["C1", PRIVATE])
    )

    assert error == NOT_FOUND
    assert [stored["filename"] for stored in fake.files] == ["ok.png"]


def test_the_bot_posts_after_it_is_invited_and_not_after_it_leaves(fake: FakeSlack, client: WebClient) -> None:
    fake.add_private_channel(PRIVATE, members=["U1"])
    assert api_error(lambda: client.chat_postMessage(channel=PRIVATE, text="too early")) == NOT_FOUND

    fake.join(PRIVATE)
    posted = client.chat_postMessage(channel=PRIVATE, text="hello")
    updated = client.chat_update(channel=PRIVATE, ts=posted["ts"], text="hello again")
    link = client.chat_getPermalink(channel=PRIVATE, message_ts=posted["ts"])
    ephemeral = client.chat_postEphemeral(channel=PRIVATE, user="U1", text="psst")
    uploaded = client.files_upload_v2(channel=PRIVATE, file=b"png", filename="x.png")
    fake.leave(PRIVATE)
    after_leaving = api_error(lambda: client.chat_update(channel=PRIVATE, ts=posted["ts"], text="v3"))

    assert fake.is_member(PRIVATE) is False
    assert (posted["ok"], updated["ok"], link["ok"], ephemeral["ok"], uploaded["ok"]) == (True,) * 5
    assert [m["text"] for m in fake.message_history(PRIVATE, posted["ts"])] == ["hello", "hello again"]
    assert after_leaving == NOT_FOUND
    assert fake.violations == []


def test_a_bot_listed_as_member_may_post_at_once(fake: FakeSlack, client: WebClient) -> None:
    fake.add_private_channel(PRIVATE, members=[BOT_USER_ID])

    assert fake.is_member(PRIVATE)
    assert client.chat_postMessage(channel=PRIVATE, text="hi")["ok"]


def test_ephemeral_to_a_user_outside_the_private_channel_is_user_not_in_channel(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.add_private_channel(PRIVATE, members=[BOT_USER_ID, "U1"])

    error = api_error(lambda: client.chat_postEphemeral(channel=PRIVATE, user="U2", text="psst"))
    fake.join(PRIVATE, "U2")
    shown = client.chat_postEphemeral(channel=PRIVATE, user="U2", text="psst")

    assert error == {"ok": False, "error": "user_not_in_channel"}
    assert shown["ok"] and [e["user"] for e in fake.ephemerals] == ["U2"]
    assert fake.violations == []


def test_unregistered_channels_accept_any_post_and_any_user(fake: FakeSlack, client: WebClient) -> None:
    fake.add_private_channel(PRIVATE)

    posted = client.chat_postMessage(channel="C1", text="hi")
    assert client.chat_postEphemeral(channel="C1", user="U_ANYONE", text="psst")["ok"]
    assert client.chat_update(channel="C1", ts=posted["ts"], text="v2")["ok"]
    assert client.files_upload_v2(channel="C1", file=b"png", filename="x.png")["ok"]
    with pytest.raises(KeyError, match="add_private_channel"):
        fake.is_member("C1")
    with pytest.raises(KeyError):
        fake.join("C1")


def test_reset_forgets_private_channels_and_their_members(fake: FakeSlack, client: WebClient) -> None:
    fake.add_private_channel(PRIVATE, members=[BOT_USER_ID])
    fake.reset()

    with pytest.raises(KeyError):
        fake.is_member(PRIVATE)
    assert client.chat_postMessage(channel=PRIVATE, text="public again")["ok"]


@pytest.mark.skipif(not REFERENCE_METHODS.is_dir(), reason="no ../shared/slack-api-ref beside this clone")
def test_the_membership_errors_are_slacks_own() -> None:
    def errors(method: str) -> set[str]:
        doc = json.loads((REFERENCE_METHODS / f"{method}.json").read_text(encoding="utf-8"))
        return set(doc.get("errors", {}))

    for method in (
        "chat.postMessage",
        "chat.update",
        "chat.postEphemeral",
        "chat.getPermalink",
        "files.completeUploadExternal",
    ):
        assert "channel_not_found" in errors(method), method
    assert "user_not_in_channel" in errors("chat.postEphemeral")


# ---------------------------------------------------------------- waiting and faults


def test_wait_for_sees_a_later_call_and_explains_a_timeout(fake: FakeSlack, client: WebClient) -> None:
    timer = threading.Timer(0.2, lambda: client.chat_postMessage(channel="C1", text="later"))
    timer.start()

    calls = fake.wait_for("chat.postMessage")
    timer.join()

    assert calls[0].args["text"] == "later"
    assert fake.wait_for(lambda: fake.messages)[0]["text"] == "later"
    with pytest.raises(AssertionError, match=r"views.open.*\n  chat.postMessage"):
        fake.wait_for("views.open", timeout=0.1)


def test_rate_limit_is_retried_by_the_rate_limit_handler(fake: FakeSlack, client: WebClient) -> None:
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    fake.fail_next("chat.postMessage", status=429, retry_after=0)

    assert client.chat_postMessage(channel="C1", text="eventually")["ok"]
    assert fake.failures_served == 1
    assert len(fake.calls_to("chat.postMessage")) == 1


def test_rate_limit_without_handler_surfaces(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", retry_after=7)

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="x")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"


def test_server_error_is_retried_by_the_server_error_handler(fake: FakeSlack, client: WebClient) -> None:
    client.retry_handlers.append(ServerErrorRetryHandler(max_retry_count=1))
    fake.fail_next("chat.update", status=503)
    posted = client.chat_postMessage(channel="C1", text="v1")

    assert client.chat_update(channel="C1", ts=posted["ts"], text="v2")["ok"]
    assert fake.failures_served == 1


def test_dropped_connection_is_retried_once_by_default(fake: FakeSlack, client: WebClient) -> None:
    fake.drop_next("chat.postMessage")

    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    assert fake.failures_served == 1
    assert len(fake.messages) == 1


# ---------------------------------------------------------------- requests from Slack, through a real bolt App


def test_signed_headers_are_accepted_by_the_verifier() -> None:
    body = slash_command("/deal", "new Acme")

    headers = signed_headers(body)

    assert SignatureVerifier(SIGNING_SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier("other-secret").is_valid_request(body, headers)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


@pytest.fixture
def bolt_app(fake: FakeSlack) -> Iterator[tuple[App, SlackSender, list[dict[str, Any]]]]:
    app = App(
        client=WebClient(token="xoxb-test", base_url=fake.base_url),
        signing_secret=SIGNING_SECRET,
        process_before_response=True,
    )
    seen: list[dict[str, Any]] = []
    server: WSGIServer = make_server("127.0.0.1", 0, SlackRequestHandler(app), handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield app, SlackSender(f"http://127.0.0.1:{server.server_port}/slack/events"), seen
    finally:
        server.shutdown()
        server.server_close()


def test_slash_command_reaches_bolt_and_ack_is_what_the_user_sees(bolt_app: Any) -> None:
    app, sender, seen = bolt_app

    @app.command("/deal")
    def on_deal(ack: Ack, command: dict[str, Any]) -> None:
        seen.append(command)
        ack(f"got {command['text']}")

    response = sender.command("/deal", "new Acme <@U2|bob>")

    assert response.status == 200
    assert response.json()["text"] == "got new Acme <@U2|bob>"
    assert seen[0]["user_id"] == "U_REP" and seen[0]["channel_id"] == "C_SALES"


def test_respond_after_ack_lands_on_the_fakes_response_url(fake: FakeSlack, bolt_app: Any) -> None:
    app, sender, _ = bolt_app

    @app.command("/deal")
    def on_deal(ack: Ack, respond: Any) -> None:
        ack()
        respond(text="Deal created", response_type="ephemeral")

    response = sender.command("/deal", "new Acme", response_url=fake.response_url())

    assert (response.status, response.json()) == (200, {})
    [shown] = fake.wait_for(lambda: fake.responses)
    assert (shown["text"], shown["response_type"]) == ("Deal created", "ephemeral")


def test_block_action_view_submission_and_event_reach_bolt(bolt_app: Any) -> None:
    app, sender, seen = bolt_app

    @app.action("approve")
    def on_approve(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        seen.append(body)

    @app.view("deal_modal")
    def on_submit(ack: Ack, view: dict[str, Any]) -> None:
        ack()
        seen.append(view)

    @app.event("app_mention")
    def on_mention(event: dict[str, Any]) -> None:
        seen.append(event)

    clicked = sender.action("approve", "deal-7", user_id="U_MGR", message_ts="1700000000.000100", thread_ts="1.2")
    submitted = sender.submit_view(
        "deal_modal", {"amount": {"amount_input": "5000"}}, private_metadata='{"deal": 7}', user_id="U_REP"
    )
    mention = {"type": "app_mention", "user": "U_REP", "text": "<@UBOT> hi", "channel": "C_SALES", "ts": "1.3"}
    delivered = sender.send_event(mention, event_id="Ev42", retry_num=1)

    assert (clicked.status, submitted.status, delivered.status) == (200, 200, 200)
    action_body, view, mentioned = seen
    assert action_body["actions"][0]["value"] == "deal-7"
    assert action_body["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "C_SALES",
        "is_ephemeral": False,
        "thread_ts": "1.2",
    }
    assert view["state"]["values"]["amount"]["amount_input"]["value"] == "5000"
    assert view["private_metadata"] == '{"deal": 7}'
    assert mentioned["text"] == "<@UBOT> hi"


def test_bad_or_stale_signatures_are_refused_by_bolt(bolt_app: Any) -> None:
    _, sender, _ = bolt_app
    body = event({"type": "app_mention", "user": "U1", "text": "hi", "channel": "C1", "ts": "1.1"})

    unsigned = sender.post(body, content_type=JSON, sign=False)
    stale = sender.post(body, content_type=JSON, timestamp=int(time.time()) - 600)
    spoiled = sender.post(body, content_type=JSON, headers={"X-Slack-Signature": "v0=00"})

    assert (unsigned.status, stale.status, spoiled.status) == (401, 401, 401)


def test_a_public_channel_takes_posts_without_the_bot_but_files_only_after_it_joins(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.add_public_channel("C_PUBLIC", members=["U1"])
    assert client.chat_postMessage(channel="C_PUBLIC", text="chat:write.public")["ok"]
    refused = api_error(lambda: client.files_upload_v2(channel="C_PUBLIC", file=b"png", filename="x.png"))
    joined = client.conversations_join(channel="C_PUBLIC")
    uploaded = client.files_upload_v2(channel="C_PUBLIC", file=b"png", filename="x.png")
    fake.add_private_channel(PRIVATE, members=[BOT_USER_ID])
    private_join = api_error(lambda: client.conversations_join(channel=PRIVATE))

    assert refused["error"] == "not_in_channel" and joined["channel"]["is_member"] is True and uploaded["ok"]
    assert fake.is_member("C_PUBLIC") and private_join["error"] == "method_not_supported_for_channel_type"
    assert len(fake.files) == 1
