"""Fuzzing the whole app over HTTP: arbitrary slash-command text and arbitrary interaction payloads, signed as
Slack signs them, into the real app (`tests/conftest.py`), with the fake Slack Web API on the other side.

Whatever arrives: no exception escapes a listener, every refusal is a clear message, a refused request leaves
every row of every table as it was, nothing the bot sends pings `@channel`/`@here`/`@everyone`, and the fake
Slack saw nothing the real one would refuse. The parsers alone are fuzzed in `tests/test_parsing_fuzz.py`;
this file checks the listeners, use cases and renderers around them.

The `bot` fixture is built once per test and reused by every example, so each example snapshots the database
before it sends and compares after. Listeners run on bolt's thread pool and keep working after the ack, so each
example first waits until every listener it started has returned (`ListenerWork`).

Examples: 500 slash commands, 400 button clicks, 300 modal submits, 150 Home tab events (each test runs once per
database backend), and 16 fixed payloads bolt cannot route or read. Run with `-s` to see the counts actually run,
or with `--hypothesis-show-statistics` to see how many were refused, stored a decision, and so on.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, Future
from concurrent.futures import wait as wait_for_futures
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import hypothesis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table in SQLModel.metadata)
from bot.blocks import APPROVE_ACTION, ASK_EVIDENCE_ACTION, REASON_BLOCK, REASON_INPUT, REJECT_ACTION, REJECT_VIEW
from commands.text_rules import (
    COMPANY_LIMIT,
    EVIDENCE_COUNT_LIMIT,
    LABEL_LIMIT,
    NAME_LIMIT,
    NOTE_LIMIT,
    REASON_LIMIT,
    URL_LIMIT,
    clean_text,
)
from tests.conftest import MANAGER, OTHER_MANAGER, OTHER_REP, REP, RunningBot
from tests.slack_requests import FORM, JSON, Response, block_action, event, view_submission

CHANNEL = "C_SALES"
TEAM = "T1"
MANAGERS = frozenset({MANAGER, OTHER_MANAGER})
KNOWN_USERS = [MANAGER, OTHER_MANAGER, REP, OTHER_REP]
REFUSAL = ":no_entry_sign:"
BROADCAST = re.compile(r"<!(?:channel|here|everyone|subteam)\b", re.IGNORECASE)
MOVE_ACTIONS = [APPROVE_ACTION, REJECT_ACTION, ASK_EVIDENCE_ACTION]
# What an allowed click or submit records; Reject only opens the modal, whose submit records the rejection.
DECISION_KIND = {APPROVE_ACTION: "approved", ASK_EVIDENCE_ACTION: "evidence_asked", REJECT_VIEW: "rejected"}
# What an allowed decision may touch: the move, its event, the deal it moves, the thread post it owes.
DECISION_TABLES = frozenset({"move_request", "deal_event", "deal", "announcement", "stage_spell"})
# Recording that an event delivery was handled (Slack redelivers events) is the only write an event may make.
EVENT_TABLES = frozenset({"handled_event"})

examples_run: Counter[str] = Counter()


# ---------------------------------------------------------------- strategies

SLACKISH_TOKENS = [
    "new",
    "show",
    "list",
    "lost",
    "help",
    "mine",
    "all",
    "stages",
    "managers",
    "add",
    "remove",
    "schedule",
    "weekly",
    "daily",
    "off",
    "mon",
    "09:30",
    "1",
    "2",
    "#1",
    "deal-1",
    "deal-2",
    "DEAL-1",
    "deal-0",
    "deal-99999999999999999999999",
    "-1",
    "²",
    "evidence:",
    "evidence:https://mail.example.com/m/1",
    "evidence:<https://x.example|l>",
    "evidence:<https://x.example/a?b=1&amp;c=2|Buyer's reply>",
    "evidence:javascript:alert(1)",
    "<https://x.example|l>",
    "<https://evil.example|<!channel>>",
    "<@U0ABC123|n>",
    "<@U0ABC123>",
    "<@U_REP>",
    "<#C123|general>",
    "to:",
    "to:needs-confirmed",
    "to:meeting-booked",
    "to:live",
    "note:",
    "note:per call",
    "reason:",
    "reason:chose a competitor",
    "stage:",
    "stage:meeting-booked",
    "value:",
    "value:50k",
    "value:$1,000.50",
    "value:99999999999999999999",
    "company:",
    "company:AT&amp;T",
    "tz:",
    "tz:Europe/Berlin",
    "tz:Nowhere/Else",
    "&lt;!channel&gt;",
    "&lt;!here&gt;",
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S1|@sales>",
    "&amp;lt;!channel&amp;gt;",
    "*bold*",
    "`code`",
    "<",
    ">",
    "&",
    ":",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\r\n",
    "\t",
    "\u00a0",
    "\u200b",
    "\u202e",
    "\ufeff",
    "\U0001f600",
    # Input limits and spoofing: bidi controls, zero-width and blank-looking characters, credentials in links,
    # hosts in other scripts, labels naming another host (NUL and \x07 are above; a form cannot carry an
    # unpaired surrogate, so those are fuzzed in the button values and the modal below).
    "\u202d",
    "\u2066",
    "\u2069",
    "\u200f",
    "\u200d",
    "\u2060",
    "\u3164",
    "\u2800",
    "new \u200b\u3164",
    "company:\u200b",
    "note:\u202e",
    "reason:\u3164",
    "evidence:https://rep:hunter2@crm.example/1",
    "evidence:<https://rep:hunter2@crm.example/1|CRM>",
    "evidence:https://bücher.example/a",
    "evidence:https://аpple.example/po",
    "evidence:<https://evil.example|https://bank.example/login>",
    "evidence:<https://evil.example|ｂａｎｋ．ｅｘａｍｐｌｅ>",
    "evidence:https://pay\u200bpal.example",
    "<https://evil.example|https://bank.example>",
]
FIRST_WORDS = ["", "new", "show", "list", "lost", "help", "deal-1", "1", "stages", "managers", "schedule", "digest"]

slackish_words = st.lists(st.one_of(st.sampled_from(SLACKISH_TOKENS), st.text(max_size=10)), max_size=10).map(" ".join)
long_text = st.one_of(
    st.tuples(st.sampled_from(FIRST_WORDS), st.sampled_from(SLACKISH_TOKENS), st.integers(200, 1500)).map(
        lambda parts: parts[0] + " " + " ".join([parts[1]] * parts[2])
    ),
    st.tuples(
        st.sampled_from(["new ", "lost deal-1 reason:", "deal-1 evidence:https://x.example note:"]),
        st.text(min_size=1, max_size=8).map(lambda unit: unit * (4000 // len(unit))),
    ).map("".join),
    # Around each limit (name 200, note and reason 1,000, link 2,000, ten links), and far past the command's.
    st.tuples(
        st.sampled_from(
            [
                "new ",
                "new Acme company:",
                "lost deal-1 reason:",
                "deal-1 evidence:https://x.example/",
                "deal-1 note:",
                "deal-1 to:",
                "list stage:",
            ]
        ),
        st.sampled_from([199, 200, 201, 999, 1_000, 1_001, 1_999, 2_001, 60_000, 1_000_000]),
    ).map(lambda parts: parts[0] + "x" * parts[1]),
    st.integers(9, 12).map(lambda n: "deal-1 " + " ".join(f"evidence:https://x.example/{i}" for i in range(n))),
)
command_text = st.one_of(
    st.text(), slackish_words, st.tuples(st.sampled_from(FIRST_WORDS), slackish_words).map(" ".join), long_text
)

odd_strings = st.sampled_from(
    ["", " ", "0", "-1", "1.0", "0x1", "1e3", " 1", "1 ", "+1", "²", "١", "①", str(2**31), str(2**63), str(10**30)]
    + ["1\x00", "\x00", "\ud800", "1\udfff", "\u202e1", "1\u200b", "U" * 40]  # NUL, lone surrogates, invisible
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**80),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    odd_strings,
)
# Fresh containers each time: a mutation may write into one.
json_values: st.SearchStrategy[Any] = st.one_of(
    json_scalars, st.builds(dict), st.builds(list), st.builds(lambda: {"id": None})
)
# Where bolt itself reads an object while building the request's context (`user`, `team`, `channel`,
# `enterprise`, and `event.user`, `event.channel`) it takes an object, a list, a string or null, and raises on a
# number or a boolean before any listener runs (see `UNREADABLE` at the end).
bolt_read_values = st.one_of(
    st.none(), st.text(max_size=20), odd_strings, st.builds(dict), st.builds(list), st.builds(lambda: {"id": None})
)
ANY = object()


def mostly(*choices: Any, otherwise: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """One of `choices`, where ANY stands for a draw from `otherwise`; repeat a choice to make it likelier.
    (Hypothesis spreads its draws over a `one_of`'s branches unevenly; this keeps the meaningful cases common,
    e.g. a manager clicking on a real pending move.)"""
    return st.sampled_from(choices).flatmap(lambda choice: otherwise if choice is ANY else st.just(choice))


people = st.one_of(st.text(max_size=40), odd_strings)
# Usually someone the workspace knows (a manager, the deal's owner, another rep), else anyone.
clicking_users = mostly(MANAGER, OTHER_MANAGER, MANAGER, OTHER_MANAGER, REP, OTHER_REP, ANY, otherwise=people)
teams = mostly(TEAM, TEAM, TEAM, ANY, otherwise=st.text(max_size=12))


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP = _Drop()  # a mutation that removes the key
Path = tuple[str | int, ...]
Changes = list[tuple[Path, Any]]


@st.composite
def mutations(draw: st.DrawFn, paths: list[Path], bolt_read: frozenset[Path]) -> Changes:
    """Up to three (path, new value) changes to a payload; DROP removes the key."""
    chosen = draw(st.lists(st.sampled_from(paths), max_size=3, unique=True))
    return [
        (path, draw(st.one_of(st.just(DROP), bolt_read_values if path in bolt_read else json_values)))
        for path in chosen
    ]


def mutate(payload: dict[str, Any], changes: Changes) -> dict[str, Any]:
    for path, value in changes:
        node: Any = payload
        for step in path[:-1]:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                node = None
                break
        last = path[-1]
        if isinstance(node, dict) and isinstance(last, str):
            if value is DROP:
                node.pop(last, None)
            else:
                node[last] = value
        elif isinstance(node, list) and isinstance(last, int) and last < len(node) and value is not DROP:
            node[last] = value
    return payload


# ---------------------------------------------------------------- watching the app


class ListenerWork(Executor):
    """Stands in for bolt's listener executor (`App.listener_runner.listener_executor`) and remembers what it
    ran, so a test can wait until every listener (with the thread posts it makes after its ack) has returned."""

    def __init__(self, inner: Executor) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._futures: list[Future[Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = self._inner.submit(fn, *args, **kwargs)
        with self._lock:
            self._futures.append(future)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait, cancel_futures=cancel_futures)

    def settle(self, timeout: float = 20.0) -> None:
        with self._lock:
            futures, self._futures = self._futures, []
        _, running = wait_for_futures(futures, timeout=timeout)
        assert not running, f"{len(running)} listener(s) still running after {timeout}s"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def unhandled(self) -> list[str]:
        """Exceptions that escaped a listener (bolt's error handler logs them), and database errors a listener
        caught: either way the user was not told what was wrong with the request (or was told the database
        is down when it is not)."""
        return [
            f"{record.name}: {record.getMessage()} ({record.exc_info[1] if record.exc_info else None!r})"
            for record in self.records
            if record.levelno >= logging.ERROR
            and (record.getMessage().startswith("unhandled error") or "database error" in record.getMessage())
        ]


Row = dict[str, Any]
Snapshot = dict[str, dict[tuple[Any, ...], Row]]


def snapshot(engine: Engine) -> Snapshot:
    """Every row of every table, by primary key."""
    tables: Snapshot = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            keys = [column.name for column in table.primary_key.columns]
            rows = [dict(row._mapping) for row in connection.execute(select(table))]
            tables[table.name] = {tuple(row[key] for key in keys): row for row in rows}
    return tables


SLACK_TEXT_LIMIT = 4_000  # Slack's advice for a message's fallback `text` (it truncates at 40,000)
# Each stored text column, its limit (commands/text_rules.py), and whether it may hold line breaks.
STORED_TEXTS = {
    ("deal", "name"): (NAME_LIMIT, False),
    ("deal", "company"): (COMPANY_LIMIT, False),
    ("deal", "lost_reason"): (REASON_LIMIT, False),
    ("deal_event", "note"): (REASON_LIMIT, True),
    ("move_request", "note"): (NOTE_LIMIT, False),
    ("move_request", "decision_reason"): (REASON_LIMIT, True),
}


def stored_text_problems(tables: Snapshot) -> list[str]:
    """Stored text over its limit, or holding control, bidi or zero-width characters; credentialed links."""
    problems: list[str] = []
    for (table, column), (limit, multiline) in STORED_TEXTS.items():
        for row in tables[table].values():
            value = row[column]
            if value is None:
                continue
            lines = value.split("\n") if multiline else [value]
            if len(value) > limit or any(line != clean_text(line) or not line for line in lines):
                problems.append(f"{table}.{column}={value[:80]!r}")
    for table in ("deal_event", "move_request"):
        for row in tables[table].values():
            evidence = row["evidence"]
            if len(evidence) > EVIDENCE_COUNT_LIMIT:
                problems.append(f"{table}.evidence has {len(evidence)} links")
            for item in evidence:
                url, label = item["url"], item.get("label")
                parts = urlsplit(url)
                if len(url) > URL_LIMIT or parts.username is not None or "@" in parts.netloc:
                    problems.append(f"{table}.evidence url {url[:80]!r}")
                if label is not None and (label != clean_text(label) or len(label) > LABEL_LIMIT):
                    problems.append(f"{table}.evidence label {label[:80]!r}")
    return problems


def changed_tables(before: Snapshot, after: Snapshot) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def mrkdwn_texts(message: Mapping[str, Any]) -> list[str]:
    """The texts Slack parses for mentions: a message's `text` and every mrkdwn object in its blocks or view.
    plain_text objects (headers, buttons, inputs) are never parsed, so raw user text is harmless there."""
    found = [message["text"]] if isinstance(message.get("text"), str) else []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for key in ("blocks", "view", "attachments"):
        walk(message.get(key))
    return found


def decoded(args: Mapping[str, Any]) -> dict[str, Any]:
    """A Web API call's arguments with form-encoded JSON (blocks, view) decoded."""
    result = dict(args)
    for key in ("blocks", "view", "attachments"):
        if isinstance(result.get(key), str):
            with contextlib.suppress(ValueError):
                result[key] = json.loads(result[key])
    return result


class World:
    """The running bot, what it is doing, and `pending`: a pending move (id) asked for by each requester."""

    def __init__(self, bot: RunningBot, work: ListenerWork, log: Records) -> None:
        self.bot = bot
        self.work = work
        self.log = log
        self.pending: dict[str, int] = {}

    def __repr__(self) -> str:  # what Hypothesis prints with a falsifying example
        return f"World(pending={self.pending})"

    @property
    def engine(self) -> Engine:
        return self.bot.runtime.engine

    def command(self, command: str, text: str, *, user: str) -> Response:
        # Each command Slack sends has its own trigger id; a repeated one is a replay, answered but not acted on.
        response = self.bot.command(command, text, user=user, trigger_id=f"trig-fuzz-{uuid.uuid4().hex}")
        self.work.settle()
        return response

    def post(self, body: bytes, *, content_type: str = FORM) -> Response:
        response = self.bot.sender.post(body, content_type=content_type)
        self.work.settle()
        return response

    def moves(self) -> dict[int, Row]:
        return {key[0]: row for key, row in snapshot(self.engine)["move_request"].items()}

    def ensure_pending(self, *requesters: str) -> None:
        """A pending move, posted in its deal's thread, asked for by each requester (a decision uses one up)."""
        for requester in requesters:
            moves = self.moves()
            current = moves.get(self.pending.get(requester, -1))
            if current is not None and current["status"] == "pending":
                continue
            created = self.command("/deal", f"new Fuzz target of {requester}", user=requester)
            number = re.search(r"deal-(\d+)", created.json()["text"])
            assert number, created.json()
            asked = self.command("/advance", f"deal-{number[1]} evidence:https://mail.example.com/m/1", user=requester)
            assert "Asked to move" in asked.json()["text"], asked.json()
            (move_id,) = self.moves().keys() - moves.keys()
            assert self.moves()[move_id]["message_ts"] is not None
            self.pending[requester] = move_id

    def begin(self) -> tuple[Snapshot, int]:
        self.log.records.clear()
        return snapshot(self.engine), len(self.bot.slack.calls)

    def check_quiet(self, calls_before: int, *acks: Mapping[str, Any]) -> None:
        """Nothing escaped a listener, nothing pinged a channel, nothing Slack would refuse."""
        assert self.log.unhandled() == []
        sent = [*acks, *(decoded(call.args) for call in self.bot.slack.calls[calls_before:])]
        for message in sent:
            for text in mrkdwn_texts(message):
                assert not BROADCAST.search(text), (text, message)
            assert len(str(message.get("text") or "")) <= SLACK_TEXT_LIMIT, message
        assert self.bot.slack.violations == []
        assert stored_text_problems(snapshot(self.engine)) == []


@pytest.fixture
def world(bot: RunningBot) -> Iterator[World]:
    runner = bot.runtime.app.listener_runner
    work = ListenerWork(runner.listener_executor)
    runner.listener_executor = work
    log = Records()
    logging.getLogger().addHandler(log)
    try:
        yield World(bot, work, log)
    finally:
        logging.getLogger().removeHandler(log)


@pytest.fixture(scope="module", autouse=True)
def report_examples() -> Iterator[None]:
    yield
    print("\nexamples run: " + ", ".join(f"{name}={count}" for name, count in sorted(examples_run.items())))


def form(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def payload_of(body: bytes) -> dict[str, Any]:
    return json.loads(parse_qs(body.decode())["payload"][0])  # type: ignore[no-any-return]


def user_of(payload: Mapping[str, Any]) -> Any:
    user = payload.get("user")
    return user.get("id") if isinstance(user, dict) else None


def move_named_by(value: Any) -> int | None:
    """The move a button's value names, read the way a correct listener reads it (ASCII digits only)."""
    text = str(value)
    return int(text) if re.fullmatch(r"[0-9]+", text) else None


def may_decide(before: Snapshot, user: Any, move_id: Any) -> bool:
    """The README's rule: only a manager decides, only a pending move, never one they asked for."""
    move = before["move_request"].get((move_id,)) if type(move_id) is int else None
    return (
        isinstance(user, str)
        and user in MANAGERS
        and move is not None
        and move["status"] == "pending"
        and move["requested_by"] != user
    )


def assert_at_most_one_decision(before: Snapshot, after: Snapshot, *, move_id: int, kind: str, user: str) -> None:
    assert changed_tables(before, after) <= DECISION_TABLES
    new_events = [row for key, row in after["deal_event"].items() if key not in before["deal_event"]]
    assert len(new_events) <= 1, new_events
    for row in new_events:
        assert (row["move_id"], row["kind"], row["actor_id"]) == (move_id, kind, user)
    assert after["move_request"].keys() == before["move_request"].keys()
    changed = {key for key, row in after["move_request"].items() if before["move_request"][key] != row}
    assert changed <= {(move_id,)}


# ---------------------------------------------------------------- slash commands


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(["/deal", "/advance", "/pipeline"]), text=command_text)
def test_any_command_text_gets_a_clear_answer_and_a_refusal_stores_nothing(
    world: World, command: str, text: str
) -> None:
    examples_run["slash commands"] += 1
    if not world.pending:
        world.ensure_pending(REP)  # deal-1: REP's, with a pending move; the fuzzing user is another rep
    before, calls_before = world.begin()

    response = world.command(command, text, user=OTHER_REP)

    assert response.status == 200, (response.text, world.log.unhandled())
    ack = response.json()
    assert isinstance(ack.get("text"), str) and ack["text"].strip(), ack
    refused = ack["text"].startswith(REFUSAL)
    hypothesis.event(f"{command} {'refused' if refused else 'answered'}")
    if refused:
        assert ack["text"].removeprefix(REFUSAL).strip()
        assert snapshot(world.engine) == before
    world.check_quiet(calls_before, ack)


# ---------------------------------------------------------------- buttons

ACTION_PATHS: list[Path] = [
    ("user",),
    ("user", "id"),
    ("user", "team_id"),
    ("team",),
    ("team", "id"),
    ("channel",),
    ("channel", "id"),
    ("container",),
    ("container", "type"),
    ("container", "channel_id"),
    ("container", "message_ts"),
    ("container", "thread_ts"),
    ("message",),
    ("message", "ts"),
    ("trigger_id",),
    ("response_url",),
    ("enterprise",),
    ("is_enterprise_install",),
    ("actions", 0, "value"),
    ("actions", 0, "block_id"),
    ("actions", 0, "type"),
    ("actions", 0, "action_ts"),
    ("state",),
    ("token",),
    ("api_app_id",),
]
BOLT_READ_IN_ACTIONS = frozenset({("user",), ("team",), ("channel",), ("enterprise",)})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    action_id=st.sampled_from(MOVE_ACTIONS),
    user=clicking_users,
    team=teams,
    real_move=st.sampled_from([REP, MANAGER, None]),
    value=st.one_of(odd_strings, st.integers().map(str), st.text(max_size=20)),
    in_thread=st.booleans(),
    changes=mutations(ACTION_PATHS, BOLT_READ_IN_ACTIONS),
)
def test_any_click_is_answered_and_only_a_managers_decision_is_stored(
    world: World,
    action_id: str,
    user: str,
    team: str,
    real_move: str | None,
    value: str,
    in_thread: bool,
    changes: Changes,
) -> None:
    examples_run["block_actions"] += 1
    world.ensure_pending(REP, MANAGER)  # one each: a manager may decide REP's, only the other manager MANAGER's
    if real_move is not None:
        value = str(world.pending[real_move])
    shown_move = world.moves().get(move_named_by(value) or -1) or {}
    payload = mutate(
        payload_of(
            block_action(
                action_id,
                value,
                user_id=user,
                team_id=team,
                channel_id=CHANNEL,
                message_ts=shown_move.get("message_ts") or "1700000000.000100",
                thread_ts="1700000000.000001" if in_thread else None,
            )
        ),
        changes,
    )
    before, calls_before = world.begin()

    response = world.post(form(payload))

    # Buttons are acknowledged at once with an empty body; the answer comes as an ephemeral, a modal or a post.
    # A listener that raises after its ack usually turns this into bolt's 404 after its 3 s ack timeout (its
    # thread runner resets `ack.response` when the listener raises), so a crash shows here as well as in the log.
    assert (response.status, response.text) == (200, ""), (response.status, response.text, world.log.unhandled())
    after = snapshot(world.engine)
    clicker, clicked = user_of(payload), move_named_by(payload["actions"][0].get("value", ""))
    allowed = may_decide(before, clicker, clicked)
    hypothesis.event(f"{action_id}: {'stored a decision' if after != before else 'stored nothing'}")
    if action_id != REJECT_ACTION and allowed:
        assert clicked is not None
        assert_at_most_one_decision(before, after, move_id=clicked, kind=DECISION_KIND[action_id], user=clicker)
    else:
        assert after == before
    for call in world.bot.slack.calls[calls_before:]:
        if call.method == "chat.postEphemeral":
            assert str(call.args.get("text", "")).strip()
    world.check_quiet(calls_before)


# ---------------------------------------------------------------- the rejection modal

VIEW_PATHS: list[Path] = [
    ("user",),
    ("user", "id"),
    ("user", "team_id"),
    ("team",),
    ("team", "id"),
    ("view", "state"),
    ("view", "state", "values"),
    ("view", "state", "values", REASON_BLOCK),
    ("view", "state", "values", REASON_BLOCK, REASON_INPUT),
    ("view", "private_metadata"),
    ("view", "team_id"),
    ("view", "app_installed_team_id"),
    ("view", "id"),
    ("view", "hash"),
    ("trigger_id",),
    ("enterprise",),
]
# `response_urls` is left alone: bolt reads it as a list of objects (see UNREADABLE below).
BOLT_READ_IN_VIEWS = frozenset({("user",), ("team",), ("enterprise",)})

private_metadata = st.one_of(
    st.text(max_size=30),
    st.builds(
        lambda move_id, channel: json.dumps({"move_id": move_id, "channel_id": channel}),
        json_values,
        st.one_of(st.just(CHANNEL), json_values),
    ),
    st.builds(json.dumps, json_values),
)
reasons = mostly(
    "Not the buyer's reply",
    "&lt;!channel&gt; no",
    "<!here> no",
    "x" * 3000,
    "x" * 1001,
    "  ",
    "no\x00pe",
    "broken \ud800",
    "\udfff",
    "\u202e\u200b\u3164",
    "Not the\u202e buyer\n\nsigned by us",
    None,
    ANY,
    ANY,
    otherwise=st.text(),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    user=clicking_users,
    real_move=st.sampled_from([REP, REP, MANAGER, None]),
    metadata=private_metadata,
    reason=reasons,
    changes=mutations(VIEW_PATHS, BOLT_READ_IN_VIEWS),
)
def test_any_rejection_submit_is_answered_and_only_a_managers_rejection_is_stored(
    world: World, user: str, real_move: str | None, metadata: str, reason: str | None, changes: Changes
) -> None:
    examples_run["view_submission"] += 1
    world.ensure_pending(REP, MANAGER)
    if real_move is not None:
        metadata = json.dumps({"move_id": world.pending[real_move], "channel_id": CHANNEL})
    body = view_submission(
        REJECT_VIEW, {REASON_BLOCK: {REASON_INPUT: reason}}, private_metadata=metadata, user_id=user, team_id=TEAM
    )
    payload = mutate(payload_of(body), changes)
    before, calls_before = world.begin()

    response = world.post(form(payload))

    assert response.status == 200, (response.text, world.log.unhandled())
    after = snapshot(world.engine)
    answer = response.json()
    hypothesis.event("rejection refused" if answer else "rejection stored")
    if answer:  # refused: the modal stays open with the reason shown under the input
        assert answer["response_action"] == "errors", answer
        (message,) = answer["errors"].values()
        assert isinstance(message, str) and message.strip() and len(message) <= 150, message
        assert after == before
    else:  # accepted: the modal closes, and the rejection is stored
        view = payload["view"]
        move_id = json.loads(view["private_metadata"])["move_id"]
        assert str(view["state"]["values"][REASON_BLOCK][REASON_INPUT]["value"]).strip()
        assert may_decide(before, user_of(payload), move_id)
        assert_at_most_one_decision(before, after, move_id=move_id, kind="rejected", user=user_of(payload))
    world.check_quiet(calls_before, answer)


# ---------------------------------------------------------------- the Home tab

EVENT_PATHS: list[Path] = [("user",), ("channel",), ("tab",), ("view",), ("event_ts",)]
BOLT_READ_IN_EVENTS = frozenset({("user",), ("channel",)})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    user=mostly(*KNOWN_USERS, ANY, otherwise=st.one_of(people, bolt_read_values)),
    tab=mostly("home", "home", "messages", ANY, otherwise=json_values),
    team=teams,
    event_id=st.one_of(st.builds(lambda: "Ev" + uuid.uuid4().hex[:10].upper()), st.text(max_size=80)),
    changes=mutations(EVENT_PATHS, BOLT_READ_IN_EVENTS),
)
def test_any_home_tab_event_is_acknowledged_and_stores_nothing_else(
    world: World, user: Any, tab: Any, team: str, event_id: str, changes: Changes
) -> None:
    examples_run["app_home_opened"] += 1
    if not world.pending:
        world.ensure_pending(REP)
    home = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": tab, "event_ts": f"{time.time():.6f}"}
    body = event(mutate(home, changes), team_id=team, event_id=event_id)
    before, calls_before = world.begin()

    response = world.post(body, content_type=JSON)

    # Events are acknowledged before the listener runs (bolt's auto-ack), with an empty body.
    assert (response.status, response.text) == (200, ""), (response.status, response.text, world.log.unhandled())
    hypothesis.event(
        f"home published: {any(call.method == 'views.publish' for call in world.bot.slack.calls[calls_before:])}"
    )
    assert changed_tables(before, snapshot(world.engine)) <= EVENT_TABLES
    world.check_quiet(calls_before)


# ---------------------------------------------------------------- what bolt does before any listener


def _changed(payload: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in changes.items():
        if value is DROP:
            payload.pop(key)
        else:
            payload[key] = value
    return payload


def _click(**changes: Any) -> dict[str, Any]:
    return _changed(
        payload_of(block_action(APPROVE_ACTION, "1", user_id=MANAGER, message_ts="1700000000.000100")), changes
    )


def _submit(callback_id: str = REJECT_VIEW, **changes: Any) -> dict[str, Any]:
    values = {REASON_BLOCK: {REASON_INPUT: "no"}}
    return _changed(payload_of(view_submission(callback_id, values, private_metadata="{}", user_id=MANAGER)), changes)


# Payloads no listener matches: bolt raises BoltUnhandledRequestError (`raise_error_for_unhandled_request`) and the
# app's error handler answers an empty 200 (bolt's own answer would be a 404 the user sees as an error).
UNROUTABLE: dict[str, Any] = {
    "no type": _click(type=DROP),
    "unknown type": _click(type="block_suggestion"),
    "no actions": _click(actions=DROP),
    "unknown action": _click(actions=[{"action_id": "move_frobnicate", "block_id": "b", "value": "1"}]),
    "unknown modal": _submit("some_other_modal"),
}
# Payloads bolt's listener matchers cannot read (`body["actions"][0]["action_id"]`): `bot.http` checks the shape
# of what bolt reads before bolt sees it, and answers an empty 200.
UNMATCHABLE: dict[str, Any] = {
    "action without id": _click(actions=[{"block_id": "b", "value": "1"}]),
    "action is a string": _click(actions=["move_approve"]),
}
# Payloads bolt cannot read at all. It raises while building its request context (`extract_team_id`,
# `extract_user_id`, `extract_channel_id` do `"id" in value`; `response_urls` must be a list of objects; a
# non-object body has no `.get`) or inside its own error handler (`to_action` on an empty `actions`). `bot.http`
# answers an empty 200 for an object of the wrong shape, and 400 for a body that is not an object at all.
# Slack never sends these.
UNREADABLE: dict[str, Any] = {
    "team is a number": _click(team=5),
    "user is a number": _click(user=5),
    "channel is a boolean": _click(channel=True),
    "enterprise is a number": _click(enterprise=1.5),
    "empty actions": _click(actions=[]),
    "response_urls is null": _submit(response_urls=None),
    "response_urls holds a string": _submit(response_urls=["https://hooks.slack.com/x"]),
    "payload is a list": [1, 2],
    "payload is a string": "block_actions",
}


def test_payloads_bolt_cannot_route_or_read_get_its_answer_and_change_nothing(world: World) -> None:
    world.ensure_pending(REP)
    for name, payload in {**UNROUTABLE, **UNMATCHABLE, **UNREADABLE}.items():
        examples_run["payloads bolt cannot route"] += 1
        before, calls_before = world.begin()

        response = world.post(form(payload))

        unhandled = world.log.unhandled()
        if isinstance(payload, dict):
            assert (response.status, response.body, unhandled) == (200, b"", []), name
        else:
            assert (response.status, response.body, unhandled) == (400, b"malformed request\n", []), name
        assert snapshot(world.engine) == before, name
        for call in world.bot.slack.calls[calls_before:]:  # at most a short note to the person who clicked
            assert call.method == "chat.postEphemeral" and str(call.args.get("text", "")).strip(), (name, call)
        world.check_quiet(calls_before)
