"""The HTTP face of the app: a WSGI callable for Slack's requests and a health check.

A Slack request goes through three gates before bolt sees it: its signature (401, before the body is read as
anything but bytes), its body (400 when it is not a form or JSON object Slack could have sent, with one warning
line), and the shape of the fields bolt reads before any listener runs (an empty 200 and one warning line when
bolt could not read them). Bolt then verifies the signature again, as always.
"""

import io
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltContext, BoltRequest
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request.internals import build_context
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.request_log import MAX_BODY_BYTES, StartResponse, Wsgi, content_length, logged, readable_length

logger = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
TIMESTAMP = re.compile(r"[0-9]{1,12}")


def make_wsgi(app: App, *, healthy: Callable[[], bool], signing_secret: str) -> Wsgi:
    """Route `POST /slack/events` to bolt, signature first (with the secret bolt verifies with too), and
    `GET`/`HEAD /healthz` to `healthy`."""
    verifier = SignatureVerifier(signing_secret)
    slack = logged(signed_only(verifier, readable_only(SlashSafeHandler(app, path=SLACK_PATH))))

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            ok = healthy()
            body = b"ok\n" if ok else b"database unavailable\n"
            start_response("200 OK" if ok else "503 Service Unavailable", _text_headers(body))
            return [] if method == "HEAD" else [body]
        if path == SLACK_PATH and method == "POST":
            return slack(environ, start_response)
        return _answer(start_response, "404 Not Found", b"not found\n")

    return wsgi


def signed_only(verifier: SignatureVerifier, slack: Wsgi) -> Wsgi:
    """Answer 401 to a request not signed with the app's secret in the last 5 minutes, whatever its body."""

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = content_length(environ)
        if length is None:
            logger.warning("request refused: its Content-Length is not a number")
            return _answer(start_response, "400 Bad Request", b"bad Content-Length\n")
        if length > MAX_BODY_BYTES:
            logger.warning("request refused: its body of %d bytes is over %d", length, MAX_BODY_BYTES)
            _discard(environ, length)
            return _answer(start_response, "413 Content Too Large", b"request too large\n")
        body = _body(environ)
        timestamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""))
        signature = str(environ.get("HTTP_X_SLACK_SIGNATURE", ""))
        if not _is_signed(verifier, body, timestamp, signature):
            return _answer(start_response, "401 Unauthorized", b"invalid signature\n")
        return slack(environ, start_response)

    return wsgi


def _is_signed(verifier: SignatureVerifier, body: bytes, timestamp: str, signature: str) -> bool:
    if not TIMESTAMP.fullmatch(timestamp) or not signature:
        return False
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False  # Slack sends UTF-8; slack_sdk (like bolt) can only verify a body it can read as text
    return verifier.is_valid(text, timestamp, signature)


class Malformed(ValueError):
    """A signed body that is not a request Slack could have sent (not a form or JSON object)."""


def readable_only(slack: Wsgi) -> Wsgi:
    """Answer 400 to a body that is not a Slack request, and an empty 200 to one whose fields bolt cannot read;
    each with one warning line and no traceback. Nothing has run or been stored at that point."""

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            payload = parse_slack_body(_body(environ), str(environ.get("CONTENT_TYPE", "")))
        except Malformed as problem:
            logger.warning("malformed Slack request refused: %s", problem)
            return _answer(start_response, "400 Bad Request", b"malformed request\n")
        odd = odd_field(payload)
        if odd is not None:
            logger.warning("Slack request acknowledged without acting: %s", odd)
            return _answer(start_response, "200 OK", b"")
        try:
            return slack(environ, start_response)
        except (AttributeError, TypeError, KeyError, ValueError, IndexError) as error:
            # A shape `odd_field` does not know yet, read by bolt outside any listener.
            logger.warning("Slack request acknowledged without acting: bolt could not read it (%r)", error)
            return _answer(start_response, "200 OK", b"")

    return wsgi


def parse_slack_body(body: bytes, content_type: str) -> dict[str, Any]:
    """The request as Slack meant it: a JSON object, a form's `payload` JSON object, or the form's fields."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    if not text:
        return {}
    try:
        if content_type.split(";")[0].strip() == "application/json" or text.startswith("{"):
            parsed = json.loads(text)
        else:
            fields = dict(parse_qsl(text, keep_blank_values=True))
            parsed = json.loads(fields["payload"]) if "payload" in fields else fields
    except (ValueError, RecursionError) as error:  # RecursionError: JSON nested deeper than Python's stack
        raise Malformed(f"the body is not a form or JSON ({type(error).__name__})") from None
    if not isinstance(parsed, dict):
        raise Malformed(f"the payload is a JSON {type(parsed).__name__}, not an object")
    return parsed


IDS_BOLT_READS = ("team", "user", "channel", "enterprise")
NESTED_BOLT_READS = ("event", "message", "previous_message", "item", "assistant_thread")


def odd_field(payload: Mapping[str, Any]) -> str | None:
    """The first field bolt reads before any listener runs and would fail on (Slack never sends these), or None.

    Bolt builds the request's context from `team`, `user`, `channel`, `enterprise` (`"id" in value`, also inside
    `event` and a message), `authorizations[0]` and `response_urls[0]`, and its listener matchers read
    `actions[0].action_id`, `view.callback_id` and `event.type`.
    """
    for node, where in [(payload, "")] + [(payload.get(key), f"{key}.") for key in NESTED_BOLT_READS]:
        if not isinstance(node, dict):
            continue
        for key in IDS_BOLT_READS:
            if not isinstance(node.get(key), str | dict | list | None):
                return f"{where}{key} is a {type(node[key]).__name__}"
    authorizations = payload.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and (not authorizations or isinstance(authorizations[0], dict))
    ):
        return "authorizations is not a list of objects"
    if isinstance(authorizations, list) and authorizations:
        odd = odd_field(authorizations[0])
        if odd is not None:
            return f"authorizations[0].{odd}"
    if "response_url" not in payload and "response_urls" in payload:
        urls = payload["response_urls"]
        if not (isinstance(urls, list) and (not urls or isinstance(urls[0], dict))):
            return "response_urls is not a list of objects"
    if "actions" in payload and payload.get("type") in ("block_actions", "interactive_message"):
        actions = payload["actions"]
        if not (isinstance(actions, list) and actions and isinstance(actions[0], dict)):
            return "actions is not a list of objects"
        if not isinstance(actions[0].get("action_id"), str):
            return "actions[0].action_id is not a string"
    if "view" in payload and payload.get("type") in ("view_submission", "view_closed"):
        view = payload["view"]
        if not isinstance(view, dict) or not isinstance(view.get("callback_id", ""), str):
            return "view is not an object with a string callback_id"
    if "event" in payload:  # bolt's IgnoringSelfEvents reads `event.bot_id` whatever the request's type
        event = payload["event"]
        if not isinstance(event, dict) or not isinstance(event.get("type", ""), str):
            return "event is not an object with a string type"
    if "command" in payload and not all(isinstance(value, str) for value in payload.values()):
        return "a slash command with a field that is not a string"
    return None


class SlashSafeHandler(SlackRequestHandler):
    """Bolt's WSGI handler, except that a slash command reaches bolt as the form Slack sent.

    slack-bolt's `parse_body` (slack_bolt/request/internals.py) treats any form body containing the substring
    "payload" as an interactive payload: it looks for a `payload` field, finds none in a slash command whose text
    holds the word, and returns `{}`, so no listener matches and bolt answers 404. The raw body still goes to bolt
    (it verifies the signature over it); only the parsed body and the context built from it are corrected.
    """

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        raw = request.get_body()
        bolt_request = BoltRequest(body=raw, query=request.query_string, headers=request.get_headers())
        form = slash_command_form(raw, bolt_request.content_type)
        if form is not None and bolt_request.body != form:
            bolt_request.body = form
            bolt_request.context = build_context(BoltContext(), form)
        return self.app.dispatch(bolt_request)


def slash_command_form(raw: str, content_type: str | None) -> dict[str, str] | None:
    """The fields of a form-encoded slash command (a `command` field and no `payload` field), else None."""
    if content_type == "application/json" or raw.startswith("{"):
        return None
    fields = dict(parse_qsl(raw, keep_blank_values=True))
    return fields if "command" in fields and "payload" not in fields else None


DISCARD_AT_MOST = 4 * MAX_BODY_BYTES


def _discard(environ: dict[str, Any], length: int) -> None:
    """Read a refused body without keeping it, so the client reads our answer instead of a broken pipe; a claimed
    length beyond DISCARD_AT_MOST is not waited for (the server closes the connection)."""
    left = length if length <= DISCARD_AT_MOST else 0
    while left > 0 and (chunk := environ["wsgi.input"].read(min(left, 1 << 16))):
        left -= len(chunk)


def _body(environ: dict[str, Any]) -> bytes:
    """The request body, read once and put back for whoever reads it next."""
    length = readable_length(environ)
    body: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _answer(start_response: StartResponse, status: str, body: bytes) -> list[bytes]:
    start_response(status, _text_headers(body))
    return [body]


def _text_headers(body: bytes) -> list[tuple[str, str]]:
    return [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
