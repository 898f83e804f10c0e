"""Shared fixtures: a migrated database per test (SQLite always, PostgreSQL when TEST_DATABASE_URL is set).

Speed: the tests run on two processes (pytest-xdist, `-n 2` in pyproject.toml; `-n 0` runs them in one), each
with its own PostgreSQL database. On SQLite the migrations run once per session into a template file, which each
test that wants a migrated database gets a copy of. Hypothesis runs the "ci" profile (full example counts) when CI
is set, else the "dev" profile (a tenth of the examples: tests that set a count wrap it in `examples(N)`); choose
with `HYPOTHESIS_PROFILE=ci`.
"""

import os
import shutil
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from concurrent.futures import wait as wait_for_futures
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIServer, make_server

import pytest
from hypothesis import settings
from sqlalchemy import Engine, make_url, text

from app import QuietHandler, Runtime, ThreadingWSGIServer, build, load_settings
from bot.after_ack import AfterAck, ListenerPool
from commands.pipeline.loading import default_pipeline
from commands.pipeline.stages import Pipeline
from commands.services import Services
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_to_head
from tests.fakes.slack_api import FakeSlack
from tests.slack_requests import SIGNING_SECRET, Response, SlackSender, shown_reply, slash_command


def own_postgresql_database() -> None:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own (TEST_DATABASE_URL's name plus the
    worker's, e.g. test_gw1, created when missing), since every test drops and recreates the schema it uses."""
    url, worker = os.environ.get("TEST_DATABASE_URL"), os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return
    shared = make_url(url)
    own = shared.set(database=f"{shared.database}_{worker}")
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database})
            if exists.first() is None:
                connection.execute(text(f'CREATE DATABASE "{own.database}"'))
    finally:
        engine.dispose()
    os.environ["TEST_DATABASE_URL"] = own.render_as_string(hide_password=False)


own_postgresql_database()
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])

# Hypothesis: CI runs every example the tests ask for; everyday runs a tenth of them (at least DEV_MIN_EXAMPLES,
# never more than the test asks for). Tests that set their own count pass it through `examples`.
DEV_EXAMPLES_FRACTION = 0.1
DEV_MIN_EXAMPLES = 10
settings.register_profile("ci", print_blob=True)
settings.register_profile("dev", max_examples=DEV_MIN_EXAMPLES)
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or (
    "ci" if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"} else "dev"
)
settings.load_profile(HYPOTHESIS_PROFILE)


def examples(asked: int) -> int:
    """How many examples a test that asks for `asked` runs: all of them in CI, a tenth (at least 10) otherwise."""
    if HYPOTHESIS_PROFILE == "ci":
        return asked
    return min(asked, max(DEV_MIN_EXAMPLES, round(asked * DEV_EXAMPLES_FRACTION)))


def reset_postgresql(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


SQLITE_PREFIX = "sqlite:///"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session; tests get copies of it."""
    path = tmp_path_factory.mktemp("template") / "salesbot.db"
    engine = make_engine(f"{SQLITE_PREFIX}{path}")
    upgrade_to_head(engine)
    engine.dispose()  # closes the last connection, which checkpoints the WAL into the file
    return path


def migrate(url: str, template: Path) -> None:
    """Bring the database at `url` to head: a SQLite file not yet created is copied from the template."""
    if url.startswith(SQLITE_PREFIX):
        path = Path(url.removeprefix(SQLITE_PREFIX))
        if not path.exists():
            shutil.copyfile(template, path)
            return
    engine = make_engine(url)
    upgrade_to_head(engine)
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no tables): the `engine` and `bot` fixtures migrate it."""
    if request.param == "postgresql":
        url = os.environ["TEST_DATABASE_URL"]
        reset_postgresql(url)
        return url
    return f"{SQLITE_PREFIX}{tmp_path / 'salesbot.db'}"


@pytest.fixture
def engine(database_url: str, sqlite_template: Path) -> Iterator[Engine]:
    migrate(database_url, sqlite_template)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


MANAGER = "U_MGR"
OTHER_MANAGER = "U_MGR2"
REP = "U_REP"
OTHER_REP = "U_REP2"


@pytest.fixture
def services(engine: Engine, clock: Clock) -> Services:
    return Services(
        sessions=make_session_factory(engine),
        pipeline=default_pipeline(),
        env_managers=frozenset({MANAGER, OTHER_MANAGER}),
        clock=clock,
    )


LISTENER_DRAIN_SECONDS = 15.0


class ListenerWatch(Executor):
    """Stands in for bolt's listener executor and keeps what it was given to run, so a test can wait until the
    listeners, and the work they left for after their acks (`bot.after_ack`), are done before it checks that nothing
    happened."""

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

    @property
    def after_ack(self) -> AfterAck:
        """The worker the listeners leave their work after the ack to."""
        assert isinstance(self._inner, ListenerPool)
        return self._inner.after_ack

    def settle(self, timeout: float = LISTENER_DRAIN_SECONDS) -> None:
        """Wait for every listener started so far; fail, with the busy threads' stacks, after `timeout` s."""
        with self._lock:
            futures, self._futures = self._futures, []
        _, running = wait_for_futures(futures, timeout=timeout)
        if running:
            raise AssertionError(
                f"{len(running)} listener(s) still running after {timeout:g}s:\n" + busy_thread_stacks()
            )
        if isinstance(self._inner, ListenerPool) and not self._inner.after_ack.wait_idle(timeout):
            raise AssertionError(f"the work after the acks still running after {timeout:g}s:\n" + busy_thread_stacks())


class RunningBot:
    """The real app (built by `app.build`) served over HTTP, talking to a fake Slack Web API."""

    def __init__(self, runtime: Runtime, slack: FakeSlack, sender: SlackSender, listeners: ListenerWatch) -> None:
        self.runtime = runtime
        self.slack = slack
        self.sender = sender
        self.listeners = listeners

    def settle(self) -> None:
        """Wait until the listeners of the requests answered so far have finished their work after the ack."""
        self.listeners.settle()

    @property
    def services(self) -> Services:
        return self.runtime.services

    def command(self, command: str, text: str, *, user: str = REP, **kw: Any) -> Response:
        """Run a slash command as `user` and return what they see (`send`)."""
        return self.send(slash_command(command, text, user_id=user, **kw))

    def send(self, body: bytes, **post: Any) -> Response:
        """Post a slash command's form body and return what its sender sees: the command's reply, which comes on
        its response_url after an empty ack (`bot.after_ack`), as if it had been the ack's body (the first
        message there after those sent before, so a replayed body gets its own). A body whose response_url is
        not this fake Slack's is given one of the fake's first (`served_reply_url`)."""
        body = self.served_reply_url(body)
        url = parse_qs(body.decode(), keep_blank_values=True)["response_url"][0]
        earlier = len([response for response in self.slack.responses if response["url"] == url])
        return shown_reply(self.sender.post(body, **post), self.slack, url, skip=earlier)

    def served_reply_url(self, body: bytes) -> bytes:
        """The slash command's form body, with a response_url this fake Slack serves if it had another."""
        fields = parse_qs(body.decode(), keep_blank_values=True)
        if fields.get("response_url", [""])[0].startswith(self.slack.root_url):
            return body
        url = self.slack.response_url("command")
        return urlencode({**{key: values[0] for key, values in fields.items()}, "response_url": url}).encode()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def serve(wsgi: Any) -> tuple[str, WSGIServer]:
    server = make_server("127.0.0.1", 0, wsgi, server_class=ThreadingWSGIServer, handler_class=QuietHandler)
    # A short poll interval: shutdown() waits for serve_forever to notice, 0.5 s per test by default.
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def drain_listeners(runtime: Runtime, timeout: float = LISTENER_DRAIN_SECONDS) -> None:
    """Wait for the work bolt's listener threads do after each ack (thread posts, digest and chart uploads) to
    finish, so none of it outlives the test and meets a stopped fake Slack. Fails, with the stacks of the
    threads still busy, when that work is still running after `timeout` seconds."""
    executor = runtime.app.listener_runner.listener_executor
    stop_within(lambda: executor.shutdown(wait=True), timeout, "listener work")


def stop_within(stop: Callable[[], None], timeout: float, what: str) -> None:
    """Run `stop` (which waits for work in flight), failing with the busy threads' stacks after `timeout` s."""
    stopping = threading.Thread(target=stop, name=f"stop {what}", daemon=True)
    stopping.start()
    stopping.join(timeout)
    if stopping.is_alive():
        raise AssertionError(
            f"{what} still running {timeout:g}s after the test ended:\n" + busy_thread_stacks(stopping)
        )


def busy_thread_stacks(exclude: threading.Thread | None = None) -> str:
    frames = sys._current_frames()
    return "\n".join(
        f"--- thread {thread.name}\n" + "".join(traceback.format_stack(frames[thread.ident]))
        for thread in threading.enumerate()
        if thread is not exclude and thread is not threading.current_thread() and thread.ident in frames
    )


@contextmanager
def running_bot(
    database_url: str,
    slack: FakeSlack,
    *,
    managers: str = f"{MANAGER},{OTHER_MANAGER}",
    pipeline_file: Path | None = None,
    pipeline: Pipeline | None = None,
) -> Iterator[RunningBot]:
    """Build the app as `python app.py` would (settings, migrations, wiring) and serve it on a free port."""
    environment = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "DATABASE_URL": database_url,
        "SLACK_API_URL": slack.base_url,
        "SALES_MANAGERS": managers,
    }
    if pipeline_file is not None:
        environment["PIPELINE_FILE"] = str(pipeline_file)
    settings = load_settings(environment)
    runtime = build(settings, pipeline=pipeline)
    listeners = ListenerWatch(runtime.app.listener_runner.listener_executor)
    runtime.app.listener_runner.listener_executor = listeners
    url, server = serve(runtime.wsgi)
    try:
        yield RunningBot(runtime, slack, SlackSender(url + "/slack/events"), listeners)
    finally:
        server.shutdown()
        try:
            drain_listeners(runtime)
        finally:
            runtime.engine.dispose()


@pytest.fixture
def bot(database_url: str, slack: FakeSlack, sqlite_template: Path) -> Iterator[RunningBot]:
    if database_url.startswith(SQLITE_PREFIX):  # start-up then finds the schema at head, as on every restart
        migrate(database_url, sqlite_template)
    with running_bot(database_url, slack) as running:
        yield running
    assert slack.violations == [], "the bot sent something Slack would refuse"
