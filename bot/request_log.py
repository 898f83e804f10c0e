"""One structured log line per Slack request: kind, team, user, what was asked, outcome, latency.

It wraps the WSGI app, so it times the whole answer Slack waits for (the ack) and sees its status.
Only ids and names of commands or actions are logged: never tokens, signatures or typed text.
"""

import io
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

logger = logging.getLogger("salesbot.requests")

REFUSAL_MARK = b":no_entry_sign:"

StartResponse = Callable[..., Any]
Wsgi = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def logged(wsgi: Wsgi) -> Wsgi:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        started = time.perf_counter()
        statuses: list[str] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info)

        answer = b"".join(wsgi(environ, capture))
        kind, team, user, what = describe(body, environ.get("CONTENT_TYPE", ""))
        status = statuses[0].split()[0] if statuses else "-"
        logger.info(
            "request kind=%s team=%s user=%s what=%s status=%s outcome=%s ms=%.0f",
            kind,
            team,
            user,
            what,
            status,
            "refused" if REFUSAL_MARK in answer else ("ok" if status.startswith("2") else "error"),
            (time.perf_counter() - started) * 1000,
        )
        return [answer]

    return app


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
    except (ValueError, KeyError):
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
