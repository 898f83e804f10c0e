"""An honest local fake of the Slack Web API, served over real HTTP on 127.0.0.1.

It refuses what Slack refuses (unknown method, no token, a missing required argument, a JSON body
for a form-only method, invalid Block Kit), using the method descriptions in ``slack-api-ref``, so
a test that passes here does not hide a bug that would only show on a real workspace.

Channels: the app has ``chat:write`` and ``chat:write.public``, so every channel the fake has not been told
about is a public one it may post in. A private channel registered with :meth:`FakeSlack.add_private_channel`
is invisible to the bot until it is a member (:meth:`FakeSlack.join`): Slack then answers ``channel_not_found``.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, overload
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

T = TypeVar("T")
Args = dict[str, Any]
Handler = Callable[[Args], dict[str, Any]]

TEAM_ID = "T1"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
APP_ID = "A1"
DEFAULT_TIMEZONE = "America/New_York"
DEFAULT_LOCALE = "en-US"
PERMALINK_ROOT = "https://fake.slack.com/archives"
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
RESPONSE_URL_USES = 5
# Pseudo-method names for fault injection on the non-API endpoints this fake serves.
UPLOAD = "upload"
RESPOND = "respond"
TRIGGER_SECONDS = 3  # how long Slack honours a trigger_id to open a view

_TEXT_FALLBACK_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral", RESPOND})
_ERROR_FOR_STATUS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}
_FIRST_TS = 1_700_000_000_000_000  # microseconds; ts strings look like "1700000000.000100"


# ---------------------------------------------------------------- method descriptions


@dataclass(frozen=True)
class MethodSpec:
    name: str
    required: tuple[str, ...]
    json_input: bool


METHOD_FACTS = Path(__file__).resolve().parents[1] / "data" / "slack_methods.json"


def method_facts() -> dict[str, dict[str, Any]]:
    """The repository's own facts per Web API method: required arguments, JSON input, bot scopes."""
    facts: dict[str, dict[str, Any]] = json.loads(METHOD_FACTS.read_text(encoding="utf-8"))["methods"]
    return facts


def load_method_specs(ref_dir: Path | None = None) -> dict[str, MethodSpec]:
    """The methods the fake serves: from the repository's facts, or from a full method reference (a folder of
    Slack's `<method>.json` descriptions, e.g. with SLACK_API_REF_DIR)."""
    override = os.environ.get("SLACK_API_REF_DIR")
    ref_dir = ref_dir or (Path(override) if override else None)
    if ref_dir is None:
        return {
            name: MethodSpec(name, tuple(fact["required"]), fact["json_input"]) for name, fact in method_facts().items()
        }
    methods_dir = ref_dir / "methods" if (ref_dir / "methods").is_dir() else ref_dir
    specs: dict[str, MethodSpec] = {}
    for path in sorted(methods_dir.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        name = path.name.removesuffix(".json")
        required = tuple(arg for arg in doc.get("args", {}).get("required", []) if arg != "token")
        specs[name] = MethodSpec(name, required, doc.get("json_input_supported") is True)
    if not specs:
        raise FileNotFoundError(f"no Slack method descriptions (*.json) in {methods_dir}")
    return specs


# ---------------------------------------------------------------- Block Kit checks


def block_problems(blocks: Any, *, limit: int) -> list[str]:
    if not isinstance(blocks, list):
        return [f"blocks must be an array, got {type(blocks).__name__}"]
    problems = [f"{len(blocks)} blocks, more than the limit of {limit}"] if len(blocks) > limit else []
    for index, raw in enumerate(blocks):
        problems.extend(f"block {index}: {problem}" for problem in _one_block_problems(raw))
    return problems


def _one_block_problems(raw: Any) -> list[str]:
    if not isinstance(raw, dict):
        return [f"not an object: {raw!r:.80}"]
    kind = raw.get("type")
    try:
        block = Block.parse(raw)
        if block is None:
            return [f"unknown block type {kind!r}"]
        block.validate_json()
        kept = block.to_dict()  # validate_json checks only the block itself; to_dict validates nested elements
    except SlackObjectFormationError as error:
        return [f"({kind}) {error}"]
    except (TypeError, ValueError, AttributeError, KeyError) as error:  # slack_sdk chokes on odd shapes
        return [f"({kind}) malformed: {error!r}"]
    return [f"({kind}) unknown field or element at {path}" for path in _dropped_paths(raw, kept, "")]


def _dropped_paths(raw: Any, kept: Any, path: str) -> list[str]:
    """Where slack_sdk's parse silently dropped something it does not know (a misspelt field, an unknown
    element type); Slack refuses such blocks ("invalid additional property")."""
    if isinstance(raw, dict):
        if not isinstance(kept, dict):
            return [path or "."]
        dropped = [f"{path}.{key}" for key in raw if key not in kept]
        return dropped + [p for key in raw if key in kept for p in _dropped_paths(raw[key], kept[key], f"{path}.{key}")]
    if isinstance(raw, list):
        if not isinstance(kept, list) or len(kept) != len(raw):
            return [path]
        return [p for index, item in enumerate(raw) for p in _dropped_paths(item, kept[index], f"{path}[{index}]")]
    return [path] if kept is None and raw is not None else []


def view_problems(view: Any, *, expected_type: str | None) -> list[str]:
    if not isinstance(view, dict):
        return [f"view must be an object, got {type(view).__name__}"]
    kind = view.get("type")
    problems: list[str] = []
    if expected_type is not None and kind != expected_type:
        problems.append(f"view type must be {expected_type!r}, got {kind!r}")
    if kind == "modal":
        problems.extend(_modal_problems(view))
    problems.extend(block_problems(view.get("blocks", []), limit=VIEW_BLOCK_LIMIT))
    try:
        parsed = View(**view)
        parsed.validate_json()
        parsed.to_dict()
    except SlackObjectFormationError as error:
        problems.append(str(error))
    except (TypeError, ValueError, AttributeError, KeyError) as error:  # slack_sdk chokes on odd shapes
        problems.append(f"malformed view: {error!r}")
    return list(dict.fromkeys(problems))


def _modal_problems(view: Mapping[str, Any]) -> list[str]:
    problems = [] if view.get("title") else ["a modal needs a title"]
    blocks = view.get("blocks")
    has_input = isinstance(blocks, list) and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if has_input and not view.get("submit"):
        problems.append("a modal with input blocks needs a submit button")
    return problems


# ---------------------------------------------------------------- records and answers


@dataclass(frozen=True)
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))


class _Refused(Exception):
    """Raised inside a method handler to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


@dataclass
class _Fault:
    status: int | None  # None: close the connection without answering
    retry_after: int
    remaining: int


@dataclass(frozen=True)
class _Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    drop: bool = False

    @classmethod
    def of_json(
        cls, payload: Mapping[str, Any], *, status: int = 200, headers: tuple[tuple[str, str], ...] = ()
    ) -> _Answer:
        return cls(status=status, body=json.dumps(payload).encode(), headers=headers)

    @classmethod
    def of_text(cls, text: str, *, status: int = 200) -> _Answer:
        return cls(status=status, body=text.encode(), content_type="text/plain; charset=utf-8")


def _is_true(value: Any) -> bool:
    """A boolean argument as Slack reads it from a form (`true`, `1`) or JSON (`true`)."""
    return value is True or str(value).lower() in ("true", "1")


def _is_blank(value: Any) -> bool:
    return value is None or value == ""


def _decode(value: Any) -> Any:
    """Form-encoded arguments carry JSON as strings; JSON bodies carry objects."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _bearer_token(headers: Mapping[str, str]) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def _form_args(query: str, body: bytes, headers: Mapping[str, str]) -> Args:
    args: Args = dict(parse_qsl(query, keep_blank_values=True))
    if _media_type(headers) == "application/x-www-form-urlencoded":
        args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return args


def _json_args(body: bytes, headers: Mapping[str, str]) -> Args:
    if _media_type(headers) != "application/json" or not body:
        return {}
    try:
        decoded = json.loads(body)
    except ValueError as error:
        raise _Refused("invalid_json") from error
    if not isinstance(decoded, dict):
        raise _Refused("invalid_json")
    decoded.pop("token", None)  # Slack reads the token of a JSON request from the header only
    return decoded


def _upload_channels(args: Args) -> list[str]:
    """The channels a files.completeUploadExternal shares into: ``channel_id`` and the comma-separated
    ``channels``."""
    channels = args.get("channels")
    listed = channels if isinstance(channels, list) else str(channels or "").split(",")
    named = [args.get("channel_id"), *listed]
    return [str(channel).strip() for channel in named if not _is_blank(channel) and str(channel).strip()]


def _public_message(message: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in message.items() if key != "channel" and value is not None}


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------- the fake


class FakeSlack:
    """A fake Slack Web API. Use ``with FakeSlack() as fake:`` and ``WebClient(base_url=fake.base_url)``."""

    def __init__(self, ref_dir: Path | None = None) -> None:
        self._specs = load_method_specs(ref_dir)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)  # notified on every call answered and payload received
        self._ids = itertools.count(1)
        self._ts_counter = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.user_timezones: dict[str, str] = {}
        self.user_locales: dict[str, str] = {}
        """A person's Slack locale (`es-ES`), given by users.info with include_locale; `en-US` when not set."""
        self._handlers: dict[str, Handler] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.getPermalink": self._get_permalink,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "conversations.open": self._conversations_open,
            "conversations.join": self._conversations_join,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }
        self._clear()

    def _clear(self) -> None:
        self._calls: list[Call] = []
        self._versions: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._views: list[dict[str, Any]] = []
        self._home_view_ids: dict[str, str] = {}
        self._uploads: dict[str, dict[str, Any]] = {}
        self._files: list[dict[str, Any]] = []
        self._responses: list[dict[str, Any]] = []
        self._response_arrivals: list[tuple[str, float]] = []
        self._first_arrival: dict[str, float] = {}
        self._response_url_uses: dict[str, int] = {}
        self._triggers_used: set[str] = set()
        self._violations: list[str] = []
        self._private_channels: dict[str, set[str]] = {}  # channel id -> member user ids
        self._public_channels: dict[str, set[str]] = {}  # registered public channels -> member user ids
        self._faults: dict[str, list[_Fault]] = {}
        self._failures_served = 0

    # -------------------------------------------------------- lifecycle

    def start(self) -> FakeSlack:
        if self._server is not None:
            return self
        self._server = _Server(("127.0.0.1", 0), _RequestHandler, fake=self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/api/"

    def response_url(self, label: str = "r") -> str:
        """A ``response_url`` served by this fake; what the app posts there lands in ``responses``."""
        return f"{self.root_url}/{RESPOND}/{label}-{next(self._ids)}"

    # -------------------------------------------------------- recordings (snapshots, safe to keep)

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The current version of every posted message, in posting order."""
        with self._lock:
            return [copy.deepcopy(versions[-1]) for versions in self._versions.values()]

    @property
    def ephemerals(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._ephemerals)

    @property
    def views(self) -> list[dict[str, Any]]:
        """Every view opened, pushed, updated or published: ``{"method", "id", "user_id", "view", ...}``."""
        with self._lock:
            return copy.deepcopy(self._views)

    @property
    def files(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._files)

    @property
    def responses(self) -> list[dict[str, Any]]:
        """Payloads posted to response URLs from :meth:`response_url`, with the ``url`` they went to."""
        with self._lock:
            return copy.deepcopy(self._responses)

    @property
    def response_arrivals(self) -> list[tuple[str, float]]:
        """When each payload in ``responses`` arrived: ``(url, time.perf_counter())`` taken as its request reached the
        fake (a clock of this process), one per entry of ``responses`` and in the same order."""
        with self._lock:
            return list(self._response_arrivals)

    @property
    def violations(self) -> list[str]:
        with self._lock:
            return list(self._violations)

    @property
    def failures_served(self) -> int:
        with self._lock:
            return self._failures_served

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self._calls if call.method == method]

    def await_response(self, url: str, timeout: float) -> float | None:
        """Block until a payload arrives at the response URL `url`: when the first did (``time.perf_counter()``),
        or None after `timeout` seconds. Cheap for many waiting threads (a condition, not polling)."""
        with self._changed:
            self._changed.wait_for(lambda: url in self._first_arrival, timeout=timeout)
            return self._first_arrival.get(url)

    def await_update(self, channel: str, ts: str, timeout: float) -> float | None:
        """Block until the message at (`channel`, `ts`) has been edited (chat.update): when this returned
        (``time.perf_counter()``), or None after `timeout` seconds."""
        with self._changed:
            if self._changed.wait_for(lambda: len(self._versions.get((channel, ts), [])) > 1, timeout=timeout):
                return time.perf_counter()
            return None

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._lock:
            versions = self._versions.get((channel, ts))
            return copy.deepcopy(versions[-1]) if versions else None

    def message_history(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """Every version of a message, oldest first (the post, then each chat.update)."""
        with self._lock:
            return copy.deepcopy(self._versions.get((channel, ts), []))

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The replies posted in a thread (not its parent), current versions, in posting order."""
        return [
            message
            for message in self.messages
            if message["channel"] == channel and message.get("thread_ts") == thread_ts and message["ts"] != thread_ts
        ]

    def reset(self) -> None:
        """Forget every recording, pending fault and private channel (with its members); keeps settings such as
        ``user_timezones`` and ``user_locales``. Register private channels again after a reset."""
        with self._lock:
            self._clear()

    # -------------------------------------------------------- channels and membership

    def add_private_channel(self, channel_id: str, *, members: Iterable[str] = ()) -> None:
        """Register a private channel with these members (user ids). The bot (``BOT_USER_ID``) is a member only if
        listed here or later joined; until then Slack answers ``channel_not_found`` to the bot's calls on it.
        Registering a channel again replaces its members. Unregistered channels are public: the bot may post."""
        with self._lock:
            self._private_channels[channel_id] = set(members)

    def add_public_channel(self, channel_id: str, *, members: Iterable[str] = ()) -> None:
        """Register a public channel with these members. The bot may post in it without being a member
        (``chat:write.public``), but sharing a file there needs membership (Slack answers ``not_in_channel``)
        until the bot joins it (``conversations.join``, or :meth:`join`)."""
        with self._lock:
            self._public_channels[channel_id] = set(members)

    def join(self, channel_id: str, user_id: str = BOT_USER_ID) -> None:
        """Add a member to a registered channel (e.g. someone ``/invite``s the bot)."""
        with self._lock:
            self._members_of(channel_id).add(user_id)

    def leave(self, channel_id: str, user_id: str = BOT_USER_ID) -> None:
        """Remove a member from a registered private channel (no-op if not a member)."""
        with self._lock:
            self._members_of(channel_id).discard(user_id)

    def is_member(self, channel_id: str, user_id: str = BOT_USER_ID) -> bool:
        """Whether the user is a member of a registered private channel."""
        with self._lock:
            return user_id in self._members_of(channel_id)

    def _members_of(self, channel_id: str) -> set[str]:
        try:
            if channel_id in self._private_channels:
                return self._private_channels[channel_id]
            return self._public_channels[channel_id]
        except KeyError:
            raise KeyError(
                f"{channel_id!r} is not a registered channel; call add_private_channel or add_public_channel first"
            ) from None

    @overload
    def wait_for(self, condition: str, count: int = 1, timeout: float = 5.0) -> list[Call]: ...

    @overload
    def wait_for(self, condition: Callable[[], T], count: int = 1, timeout: float = 5.0) -> T: ...

    def wait_for(self, condition: str | Callable[[], Any], count: int = 1, timeout: float = 5.0) -> Any:
        """Poll until ``count`` calls to a method were answered, or a zero-argument predicate is truthy.

        Returns the calls to the method, or the predicate's truthy value.
        """
        deadline = time.monotonic() + timeout
        while True:
            result = self._check(condition, count)
            if result:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_report(condition, count, timeout))
            time.sleep(0.01)

    def _check(self, condition: str | Callable[[], Any], count: int) -> Any:
        if isinstance(condition, str):
            calls = self.calls_to(condition)
            return calls if len(calls) >= count else None
        return condition()

    def _timeout_report(self, condition: str | Callable[[], Any], count: int, timeout: float) -> str:
        wanted = f"{count} call(s) to {condition}" if isinstance(condition, str) else f"predicate {condition!r}"
        calls = self.calls
        lines = [f"FakeSlack: timed out after {timeout}s waiting for {wanted}; {len(calls)} call(s) answered:"]
        lines.extend(f"  {call.method} {_short(call.args)} -> {_short(call.response, 200)}" for call in calls)
        lines.extend(f"  violation: {violation}" for violation in self.violations)
        return "\n".join(lines)

    # -------------------------------------------------------- fault injection

    def fail_next(self, method: str, *, status: int = 429, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with HTTP ``status`` (429 adds ``Retry-After``)."""
        if status < 400:
            raise ValueError(f"status must be an HTTP error, got {status}")
        self._add_fault(method, _Fault(status=status, retry_after=retry_after, remaining=times))

    def drop_next(self, method: str, times: int = 1) -> None:
        """Close the connection without answering the next ``times`` calls to ``method``."""
        self._add_fault(method, _Fault(status=None, retry_after=0, remaining=times))

    def _add_fault(self, method: str, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.setdefault(method, []).append(fault)

    def _take_fault(self, method: str) -> _Answer | None:
        with self._lock:
            pending = self._faults.get(method)
            if not pending:
                return None
            fault = pending[0]
            fault.remaining -= 1
            if fault.remaining == 0:
                pending.pop(0)
            self._failures_served += 1
        if fault.status is None:
            return _Answer(drop=True)
        headers = (("Retry-After", str(fault.retry_after)),) if fault.status == 429 else ()
        error = _ERROR_FOR_STATUS.get(fault.status, "fatal_error")
        return _Answer.of_json({"ok": False, "error": error}, status=fault.status, headers=headers)

    # -------------------------------------------------------- routing

    def route(self, path: str, query: str, headers: Mapping[str, str], body: bytes) -> _Answer:
        kind, _, name = path.lstrip("/").partition("/")
        if kind == "api" and name:
            return self._take_fault(name) or self._serve_api(name, query, headers, body)
        if kind == UPLOAD and name:
            return self._take_fault(UPLOAD) or self._serve_upload(name, headers, body)
        if kind == RESPOND and name:
            return self._take_fault(RESPOND) or self._serve_response_url(path, headers, body)
        return _Answer.of_text("not found", status=404)

    def _serve_api(self, method: str, query: str, headers: Mapping[str, str], body: bytes) -> _Answer:
        with self._lock:
            args = _form_args(query, body, headers)
            token = _bearer_token(headers) or args.get("token") or None
            try:
                args.update(self._json_args_honoured(method, body, headers))
                self._check_request(method, token, args)
                response = self._handlers.get(method, self._acknowledge)(args)
            except _Refused as refusal:
                response = refusal.payload()
            self._calls.append(Call(method, args, dict(headers), response))
            self._changed.notify_all()
        return _Answer.of_json(response)

    def _json_args_honoured(self, method: str, body: bytes, headers: Mapping[str, str]) -> Args:
        spec = self._specs.get(method)
        return _json_args(body, headers) if spec is not None and spec.json_input else {}

    def _check_request(self, method: str, token: str | None, args: Args) -> None:
        spec = self._specs.get(method)
        if spec is None:
            raise _Refused("unknown_method")
        if not token:
            raise _Refused("not_authed")
        missing = [name for name in spec.required if _is_blank(args.get(name))]
        if missing:
            raise _Refused("invalid_arguments", [f"[ERROR] missing required field: {name}" for name in missing])

    def _acknowledge(self, args: Args) -> dict[str, Any]:
        return {"ok": True}

    # -------------------------------------------------------- validation helpers

    def _require_bot_access(self, channel: Any) -> None:
        """A private channel the bot is not in does not exist for the bot: Slack answers ``channel_not_found``.
        Not a violation: the app cannot know beforehand (like ``message_not_found``)."""
        members = self._private_channels.get(str(channel))
        if members is not None and BOT_USER_ID not in members:
            raise _Refused("channel_not_found")

    def _violation(self, method: str, problem: str) -> None:
        self._violations.append(f"{method}: {problem}")

    def _checked_blocks(self, method: str, args: Args) -> list[dict[str, Any]] | None:
        if _is_blank(args.get("blocks")):
            return None
        try:
            blocks = _decode(args["blocks"])
        except ValueError as error:
            self._violation(method, f"blocks are not JSON: {error}")
            raise _Refused("invalid_blocks_format") from error
        problems = block_problems(blocks, limit=MESSAGE_BLOCK_LIMIT)
        for problem in problems:
            self._violation(method, problem)
        if problems:
            raise _Refused("invalid_blocks", [f"[ERROR] {problem}" for problem in problems])
        return blocks  # type: ignore[no-any-return]

    def _checked_message_content(self, method: str, args: Args) -> list[dict[str, Any]] | None:
        blocks = self._checked_blocks(method, args)
        text = args.get("text")
        if blocks is None and _is_blank(text) and _is_blank(args.get("attachments")):
            raise _Refused("no_text")
        if blocks and _is_blank(text) and method in _TEXT_FALLBACK_METHODS:
            self._violation(method, "blocks sent without a plain `text` fallback (notifications, screen readers)")
        return blocks

    def _checked_view(self, method: str, args: Args, *, expected_type: str) -> dict[str, Any]:
        try:
            view = _decode(args["view"])
        except ValueError as error:
            self._violation(method, f"view is not JSON: {error}")
            raise _Refused("invalid_arguments", ["[ERROR] view is not valid JSON"]) from error
        problems = view_problems(view, expected_type=expected_type)
        for problem in problems:
            self._violation(method, problem)
        if problems:
            raise _Refused("invalid_arguments", [f"[ERROR] {problem}" for problem in problems])
        return view  # type: ignore[no-any-return]

    # -------------------------------------------------------- ids

    def _next_ts(self) -> str:
        micros = _FIRST_TS + 100 * next(self._ts_counter)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    # -------------------------------------------------------- auth, chat

    def _auth_test(self, args: Args) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.com/",
            "team": "Fake Workspace",
            "user": "bot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, args: Args) -> dict[str, Any]:
        self._require_bot_access(args["channel"])
        blocks = self._checked_message_content("chat.postMessage", args)
        channel, ts = str(args["channel"]), self._next_ts()
        message = {
            "type": "message",
            "channel": channel,
            "ts": ts,
            "thread_ts": args.get("thread_ts") or None,
            "text": args.get("text") or "",
            "blocks": blocks,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
        }
        self._versions[(channel, ts)] = [message]
        return {"ok": True, "channel": channel, "ts": ts, "message": _public_message(message)}

    def _update_message(self, args: Args) -> dict[str, Any]:
        channel, ts = str(args["channel"]), str(args["ts"])
        self._require_bot_access(channel)
        versions = self._versions.get((channel, ts))
        if versions is None:
            raise _Refused("message_not_found")
        blocks = self._checked_message_content("chat.update", args)
        updated = {**versions[-1], "text": args.get("text") or "", "blocks": blocks}
        updated["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        versions.append(updated)
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": updated["text"],
            "message": _public_message(updated),
        }

    def _post_ephemeral(self, args: Args) -> dict[str, Any]:
        self._require_bot_access(args["channel"])
        members = self._private_channels.get(str(args["channel"]))
        if members is not None and str(args["user"]) not in members:
            raise _Refused("user_not_in_channel")
        blocks = self._checked_message_content("chat.postEphemeral", args)
        message_ts = self._next_ts()
        self._ephemerals.append(
            {
                "channel": args["channel"],
                "user": args["user"],
                "message_ts": message_ts,
                "thread_ts": args.get("thread_ts") or None,
                "text": args.get("text") or "",
                "blocks": blocks,
            }
        )
        return {"ok": True, "message_ts": message_ts}

    def _get_permalink(self, args: Args) -> dict[str, Any]:
        channel, ts = str(args["channel"]), str(args["message_ts"])
        self._require_bot_access(channel)
        versions = self._versions.get((channel, ts))
        if versions is None:
            raise _Refused("message_not_found")
        permalink = f"{PERMALINK_ROOT}/{channel}/p{ts.replace('.', '')}"
        thread_ts = versions[-1].get("thread_ts")
        if thread_ts and thread_ts != ts:
            permalink += f"?thread_ts={thread_ts}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": permalink}

    # -------------------------------------------------------- views

    def _views_open(self, args: Args) -> dict[str, Any]:
        self._require_trigger(args)
        view = self._checked_view("views.open", args, expected_type="modal")
        self._triggers_used.add(str(args.get("trigger_id")))
        return self._store_view("views.open", view, args, view_id=self._next_id("V"))

    def _views_push(self, args: Args) -> dict[str, Any]:
        self._require_trigger(args)
        view = self._checked_view("views.push", args, expected_type="modal")
        self._triggers_used.add(str(args.get("trigger_id")))
        return self._store_view("views.push", view, args, view_id=self._next_id("V"))

    def _views_update(self, args: Args) -> dict[str, Any]:
        if _is_blank(args.get("view_id")) and _is_blank(args.get("external_id")):
            raise _Refused("invalid_arguments", ["[ERROR] either view_id or external_id is required"])
        current = self._find_view(args.get("view_id"), args.get("external_id"))
        if current is None:
            raise _Refused("not_found")
        if not _is_blank(args.get("hash")) and args["hash"] != current["hash"]:
            raise _Refused("hash_conflict")
        expected_type = current["view"].get("type", "modal")
        view = self._checked_view("views.update", args, expected_type=expected_type)
        owner = {"user_id": current["user_id"], "trigger_id": current["trigger_id"]}
        return self._store_view("views.update", view, owner, view_id=current["id"])

    def _views_publish(self, args: Args) -> dict[str, Any]:
        view = self._checked_view("views.publish", args, expected_type="home")
        user_id = str(args["user_id"])
        view_id = self._home_view_ids.setdefault(user_id, self._next_id("V"))
        return self._store_view("views.publish", view, args, view_id=view_id)

    def _require_trigger(self, args: Args) -> None:
        """A trigger opens one view, within 3 seconds of the click or command that gave it. The tests' triggers
        (`tests.slack_requests.new_trigger_id`) begin with the second they were made; one that begins with no
        recent time (a fixed id a test chose) is only checked for reuse."""
        trigger = args.get("trigger_id")
        if _is_blank(trigger) and _is_blank(args.get("interactivity_pointer")):
            raise _Refused("invalid_arguments", ["[ERROR] missing required field: trigger_id"])
        if _is_blank(trigger):
            return
        made = _trigger_second(str(trigger))
        if made is not None and time.time() - made > TRIGGER_SECONDS + 1:  # +1: made is a whole second
            raise _Refused("expired_trigger_id")
        if str(trigger) in self._triggers_used:
            raise _Refused("exchanged_trigger_id")

    def _find_view(self, view_id: Any, external_id: Any) -> dict[str, Any] | None:
        for record in self._views[::-1]:
            if record["id"] == view_id or (external_id and record["external_id"] == external_id):
                return record
        return None

    def _store_view(self, method: str, view: dict[str, Any], args: Args, *, view_id: str) -> dict[str, Any]:
        view_hash = f"{time.time():.0f}.{next(self._ids):08x}"
        self._views.append(
            {
                "method": method,
                "id": view_id,
                "user_id": args.get("user_id"),
                "trigger_id": args.get("trigger_id"),
                "external_id": view.get("external_id", ""),
                "hash": view_hash,
                "view": view,
            }
        )
        served = {
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": view_hash,
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
        }
        return {"ok": True, "view": served}

    # -------------------------------------------------------- users, conversations

    def _users_info(self, args: Args) -> dict[str, Any]:
        user_id = str(args["user"])
        tz = self.user_timezones.get(user_id, DEFAULT_TIMEZONE)
        now = datetime.now(ZoneInfo(tz))
        offset = now.utcoffset()
        user = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": user_id.lower(),
            "real_name": f"User {user_id}",
            "deleted": False,
            "is_bot": False,
            "is_app_user": False,
            "tz": tz,
            "tz_label": now.tzname(),
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "profile": {"real_name": f"User {user_id}", "display_name": user_id.lower(), "team": TEAM_ID},
        }
        if _is_true(args.get("include_locale")):
            user["locale"] = self.user_locales.get(user_id, DEFAULT_LOCALE)
        return {"ok": True, "user": user}

    def _conversations_join(self, args: Args) -> dict[str, Any]:
        channel = str(args["channel"])
        if channel in self._private_channels:
            raise _Refused("method_not_supported_for_channel_type")
        self._public_channels.setdefault(channel, set()).add(BOT_USER_ID)
        return {"ok": True, "channel": {"id": channel, "is_channel": True, "is_member": True}}

    def _conversations_open(self, args: Args) -> dict[str, Any]:
        if not _is_blank(args.get("channel")):
            return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": args["channel"]}}
        users = [user.strip() for user in str(args.get("users") or "").split(",") if user.strip()]
        if not users:
            raise _Refused("users_list_not_supplied")
        if len(users) > 8:
            raise _Refused("too_many_users")
        channel_id = f"D{users[0]}" if len(users) == 1 else "G" + "".join(sorted(users))
        return {"ok": True, "channel": {"id": channel_id}}

    # -------------------------------------------------------- files (upload v2 flow)

    def _get_upload_url(self, args: Args) -> dict[str, Any]:
        try:
            length = int(args["length"])
        except ValueError as error:
            raise _Refused("invalid_arguments", ["[ERROR] length must be an integer"]) from error
        if length < 1:
            raise _Refused("missing_argument")
        file_id = self._next_id("F")
        self._uploads[file_id] = {"filename": args["filename"], "length": length, "data": None}
        return {"ok": True, "upload_url": f"{self.root_url}/{UPLOAD}/{file_id}", "file_id": file_id}

    def _serve_upload(self, file_id: str, headers: Mapping[str, str], body: bytes) -> _Answer:
        with self._lock:
            upload = self._uploads.get(file_id)
            if upload is None:
                return _Answer.of_text("unknown upload", status=404)
            if len(body) != upload["length"]:
                self._violation(UPLOAD, f"{file_id}: {len(body)} bytes sent, {upload['length']} announced")
            upload["data"] = body
            self._calls.append(Call(UPLOAD, {"file_id": file_id, "length": len(body)}, dict(headers), {"ok": True}))
        return _Answer.of_text(f"OK - {len(body)}")

    def _complete_upload(self, args: Args) -> dict[str, Any]:
        items = self._requested_files(args)
        for channel in _upload_channels(args):
            self._require_bot_access(channel)
            members = self._public_channels.get(channel)
            if members is not None and BOT_USER_ID not in members:
                raise _Refused("not_in_channel")  # files:write has no chat:write.public exemption
        missing = [item.get("id") for item in items if self._uploads.get(item.get("id", ""), {}).get("data") is None]
        if missing:
            raise _Refused("file_not_found")
        if _is_blank(args.get("initial_comment")):
            self._checked_blocks("files.completeUploadExternal", args)
        completed = [self._complete_one(item, args) for item in items]
        return {"ok": True, "files": completed}

    def _requested_files(self, args: Args) -> list[dict[str, Any]]:
        try:
            items = _decode(args["files"])
        except ValueError as error:
            raise _Refused("invalid_arguments", ["[ERROR] files is not valid JSON"]) from error
        if not isinstance(items, list) or not all(isinstance(item, dict) and item.get("id") for item in items):
            raise _Refused("invalid_arguments", ["[ERROR] files must be an array of objects with an id"])
        return items

    def _complete_one(self, item: Mapping[str, Any], args: Args) -> dict[str, Any]:
        upload = self._uploads.pop(item["id"])
        title = item.get("title") or upload["filename"]
        self._files.append(
            {
                "id": item["id"],
                "filename": upload["filename"],
                "title": title,
                "channel_id": args.get("channel_id") or None,
                "channels": args.get("channels") or None,
                "initial_comment": args.get("initial_comment") or None,
                "thread_ts": args.get("thread_ts") or None,
                "data": upload["data"],
            }
        )
        return {
            "id": item["id"],
            "title": title,
            "name": upload["filename"],
            "size": len(upload["data"]),
            "created": int(time.time()),
            "user": BOT_USER_ID,
        }

    # -------------------------------------------------------- response_url

    def _serve_response_url(self, path: str, headers: Mapping[str, str], body: bytes) -> _Answer:
        arrived = time.perf_counter()
        with self._lock:
            uses = self._response_url_uses[path] = self._response_url_uses.get(path, 0) + 1
            if uses > RESPONSE_URL_USES:
                self._violation(RESPOND, f"{path} used {uses} times; Slack allows {RESPONSE_URL_USES}")
                return _Answer.of_text("used_url", status=404)
            try:
                payload = json.loads(body) if body else {}
            except ValueError:
                self._violation(RESPOND, f"{path}: body is not JSON")
                return _Answer.of_text("invalid_payload", status=400)
            try:
                if not payload.get("delete_original"):
                    self._checked_message_content(RESPOND, payload)
            except _Refused as refusal:
                return _Answer.of_text(refusal.error, status=400)
            url = f"{self.root_url}{path}"
            self._responses.append({"url": url, **payload})
            self._response_arrivals.append((url, arrived))
            self._first_arrival.setdefault(url, arrived)
            self._changed.notify_all()
        return _Answer.of_text("ok")


def _trigger_second(trigger: str) -> float | None:
    """The second a test's trigger id was made, if it begins with one from the last day."""
    head = trigger.split(".", 1)[0]
    if not head.isdigit():
        return None
    made = float(head)
    return made if 0 <= time.time() - made < 86_400 else None


# ---------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # several app workers post at once; the default backlog of 5 resets connections

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], *, fake: FakeSlack) -> None:
        super().__init__(address, handler)
        self.fake = fake


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = self.server.fake.route(url.path, url.query, headers, body)
        if answer.drop:
            self.close_connection = True
            return
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""
