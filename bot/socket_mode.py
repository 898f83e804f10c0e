"""The Socket Mode face of the app: the same request log as HTTP, a health answer, and a clean close.

slack_sdk's built-in client drops the TCP connection on `close()` without a WebSocket close frame, so
Slack sees an abnormal closure. `close_socket` stops taking requests, lets those in hand send their acks,
then sends the close frame (code 1000) and waits for Slack's answer before the client stops its threads.
"""

import logging
import os
import struct
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import build_headers, send_response
from slack_bolt.request import BoltRequest
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.http import HEALTH_PATH, StartResponse, Wsgi
from bot.request_log import dispatch_logged

logger = logging.getLogger(__name__)

NORMAL_CLOSURE = 1000
CLOSE_OPCODE = 0x8
CLOSE_ANSWER_SECONDS = 2.0


class LoggedSocketModeHandler(SocketModeHandler):
    """Bolt's built-in Socket Mode handler, logging one line per request like HTTP does."""

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.time()
        request = BoltRequest(mode="socket_mode", body=req.payload, headers=build_headers(req))
        send_response(client, req, dispatch_logged(self.app, request), started)


def socket_mode_handler(app: App, app_token: str) -> LoggedSocketModeHandler:
    return LoggedSocketModeHandler(app, app_token)


def close_socket(client: SocketModeClient, *, wait_seconds: float = CLOSE_ANSWER_SECONDS) -> None:
    """Stop taking requests, let those being handled send their acks, then close the WebSocket the way
    RFC 6455 asks (a close frame, then Slack's answer) and stop the client's threads.

    Requests Slack sends meanwhile are left unacknowledged, so Slack sends events again to the next
    connection.
    """
    client.auto_reconnect_enabled = False  # Slack's close answer must not start a new connection
    client.closed = True  # ends the message processor's loop (within its 1 s queue wait)
    client.message_processor.shutdown()
    client.message_workers.shutdown(wait=True)
    session = client.current_session
    if session is not None and session.is_active() and session.sock is not None:
        try:
            with session.sock_send_lock:
                session.sock.sendall(_masked_frame(CLOSE_OPCODE, struct.pack("!H", NORMAL_CLOSURE)))
        except OSError as error:
            logger.warning("could not send the WebSocket close frame: %r", error)
        else:
            # The session's reader takes Slack's close frame and drops the socket.
            deadline = time.monotonic() + wait_seconds
            while session.is_active() and time.monotonic() < deadline:
                time.sleep(0.02)
    client.close()


def _masked_frame(opcode: int, payload: bytes) -> bytes:
    """One final frame from a client: RFC 6455 requires every client frame to be masked (control frames
    carry at most 125 bytes, so the short length form always fits)."""
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


def health_wsgi(*, database_answers: Callable[[], bool], connected: Callable[[], bool]) -> Wsgi:
    """`GET`/`HEAD /healthz`: 200 while the database answers and the WebSocket to Slack is open, else 503."""

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        if environ.get("PATH_INFO", "") != HEALTH_PATH or method not in ("GET", "HEAD"):
            return _answer(start_response, "404 Not Found", b"not found\n", method)
        if not connected():
            return _answer(start_response, "503 Service Unavailable", b"not connected to Slack\n", method)
        if not database_answers():
            return _answer(start_response, "503 Service Unavailable", b"database unavailable\n", method)
        return _answer(start_response, "200 OK", b"ok\n", method)

    return wsgi


def _answer(start_response: StartResponse, status: str, body: bytes, method: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [] if method == "HEAD" else [body]
