"""The HTTP face of the app: a WSGI callable for Slack's requests and a health check."""

import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.request_log import StartResponse, Wsgi, logged

logger = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def make_wsgi(app: App, *, healthy: Callable[[], bool]) -> Wsgi:
    """Route `POST /slack/events` to bolt (which verifies signatures) and `GET /healthz` to `healthy`."""
    slack = logged(refusing_malformed(SlackRequestHandler(app, path=SLACK_PATH)))

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
        body = b"not found\n"
        start_response("404 Not Found", _text_headers(body))
        return [body]

    return wsgi


def refusing_malformed(slack: Wsgi) -> Wsgi:
    """Answer 400 to a payload bolt cannot read (a field of the wrong JSON type), instead of a crash.

    Bolt reads a few fields (team, user, channel, actions) while it builds the request, before any
    listener runs, and fails on types Slack never sends. Nothing has been stored at that point.
    """

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            return slack(environ, start_response)
        except (AttributeError, TypeError, KeyError, ValueError, IndexError):
            logger.warning("malformed Slack request refused", exc_info=True)
            body = b"malformed request\n"
            start_response("400 Bad Request", _text_headers(body))
            return [body]

    return wsgi


def _text_headers(body: bytes) -> list[tuple[str, str]]:
    return [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
