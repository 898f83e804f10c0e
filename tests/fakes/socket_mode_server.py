"""A local fake of Slack's Socket Mode: `apps.connections.open` and the WebSocket it hands out, on 127.0.0.1.

Point a client's Web API base URL at `base_url`: this fake answers `apps.connections.open` (with a
`ws://` URL to itself) and forwards every other method to an upstream Web API (the fake in
`tests/fakes/slack_api.py`), so the app under test sees one Slack. The WebSocket side speaks RFC 6455
by hand (the standard library has no WebSocket server): it says hello like Slack, answers pings,
records what the app sends (acks), and records how each connection ended: with a close frame and its
code, or dropped without one.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar, cast

T = TypeVar("T")

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA
APP_ID = "A1"


@dataclass
class Connection:
    """One WebSocket connection as the server saw it."""

    id: int
    sock: socket.socket
    received: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None  # the code of the client's close frame
    ended: bool = False
    send_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def closed_cleanly(self) -> bool:
        return self.ended and self.close_code is not None

    def send_text(self, payload: str) -> None:
        with self.send_lock:
            self.sock.sendall(_frame(TEXT, payload.encode()))


class FakeSocketMode:
    """`with FakeSocketMode(upstream=slack.base_url) as fake:` then SLACK_API_URL=fake.base_url."""

    def __init__(self, *, upstream: str | None = None, app_token_prefix: str = "xapp-") -> None:
        self.upstream = upstream
        self.app_token_prefix = app_token_prefix
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._envelopes = itertools.count(1)
        self._connections: list[Connection] = []
        self.opened: list[str] = []  # the token of each apps.connections.open call
        self._server: ThreadingHTTPServer | None = None

    # -------------------------------------------------------- lifecycle

    def start(self) -> FakeSocketMode:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        for connection in self.connections:
            _quietly_close(connection.sock)
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSocketMode is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/api/"

    # -------------------------------------------------------- what the test sees and does

    @property
    def connections(self) -> list[Connection]:
        with self._lock:
            return list(self._connections)

    def send_request(self, kind: str, payload: dict[str, Any], *, connection: Connection | None = None) -> str:
        """Send an envelope (`slash_commands`, `interactive`, `events_api`) like Slack; its envelope id."""
        target = connection or self.connections[-1]
        envelope_id = f"env-{next(self._envelopes)}"
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": True}
        target.send_text(json.dumps(envelope))
        return envelope_id

    def ack_for(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            for connection in self.connections:
                for message in list(connection.received):
                    if message.get("envelope_id") == envelope_id:
                        return message
            return None

        return wait_for(found, timeout, f"the ack of {envelope_id}")

    # -------------------------------------------------------- serving

    def _register(self, sock: socket.socket) -> Connection:
        connection = Connection(id=next(self._ids), sock=sock)
        with self._lock:
            self._connections.append(connection)
        return connection


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeSocketMode
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        method = self.path.split("?")[0].removeprefix("/api/")
        if method == "apps.connections.open":
            self._open_connection()
        else:
            self._forward(method, body)

    def _open_connection(self) -> None:
        fake = self.server_fake
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.startswith(fake.app_token_prefix):
            self._json({"ok": False, "error": "invalid_auth" if token else "not_authed"})
            return
        fake.opened.append(token)
        port = cast(ThreadingHTTPServer, self.server).server_port
        self._json({"ok": True, "url": f"ws://127.0.0.1:{port}/link/?ticket={len(fake.opened)}"})

    def _forward(self, method: str, body: bytes) -> None:
        upstream = self.server_fake.upstream
        if upstream is None:
            self._json({"ok": False, "error": "unknown_method"})
            return
        headers = {name: value for name, value in self.headers.items() if name.lower() not in {"host", "connection"}}
        request = urllib.request.Request(upstream + method, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, data, content_type = answer.status, answer.read(), answer.headers.get("Content-Type")
        except urllib.error.HTTPError as error:
            status, data, content_type = error.code, error.read(), error.headers.get("Content-Type")
        self.send_response(status)
        self.send_header("Content-Type", content_type or "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        key = self.headers.get("Sec-WebSocket-Key")
        if not self.path.startswith("/link/") or self.headers.get("Upgrade", "").lower() != "websocket" or not key:
            self.send_error(400)
            return
        accept = base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()
        self.send_response_only(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        connection = self.server_fake._register(self.connection)
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": APP_ID}}
        connection.send_text(json.dumps(hello))
        self._talk(connection)
        self.close_connection = True

    def _talk(self, connection: Connection) -> None:
        try:
            while True:
                opcode, payload = _read_frame(self.rfile)
                if opcode == PING:
                    with connection.send_lock:
                        connection.sock.sendall(_frame(PONG, payload))
                elif opcode == TEXT:
                    connection.received.append(json.loads(payload))
                elif opcode == CLOSE:
                    connection.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                    with connection.send_lock:  # answer the close, as RFC 6455 asks
                        connection.sock.sendall(_frame(CLOSE, payload[:2]))
                    return
        except (ConnectionError, OSError, EOFError, ValueError):
            return  # dropped without a close frame
        finally:
            connection.ended = True


def _read_frame(stream: Any) -> tuple[int, bytes]:
    head = _read_exactly(stream, 2)
    opcode, length = head[0] & 0x0F, head[1] & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", _read_exactly(stream, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", _read_exactly(stream, 8))
    if not head[1] & 0x80:
        raise ValueError("a client frame must be masked")
    mask = _read_exactly(stream, 4)
    data = _read_exactly(stream, length)
    return opcode, bytes(byte ^ mask[index % 4] for index, byte in enumerate(data))


def _read_exactly(stream: Any, size: int) -> bytes:
    data = stream.read(size) if size else b""
    if len(data) < size:
        raise EOFError("the connection ended")
    return bytes(data)


def _frame(opcode: int, payload: bytes) -> bytes:
    """A server frame: final, unmasked."""
    length = len(payload)
    if length <= 125:
        header = bytes([0x80 | opcode, length])
    elif length <= 0xFFFF:
        header = bytes([0x80 | opcode, 126]) + struct.pack("!H", length)
    else:
        header = bytes([0x80 | opcode, 127]) + struct.pack("!Q", length)
    return header + payload


def _quietly_close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def wait_for(condition: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)
