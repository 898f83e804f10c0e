"""Ack latency: the real app against a bare Bolt app that only acks, on one fake Slack, at several concurrencies.

Starts the tests' fake Slack Web API in this process and two servers, each in its own process, served the
same way (the app's `ThreadingWSGIServer` with `QuietHandler`, `POST /slack/events`, logging at INFO):

- **ours**: the real app, built as `python app.py` builds it (`app.build(load_settings({...}))`: settings,
  migrations, wiring) on a fresh database (a temporary SQLite file unless `--database-url` names one);
- **bare**: `slack_bolt.App(signing_secret=…, client=WebClient(base_url=<fake>, token=…))` with listeners for
  `/deal`, `/advance` and the Approve button that only `ack()`, behind bolt's own `SlackRequestHandler`.

At each concurrency level it sends, from that many client threads, signed `/deal new` (N new deals), then
`/advance deal-<n> evidence:<link>` on each of them by its owner, then a manager's Approve click on each
move, then `/deal show deal-<n>`; each wave goes first to ours, then (once the work ours does after its acks
is done, as a person would wait) the same requests to the bare app. Each slash command carries a
`response_url` of its own, served by the fake Slack.

Ours acks at once with an empty body and answers after the ack: a slash command's reply goes to its
response_url, a click's outcome into the move's message in the thread. So a request is judged twice:

- its **ack**, what Slack waits for and what is timed for the ratio and the targets: answered 200 within 3 s,
  not a refusal, and empty;
- for ours' slash commands, its **reply**, what the person waits for: exactly one post at its response_url
  (waited for after the wave), whose text begins "Created deal-<n> " (`/deal new`), "Asked to move deal-"
  (`/advance`), or is not a refusal (`/deal show`). A missing or wrong reply is an error of that request.

Each of ours' client threads is a person who waits for the answer (the reply, or for a click the edit of the
move's message) before sending their next request, as they waited for the old acks that carried the answer:
concurrency N is N requests in flight until answered. (Clients that fired on at the ack would pile up work
after the acks without limit and measure an overload, not a concurrency.) The bare app only acks, so its
clients go on at the ack and only its ack is judged. It prints, per kind and level, the ack's p50/p95/p99 for
ours, the answer's p50/p99 for ours (from sending the request to the reply's arrival at the fake Slack, or to
the click's message being edited), the ack's p50/p95/p99 for bare, ours ÷ bare at p50 (acks), and the
errors.

`--fix` applies a candidate fix to the real app's process only (monkeypatched there before the app is built,
never in the app's files), so a run with and a run without compare it. `--profile` times spans inside the real
app (the signature check, bolt's dispatch, the wait for a listener thread, the replay claim, each use case,
BEGIN IMMEDIATE, the statements, COMMIT) and prints, per kind at `--profile-level`, the mean per request.

Run from the repository root (see bench/README.md, "Ack latency"):

    python -m bench.latency [--requests 200] [--levels 1,8,32] [--database-url URL] [--fix NAME ...] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import select
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.load import (
    APPROVE_ACTION,
    ASKED,
    CREATED,
    FAKE_SLACK_BACKLOG,
    MANAGERS,
    REPS,
    Driver,
    Expect,
    Outcome,
    Replies,
    actions_block_id,
    awaited,
    count,
    judge_replies,
    own_database,
    percentile,
    rows,
    run_wave,
    settle,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
KINDS = ("/deal new", "/advance", "Approve click", "/deal show")
REPLY_TIMEOUT_SECONDS = 20.0  # after a wave of ours, how long its replies may take to arrive
TEAMS = ("TLAT1", "TLAT2")
BOT_TOKEN = "xoxb-bench-latency"
SPANS_PATH = "/bench/spans"
BOOT_TIMEOUT_SECONDS = 60.0
WARMUP_DEALS = 8
TARGET_RATIO = 1.5
TARGET_P99_MS_AT_8 = 100.0

FIXES = {
    "hold-times": "log write transactions held over 30 ms, with where they began, to /tmp/holds.log",
    "sync-normal": "PRAGMA synchronous=NORMAL on every SQLite connection (with WAL, as storage/db.py sets)",
    "no-autocheckpoint": "PRAGMA wal_autocheckpoint=0: no commit copies the WAL back into the database file",
    "threads=N": "bolt's listener pool of N threads (bot/app_factory.py LISTENER_THREADS, 16 today)",
    "pool=N": "SQLAlchemy pool_size=N for the engine (max_overflow 10 kept)",
    "backlog=N": "listen backlog N on both servers (socketserver's default is 5); the same for ours and bare",
    "no-request-log": "drop the per-request INFO log line (bot.request_log.log_line)",
    "answers=N": "N answer threads (bot/after_ack.py answer_threads: 2 on SQLite, 8 on PostgreSQL today)",
    "switch=N": "sys.setswitchinterval(N ms): a thread waiting for the GIL gets it after N ms instead of Python's 5",
    "writer-lock": "one in-process lock taken before BEGIN IMMEDIATE, released after COMMIT/ROLLBACK (storage/db.py)",
    "read-only-reads": (
        "show_deal and the announcer's undelivered_for_deal begin read-only (deferred BEGIN, no write lock)"
    ),
}


# --- the servers (each runs in its own process: `python -m bench.latency --serve real|bare`) ---------------


def serve(arguments: argparse.Namespace) -> int:
    """Build one app, serve it on a free port, print `PORT <n>`, run until stdin closes."""
    import logging
    from wsgiref.simple_server import make_server

    from app import QuietHandler, ThreadingWSGIServer

    fixes = parse_fixes(arguments.fix)
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    spans = Spans() if arguments.profile else None
    wsgi = real_app(arguments, fixes, spans) if arguments.serve == "real" else bare_app(arguments)

    class Server(ThreadingWSGIServer):
        request_queue_size = int(fixes.get("backlog", ThreadingWSGIServer.request_queue_size))

    server = make_server("127.0.0.1", 0, with_spans_route(wsgi, spans), server_class=Server, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    print(f"PORT {server.server_port}", flush=True)
    sys.stdin.read()  # the bench closes our stdin to stop us
    server.shutdown()
    return 0


def parse_fixes(names: Sequence[str]) -> dict[str, str]:
    fixes: dict[str, str] = {}
    for name in names:
        key, _, value = name.partition("=")
        if f"{key}=N" not in FIXES and key not in FIXES:
            raise SystemExit(f"unknown --fix {name!r}; known: {', '.join(FIXES)}")
        fixes[key] = value
    return fixes


def real_app(arguments: argparse.Namespace, fixes: dict[str, str], spans: Spans | None) -> Any:
    from sqlalchemy import event

    import app as app_module
    import bot.app_factory
    import storage.db
    from app import build, load_settings
    from tests.slack_requests import SIGNING_SECRET

    if "threads" in fixes:
        bot.app_factory.LISTENER_THREADS = int(fixes["threads"])
    if "answers" in fixes:
        import bot.after_ack

        bot.after_ack.ANSWER_THREADS = bot.after_ack.ANSWER_THREADS_POSTGRESQL = int(fixes["answers"])
    if "switch" in fixes:
        sys.setswitchinterval(float(fixes["switch"]) / 1000)
    if "pool" in fixes:
        original_create_engine = storage.db.create_engine

        def create_engine_with_pool(url: Any, **kw: Any) -> Any:
            return original_create_engine(url, pool_size=int(fixes["pool"]), **kw)

        storage.db.create_engine = create_engine_with_pool
    if "no-request-log" in fixes:
        import bot.request_log

        bot.request_log.log_line = lambda *args, **kw: None
    original_make_engine = app_module.make_engine

    def make_engine(url: str) -> Any:
        engine = original_make_engine(url)
        if "hold-times" in fixes:
            import time as _time
            import traceback as _tb

            began: dict[int, tuple[float, str]] = {}

            @event.listens_for(engine, "begin")
            def _began(connection: Any) -> None:
                began[id(connection)] = (_time.perf_counter(), "".join(_tb.format_stack(limit=14)[:-3]))

            def _ended(connection: Any) -> None:
                start = began.pop(id(connection), None)
                if start and (held := _time.perf_counter() - start[0]) > 0.03:
                    with open("/tmp/holds.log", "a") as out:
                        out.write(f"=== held {held * 1000:.0f} ms\n{start[1]}\n")

            event.listen(engine, "commit", _ended)
            event.listen(engine, "rollback", _ended)

        if "no-autocheckpoint" in fixes and engine.dialect.name == "sqlite":

            @event.listens_for(engine, "connect")
            def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")

        if "sync-normal" in fixes and engine.dialect.name == "sqlite":

            @event.listens_for(engine, "connect")
            def _synchronous_normal(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()

        if engine.dialect.name == "sqlite" and ("writer-lock" in fixes or "read-only-reads" in fixes):
            serialize_writers(engine, lock="writer-lock" in fixes, read_only_reads="read-only-reads" in fixes)
        if spans is not None:
            spans.watch_engine(engine)
        return engine

    app_module.make_engine = make_engine
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "DATABASE_URL": arguments.database_url,
            "SLACK_API_URL": arguments.slack_url,
            "SALES_MANAGERS": ",".join(MANAGERS),
        }
    )
    if spans is not None:
        spans.watch_app()
    runtime = build(settings)
    if spans is not None:
        spans.watch_executor(runtime.app.listener_runner.listener_executor)
    return runtime.wsgi


READ_ONLY_HERE = threading.local()


def serialize_writers(engine: Any, *, lock: bool, read_only_reads: bool) -> None:
    """The experiments `writer-lock` and `read-only-reads` (see FIXES), on one SQLite engine.

    SQLite's busy handler makes a writer that finds the lock taken sleep 1, 2, 5, 10, … 100 ms between tries,
    however soon the lock is free again; threads of one process that queue on a Python lock instead are woken
    the moment it is released.
    """
    from sqlalchemy import event

    import bot.announcer
    import bot.listeners.slash
    from storage.db import READ_ONLY

    if read_only_reads:
        for owner, name in ((bot.listeners.slash, "show_deal"), (bot.announcer, "undelivered_for_deal")):
            original = getattr(owner, name)

            def read_only_call(*args: Any, _original: Any = original, **kw: Any) -> Any:
                READ_ONLY_HERE.on = True
                try:
                    return _original(*args, **kw)
                finally:
                    READ_ONLY_HERE.on = False

            setattr(owner, name, read_only_call)
    writers = threading.Lock()
    holders: set[int] = set()

    @event.listens_for(engine, "begin", insert=True)  # before storage/db.py's own, which sends BEGIN
    def before_begin(connection: Any) -> None:
        if getattr(READ_ONLY_HERE, "on", False):
            connection.execution_options(**{READ_ONLY: True})
        writes = not connection.get_execution_options().get(READ_ONLY, False)
        if lock and writes and writers.acquire(timeout=2):  # SQLite's busy timeout; then SQLite's own wait decides
            holders.add(id(connection.connection.dbapi_connection))

    dialect = engine.dialect

    def releasing(original: Callable[[Any], None]) -> Callable[[Any], None]:
        def end(dbapi_connection: Any) -> None:
            try:
                original(dbapi_connection)
            finally:
                key = id(getattr(dbapi_connection, "dbapi_connection", dbapi_connection))
                if key in holders:
                    holders.discard(key)
                    writers.release()

        return end

    dialect.do_commit = releasing(dialect.do_commit)
    dialect.do_rollback = releasing(dialect.do_rollback)


def bare_app(arguments: argparse.Namespace) -> Any:
    from slack_bolt import Ack, App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    from tests.slack_requests import SIGNING_SECRET

    app = App(
        signing_secret=SIGNING_SECRET,
        client=WebClient(base_url=arguments.slack_url, token=BOT_TOKEN),
        process_before_response=False,
    )

    def only_ack(ack: Ack) -> None:
        ack()

    app.command("/deal")(only_ack)
    app.command("/advance")(only_ack)
    app.action(APPROVE_ACTION)(only_ack)
    return SlackRequestHandler(app, path="/slack/events")


def with_spans_route(wsgi: Any, spans: Spans | None) -> Any:
    """`GET /bench/spans` answers the spans so far as JSON and starts them again; everything else is the app's."""

    def bench_wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == SPANS_PATH:
            body = json.dumps(spans.take() if spans else {}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if spans is None:
            return wsgi(environ, start_response)
        with spans.span("request, server side (WSGI app)"):
            return wsgi(environ, start_response)

    return bench_wsgi


class Spans:
    """Wall time per named span, summed over every thread; `profile` also keeps a cProfile of each listener
    thread from its start to its ack."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: dict[str, float] = defaultdict(float)
        self._counts: dict[str, int] = defaultdict(int)
        self._local = threading.local()
        self._stats: pstats.Stats | None = None

    def add(self, name: str, seconds: float) -> None:
        with self._lock:
            self._totals[name] += seconds
            self._counts[name] += 1

    @contextmanager
    def span(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    def wrap(self, owner: Any, attribute: str, name: str) -> None:
        original = getattr(owner, attribute)

        def timed(*args: Any, **kw: Any) -> Any:
            with self.span(name):
                return original(*args, **kw)

        setattr(owner, attribute, timed)

    def take(self) -> dict[str, Any]:
        with self._lock:
            taken = {name: [self._totals[name], self._counts[name]] for name in self._totals}
            self._totals.clear()
            self._counts.clear()
            stats, self._stats = self._stats, None
        top: list[list[Any]] = []
        if stats is not None:
            for (filename, line, function), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
                top.append([f"{Path(filename).name}:{line}({function})", calls, tottime, cumtime])
            top.sort(key=lambda entry: -entry[2])
        return {"spans": taken, "profile": top[:25]}

    # what is timed

    def watch_app(self) -> None:
        from slack_bolt import App, BoltResponse
        from slack_bolt.context.ack import Ack

        import bot.http
        import bot.listeners.actions
        import bot.listeners.slash
        import commands.deals.deal
        import commands.deals.moves
        import commands.inbox.requests

        self.wrap(bot.http, "_is_signed", "our signature check (bot/http.py signed_only)")
        self.wrap(bot.http, "parse_slack_body", "our body parse (bot/http.py readable_only)")
        self.wrap(App, "dispatch", "bolt App.dispatch (to the ack)")
        self.wrap(commands.inbox.requests, "first_time", "replay claim: Once.claim (own write transaction)")
        self.wrap(commands.deals.deal, "claim_in", "replay claim: claim_in (in the use case's transaction)")
        self.wrap(commands.deals.moves, "claim_in", "replay claim: claim_in (in the use case's transaction)")
        self.wrap(bot.listeners.slash, "create_deal", "use case create_deal")
        self.wrap(bot.listeners.slash, "show_deal", "use case show_deal")
        self.wrap(bot.listeners.slash, "request_move", "use case request_move")
        self.wrap(bot.listeners.actions, "decide_move", "use case decide_move")
        original_ack = Ack.__call__
        spans = self

        def ack(self: Ack, *args: Any, **kw: Any) -> BoltResponse:
            started = getattr(spans._local, "listener_started", None)
            if started is not None:
                spans.add("listener: start to ack()", time.perf_counter() - started)
                spans._local.listener_started = None
            profile = getattr(spans._local, "profile", None)
            if profile is not None:
                profile.disable()
                spans._local.profile = None
                with spans._lock:
                    if spans._stats is None:
                        spans._stats = pstats.Stats(profile)
                    else:
                        spans._stats.add(profile)
            return original_ack(self, *args, **kw)

        Ack.__call__ = ack  # type: ignore[method-assign]

    def watch_executor(self, executor: Any) -> None:
        original_submit = executor.submit
        spans = self

        def submit(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
            queued = time.perf_counter()

            def run() -> Any:
                started = time.perf_counter()
                spans.add("wait for a listener thread (bolt's listener pool)", started - queued)
                spans._local.listener_started = started
                profile = cProfile.Profile()
                spans._local.profile = profile
                profile.enable()
                try:
                    return fn(*args, **kw)
                finally:
                    if getattr(spans._local, "profile", None) is profile:
                        profile.disable()
                        spans._local.profile = None

            return original_submit(run)

        executor.submit = submit

    def watch_engine(self, engine: Any) -> None:
        from sqlalchemy import event

        spans = self

        @event.listens_for(engine, "before_cursor_execute")
        def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
            conn.info["bench_started"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
            started = conn.info.pop("bench_started", None)
            if started is None:
                return
            verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
            name = f"SQL {statement.strip()[:20]}" if verb == "BEGIN" else f"SQL {verb} (execute)"
            spans.add(name, time.perf_counter() - started)

        dialect = engine.dialect
        original_commit = dialect.do_commit

        def do_commit(dbapi_connection: Any) -> None:
            with spans.span("SQL COMMIT"):
                original_commit(dbapi_connection)

        dialect.do_commit = do_commit
        original_connect = engine.pool._creator

        def creator(*args: Any, **kw: Any) -> Any:
            with spans.span("new database connection"):
                return original_connect(*args, **kw)

        engine.pool._creator = creator
        original_checkout = engine.pool._do_get

        def do_get() -> Any:
            with spans.span("pool checkout (wait for a connection)"):
                return original_checkout()

        engine.pool._do_get = do_get


# --- the bench (this process: the fake Slack and the clients) ------------------------------------------------


@dataclass
class Server:
    name: str
    process: subprocess.Popen[str]
    url: str
    log_path: Path


@contextmanager
def server_process(
    name: str, arguments: argparse.Namespace, *, slack_url: str, database_url: str, log_dir: Path
) -> Iterator[Server]:
    command = [sys.executable, "-m", "bench.latency", "--serve", name, "--slack-url", slack_url]
    command += ["--database-url", database_url]
    if name == "real":
        for fix in arguments.fix:
            command += ["--fix", fix]
        if arguments.profile:
            command += ["--profile"]
    else:
        command += [f"--fix={fix}" for fix in arguments.fix if fix.startswith("backlog=")]
    environment = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
    environment.pop("SLACK_BOT_TOKEN", None)
    log_path = log_dir / f"{name}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        port = wait_for_port(process, log_path)
        yield Server(name, process, f"http://127.0.0.1:{port}", log_path)
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for_port(process: subprocess.Popen[str], log_path: Path) -> int:
    assert process.stdout is not None
    deadline = time.monotonic() + BOOT_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            line = process.stdout.readline()
            if line.startswith("PORT "):
                return int(line.split()[1])
            if not line and process.poll() is not None:
                break
    log = log_path.read_text(errors="replace")[-3000:]
    raise SystemExit(f"bench.latency: a server did not start:\n{log}")


@dataclass
class Cell:
    kind: str
    level: int
    ours: list[Outcome]
    bare: list[Outcome]


def ms(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """The acks' latency."""
    answered = [o.seconds * 1000 for o in outcomes if o.status is not None]
    return {name: round(percentile(answered, share), 1) for name, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))}


def reply_ms(outcomes: Sequence[Outcome]) -> dict[str, float] | None:
    """The answers' latency (sending to the reply's arrival at the fake Slack, or to the click's message being
    edited), over the requests that got one; None when none did."""
    replied = [o.reply_seconds * 1000 for o in outcomes if o.reply_seconds is not None]
    if not replied:
        return None
    return {name: round(percentile(replied, share), 1) for name, share in (("p50", 0.5), ("p99", 0.99))}


def errors_of(outcomes: Sequence[Outcome]) -> list[str]:
    return [o.problem for o in outcomes if o.problem is not None]


def channel_of(team_id: str) -> str:
    return f"C{team_id}"


class Bench:
    def __init__(self, arguments: argparse.Namespace, fake: Any, engine: Any, ours: Server, bare: Server) -> None:
        from tests.slack_requests import SlackSender

        self.arguments = arguments
        self.fake = fake
        self.engine = engine
        deadline = time.monotonic() + 3600
        self.ours = Driver(SlackSender(ours.url + "/slack/events", timeout=10), deadline=deadline, ack_deadline=3.0)
        self.bare = Driver(SlackSender(bare.url + "/slack/events", timeout=10), deadline=deadline, ack_deadline=3.0)
        self.ours_url = ours.url
        self.made = 0  # deals created so far, over both workspaces
        self.spans: dict[tuple[str, int], dict[str, Any]] = {}

    def level(self, level: int, requests: int, *, record: bool = True) -> list[Cell]:
        """One wave of each kind at `level` concurrent requests; each kind first to ours, then to bare."""
        from tests.slack_requests import block_action, slash_command

        first = self.made
        indexes = list(range(first, first + requests))
        self.made += requests
        cells: list[Cell] = []

        def team(index: int) -> str:
            return TEAMS[index % len(TEAMS)]

        def slash(command: str, text: str, *, user_id: str, team_id: str) -> tuple[bytes, str]:
            url = self.fake.response_url(command.strip("/"))
            body = slash_command(
                command, text, user_id=user_id, team_id=team_id, channel_id=channel_of(team_id), response_url=url
            )
            return body, url

        def new_body(index: int) -> tuple[bytes, str]:
            text = (
                f"new Latency deal {index + 1} value:{1000 + index} company:Acme evidence:https://example.com/i/{index}"
            )
            return slash("/deal", text, user_id=REPS[index % len(REPS)], team_id=team(index))

        cells.append(self.wave("/deal new", level, [new_body(i) for i in indexes], CREATED, record))
        self.settle(
            "cards", lambda: count(self.engine, "SELECT COUNT(*) FROM deal WHERE thread_ts IS NOT NULL") >= self.made
        )
        deals = rows(
            self.engine,
            "SELECT team_id, number, owner_id FROM deal ORDER BY id LIMIT :n OFFSET :o",
            n=requests,
            o=first,
        )
        advance = [
            slash(
                "/advance",
                f"deal-{number} evidence:https://example.com/replies/{team_id}/{number}",
                user_id=owner,
                team_id=team_id,
            )
            for team_id, number, owner in deals
        ]
        cells.append(self.wave("/advance", level, advance, ASKED, record))
        self.settle(
            "move messages",
            lambda: count(self.engine, "SELECT COUNT(*) FROM move_request WHERE message_ts IS NOT NULL") >= self.made,
        )
        moves = rows(
            self.engine,
            "SELECT m.id, m.team_id, m.message_ts, d.thread_ts FROM move_request m JOIN deal d ON d.id = m.deal_id "
            "WHERE m.status = 'pending' ORDER BY m.id",
        )
        clicks: list[tuple[bytes, str | None]] = []
        for position, (move_id, team_id, message_ts, thread_ts) in enumerate(moves):
            shown = self.fake.message(channel_of(team_id), message_ts) or {}
            clicks.append(
                (
                    block_action(
                        APPROVE_ACTION,
                        str(move_id),
                        user_id=MANAGERS[position % len(MANAGERS)],
                        team_id=team_id,
                        channel_id=channel_of(team_id),
                        message_ts=message_ts,
                        thread_ts=thread_ts,
                        block_id=actions_block_id(shown.get("blocks") or []),
                        message={"text": shown.get("text", ""), "blocks": shown.get("blocks") or []},
                    ),
                    None,  # the click's outcome is shown in the thread (chat.update), not on a response_url
                )
            )
        where = [(channel_of(team_id), message_ts) for _move_id, team_id, message_ts, _thread_ts in moves]
        cells.append(self.wave("Approve click", level, clicks, None, record, shown=where))
        self.settle(
            "decisions posted",
            lambda: (
                count(self.engine, "SELECT COUNT(*) FROM move_request WHERE status = 'pending'") == 0
                and self.owed() == 0
            ),
        )
        cells[-1].ours = self.judge_clicks(cells[-1].ours, moves)
        show = [
            slash("/deal", f"show deal-{number}", user_id=owner, team_id=team_id) for team_id, number, owner in deals
        ]
        cells.append(self.wave("/deal show", level, show, None, record))
        return cells

    def judge_clicks(self, outcomes: list[Outcome], moves: Sequence[Any]) -> list[Outcome]:
        """A click's outcome is shown in the thread, not in a reply: once the decisions have settled, a click whose
        move (`moves`, in click order) is still pending never had one. What the clicker was told, if anything, is
        in the error."""
        pending = {row[0] for row in rows(self.engine, "SELECT id FROM move_request WHERE status = 'pending'")}
        notes = self.fake.ephemerals
        judged = []
        for outcome, (move_id, team_id, _message_ts, thread_ts) in zip(outcomes, moves, strict=True):
            if move_id in pending and outcome.problem is None:
                told = [
                    n["text"][:120]
                    for n in notes
                    if (n["channel"], n.get("thread_ts")) == (channel_of(team_id), thread_ts)
                ]
                outcome = replace(outcome, problem=f"the click's move is still pending after the wave; told: {told}")
            judged.append(outcome)
        return judged

    def owed(self) -> int:
        try:
            return count(self.engine, "SELECT COUNT(*) FROM announcement WHERE status IN ('pending', 'sending')")
        except Exception:  # noqa: BLE001 -- another schema: settle on the moves alone
            return 0

    def wave(
        self,
        kind: str,
        level: int,
        requests: Sequence[tuple[bytes, str | None]],
        expect: Expect,
        record: bool,
        shown: Sequence[tuple[str, str] | None] | None = None,
    ) -> Cell:
        """`requests`: each body, with the response_url in it where ours owes a reply (whose text `expect` judges,
        see judge_replies), or None (a click); `shown`: for a click, the (channel, ts) of the message its outcome
        is shown in."""
        shown = shown if shown is not None else [None] * len(requests)
        if record:
            self.take_spans()  # what came before is not this wave's
        if self.arguments.open_loop:
            tasks = [self.task(self.ours, kind, body, url) for body, url in requests]
        else:
            tasks = [self.person(kind, body, url, seen) for (body, url), seen in zip(requests, shown, strict=True)]
        ours = run_wave(kind, tasks, concurrency=level)
        if record:
            self.spans[(kind, level)] = {"requests": len(requests), **self.take_spans()}
        # The bare app acks and does nothing after: wait until ours has sent its replies and finished its posts,
        # so they do not slow the bare wave down (the next wave of ours waits for them too).
        self.await_replies(ours.outcomes)
        self.settle_posts()
        # The same bodies to bare: it only acks, so the response URLs in them get nothing from it.
        bare = run_wave(kind, [self.task(self.bare, kind, body, None) for body, _url in requests], concurrency=level)
        # Judged after the bare wave too: a reply ours sent twice has had that long to arrive.
        judged = judge_replies(ours.outcomes, Replies.of(self.fake), expect)
        return Cell(kind, level, judged, bare.outcomes)

    def task(self, driver: Driver, kind: str, body: bytes, response_url: str | None) -> Callable[[], Outcome]:
        return lambda: driver.send(kind, body, response_url=response_url)

    def person(
        self, kind: str, body: bytes, response_url: str | None, shown: tuple[str, str] | None
    ) -> Callable[[], Outcome]:
        """A request to ours by a person who waits for its answer before their next one, as with the old acks
        that carried the answer: so concurrency N is N requests in flight until answered, and the work ours
        does after its acks cannot pile up beyond N. The answer is the reply at the response_url, or, for a
        click, the edit of the move's message in the thread; its time is the request's `reply_seconds`."""

        def send() -> Outcome:
            outcome = self.ours.send(kind, body, response_url=response_url)
            if outcome.status != 200:
                return outcome
            if response_url is not None:
                answered = self.fake.await_response(response_url, REPLY_TIMEOUT_SECONDS)
            elif shown is not None:
                answered = self.fake.await_update(*shown, REPLY_TIMEOUT_SECONDS)
            else:
                return outcome
            return replace(outcome, reply_seconds=None if answered is None else answered - outcome.started)

        return send

    def await_replies(self, outcomes: Sequence[Outcome]) -> None:
        """Wait until a reply has arrived at every response URL ours owes one (or REPLY_TIMEOUT_SECONDS passed:
        judge_replies then counts the missing ones)."""
        owed = awaited(outcomes)
        deadline = time.monotonic() + REPLY_TIMEOUT_SECONDS
        while owed and time.monotonic() < deadline:
            owed -= {url for url, _arrived in self.fake.response_arrivals}
            if owed:
                time.sleep(0.02)

    def settle_posts(self) -> None:
        """Wait until the fake Slack has seen no call and no reply for a moment: the posts after ours' acks are
        done."""
        deadline = time.monotonic() + 20
        seen = -1
        while time.monotonic() < deadline:
            now = len(self.fake.calls) + len(self.fake.response_arrivals)
            if now == seen:
                return
            seen = now
            time.sleep(0.15)

    def settle(self, what: str, done: Callable[[], bool]) -> None:
        _seconds, failure = settle(what, done, deadline=time.monotonic() + 30)
        if failure:
            print(f"bench.latency: {failure}", file=sys.stderr)

    def take_spans(self) -> dict[str, Any]:
        if not self.arguments.profile:
            return {}
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(self.ours_url + SPANS_PATH, timeout=10) as reply:
            return json.loads(reply.read())


def report(
    cells: list[Cell], arguments: argparse.Namespace, *, database: str, seconds: float, load: float
) -> dict[str, Any]:
    table: list[dict[str, Any]] = []
    for cell in cells:
        ours, bare = ms(cell.ours), ms(cell.bare)
        table.append(
            {
                "kind": cell.kind,
                "concurrency": cell.level,
                "requests": len(cell.ours),
                "ours_ms": ours,
                "reply_ms": reply_ms(cell.ours),
                "bare_ms": bare,
                "ratio_p50": round(ours["p50"] / bare["p50"], 2) if bare["p50"] else None,
                "errors": len(errors_of(cell.ours)),
                "bare_errors": len(errors_of(cell.bare)),
                "error_details": sorted(set(e[:160] for e in errors_of(cell.ours) + errors_of(cell.bare)))[:5],
            }
        )
    targets = {
        "p50 within 1.5x of bare at every level": all(
            row["ratio_p50"] is not None and row["ratio_p50"] <= TARGET_RATIO for row in table
        ),
        "p99 under 100 ms at concurrency 8": all(
            row["ours_ms"]["p99"] < TARGET_P99_MS_AT_8 for row in table if row["concurrency"] == 8
        ),
        "no errors at 32": all(row["errors"] == 0 for row in table if row["concurrency"] == 32),
    }
    return {
        "database": database,
        "fixes": list(arguments.fix),
        "open_loop": bool(arguments.open_loop),
        "cores": os.cpu_count(),
        "load_average_at_start": round(load, 2),
        "seconds": round(seconds, 1),
        "rows": table,
        "targets": targets,
    }


def render(summary: dict[str, Any]) -> str:
    fixes = ", ".join(summary["fixes"]) or "none"
    lines = [
        f"Ack and reply latency: ours (the real app) vs bare Bolt; {summary['database']}; fixes: {fixes}; "
        f"{'open loop; ' if summary.get('open_loop') else ''}"
        f"{summary['cores']} cores, load average at start {summary['load_average_at_start']:g}, "
        f"{summary['seconds']:g} s",
        "",
        "ms; ours ack: to the ack (what Slack waits for); ours reply: to the reply at the response_url, or for a "
        "click to its message's edit (what the person waits for)",
        "",
        f"{'kind':<15}{'conc':>5}{'n':>5} | {'ours ack p50':>12}{'p95':>8}{'p99':>8} | {'reply p50':>9}{'p99':>8}"
        f" | {'bare ack p50':>12}{'p95':>8}{'p99':>8} | {'ratio p50':>9}{'errors':>7}",
    ]
    for row in summary["rows"]:
        ours, bare, reply = row["ours_ms"], row["bare_ms"], row["reply_ms"]
        ratio = f"{row['ratio_p50']:.2f}" if row["ratio_p50"] is not None else "-"
        replied = f"{reply['p50']:>9.1f}{reply['p99']:>8.1f}" if reply else f"{'-':>9}{'-':>8}"
        lines.append(
            f"{row['kind']:<15}{row['concurrency']:>5}{row['requests']:>5} | {ours['p50']:>12.1f}{ours['p95']:>8.1f}"
            f"{ours['p99']:>8.1f} | {replied} | {bare['p50']:>12.1f}{bare['p95']:>8.1f}{bare['p99']:>8.1f} | "
            f"{ratio:>9}{row['errors']:>7}" + (f" (bare {row['bare_errors']})" if row["bare_errors"] else "")
        )
        lines.extend(f"    {detail}" for detail in row["error_details"])
    lines.append("")
    for target, held in summary["targets"].items():
        lines.append(f"target {target}: {'held' if held else 'MISSED'}")
    return "\n".join(lines)


def render_spans(spans: dict[tuple[str, int], dict[str, Any]], level: int) -> str:
    lines = [f"Where the time goes in ours, at concurrency {level} (wall ms per request, summed over threads)"]
    for (kind, at_level), data in spans.items():
        if at_level != level or not data.get("spans"):
            continue
        n = data["requests"]
        lines.append("")
        lines.append(f"{kind} ({n} requests)")
        for name, (total, calls) in sorted(data["spans"].items(), key=lambda item: -item[1][0]):
            lines.append(f"  {name:<58}{total * 1000 / n:>9.2f} ms  ({calls / n:.1f} per request)")
        if data.get("profile"):
            lines.append("  cProfile of the listener thread from its start to ack() (own time, ms per request):")
            for where, calls, tottime, cumtime in data["profile"][:12]:
                lines.append(f"    {tottime * 1000 / n:>7.2f} own {cumtime * 1000 / n:>7.2f} cum  {calls:>6}  {where}")
    return "\n".join(lines)


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.latency",
        description=(__doc__ or "").split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="fixes (--fix, repeatable; applied to the real app's process only, except backlog):\n"
        + "\n".join(f"  {name:<16}{what}" for name, what in FIXES.items()),
    )
    parser.add_argument("--requests", type=int, default=200, help="requests per kind per level (default 200)")
    parser.add_argument("--requests-at-1", type=int, help="requests per kind at concurrency 1 (default: --requests)")
    parser.add_argument("--levels", default="1,8,32", help="concurrency levels, comma-separated (default 1,8,32)")
    parser.add_argument(
        "--database-url",
        help="the real app's database: a SQLite file that does not exist yet, or a PostgreSQL database whose "
        "name starts with bench (created and dropped). Default: a temporary SQLite file",
    )
    parser.add_argument("--fix", action="append", default=[], help="a candidate fix to apply, see below")
    parser.add_argument("--profile", action="store_true", help="time spans inside the real app and print them")
    parser.add_argument("--profile-level", type=int, default=8, help="the level whose spans are printed (default 8)")
    parser.add_argument(
        "--open-loop",
        action="store_true",
        help="ours' clients go on at the ack, as bare's do, without waiting for the answer: an overload, whose "
        "answers queue without limit (see the module's docstring)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--serve", choices=("real", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--slack-url", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    arguments.level_list = [int(level) for level in arguments.levels.split(",") if level.strip()]
    if min([arguments.requests, *arguments.level_list]) < 1:
        parser.error("--requests and every level must be at least 1")
    if arguments.serve is None:
        parse_fixes(arguments.fix)
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    if arguments.serve:
        return serve(arguments)
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from tests.fakes import slack_api
    from tests.fakes.slack_api import FakeSlack

    slack_api._Server.request_queue_size = FAKE_SLACK_BACKLOG
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with ExitStack() as stack:
        temp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_latency_")))
        url = arguments.database_url or f"sqlite:///{temp / 'latency.db'}"
        url = stack.enter_context(own_database(url))
        fake = stack.enter_context(FakeSlack())
        ours = stack.enter_context(
            server_process("real", arguments, slack_url=fake.base_url, database_url=url, log_dir=temp)
        )
        bare = stack.enter_context(
            server_process("bare", arguments, slack_url=fake.base_url, database_url=url, log_dir=temp)
        )
        engine = create_engine(url)
        stack.callback(engine.dispose)
        bench = Bench(arguments, fake, engine, ours, bare)
        bench.level(4, WARMUP_DEALS, record=False)  # imports, compiled SQL, connections, caches
        cells: list[Cell] = []
        for level in arguments.level_list:
            n = arguments.requests_at_1 if level == 1 and arguments.requests_at_1 else arguments.requests
            cells += bench.level(level, n)
        seconds = time.perf_counter() - started
        parsed = make_url(url)
        database = f"{parsed.get_backend_name()} ({Path(parsed.database or '').name})"
        summary = report(cells, arguments, database=database, seconds=seconds, load=load)
        violations = list(fake.violations)
        app_errors = [line for line in ours.log_path.read_text(errors="replace").splitlines() if " ERROR " in line]
    if arguments.json:
        summary["spans"] = {f"{kind} @{level}": data for (kind, level), data in bench.spans.items()}
        print(json.dumps(summary, indent=2))
    else:
        print(render(summary))
        if arguments.profile:
            print()
            print(render_spans(bench.spans, arguments.profile_level))
    if violations or app_errors:
        print(f"fake Slack violations: {len(violations)}; app log ERROR lines: {len(app_errors)}", file=sys.stderr)
        for line in (violations + app_errors)[:10]:
            print(f"  {line}", file=sys.stderr)
    return 0 if all(row["errors"] == 0 for row in summary["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
