"""One structured log line per Slack request: kind, team, user, what was asked, outcome, latency.

    request kind=command team=T1 user=U1 what=/deal status=200 outcome=ok ms=14

`dispatch_logged` wraps bolt's dispatch, in Socket Mode and over HTTP alike: it reads the body bolt parsed and
the ids in bolt's context, and times the dispatch, which returns at the ack. A request answered before bolt
reads it (`bot/http.py`) is logged with `log_line` and '-' for what was not read. Only ids and names of commands
or actions are logged: never tokens, signatures or typed text.
"""

import logging
import time
from typing import Any

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

logger = logging.getLogger("salesbot.requests")

REFUSAL_MARK = ":no_entry_sign:"


def dispatch_logged(app: App, request: BoltRequest) -> BoltResponse:
    """`app.dispatch(request)`, then its log line. Bolt's dispatch returns once the listener has acked."""
    started = time.perf_counter()
    response = app.dispatch(request)
    body = response.body if isinstance(response.body, str) else ""
    log_line(describe_bolt(request), str(response.status), REFUSAL_MARK in body, started)
    return response


def describe_bolt(request: BoltRequest) -> tuple[str, str, str, str]:
    """(kind, team, user, what) from the body bolt parsed and the ids its context holds."""
    body = request.body if isinstance(request.body, dict) else {}
    return describe(body, team_id=request.context.team_id, user_id=request.context.user_id)


def describe(body: dict[str, Any], *, team_id: str | None, user_id: str | None) -> tuple[str, str, str, str]:
    """(kind, team, user, what) of a parsed body, for the ids given."""
    if "command" in body:
        return "command", _text(team_id), _text(user_id), _text(body.get("command"))
    return _text(body.get("type")), _text(team_id), _text(user_id), _what(body)


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
