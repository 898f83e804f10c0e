"""Do N stateless gunicorn workers on one database keep the bot's promises under concurrent load?

Starts the tests' honest fake Slack Web API in this process and the app under gunicorn
(`-w N --threads T 'app:create_wsgi()'`, the README's HTTP mode), then sends signed Slack requests
from a thread pool, in three waves:

1. `/deal new` from reps in several workspaces at once;
2. `/advance deal-<n> evidence:<link>` for every deal, by its owner;
3. a manager clicks Approve on every pending move; on a subset two managers click it at the same instant.

The app acks a slash command or a click at once, with an empty body, and answers after the ack: a slash
command's reply (ephemeral) goes to its `response_url`, a click's outcome is shown in the move's message in
the thread. So each slash command gets a `response_url` of its own, served by the fake Slack, and a request
is judged twice:

- its **ack** (what is timed): answered 200 within Slack's 3 seconds, not a refusal, and empty (ours says
  nothing in the ack);
- for a slash command, its **reply**: exactly one post at its response_url, whose text says what the person
  should see ("Created deal-<n> " for `/deal new`, "Asked to move deal-" for `/advance`).

A missing or wrong reply is an error of that request. Between waves it waits until the work each listener
does after its ack (the reply, the card, the move message) is posted and recorded, as a person would; the
replies are judged at the end, after a quiet second in which a reply sent twice would arrive. Afterwards
the database and what the fake Slack received must show: deal numbers 1..n per workspace without gaps or
repeats (in the rows and in the replies), every deal at the second stage with exactly one approved move,
each contested move decided once (the other manager told "Nothing changed"), one card per deal, and no
thread post made twice.

Run from the repository root (see bench/README.md):

    python -m bench.load [--workers 4] [--threads 8] [--concurrency 32] [--deals 400] [--teams 2] [--json]

By default it creates the PostgreSQL database `bench_load` on 127.0.0.1:5432 (dropping a leftover one
first) and drops it at the end. `--database-url` names another PostgreSQL database (its name must start
with "bench", since it is dropped) or a SQLite file that does not exist yet. Exits 1 when a request
failed or a check did not hold, 2 when the app could not be started.
"""

import argparse
import http.client
import json
import math
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from commands.pipeline.loading import default_pipeline
from commands.pipeline.stages import Stage
from tests.fakes import slack_api
from tests.fakes.slack_api import FakeSlack
from tests.slack_requests import SIGNING_SECRET, SlackSender, block_action, slash_command

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_load"
PROTECTED_DATABASES = frozenset({"test", "postgres", "template0", "template1"})
OWN_DATABASE_PREFIX = "bench"

MANAGERS = ("UMGR01", "UMGR02")
REPS = tuple(f"UREP{n:02d}" for n in range(1, 13))
APPROVE_ACTION = "move_approve"
REFUSAL = ":no_entry_sign:"
ALREADY_DECIDED = ("Nothing changed", "already")
CREATED = re.compile(r"^Created deal-(\d+) ")
ASKED = "Asked to move deal-"

ACK_DEADLINE_SECONDS = 3.0  # Slack shows the user an error when the ack takes longer
BOOT_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 20.0
POLL_SECONDS = 0.05
SETTLE_TIMEOUT_SECONDS = 20.0  # the app's posts after a wave's acks; a post that never comes should not eat the run
QUIET_SECONDS = 1.0  # after the last expected post, how long to watch for posts that should not come
LOG_LINES_SHOWN = 15
FAKE_SLACK_BACKLOG = 128

# gunicorn's config file for the run (`-c`). post_worker_init runs once a worker has loaded the app
# (migrated, wired), so it takes requests. gunicorn 25+ opens a control socket at one fixed path in $HOME
# by default; a bench must not take over another gunicorn's socket (older versions ignore the setting).
GUNICORN_CONFIG = (
    "control_socket_disable = True\n"
    "\n"
    "\n"
    "def post_worker_init(worker):\n"
    '    worker.log.info("bench: worker %s ready", worker.pid)\n'
)
READY_MARK = "bench: worker "
LOG_ERROR = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback")
VARYING = re.compile(r"\d{4}-\d\d-\d\d[ T][\d:,.]+|\d+\.\d+|(?<=deal-)\d+|(?<=\[)\d+(?=\])|(?<=pid: )\d+")


# --- what was sent and what came back -----------------------------------------------------------


# How a reply's text must begin: a prefix, a pattern that must match, or None for any text that is not a refusal.
Expect = str | re.Pattern[str] | None


@dataclass(frozen=True)
class Outcome:
    wave: str
    status: int | None  # None: no HTTP answer
    started: float  # time.perf_counter() when sent
    seconds: float  # to the ack
    text: str  # the ack's text ("" for the empty ack)
    problem: str | None
    response_url: str | None = None  # where the reply is expected (a slash command); None: no reply expected
    reply: str | None = None  # the text of the first reply at response_url, once judged (judge_replies)
    reply_seconds: float | None = None  # from sending to that reply's arrival at the fake Slack


@dataclass
class Wave:
    name: str
    outcomes: list[Outcome]
    seconds: float
    settle_seconds: float = 0.0


@dataclass(frozen=True)
class Contest:
    """A move two managers approve at the same instant."""

    move_id: int
    team_id: str
    channel_id: str
    thread_ts: str
    clicks: tuple[int, int]  # indexes of the two clicks' outcomes in the Approve wave


@dataclass
class Run:
    waves: list[Wave] = field(default_factory=list)
    contests: list[Contest] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # beyond the requests' own: the fake's and the app log's
    failures: list[str] = field(default_factory=list)  # checks that did not hold
    load_average: float = 0.0  # the machine's 1-minute load when the run began: other work competes for the cores
    cpu_seconds: dict[str, float] = field(default_factory=dict)


class Driver:
    """Sends signed requests and judges each ack the way Slack would; `judge_replies` judges the replies."""

    def __init__(self, sender: SlackSender, *, deadline: float, ack_deadline: float) -> None:
        self._sender = sender
        self._deadline = deadline
        self._ack_deadline = ack_deadline

    def send(
        self, wave: str, body: bytes, *, response_url: str | None = None, barrier: threading.Barrier | None = None
    ) -> Outcome:
        """POST `body` and judge its ack: 200, in time, not a refusal, empty. `response_url` is the one in `body`
        when a reply is expected there (a slash command): `judge_replies` judges it later."""
        if time.monotonic() > self._deadline:
            return Outcome(
                wave, None, time.perf_counter(), 0.0, "", "not sent: the run's time limit was reached", response_url
            )
        if barrier is not None:
            try:
                barrier.wait(timeout=self._sender.timeout)
            except threading.BrokenBarrierError:
                return Outcome(
                    wave, None, time.perf_counter(), 0.0, "", "not sent: the other click never came", response_url
                )
        started = time.perf_counter()
        try:
            response = self._sender.post(body)
        except (OSError, http.client.HTTPException) as error:  # refused, reset, timed out, malformed answer
            seconds = time.perf_counter() - started
            return Outcome(wave, None, started, seconds, "", f"no answer: {error!r}", response_url)
        seconds = time.perf_counter() - started
        if response.status != 200:
            refused = f"HTTP {response.status}: {response.text:.200}"
            return Outcome(wave, response.status, started, seconds, "", refused, response_url)
        answer = response.json()
        shown = str(answer.get("text", "")) if isinstance(answer, dict) else ""
        problem = self._judge(shown, response.text.strip(), seconds)
        return Outcome(wave, 200, started, seconds, shown, problem, response_url)

    def _judge(self, shown: str, body: str, seconds: float) -> str | None:
        if seconds > self._ack_deadline:
            return f"late ack: {seconds:.2f} s (Slack shows an error after {self._ack_deadline:g} s)"
        if shown.startswith(REFUSAL):
            return f"refused in the ack: {shown:.200}"
        if body:
            return f"unexpected ack (the ack should be empty, the answer comes after it): {body:.200}"
        return None


@dataclass(frozen=True)
class Replies:
    """What the app posted to the fake Slack's response URLs so far: per URL, each post's text and when it
    arrived (time.perf_counter(), the clock the Driver times requests with; the fake runs in this process)."""

    by_url: dict[str, list[tuple[str, float]]]

    @classmethod
    def of(cls, fake: FakeSlack) -> "Replies":
        responses = fake.responses
        arrivals = fake.response_arrivals  # one per response, in the same order; taken after: never shorter
        by_url: dict[str, list[tuple[str, float]]] = {}
        for response, (url, arrived) in zip(responses, arrivals, strict=False):
            assert response["url"] == url, "the fake's responses and their arrivals are out of step"
            by_url.setdefault(url, []).append((str(response.get("text") or ""), arrived))
        return cls(by_url)


def awaited(outcomes: Sequence[Outcome]) -> set[str]:
    """The response URLs a reply is owed at: slash commands whose ack went well (a refused or failed one may
    never be answered)."""
    return {o.response_url for o in outcomes if o.response_url is not None and o.status == 200 and o.problem is None}


def replied(fake: FakeSlack, outcomes: Sequence[Outcome]) -> bool:
    """Has every reply owed to these requests arrived at the fake Slack (at least one post at each URL)?"""
    owed = awaited(outcomes)
    return not owed or owed <= {url for url, _arrived in fake.response_arrivals}


def judge_replies(outcomes: Sequence[Outcome], replies: Replies, expect: Expect) -> list[Outcome]:
    """Each request that expected a reply, with its reply: exactly one post at its response_url, whose text
    begins with `expect` (a prefix, or a pattern that must match; None: any text that is not a refusal).
    A missing, doubled or wrong reply is the request's problem, unless its ack already had one."""
    judged = []
    for outcome in outcomes:
        if outcome.response_url is None:
            judged.append(outcome)
            continue
        got = replies.by_url.get(outcome.response_url, [])
        text, arrived = got[0] if got else (None, None)
        problem: str | None
        if not got:
            problem = "no reply at the response_url"
        elif len(got) > 1:
            problem = f"{len(got)} replies at the response_url, wanted one: {[t[:60] for t, _ in got]}"
        else:
            problem = reply_problem(text or "", expect)
        judged.append(
            replace(
                outcome,
                reply=text,
                reply_seconds=None if arrived is None else arrived - outcome.started,
                problem=outcome.problem or problem,
            )
        )
    return judged


def reply_problem(text: str, expect: Expect) -> str | None:
    if text.startswith(REFUSAL):
        return f"refused in the reply: {text:.200}"
    if isinstance(expect, str) and not text.startswith(expect):
        return f"unexpected reply: {text:.200}"
    if isinstance(expect, re.Pattern) and not expect.match(text):
        return f"unexpected reply: {text:.200}"
    return None


def run_wave(name: str, tasks: Sequence[Callable[[], Outcome]], *, concurrency: int) -> Wave:
    """Run the tasks on `concurrency` threads; outcomes come back in task order."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=f"load-{name}") as pool:
        outcomes = list(pool.map(lambda task: task(), tasks))
    return Wave(name, outcomes, time.perf_counter() - started)


# --- the database -------------------------------------------------------------------------------


@contextmanager
def own_database(url: str) -> Iterator[str]:
    """A fresh, empty database at `url`, removed afterwards."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not parsed.database or parsed.database == ":memory:" or path.exists():
            raise SystemExit(f"{url}: give a SQLite file that does not exist yet (gunicorn's workers share it)")
        try:
            yield url
        finally:
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
        return
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit(f"{url}: the bench runs on PostgreSQL or SQLite")
    name = parsed.database or ""
    if name in PROTECTED_DATABASES or not name.startswith(OWN_DATABASE_PREFIX):
        raise SystemExit(f"{url}: the bench drops its database, so name one of its own (bench_…), not {name!r}")
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    quoted = server.dialect.identifier_preparer.quote(name)
    try:
        try:
            with server.connect() as connection:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
                connection.exec_driver_sql(f"CREATE DATABASE {quoted}")
        except OperationalError as error:
            raise SystemExit(f"{url}: could not create the database: {error.orig}") from None
        try:
            yield url
        finally:
            with server.connect() as connection:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    finally:
        server.dispose()


def count(engine: Engine, sql: str, **params: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql), params).scalar_one())


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(text(sql), params).all())


# --- the app under gunicorn ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def app_environment(*, database_url: str, slack_api_url: str, log_level: str) -> dict[str, str]:
    """The app's settings; every one is set (empty when unused) so a developer's `.env` cannot leak in."""
    environment = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
    environment.update(
        SLACK_BOT_TOKEN="xoxb-bench-load",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_APP_TOKEN="",
        DATABASE_URL=database_url,
        SLACK_API_URL=slack_api_url,
        SALES_MANAGERS=",".join(MANAGERS),
        RUN_SCHEDULER="false",
        PIPELINE_FILE="",
        PORT="",
        LOG_LEVEL=log_level,
    )
    return environment


def gunicorn_command(*, workers: int, threads: int, port: int, config: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "-b",
        f"127.0.0.1:{port}",
        "-c",
        str(config),
        "app:create_wsgi()",
    ]


class AppStartError(Exception):
    """gunicorn or one of its workers did not come up; the message says what the log showed."""


@contextmanager
def gunicorn(command: list[str], *, environment: dict[str, str], log_path: Path, workers: int) -> Iterator[None]:
    """Run gunicorn until every worker has loaded the app and /healthz answers 200; stop it afterwards."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_ready(process, log_path=log_path, workers=workers, health_url=health_url(command))
        yield
    finally:
        stop(process)


def health_url(command: list[str]) -> str:
    return f"http://{command[command.index('-b') + 1]}/healthz"


def wait_until_ready(process: subprocess.Popen[bytes], *, log_path: Path, workers: int, health_url: str) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + BOOT_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AppStartError(f"gunicorn exited with {process.returncode}:\n{tail(log_path)}")
        ready = log_path.read_text(errors="replace").count(READY_MARK)
        if ready >= workers and health_status(opener, health_url) == 200:
            return
        time.sleep(0.2)
    raise AppStartError(f"gunicorn was not ready after {BOOT_TIMEOUT_SECONDS:g} s:\n{tail(log_path)}")


def health_status(opener: urllib.request.OpenerDirector, url: str) -> int | None:
    try:
        with opener.open(url, timeout=5) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, http.client.HTTPException):
        return None


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM is gunicorn's graceful stop: workers finish their requests, then exit."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


def tail(log_path: Path, lines: int = 30) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


def cpu_seconds(after: resource.struct_rusage, before: resource.struct_rusage) -> float:
    return round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1)


def logged_errors(log_path: Path) -> list[str]:
    return [line for line in log_path.read_text(errors="replace").splitlines() if LOG_ERROR.search(line)]


# --- the load -----------------------------------------------------------------------------------


def team_ids(teams: int) -> list[str]:
    return [f"TBENCH{n}" for n in range(1, teams + 1)]


def channel_of(team_id: str) -> str:
    return f"CSALES{team_id.removeprefix('TBENCH')}"


def create_deals(driver: Driver, fake: FakeSlack, *, deals: int, teams: list[str], concurrency: int) -> Wave:
    def task(index: int) -> Callable[[], Outcome]:
        team_id = teams[index % len(teams)]
        evidence = f"https://example.com/invites/{index + 1}"
        text = f"new Bench deal {index + 1} value:{1000 + index} company:Acme evidence:{evidence}"
        url = fake.response_url("deal-new")
        body = slash_command(
            "/deal",
            text,
            user_id=REPS[index % len(REPS)],
            team_id=team_id,
            channel_id=channel_of(team_id),
            response_url=url,
        )
        return lambda: driver.send("/deal new", body, response_url=url)

    return run_wave("/deal new", [task(index) for index in range(deals)], concurrency=concurrency)


def advance_deals(driver: Driver, engine: Engine, fake: FakeSlack, *, concurrency: int) -> Wave:
    deals = rows(engine, "SELECT team_id, number, owner_id FROM deal ORDER BY id")

    def task(team_id: str, number: int, owner_id: str) -> Callable[[], Outcome]:
        text = f"deal-{number} evidence:https://example.com/buyer-replies/{team_id}/{number}"
        url = fake.response_url("advance")
        body = slash_command(
            "/advance", text, user_id=owner_id, team_id=team_id, channel_id=channel_of(team_id), response_url=url
        )
        return lambda: driver.send("/advance", body, response_url=url)

    return run_wave("/advance", [task(*deal) for deal in deals], concurrency=concurrency)


def approve_moves(
    driver: Driver, engine: Engine, fake: FakeSlack, *, contested: int, seed: int, timeout: float, concurrency: int
) -> tuple[Wave, list[Contest]]:
    """One click per move; for `contested` moves (chosen at random) both managers click at the same instant."""
    moves = rows(
        engine,
        "SELECT m.id, m.team_id, m.message_ts, d.thread_ts FROM move_request m JOIN deal d ON d.id = m.deal_id "
        "WHERE m.status = 'pending' ORDER BY m.id",
    )
    chosen = set(random.Random(seed).sample(range(len(moves)), k=min(contested, len(moves))))
    tasks: list[Callable[[], Outcome]] = []
    contests: list[Contest] = []

    def click(
        move_id: int, team_id: str, message_ts: str, thread_ts: str, manager: str, barrier: threading.Barrier | None
    ) -> None:
        channel_id = channel_of(team_id)
        shown = fake.message(channel_id, message_ts) or {}  # Slack sends the clicked message with the click
        body = block_action(
            APPROVE_ACTION,
            str(move_id),
            user_id=manager,
            team_id=team_id,
            channel_id=channel_id,
            message_ts=message_ts,
            thread_ts=thread_ts,
            block_id=actions_block_id(shown.get("blocks") or []),
            message={"text": shown.get("text", ""), "blocks": shown.get("blocks") or []},
        )
        tasks.append(lambda: driver.send("Approve click", body, barrier=barrier))

    for index, (move_id, team_id, message_ts, thread_ts) in enumerate(moves):
        if index in chosen:
            barrier = threading.Barrier(2, timeout=timeout)
            first = len(tasks)
            for manager in MANAGERS:
                click(move_id, team_id, message_ts, thread_ts, manager, barrier)
            contests.append(Contest(move_id, team_id, channel_of(team_id), thread_ts, (first, first + 1)))
        else:
            click(move_id, team_id, message_ts, thread_ts, MANAGERS[index % len(MANAGERS)], None)
    # Both clicks of a pair are queued next to each other, so a pool of two or more threads runs them together.
    return run_wave("Approve click", tasks, concurrency=max(concurrency, 2)), contests


def actions_block_id(blocks: list[dict[str, Any]]) -> str:
    return next((str(block.get("block_id")) for block in blocks if block.get("type") == "actions"), "b")


def settle(what: str, done: Callable[[], bool], *, deadline: float) -> tuple[float, str | None]:
    """Wait until the work the app does after its acks is done; seconds waited, and a failure if it never was."""
    started = time.monotonic()
    deadline = min(deadline, started + SETTLE_TIMEOUT_SECONDS)
    while not done():
        if time.monotonic() > deadline:
            return time.monotonic() - started, f"never settled: {what}"
        time.sleep(POLL_SECONDS)
    return time.monotonic() - started, None


@dataclass(frozen=True)
class Expected:
    """What the fake Slack should have received once everything is done."""

    posts: int  # per deal: its card, its move message, the decision reply
    updates: int  # per deal: the move message shows the outcome, the card shows the new stage
    ephemerals: int  # one "Nothing changed" per contested move

    def reached(self, fake: FakeSlack) -> bool:
        return (
            len(fake.calls_to("chat.postMessage")) >= self.posts
            and len(fake.calls_to("chat.update")) >= self.updates
            and len(fake.calls_to("chat.postEphemeral")) >= self.ephemerals
        )


# --- the checks ---------------------------------------------------------------------------------


def check_numbers(engine: Engine, created: Wave, teams: list[str]) -> list[str]:
    """Per workspace: numbers 1..n, gap-free and unique, in the database, its sequence, and the replies
    (`created`'s outcomes once judge_replies has read them)."""
    failures = []
    wanted = Counter(teams[index % len(teams)] for index in range(len(created.outcomes)))
    replied_numbers: dict[str, list[int]] = {team: [] for team in teams}
    for index, outcome in enumerate(created.outcomes):
        match = CREATED.match(outcome.reply or "")
        if match:
            replied_numbers[teams[index % len(teams)]].append(int(match.group(1)))
    for team in teams:
        numbers = [row[0] for row in rows(engine, "SELECT number FROM deal WHERE team_id = :t ORDER BY number", t=team)]
        expected = list(range(1, wanted[team] + 1))
        if numbers != expected:
            failures.append(f"{team}: deal numbers are not 1..{wanted[team]}: {describe_numbers(numbers)}")
        last = rows(engine, "SELECT last_number FROM deal_sequence WHERE team_id = :t", t=team)
        if [row[0] for row in last] != [wanted[team]]:
            failures.append(f"{team}: deal_sequence.last_number is {last}, not {wanted[team]}")
        if sorted(replied_numbers[team]) != expected:
            failures.append(
                f"{team}: the replies named deals {describe_numbers(sorted(replied_numbers[team]))}, "
                f"not 1..{wanted[team]}"
            )
    return failures


def describe_numbers(numbers: list[int]) -> str:
    repeats = sorted(number for number, times in Counter(numbers).items() if times > 1)
    top = max(numbers, default=0)
    gaps = sorted(set(range(1, top + 1)) - set(numbers))
    return f"{len(numbers)} numbers, max {top}, repeated {repeats[:10]}, missing {gaps[:10]}"


def check_deals(engine: Engine, second: Stage) -> list[str]:
    """Each deal: open, at the second stage, created once, requested once, approved once, nothing else."""
    failures = []
    for team_id, number, stage_key, status in rows(
        engine,
        "SELECT team_id, number, stage_key, status FROM deal WHERE stage_key <> :s OR status <> 'open'",
        s=second.key,
    ):
        failures.append(f"{team_id} deal-{number}: {status} at {stage_key}, not open at {second.key}")
    events = rows(
        engine,
        "SELECT d.team_id, d.number, "
        "SUM(CASE WHEN e.kind = 'created' THEN 1 ELSE 0 END), SUM(CASE WHEN e.kind = 'requested' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN e.kind = 'approved' THEN 1 ELSE 0 END), COUNT(e.id) "
        "FROM deal d LEFT JOIN deal_event e ON e.deal_id = d.id GROUP BY d.team_id, d.number",
    )
    for team_id, number, created, requested, approved, total in events:
        if (created, requested, approved, total) != (1, 1, 1, 3):
            failures.append(
                f"{team_id} deal-{number}: events created={created} requested={requested} approved={approved} "
                f"(of {total}); wanted one of each"
            )
    moves = rows(
        engine,
        "SELECT d.team_id, d.number, COUNT(m.id), SUM(CASE WHEN m.status = 'approved' THEN 1 ELSE 0 END) "
        "FROM deal d LEFT JOIN move_request m ON m.deal_id = d.id GROUP BY d.team_id, d.number",
    )
    for team_id, number, asked, approved in moves:
        if (asked, approved) != (1, 1):
            failures.append(f"{team_id} deal-{number}: {asked} move requests, {approved} approved; wanted 1 and 1")
    return failures


def check_contests(engine: Engine, fake: FakeSlack, contests: list[Contest]) -> list[str]:
    """Each contested move: one approval by one of the two managers; the other got one 'Nothing changed'."""
    failures = []
    ephemerals = fake.ephemerals
    contested_ids = {contest.move_id for contest in contests}
    for contest in contests:
        decided = rows(
            engine,
            "SELECT m.decided_by, (SELECT COUNT(*) FROM deal_event e WHERE e.move_id = m.id AND e.kind = 'approved') "
            "FROM move_request m WHERE m.id = :id",
            id=contest.move_id,
        )
        decided_by, approvals_stored = decided[0] if decided else (None, 0)
        if decided_by not in MANAGERS or approvals_stored != 1:
            failures.append(f"move {contest.move_id}: decided by {decided_by}, {approvals_stored} approved events")
            continue
        loser = next(manager for manager in MANAGERS if manager != decided_by)
        told = [
            note
            for note in ephemerals
            if note["channel"] == contest.channel_id and note.get("thread_ts") == contest.thread_ts
        ]
        if [note["user"] for note in told] != [loser] or not any(word in told[0]["text"] for word in ALREADY_DECIDED):
            failures.append(
                f"move {contest.move_id}: approved by {decided_by}; wanted one 'Nothing changed' note to {loser}, "
                f"got {[(note['user'], note['text'][:80]) for note in told]}"
            )
    expected_notes = len(contested_ids)
    if len(ephemerals) != expected_notes:
        failures.append(f"{len(ephemerals)} ephemeral notes, wanted {expected_notes} (one per contested move)")
    return failures


def check_threads(engine: Engine, fake: FakeSlack, expected: Expected, second: Stage) -> list[str]:
    """One card per deal, and in its thread exactly the move message (decided) and the decision reply."""
    failures = []
    posts, updates = len(fake.calls_to("chat.postMessage")), len(fake.calls_to("chat.update"))
    if (posts, updates) != (expected.posts, expected.updates):
        failures.append(
            f"{posts} messages posted and {updates} updated; wanted {expected.posts} and {expected.updates}"
        )
    messages = fake.messages
    deals = rows(
        engine,
        "SELECT d.team_id, d.number, d.channel_id, d.thread_ts, m.message_ts FROM deal d "
        "LEFT JOIN move_request m ON m.deal_id = d.id",
    )
    cards = {(m["channel"], m["ts"]): m for m in messages if m.get("thread_ts") in (None, m["ts"])}
    replies: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for message in messages:
        if message.get("thread_ts") not in (None, message["ts"]):
            replies.setdefault((message["channel"], message["thread_ts"]), []).append(message)
    threads = {(channel_id, thread_ts) for _team, _number, channel_id, thread_ts, _ts in deals}
    if len(cards) != len(deals) or set(cards) != threads:
        failures.append(
            f"{len(cards)} cards posted for {len(deals)} deals; {len(set(cards) - threads)} belong to no deal"
        )
    for team_id, number, channel_id, thread_ts, move_ts in deals:
        card = cards.get((channel_id, thread_ts))
        if card is None or not card["text"].endswith(f": {second.name}"):
            failures.append(f"{team_id} deal-{number}: card {thread_ts} shows {card and card['text']!r}")
        thread = replies.get((channel_id, thread_ts), [])
        decided = [reply for reply in thread if reply["ts"] == move_ts and "Approved by" in reply["text"]]
        if len(thread) != 2 or len(decided) != 1:
            failures.append(
                f"{team_id} deal-{number}: {len(thread)} thread replies {[r['text'][:60] for r in thread]}; "
                "wanted the approved move and one decision reply"
            )
    stray = set(replies) - threads
    if stray:
        failures.append(f"{len(stray)} threads that are no deal's: {sorted(stray)[:5]}")
    return failures


def fake_errors(fake: FakeSlack) -> list[str]:
    errors = [f"fake Slack violation: {violation}" for violation in fake.violations]
    errors += [f"fake Slack refused {call.method}: {call.response.get('error')}" for call in fake.calls if not call.ok]
    return errors


# --- the numbers --------------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))]


def latency_ms(outcomes: Sequence[Outcome]) -> dict[str, float]:
    answered = [outcome.seconds * 1000 for outcome in outcomes if outcome.status is not None]
    return {
        "p50": round(percentile(answered, 0.50), 1),
        "p95": round(percentile(answered, 0.95), 1),
        "p99": round(percentile(answered, 0.99), 1),
        "max": round(max(answered, default=0.0), 1),
    }


def wave_json(name: str, outcomes: Sequence[Outcome], seconds: float, settle_seconds: float) -> dict[str, Any]:
    return {
        "wave": name,
        "requests": len(outcomes),
        "errors": sum(1 for outcome in outcomes if outcome.problem is not None),
        "seconds": round(seconds, 2),
        "requests_per_second": round(len(outcomes) / seconds, 1) if seconds else 0.0,
        "ack_ms": latency_ms(outcomes),
        "settle_seconds": round(settle_seconds, 2),
    }


def overlapping(contest: Contest, approvals: Wave) -> bool:
    """Were both clicks in flight at the same time (the barrier released them together)?"""
    first, second = (approvals.outcomes[index] for index in contest.clicks)
    if first.status is None or second.status is None:
        return False
    return max(first.started, second.started) < min(first.started + first.seconds, second.started + second.seconds)


def report(run: Run, arguments: argparse.Namespace, *, database: str) -> dict[str, Any]:
    outcomes = [outcome for wave in run.waves for outcome in wave.outcomes]
    seconds = sum(wave.seconds for wave in run.waves)
    approvals = next((wave for wave in run.waves if wave.name == "Approve click"), None)
    request_errors = [f"{o.wave}: {o.problem}" for o in outcomes if o.problem is not None]
    return {
        "workers": arguments.workers,
        "threads": arguments.threads,
        "database": database,
        "deals": arguments.deals,
        "teams": arguments.teams,
        "contested": len(run.contests),
        "contested_overlapping": sum(1 for c in run.contests if approvals and overlapping(c, approvals)),
        "concurrency": arguments.concurrency,
        "cores": os.cpu_count(),
        "load_average_at_start": round(run.load_average, 2),
        "cpu_seconds": run.cpu_seconds,
        "waves": [wave_json(w.name, w.outcomes, w.seconds, w.settle_seconds) for w in run.waves],
        "all": wave_json("all", outcomes, seconds, sum(wave.settle_seconds for wave in run.waves)),
        "errors": len(request_errors) + len(run.errors),
        "error_details": summarize(request_errors + run.errors),
        "failures": run.failures,
        "ok": not request_errors and not run.errors and not run.failures,
    }


def summarize(errors: list[str]) -> list[str]:
    """Each distinct error once, with how often it happened (times, durations and ids do not make it distinct)."""
    counted = Counter(VARYING.sub("…", error)[:300] for error in errors)
    return [f"{times}× {error}" for error, times in counted.most_common()]


def render(summary: dict[str, Any]) -> str:
    lines = [
        f"Load: {summary['workers']} gunicorn worker{'s' if summary['workers'] != 1 else ''} × "
        f"{summary['threads']} threads on {summary['database']}; "
        f"{summary['deals']} deals in {summary['teams']} workspaces, {summary['contested']} contested approvals, "
        f"{summary['concurrency']} concurrent clients",
        "",
        f"{'wave':<15}{'requests':>9}{'errors':>8}{'wall s':>8}{'req/s':>8}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'settle s':>10}",
    ]
    for wave in [*summary["waves"], summary["all"]]:
        ack = wave["ack_ms"]
        lines.append(
            f"{wave['wave']:<15}{wave['requests']:>9}{wave['errors']:>8}{wave['seconds']:>8.1f}"
            f"{wave['requests_per_second']:>8.1f}{ack['p50']:>9.1f}{ack['p95']:>9.1f}{ack['p99']:>9.1f}"
            f"{ack['max']:>9.1f}{wave['settle_seconds']:>10.1f}"
        )
    lines.append("")
    lines.append(
        f"Contested moves: {summary['contested']}, both clicks in flight together on "
        f"{summary['contested_overlapping']}."
    )
    cpu = summary["cpu_seconds"]
    lines.append(
        f"CPU seconds on {summary['cores']} cores: this process (clients and fake Slack) {cpu.get('bench', 0):g}, "
        f"gunicorn (from boot) {cpu.get('gunicorn', 0):g}; load average at start {summary['load_average_at_start']:g}."
    )
    lines.append(f"Errors: {summary['errors']}")
    lines.extend(f"  {error}" for error in summary["error_details"][:LOG_LINES_SHOWN])
    failures = summary["failures"]
    lines.append(f"Checks: {len(failures)} failed" if failures else "Checks: all held")
    lines.extend(f"  {failure}" for failure in summary["failures"][:LOG_LINES_SHOWN])
    if len(summary["failures"]) > LOG_LINES_SHOWN:
        lines.append(f"  … and {len(summary['failures']) - LOG_LINES_SHOWN} more")
    lines.append("OK" if summary["ok"] else "FAILED")
    return "\n".join(lines)


# --- the run ------------------------------------------------------------------------------------


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (default 8)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight at once (default 32)")
    parser.add_argument("--deals", type=int, default=400, help="deals to create, advance and approve (default 400)")
    parser.add_argument("--teams", type=int, default=2, help="workspaces the deals are spread over (default 2)")
    parser.add_argument(
        "--contested", type=int, help="moves two managers approve at the same instant (default: a tenth of the deals)"
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help=f"a database the bench creates and drops (default {DEFAULT_DATABASE_URL}); "
        "or sqlite:///path.db, a file that does not exist yet",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for an answer (default 10)")
    parser.add_argument(
        "--ack-deadline", type=float, default=ACK_DEADLINE_SECONDS, help="a slower ack counts as an error (default 3)"
    )
    parser.add_argument("--time-limit", type=float, default=110.0, help="seconds for the whole run (default 110)")
    parser.add_argument("--seed", type=int, default=1, help="chooses the contested moves (default 1)")
    parser.add_argument("--log-level", default="INFO", help="the app's LOG_LEVEL (default INFO, as in production)")
    parser.add_argument("--keep-log", action="store_true", help="keep gunicorn's log even when the run passes")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    arguments = parser.parse_args(argv)
    if min(arguments.workers, arguments.threads, arguments.concurrency, arguments.deals, arguments.teams) < 1:
        parser.error("--workers, --threads, --concurrency, --deals and --teams must be at least 1")
    if arguments.contested is None:
        arguments.contested = arguments.deals // 10
    if not 0 <= arguments.contested <= arguments.deals:
        parser.error("--contested must be between 0 and --deals")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    deadline = time.monotonic() + arguments.time_limit
    log_dir = Path(tempfile.mkdtemp(prefix="bench_load_"))
    log_path = log_dir / "gunicorn.log"
    config = log_dir / "gunicorn_config.py"
    config.write_text(GUNICORN_CONFIG)
    run = Run(load_average=os.getloadavg()[0])
    database = describe_database(arguments.database_url)
    cpu_before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    # The fake's server keeps socketserver's listen backlog of 5. N workers calling the Web API at once
    # (5 bolt listener threads each, a new connection per call) overflow it on a busy machine, and the
    # kernel resets connections: that would measure the fixture, not the app. Slack's backlog is deep.
    slack_api._Server.request_queue_size = FAKE_SLACK_BACKLOG
    try:
        with own_database(arguments.database_url) as url, FakeSlack() as fake:
            port = free_port()
            command = gunicorn_command(workers=arguments.workers, threads=arguments.threads, port=port, config=config)
            environment = app_environment(database_url=url, slack_api_url=fake.base_url, log_level=arguments.log_level)
            with gunicorn(command, environment=environment, log_path=log_path, workers=arguments.workers):
                engine = create_engine(url)  # the bench's own reads; not the app's engine (SQLite write locks)
                try:
                    drive(run, arguments, engine, fake, url=f"http://127.0.0.1:{port}/slack/events", deadline=deadline)
                finally:
                    engine.dispose()
            run.errors += [f"app log: {line}" for line in logged_errors(log_path)]
        run.cpu_seconds = {
            "bench": cpu_seconds(resource.getrusage(resource.RUSAGE_SELF), cpu_before[0]),
            "gunicorn": cpu_seconds(resource.getrusage(resource.RUSAGE_CHILDREN), cpu_before[1]),
        }
    except AppStartError as error:
        print(f"bench.load: the app did not start: {error}", file=sys.stderr)
        print(f"bench.load: gunicorn's log is kept in {log_dir}", file=sys.stderr)
        return 2
    except SystemExit:  # a refused --database-url: nothing ran, so there is no log worth keeping
        shutil.rmtree(log_dir)
        raise
    summary = report(run, arguments, database=database)
    print(json.dumps(summary, indent=2) if arguments.json else render(summary))
    if summary["ok"] and not arguments.keep_log:
        shutil.rmtree(log_dir)
    else:
        print(f"bench.load: gunicorn's log is kept in {log_path}", file=sys.stderr)
    return 0 if summary["ok"] else 1


def drive(
    run: Run, arguments: argparse.Namespace, engine: Engine, fake: FakeSlack, *, url: str, deadline: float
) -> None:
    """The three waves, each followed by a wait for the app's posts after its acks; then the replies are judged,
    and the checks."""
    driver = Driver(SlackSender(url, timeout=arguments.timeout), deadline=deadline, ack_deadline=arguments.ack_deadline)
    teams = team_ids(arguments.teams)
    second = default_pipeline().stages[1]
    n = arguments.deals

    created = create_deals(driver, fake, deals=n, teams=teams, concurrency=arguments.concurrency)
    run.waves.append(created)
    created.settle_seconds, failure = settle(
        "every reply shown, every deal's card posted and recorded",
        lambda: (
            replied(fake, created.outcomes)
            and count(engine, "SELECT COUNT(*) FROM deal WHERE thread_ts IS NOT NULL") >= n
        ),
        deadline=deadline,
    )
    run.failures += [failure] if failure else []

    advanced = advance_deals(driver, engine, fake, concurrency=arguments.concurrency)
    run.waves.append(advanced)
    advanced.settle_seconds, failure = settle(
        "every reply shown, every move's message posted and recorded",
        lambda: (
            replied(fake, advanced.outcomes)
            and count(engine, "SELECT COUNT(*) FROM move_request WHERE message_ts IS NOT NULL") >= n
        ),
        deadline=deadline,
    )
    run.failures += [failure] if failure else []

    approvals, run.contests = approve_moves(
        driver,
        engine,
        fake,
        contested=arguments.contested,
        seed=arguments.seed,
        timeout=arguments.timeout,
        concurrency=arguments.concurrency,
    )
    run.waves.append(approvals)
    expected = Expected(posts=3 * n, updates=2 * n, ephemerals=len(run.contests))
    approvals.settle_seconds, failure = settle(
        "every move decided, its outcome and the decision posted",
        lambda: (
            count(engine, "SELECT COUNT(*) FROM move_request WHERE status = 'pending'") == 0 and expected.reached(fake)
        ),
        deadline=deadline,
    )
    run.failures += [failure] if failure else []
    time.sleep(QUIET_SECONDS)  # a post made twice would arrive now (a thread post, or a reply)

    replies = Replies.of(fake)
    created.outcomes = judge_replies(created.outcomes, replies, CREATED)
    advanced.outcomes = judge_replies(advanced.outcomes, replies, ASKED)
    run.failures += check_numbers(engine, created, teams)
    run.failures += check_deals(engine, second)
    run.failures += check_contests(engine, fake, run.contests)
    run.failures += check_threads(engine, fake, expected, second)
    run.errors += fake_errors(fake)


def describe_database(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.get_backend_name()} ({parsed.database})"


if __name__ == "__main__":
    sys.exit(main())
