"""The HTTP face of the app: bolt's WSGI adapter on `POST /slack/events`, and a health check on `/healthz`.

Bolt's adapter builds its request (parsing the body) before bolt verifies the signature, and a body it cannot parse
or read escapes as a 500 with a traceback. So `SlackHandler.dispatch` answers first, with one warning line and no
traceback, what bolt would fail on: a Content-Length that is not a number (400) or over MAX_BODY_BYTES (413); a body
not signed with the app's secret (401, checked on the bytes before anything parses them); a signed body that is not
a form or JSON object (400); and fields of types bolt cannot read before any listener runs (an empty 200). Bolt then
verifies the signature again, as always.
"""

import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltContext, BoltRequest
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request.internals import build_context, parse_body
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.request_log import describe_bolt, dispatch_logged, log_line

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
Wsgi = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
TIMESTAMP = re.compile(r"[0-9]{1,12}")
MAX_BODY_BYTES = 16 * 1024 * 1024  # Slack's largest requests (a modal's state) are far smaller
DISCARD_AT_MOST = 4 * MAX_BODY_BYTES
NOT_READ = ("-", "-", "-", "-")
# What bolt raises reading fields of a type Slack never sends (`"id" in 5`, `None[0]`, `"x".get`).
READ_ERRORS = (AttributeError, TypeError, KeyError, ValueError, IndexError)


def make_wsgi(app: App, *, healthy: Callable[[], bool], signing_secret: str) -> Wsgi:
    """`GET`/`HEAD /healthz` answered from `healthy`; everything else to bolt's adapter (which answers 404 to
    anything but `POST /slack/events`)."""
    slack = SlackHandler(app, signing_secret=signing_secret)

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        if environ.get("PATH_INFO", "") == HEALTH_PATH and method in ("GET", "HEAD"):
            ok = healthy()
            body = b"ok\n" if ok else b"database unavailable\n"
            start_response("200 OK" if ok else "503 Service Unavailable", _text_headers(body))
            return [] if method == "HEAD" else [body]
        return slack(environ, start_response)

    return wsgi


class Refused(Exception):
    """A request answered before bolt sees it: the answer, and the warning it is logged with (if any)."""

    def __init__(self, status: int, body: str, warning: str | None = None) -> None:
        super().__init__(warning or body)
        self.status = status
        self.body = body
        self.warning = warning


class SlackHandler(SlackRequestHandler):
    """Bolt's WSGI handler, with the checks it lacks before bolt reads a request, and the request log."""

    def __init__(self, app: App, *, signing_secret: str) -> None:
        super().__init__(app, path=SLACK_PATH)
        self.verifier = SignatureVerifier(signing_secret)

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        started = time.perf_counter()
        try:
            bolt_request = self.bolt_request(request)
        except Refused as refused:
            if refused.warning:
                logger.warning("%s", refused.warning)
            log_line(NOT_READ, str(refused.status), False, started)
            return BoltResponse(status=refused.status, body=refused.body)
        try:
            return dispatch_logged(self.app, bolt_request)
        except READ_ERRORS as error:  # a shape `odd_field` does not know yet, read by bolt outside any listener
            logger.warning("Slack request acknowledged without acting: bolt could not read it (%r)", error)
            log_line(describe_bolt(bolt_request), "200", False, started)
            return BoltResponse(status=200, body="")

    def bolt_request(self, request: WsgiHttpRequest) -> BoltRequest:
        """The request as bolt would build it, its body parsed once; raises `Refused` for what bolt cannot take."""
        raw = signed_body(request.environ, self.verifier)
        bolt_request = BoltRequest(body="", query=request.query_string, headers=request.get_headers())
        bolt_request.raw_body = raw
        bolt_request.body = parse_slack_body(raw, bolt_request.content_type)
        bolt_request.context = readable_context(bolt_request.body)
        return bolt_request


def signed_body(environ: dict[str, Any], verifier: SignatureVerifier) -> str:
    """The body as text, once its length is sound and it is signed with the app's secret in the last 5 minutes."""
    length = content_length(environ)
    if length is None:
        raise Refused(400, "bad Content-Length\n", "request refused: its Content-Length is not a number")
    if length > MAX_BODY_BYTES:
        _discard(environ, length)
        raise Refused(
            413, "request too large\n", f"request refused: its body of {length} bytes is over {MAX_BODY_BYTES}"
        )
    body: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    text = _is_signed(
        verifier,
        body,
        str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")),
        str(environ.get("HTTP_X_SLACK_SIGNATURE", "")),
    )
    if text is None:
        raise Refused(401, "invalid signature\n")
    return text


def content_length(environ: dict[str, Any]) -> int | None:
    """The request's Content-Length (0 when absent), or None when it is not a decimal number."""
    raw = str(environ.get("CONTENT_LENGTH") or "0").strip()
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _is_signed(verifier: SignatureVerifier, body: bytes, timestamp: str, signature: str) -> str | None:
    """The body as text when it is signed, else None. Slack signs UTF-8 text, and slack_sdk (like bolt) can only
    verify a body it can read as text."""
    if not TIMESTAMP.fullmatch(timestamp) or not signature:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if verifier.is_valid(text, timestamp, signature) else None


def parse_slack_body(raw: str, content_type: str | None) -> dict[str, Any]:
    """The body as bolt parses it (`parse_body`), except that a slash command is the form Slack sent.

    slack-bolt's `parse_body` treats any form body containing the substring "payload" as an interactive payload: it
    looks for a `payload` field, finds none in a slash command whose text holds the word, and returns `{}`, so no
    listener matches and bolt answers 404 (README, Known issues). Raises `Refused` (400) for a body that is not a
    form or a JSON object, which Slack never sends.
    """
    try:
        body = parse_body(raw, content_type)
    except (ValueError, RecursionError) as error:  # RecursionError: JSON nested deeper than Python's stack
        raise _malformed(f"the body is not a form or JSON ({type(error).__name__})") from None
    if not isinstance(body, dict):
        raise _malformed(f"the payload is a JSON {type(body).__name__}, not an object")
    if not body and "payload" in raw:
        fields = dict(parse_qsl(raw, keep_blank_values=True))
        if "command" in fields and "payload" not in fields:
            return fields
    return body


def _malformed(problem: str) -> Refused:
    return Refused(400, "malformed request\n", f"malformed Slack request refused: {problem}")


def readable_context(body: dict[str, Any]) -> BoltContext:
    """Bolt's context for the body; raises `Refused` (an empty 200) when bolt could not read the fields it reads
    before any listener runs. Nothing has run or been stored at that point."""
    odd = odd_field(body)
    if odd is None:
        try:
            return build_context(BoltContext(), body)
        except READ_ERRORS as error:
            odd = f"bolt could not read its ids ({error!r})"
    raise Refused(200, "", f"Slack request acknowledged without acting: {odd}")


def odd_field(payload: Mapping[str, Any]) -> str | None:
    """The first field that bolt's listener matchers or built-in middleware read and would fail on, or None.

    They read `actions[0].action_id`, `view.callback_id` and `event.type` (and `event.bot_id` whatever the
    request's type). The ids in the context (`team`, `user`, `channel`, `enterprise`, `authorizations`,
    `response_urls`) are checked by `build_context` itself raising.
    """
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
    if "event" in payload:
        event = payload["event"]
        if not isinstance(event, dict) or not isinstance(event.get("type", ""), str):
            return "event is not an object with a string type"
    if "command" in payload and not all(isinstance(value, str) for value in payload.values()):
        return "a slash command with a field that is not a string"
    return None


def _discard(environ: dict[str, Any], length: int) -> None:
    """Read a refused body without keeping it, so the client reads our answer instead of a broken pipe; a claimed
    length beyond DISCARD_AT_MOST is not waited for (the server closes the connection)."""
    left = length if length <= DISCARD_AT_MOST else 0
    while left > 0 and (chunk := environ["wsgi.input"].read(min(left, 1 << 16))):
        left -= len(chunk)


def _text_headers(body: bytes) -> list[tuple[str, str]]:
    return [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
