"""What Slack sends to the app (slash commands, button clicks, modal submits, events), signed, and a sender
that posts it to the app over real HTTP."""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack_api import FakeSlack

SIGNING_SECRET = "test-signing-secret"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
APP_ID = "A1"
TEAM_DOMAIN = "fake"
VERIFICATION_TOKEN = "legacy-verification-token"  # deprecated field Slack still sends; bolt ignores it
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"

# A value in view_submission(values=...): a string is a plain_text_input's value; a dict is used as given
# (e.g. {"type": "static_select", "selected_option": {...}}); None is an empty optional input.
StateValue = str | Mapping[str, Any] | None


# ---------------------------------------------------------------- builders


def slash_command(
    command: str,
    text: str,
    *,
    user_id: str = "U_REP",
    team_id: str = "T1",
    channel_id: str = "C_SALES",
    channel_name: str = "sales",
    user_name: str | None = None,
    response_url: str = "https://hooks.slack.com/commands/T1/1/fake-response-url",
    trigger_id: str | None = None,
) -> bytes:
    """A slash command; each gets a fresh trigger id (as from Slack) unless one is given, e.g. to replay one."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": new_trigger_id() if trigger_id is None else trigger_id,
    }
    if not fields["trigger_id"]:  # an invocation without one (not Slack's, but a request may say anything)
        del fields["trigger_id"]
    return urlencode(fields).encode()


_triggers = itertools.count(1)


def new_trigger_id() -> str:
    """A trigger id of Slack's shape, never the same twice: Slack gives every invocation its own, and the app
    acts on a changing command once per trigger id."""
    return f"{int(time.time())}.{next(_triggers)}.{uuid.uuid4().hex[:20]}"


def block_action(
    action_id: str,
    value: str,
    *,
    user_id: str,
    team_id: str = "T1",
    channel_id: str = "C_SALES",
    message_ts: str,
    thread_ts: str | None = None,
    block_id: str = "b",
    trigger_id: str | None = None,
    message: Mapping[str, Any] | None = None,
    response_url: str = "https://hooks.slack.com/actions/T1/1/fake-response-url",
) -> bytes:
    """A click on a button in a message. ``message`` (text, blocks) is the clicked message as Slack
    shows it to the app; by default a message holding just the button."""
    action = {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": "Button", "emoji": True},
        "value": value,
        "type": "button",
        "action_ts": f"{time.time():.6f}",
    }
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": False,
    }
    if thread_ts is not None:
        container["thread_ts"] = thread_ts
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "sales"},
        "message": _clicked_message(message, action, message_ts=message_ts, thread_ts=thread_ts),
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }
    return _form_payload(payload)


def view_submission(
    callback_id: str,
    values: Mapping[str, Mapping[str, StateValue]],
    *,
    private_metadata: str,
    user_id: str,
    team_id: str = "T1",
    view_id: str = "V_SUBMITTED",
    external_id: str = "",
    trigger_id: str = "trig-2",
) -> bytes:
    """A modal submit. ``values`` is ``{block_id: {action_id: value}}``, as in ``view.state.values``."""
    view = {
        "id": view_id,
        "team_id": team_id,
        "type": "modal",
        "blocks": [_input_block(block_id, action_id) for block_id, actions in values.items() for action_id in actions],
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "state": {"values": _state_values(values)},
        "hash": f"{int(time.time())}.fakehash",
        "title": {"type": "plain_text", "text": "Modal"},
        "clear_on_close": False,
        "notify_on_close": False,
        "close": {"type": "plain_text", "text": "Cancel"},
        "submit": {"type": "plain_text", "text": "Submit"},
        "previous_view_id": None,
        "root_view_id": view_id,
        "app_id": APP_ID,
        "external_id": external_id,
        "app_installed_team_id": team_id,
        "bot_id": BOT_ID,
    }
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _form_payload(payload)


def event(event: Mapping[str, Any], *, team_id: str = "T1", event_id: str = "Ev1") -> bytes:
    """An Events API delivery (send it with ``content_type=JSON``)."""
    envelope = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
    return json.dumps(envelope).encode()


def signed_headers(
    body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None, content_type: str = FORM
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    if signature is None:
        raise ValueError("SignatureVerifier produced no signature")
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }


def _user(user_id: str, team_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id}


def _form_payload(payload: Mapping[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def _clicked_message(
    message: Mapping[str, Any] | None, action: Mapping[str, Any], *, message_ts: str, thread_ts: str | None
) -> dict[str, Any]:
    button = {key: action[key] for key in ("action_id", "text", "value", "type")}
    shown: dict[str, Any] = {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "text": "",
        "blocks": [{"type": "actions", "block_id": action["block_id"], "elements": [button]}],
        **(message or {}),
        "ts": message_ts,
    }
    if thread_ts is not None:
        shown["thread_ts"] = thread_ts
    return shown


def _input_block(block_id: str, action_id: str) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": block_id},
        "optional": True,
        "element": {"type": "plain_text_input", "action_id": action_id},
    }


def _state_values(values: Mapping[str, Mapping[str, StateValue]]) -> dict[str, dict[str, Any]]:
    return {
        block_id: {action_id: _state_entry(value) for action_id, value in actions.items()}
        for block_id, actions in values.items()
    }


def _state_entry(value: StateValue) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    return {"type": "plain_text_input", "value": value}


# ---------------------------------------------------------------- sender


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        """The body as Slack reads it: JSON as is; plain text (bolt's ``ack("text")``) as ``{"text": ...}``,
        which is how Slack shows it; an empty body (a bare ``ack()``, the user sees nothing) as ``{}``."""
        if not self.body.strip():
            return {}
        if self.headers.get("content-type", "").startswith("application/json"):
            return json.loads(self.body)
        return {"text": self.text}


class SlackSender:
    """Posts signed requests to the app as Slack would, e.g. to ``http://127.0.0.1:PORT/slack/events``."""

    def __init__(self, url: str, *, secret: str = SIGNING_SECRET, timeout: float = 10.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        # No proxy: the app under test listens on loopback.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def post(
        self,
        body: bytes,
        *,
        content_type: str = FORM,
        headers: Mapping[str, str] | None = None,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> Response:
        """Send ``body``; ``headers`` are applied last, so they can override (e.g. spoil) the signature."""
        all_headers = {"Content-Type": content_type}
        if sign:
            all_headers |= signed_headers(body, secret=self.secret, timestamp=timestamp, content_type=content_type)
        all_headers |= dict(headers or {})
        request = urllib.request.Request(self.url, data=body, headers=all_headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout) as reply:
                return _response(reply.status, reply.headers, reply.read())
        except urllib.error.HTTPError as error:
            with error:
                return _response(error.code, error.headers, error.read())

    def command(self, command: str, text: str, **kw: Any) -> Response:
        return self.post(slash_command(command, text, **kw))

    def action(self, action_id: str, value: str, **kw: Any) -> Response:
        return self.post(block_action(action_id, value, **kw))

    def submit_view(self, callback_id: str, values: Mapping[str, Mapping[str, StateValue]], **kw: Any) -> Response:
        return self.post(view_submission(callback_id, values, **kw))

    def send_event(
        self,
        event_body: Mapping[str, Any],
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        **kw: Any,
    ) -> Response:
        """Deliver an event; ``retry_num`` adds Slack's redelivery headers (``X-Slack-Retry-Num``)."""
        headers = (
            {} if retry_num is None else {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        )
        return self.post(event(event_body, **kw), content_type=JSON, headers=headers)


REPLY_WAIT_SECONDS = 10.0


def shown_reply(
    ack: Response, slack: FakeSlack, response_url: str, timeout: float = REPLY_WAIT_SECONDS, *, skip: int = 0
) -> Response:
    """What the person who ran a command sees: a refusal in the ack, or else the first message the app sent to
    the command's response_url (waited for up to `timeout` s; the first after the `skip` sent there before),
    given as the ack's body would be. The empty ack is returned when no message came."""
    if ack.status != 200 or ack.body.strip():
        return ack
    deadline = time.monotonic() + timeout
    while not (sent := [response for response in slack.responses if response["url"] == response_url][skip:]):
        if time.monotonic() >= deadline:
            return ack
        time.sleep(0.005)
    message = {key: value for key, value in sent[0].items() if key != "url"}
    return Response(200, {"content-type": "application/json"}, json.dumps(message).encode())


def _response(status: int, headers: Message, body: bytes) -> Response:
    return Response(status=status, headers={name.lower(): value for name, value in headers.items()}, body=body)
