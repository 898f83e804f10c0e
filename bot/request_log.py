"""One structured log line per Slack request: kind, team, user, what was asked, outcome, latency.

    request kind=command team=T1 user=U1 what=/deal status=200 outcome=ok ms=14

Two ways in, one line: `dispatch_logged` wraps bolt's dispatch (Socket Mode uses it, and any adapter can:
it reads bolt's parsed body and context and times the dispatch, which returns at the ack), and `logged`
wraps the HTTP WSGI app (it also sees what bolt never dispatches). Only ids and names of commands or
actions are logged: never tokens, signatures or typed text.
"""

import io
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

logger = logging.getLogger("salesbot.requests")

REFUSAL_MARK = b":no_entry_sign:"

StartResponse = Callable[..., Any]
Wsgi = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


MAX_BODY_BYTES = 16 * 1024 * 1024  # Slack's largest requests (a modal's state) are far smaller


def content_length(environ: dict[str, Any]) -> int | None:
    """The request's Content-Length (0 when absent), or None when it is not a decimal number."""
    raw = str(environ.get("CONTENT_LENGTH") or "0").strip()
    return int(raw) if raw.isascii() and raw.isdigit() else None


def readable_length(environ: dict[str, Any]) -> int:
    """How many body bytes to read: none when the Content-Length is not a number or over MAX_BODY_BYTES."""
    length = content_length(environ)
    return length if length is not None and length <= MAX_BODY_BYTES else 0


def logged(wsgi: Wsgi) -> Wsgi:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = readable_length(environ)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        started = time.perf_counter()
        statuses: list[str] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info)

        answer = b"".join(wsgi(environ, capture))
        status = statuses[0].split()[0] if statuses else "-"
        log_line(describe(body, environ.get("CONTENT_TYPE", "")), status, REFUSAL_MARK in answer, started)
        return [answer]

    return app


def dispatch_logged(app: App, request: BoltRequest) -> BoltResponse:
    """`app.dispatch(request)`, then its log line. Bolt's dispatch returns once the listener has acked."""
    started = time.perf_counter()
    response = app.dispatch(request)
    body = response.body if isinstance(response.body, str) else ""
    log_line(describe_bolt(request), str(response.status), REFUSAL_MARK.decode() in body, started)
    return response


def describe_bolt(request: BoltRequest) -> tuple[str, str, str, str]:
    """(kind, team, user, what) from the body bolt parsed and the ids its context holds."""
    body = request.body if isinstance(request.body, dict) else {}
    context = request.context
    if "command" in body:
        return "command", _text(context.team_id), _text(context.user_id), _text(body.get("command"))
    return _text(body.get("type")), _text(context.team_id), _text(context.user_id), _what(body)


def log_line(described: tuple[str, str, str, str], status: str, refused: bool, started: float) -> None:
    kind, team, user, what = described
    logger.info(
        "request kind=%s team=%s user=%s what=%s status=%s outcome=%s ms=%.0f",
        kind,
        team,
        user,
        what,
        status,
        "refused" if refused else ("ok" if status.startswith("2") else "error"),
        (time.perf_counter() - started) * 1000,
    )


def describe(body: bytes, content_type: str) -> tuple[str, str, str, str]:
    """(kind, team, user, what) of a Slack request body; '-' for what it does not say."""
    payload = _payload(body, content_type)
    if "command" in payload:
        return "command", _text(payload.get("team_id")), _text(payload.get("user_id")), _text(payload.get("command"))
    kind = _text(payload.get("type"))
    team = payload.get("team")
    user = payload.get("user")
    team_id = payload.get("team_id") or (team.get("id") if isinstance(team, dict) else None)
    user_id = user.get("id") if isinstance(user, dict) else user
    return kind, _text(team_id), _text(user_id), _what(payload)


def _payload(body: bytes, content_type: str) -> dict[str, Any]:
    try:
        if "json" in content_type:
            parsed = json.loads(body)
        else:
            form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
            parsed = json.loads(form["payload"]) if "payload" in form else form
    except (ValueError, KeyError, RecursionError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _what(payload: dict[str, Any]) -> str:
    actions = payload.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], dict):
        return _text(actions[0].get("action_id"))
    view = payload.get("view")
    if isinstance(view, dict):
        return _text(view.get("callback_id"))
    event = payload.get("event")
    if isinstance(event, dict):
        return _text(event.get("type"))
    return "-"


def _text(value: Any) -> str:
    return str(value)[:64].replace(" ", "_") if isinstance(value, str | int) and value != "" else "-"
