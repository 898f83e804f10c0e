"""Entry point: read settings once, wire the parts together, and serve Slack.

`python app.py` loads `.env`, migrates the database, and runs Socket Mode when
SLACK_APP_TOKEN is set, otherwise HTTP on PORT (Slack requests at POST /slack/events).
SIGTERM or SIGINT stops it cleanly: no new requests, the ones in hand finished, the WebSocket
closed with a close frame, the scheduler's running jobs finished, exit 0.
`python app.py --check` checks settings, database and Slack, then exits (0 when all is well).
"""

import argparse
import errno
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from types import FrameType
from typing import Any
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from dotenv import find_dotenv, load_dotenv
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import col, select

from bot.after_ack import answer_threads
from bot.announcer import Announcer
from bot.app_factory import create_app, make_client
from bot.digest_post import digest_deliverer
from bot.http import Wsgi, make_wsgi
from bot.reminders import ReminderRunner
from bot.scheduler import DigestRunner, add_reminders, add_thread_catch_up, start_scheduler, worker_name
from bot.socket_mode import close_socket, health_wsgi, socket_mode_handler
from commands.pipeline.loading import PipelineFileError, default_pipeline, load_pipeline
from commands.pipeline.stages import Pipeline
from commands.services import Services
from storage.db import database_answers, make_engine, make_session_factory
from storage.migrate import upgrade_to_head
from storage.models import Manager

logger = logging.getLogger("salesbot")

README_HINT = "See the Configuration section of README.md."
DEFAULT_DATABASE_URL = "sqlite:///salesbot.db"
DATABASE_EXAMPLES = "sqlite:///salesbot.db (a file) or postgresql+psycopg://user:password@host:5432/salesbot"
SLACK_DEFAULT_API_URL = WebClient.BASE_URL
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SCHEDULER_VALUES = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
# Slack member ids are U or W then capitals and digits; the underscore is let through for the readable ids
# the tests use (U_MGR).
MEMBER_ID = re.compile(r"[UW][A-Z0-9_]{1,31}")
# `.env.example` ships values like `xoxb-...`; no real token or secret contains an ellipsis.
PLACEHOLDER = re.compile(r"\.\.\.|…")
WHERE_TO_FIND = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-…) from your Slack app's OAuth & Permissions page",
    "SLACK_SIGNING_SECRET": "the Signing Secret from your Slack app's Basic Information page",
    "SLACK_APP_TOKEN": (
        "an App-Level Token (xapp-…, scope connections:write) from your Slack app's Basic Information page, "
        "or leave it empty to serve HTTP on PORT"
    ),
}
TOKEN_PREFIXES = {"SLACK_BOT_TOKEN": ("xoxb-", "xoxe.xoxb-"), "SLACK_APP_TOKEN": ("xapp-",)}
TOKEN_KINDS = {
    "xoxb-": "a bot token, which belongs in SLACK_BOT_TOKEN",
    "xapp-": "an App-Level Token, which belongs in SLACK_APP_TOKEN",
    "xoxp-": "a user token, which this bot does not use",
}
SLACK_PROBE_TIMEOUT_SECONDS = 10
# gunicorn stops on a worker that exits with 4 ("App failed to load") instead of starting it again and again.
APP_LOAD_ERROR = 4


class SettingsError(Exception):
    """Settings the app cannot start with; `problems` holds one line per problem, each naming its setting."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Settings:
    bot_token: str
    signing_secret: str
    app_token: str | None = None
    port: int = 3000
    database_url: str = DEFAULT_DATABASE_URL
    slack_api_url: str | None = None
    sales_managers: frozenset[str] = frozenset()
    pipeline_file: str | None = None
    log_level: str = "INFO"
    run_scheduler: bool = True
    health_port: int | None = None


def load_settings(environ: Mapping[str, str], *, connect: bool = False, bind: bool = False) -> Settings:
    """Read every setting from an environment mapping and raise `SettingsError` listing all the problems at once.

    An empty value counts as unset. With `connect`, also open the database and ask Slack whether it takes
    the bot token; with `bind`, also check that PORT can be opened when serving HTTP. A check is skipped
    when the setting it needs is already wrong, so each problem is told once.
    """

    def get(name: str) -> str | None:
        value = environ.get(name, "").strip()
        return value or None

    problems: list[str] = []
    bot_token = _token("SLACK_BOT_TOKEN", get("SLACK_BOT_TOKEN"), problems, required=True)
    signing_secret = _token("SLACK_SIGNING_SECRET", get("SLACK_SIGNING_SECRET"), problems, required=True)
    app_token = _token("SLACK_APP_TOKEN", get("SLACK_APP_TOKEN"), problems, required=False)
    port = _port(get("PORT") or "3000", problems)
    health_port = _port(health_text, problems, name="HEALTH_PORT") if (health_text := get("HEALTH_PORT")) else None
    database_url = get("DATABASE_URL") or DEFAULT_DATABASE_URL
    database_ok = _problem(problems, database_url_problem(database_url))
    managers = _managers(get("SALES_MANAGERS") or "", problems)
    pipeline_file = get("PIPELINE_FILE")
    _problem(problems, *pipeline_file_problems(pipeline_file))
    slack_api_url = _slack_api_url(get("SLACK_API_URL"), problems)
    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in logging.getLevelNamesMapping():
        problems.append(f"LOG_LEVEL must be {', '.join(LOG_LEVELS[:-1])} or {LOG_LEVELS[-1]}, not {log_level!r}.")
    scheduler_text = (get("RUN_SCHEDULER") or "true").lower()
    if scheduler_text not in SCHEDULER_VALUES:
        problems.append(f"RUN_SCHEDULER must be true or false, not {scheduler_text!r}.")
    if connect and database_ok:
        _problem(problems, database_unreachable(database_url))
    if connect and bot_token and slack_api_url != "":
        # The app-level token is not tried here: its only method, apps.connections.open, is rate-limited
        # to about one call a minute, which a check run by a supervisor would take from the app's reconnects.
        _problem(problems, slack_refuses(bot_token, slack_api_url or None))
    if bind and port and get("SLACK_APP_TOKEN") is None:  # HTTP mode
        _problem(problems, port_unavailable(port))
    if bind and health_port and app_token:  # Socket Mode
        _problem(problems, port_unavailable(health_port, name="HEALTH_PORT"))
    if problems or bot_token is None or signing_secret is None or port is None:
        raise SettingsError(problems)
    return Settings(
        bot_token=bot_token,
        signing_secret=signing_secret,
        app_token=app_token,
        port=port,
        database_url=database_url,
        slack_api_url=slack_api_url or None,
        sales_managers=managers,
        pipeline_file=pipeline_file,
        log_level=log_level,
        run_scheduler=SCHEDULER_VALUES[scheduler_text],
        health_port=health_port,
    )


def _problem(problems: list[str], *found: str | None) -> bool:
    """Record what was found; True when nothing was."""
    new = [problem for problem in found if problem]
    problems.extend(new)
    return not new


def _token(name: str, value: str | None, problems: list[str], *, required: bool) -> str | None:
    where = WHERE_TO_FIND[name]
    if value is None:
        if required:
            problems.append(f"{name} is not set: give {where}. {README_HINT}")
        return None
    if PLACEHOLDER.search(value):
        problems.append(f"{name} is still the placeholder {value!r} from .env.example: replace it with {where}.")
        return None
    prefixes = TOKEN_PREFIXES.get(name, ())
    if prefixes and not value.startswith(prefixes):
        # Never echo a secret: say only what kind of token it looks like.
        kind = next((kind for prefix, kind in TOKEN_KINDS.items() if value.startswith(prefix)), None)
        looks = f" (it is {kind})" if kind else ""
        problems.append(f"{name} does not start with {prefixes[0]}{looks}: give {where}.")
        return None
    return value


def _port(port_text: str, problems: list[str], *, name: str = "PORT") -> int | None:
    if port_text.isdigit() and 0 < int(port_text) < 65536:
        return int(port_text)
    like = 3000 if name == "PORT" else 8080
    problems.append(f"{name} must be a port number from 1 to 65535, like {like}, not {port_text!r}.")
    return None


def _managers(text: str, problems: list[str]) -> frozenset[str]:
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    wrong = [entry for entry in entries if not MEMBER_ID.fullmatch(entry)]
    if wrong:
        problems.append(
            "SALES_MANAGERS must list Slack member ids like U0123ABCD, separated by commas "
            f"(in Slack: a profile → ⋯ → Copy member ID); these are not: {', '.join(map(repr, wrong))}."
        )
    return frozenset(entries)


def _slack_api_url(value: str | None, problems: list[str]) -> str | None:
    """The base URL with its trailing slash, None for Slack's own, or "" when it is malformed."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        problems.append(
            f"SLACK_API_URL must be the base URL of Slack's Web API, like {SLACK_DEFAULT_API_URL}, not {value!r} "
            "(or leave it unset for Slack's own)."
        )
        return ""
    return value if value.endswith("/") else value + "/"


def database_url_problem(url: str) -> str | None:
    """What is wrong with a database URL's form or driver, without connecting."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # the URL may hold a password: do not echo it
        return f"DATABASE_URL is not a database URL: use {DATABASE_EXAMPLES}."
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        return (
            f"DATABASE_URL {shown} is neither SQLite nor PostgreSQL, which this app runs on: use {DATABASE_EXAMPLES}."
        )
    try:
        dialect = parsed.get_dialect()
        dialect.import_dbapi()
    except (ArgumentError, ImportError) as error:
        return f"DATABASE_URL {shown} names a driver that cannot be loaded ({error}): use {DATABASE_EXAMPLES}."
    if getattr(dialect, "is_async", False):
        return f"DATABASE_URL {shown} names an asyncio driver, which this app cannot use: use {DATABASE_EXAMPLES}."
    return None


def database_unreachable(url: str) -> str | None:
    shown = make_url(url).render_as_string(hide_password=True)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        reason = _first_line(getattr(error, "orig", None) or error)
        if engine.dialect.name == "sqlite":
            return f"DATABASE_URL {shown} cannot be opened ({reason}): its folder must exist and be writable."
        return (
            f"DATABASE_URL {shown} cannot be connected to ({reason}): check that the database is running there "
            "and that its host, port, name, user and password are right."
        )
    finally:
        engine.dispose()
    return None


def slack_refuses(token: str, base_url: str | None) -> str | None:
    """Ask Slack whom the token belongs to (bolt asks again when the app is built, and would stop with a traceback)."""
    client = WebClient(token=token, base_url=base_url or SLACK_DEFAULT_API_URL, timeout=SLACK_PROBE_TIMEOUT_SECONDS)
    client.retry_handlers = []  # a start-up check: answer now, the app's own client retries later
    where = f"SLACK_API_URL {base_url}" if base_url else f"Slack's Web API at {SLACK_DEFAULT_API_URL}"
    try:
        client.auth_test()
    except SlackApiError as error:
        code = error.response.get("error") if isinstance(error.response.data, dict) else None
        if code:
            return f"SLACK_BOT_TOKEN was refused by Slack ({code}): give {WHERE_TO_FIND['SLACK_BOT_TOKEN']}."
        return (
            f"{where} did not answer like Slack's Web API (HTTP {error.response.status_code}): "
            f"give its base URL, like {SLACK_DEFAULT_API_URL}, or leave SLACK_API_URL unset."
        )
    except (SlackClientError, OSError, ValueError) as error:
        reason = _first_line(getattr(error, "reason", None) or error)
        if base_url:
            return (
                f"{where} does not answer ({reason}): give the base URL of Slack's Web API, "
                f"like {SLACK_DEFAULT_API_URL}, or leave it unset."
            )
        return f"{where} does not answer ({reason}): check this machine's network and proxy, or set SLACK_API_URL."
    return None


def port_unavailable(port: int, *, name: str = "PORT") -> str | None:
    try:
        bind_http(port).server_close()
    except OSError as error:
        return port_problem(port, error, name=name)
    return None


def port_problem(port: int, error: OSError, *, name: str = "PORT") -> str:
    like = 3000 if name == "PORT" else 8080
    if isinstance(error, PermissionError):
        return f"{name} {port} may not be opened by this user: choose a port above 1023, like {like}."
    if error.errno == errno.EADDRINUSE:
        return (
            f"{name} {port} is already in use on this machine: stop what holds it or choose a free port, like {like}."
        )
    return f"{name} {port} cannot be opened ({error.strerror or error}): choose a free port, like {like}."


def pipeline_file_problems(path: str | None) -> list[str]:
    if path is None:
        return []
    try:
        load_pipeline(path)
    except PipelineFileError as error:
        return [f"PIPELINE_FILE {problem}" for problem in error.errors]
    return []


def _first_line(error: object) -> str:
    line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return line if len(line) <= 200 else line[:199] + "…"


def read_pipeline(settings: Settings) -> Pipeline:
    pipeline = load_pipeline(settings.pipeline_file) if settings.pipeline_file else default_pipeline()
    for warning in pipeline.warnings:
        logger.warning("pipeline: %s", warning)
    return pipeline


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    services: Services
    app: App
    wsgi: Wsgi

    def start_scheduler(self) -> BackgroundScheduler:
        """Tick the digest schedules, the thread catch-up and the reminders in this process; the database's
        claims make every digest, thread post and reminder go out once, however many processes tick."""
        runner = DigestRunner(self.services, digest_deliverer(self.services, self.app.client), worker=worker_name())
        scheduler = start_scheduler(runner)
        add_thread_catch_up(scheduler, Announcer(self.services, self.app.client).catch_up)
        add_reminders(scheduler, ReminderRunner(self.services, self.app.client).run_once)
        return scheduler


def build(settings: Settings, *, pipeline: Pipeline | None = None) -> Runtime:
    """Migrate the database and wire storage, use cases and the Slack app together."""
    engine = make_engine(settings.database_url)
    pipeline = pipeline or read_pipeline(settings)
    upgrade_to_head(engine, stage_keys=pipeline.keys)
    services = Services(
        sessions=make_session_factory(engine),
        pipeline=pipeline,
        env_managers=settings.sales_managers,
    )
    client = make_client(token=settings.bot_token, base_url=settings.slack_api_url)
    app = create_app(
        services=services,
        signing_secret=settings.signing_secret,
        client=client,
        answer_threads=answer_threads(engine.dialect.name),
    )
    wsgi = make_wsgi(app, healthy=lambda: database_answers(engine), signing_secret=settings.signing_secret)
    return Runtime(settings=settings, engine=engine, services=services, app=app, wsgi=wsgi)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128  # socketserver's 5 resets connections under a burst of 32 (bench/latency.py)


class StoppableWSGIServer(ThreadingWSGIServer):
    """`server_close()` waits for the requests being answered, so a stop finishes them first."""

    daemon_threads = False
    block_on_close = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # bot/request_log.py logs each Slack request
        pass


def bind_http(port: int) -> StoppableWSGIServer:
    """Open an HTTP port (every address); the app is set when it is built."""
    server = make_server("0.0.0.0", port, _not_ready, server_class=StoppableWSGIServer, handler_class=QuietHandler)
    assert isinstance(server, StoppableWSGIServer)
    return server


def _not_ready(environ: dict[str, object], start_response: object) -> list[bytes]:
    raise RuntimeError("the HTTP server was started before its app was set")


def serve_http(runtime: Runtime, server: StoppableWSGIServer) -> Callable[[], None]:
    """Serve Slack's requests on PORT in the background; the function that stops taking them."""
    server.set_app(runtime.wsgi)
    _serve_in_background(server, "http")
    logger.info("serving Slack requests on http://0.0.0.0:%d/slack/events", runtime.settings.port)
    return lambda: _stop_server(server)


def serve_socket_mode(runtime: Runtime, health: StoppableWSGIServer | None) -> Callable[[], None]:
    """Connect to Slack over a WebSocket (and answer GET /healthz on HEALTH_PORT); the function that closes it."""
    assert runtime.settings.app_token is not None
    logger.info("connecting to Slack in Socket Mode")
    handler = socket_mode_handler(runtime.app, runtime.settings.app_token)
    handler.connect()
    if health is not None:
        health.set_app(
            health_wsgi(
                database_answers=lambda: database_answers(runtime.engine), connected=handler.client.is_connected
            )
        )
        _serve_in_background(health, "health")
        logger.info("answering GET /healthz on http://0.0.0.0:%d/healthz", runtime.settings.health_port)
    return lambda: close_socket(handler.client)


def _serve_in_background(server: StoppableWSGIServer, name: str) -> None:
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name=name, daemon=True).start()


def _stop_server(server: StoppableWSGIServer) -> None:
    server.shutdown()
    server.server_close()  # waits for the requests being answered


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """SIGTERM and SIGINT, recorded from the moment the block is entered, so one that comes while the app is
    still starting (its port already answering /healthz) stops it cleanly instead of killing it. `wait` blocks
    until one came and puts the previous handlers back, so a second signal stops at once. The handler only
    records the signal: the stop itself runs in the main thread, where no lock can be held half-way by an
    interrupted frame."""

    def __init__(self) -> None:
        self._received: list[int] = []
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "StopSignals":
        self._previous = {signum: signal.signal(signum, self._record) for signum in STOP_SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        self._restore()

    def wait(self, poll_seconds: float = 0.1) -> int:
        while not self._received:
            time.sleep(poll_seconds)
        self._restore()
        return self._received[0]

    def _record(self, signum: int, frame: FrameType | None) -> None:
        self._received.append(signum)

    def _restore(self) -> None:
        previous, self._previous = self._previous, {}
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def shut_down(
    *,
    stop_requests: Callable[[], None],
    listeners: Executor,
    scheduler: BackgroundScheduler | None,
    servers: Sequence[StoppableWSGIServer] = (),
    engine: Engine,
) -> None:
    """Stop in the order that loses nothing: take no new request and finish those in hand (their acks
    and the work after them, like the thread posts they owe), finish the scheduler's running jobs
    (digests and thread posts being delivered), then close the health port and the database pool."""
    stop_requests()
    listeners.shutdown(wait=True)
    if scheduler is not None:
        scheduler.shutdown(wait=True)
    for server in servers:
        _stop_server(server)
    engine.dispose()


def settings_from_environment(*, connect: bool = False, bind: bool = False) -> Settings:
    """Settings from the process environment, filled in from `.env` in the working directory.

    Variables already in the environment win over `.env`, even when empty, so `SLACK_APP_TOKEN=`
    on the command line forces HTTP mode whatever `.env` says.
    """
    load_dotenv(find_dotenv(usecwd=True))
    settings = load_settings(os.environ, connect=connect, bind=bind)
    # The token reaches bolt through the client. Bolt also reads SLACK_BOT_TOKEN from the environment when
    # it builds the App and, given a client as well, warns that "`token` will be unused".
    os.environ.pop("SLACK_BOT_TOKEN", None)
    return settings


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every tick at INFO


def warn_if_no_managers(runtime: Runtime) -> None:
    """Nobody can approve a move without a manager: say so once, at the start, with how to add one."""
    if runtime.settings.sales_managers:
        return
    with runtime.services.sessions() as session:
        # The bot serves one workspace, so any active manager row is one of its managers.
        added = session.exec(select(Manager.user_id).where(col(Manager.active).is_(True)).limit(1)).first()
    if added is None:
        logger.warning(
            "no sales managers yet, so no move can be approved: set SALES_MANAGERS to Slack member ids "
            "(like U0123ABCD, comma-separated) and restart, or run `/pipeline managers add @someone` in Slack "
            "(while there is no manager, anyone may add the first)"
        )


def report(error: SettingsError) -> None:
    for problem in error.problems:
        print(f"salesbot: {problem}", file=sys.stderr)


def create_wsgi() -> Wsgi:
    """The app for a WSGI server, one per worker: `gunicorn -w 4 --threads 8 'app:create_wsgi()'`.

    Every worker is stateless (all state is in the database), so any worker can take any request;
    each runs the digest tick unless RUN_SCHEDULER=false, and the database's claims keep digests single.
    """
    try:
        settings = settings_from_environment(connect=True)
    except SettingsError as error:
        report(error)
        raise SystemExit(APP_LOAD_ERROR) from None
    configure_logging(settings)
    runtime = build(settings)
    warn_if_no_managers(runtime)
    if settings.run_scheduler:
        runtime.start_scheduler()
    return runtime.wsgi


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python app.py", description="Run the pipeline Slack bot.")
    parser.add_argument("--no-scheduler", action="store_true", help="do not post scheduled digests from this process")
    parser.add_argument(
        "--check",
        action="store_true",
        help="check the settings, the database and Slack's answer to the bot token, then exit: 0 when all is well",
    )
    arguments = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if arguments.check:
        return check()
    try:
        settings = settings_from_environment(connect=True, bind=True)
    except SettingsError as error:
        report(error)
        return 2
    try:
        server = None if settings.app_token else bind_http(settings.port)
    except OSError as error:  # taken since it was checked
        report(SettingsError([port_problem(settings.port, error)]))
        return 2
    try:
        health = bind_http(settings.health_port) if settings.app_token and settings.health_port else None
    except OSError as error:
        assert settings.health_port is not None
        report(SettingsError([port_problem(settings.health_port, error, name="HEALTH_PORT")]))
        return 2
    configure_logging(settings)
    with StopSignals() as stop:
        return serve_until_stopped(settings, server, health, stop, run_scheduler=not arguments.no_scheduler)


def serve_until_stopped(
    settings: Settings,
    server: StoppableWSGIServer | None,
    health: StoppableWSGIServer | None,
    stop: StopSignals,
    *,
    run_scheduler: bool,
) -> int:
    try:
        runtime = build(settings)
    except PipelineFileError as error:  # changed since it was checked
        report(SettingsError([f"PIPELINE_FILE {problem}" for problem in error.errors]))
        return 2
    warn_if_no_managers(runtime)
    scheduler = runtime.start_scheduler() if settings.run_scheduler and run_scheduler else None
    try:
        stop_requests = serve_http(runtime, server) if server is not None else serve_socket_mode(runtime, health)
    except BaseException:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        raise
    signum = stop.wait()
    logger.info("stopping on %s: finishing the requests and deliveries in hand", signal.Signals(signum).name)
    shut_down(
        stop_requests=stop_requests,
        listeners=runtime.app.listener_runner.listener_executor,
        scheduler=scheduler,
        servers=[health] if health is not None else [],
        engine=runtime.engine,
    )
    logger.info("stopped")
    return 0


def check() -> int:
    """`python app.py --check`: what a start checks (settings, database, Slack's answer to the bot token),
    without binding PORT, which the running app holds; for a supervisor's health check or a deploy script."""
    try:
        settings = settings_from_environment(connect=True)
    except SettingsError as error:
        report(error)
        return 2
    mode = "Socket Mode" if settings.app_token else f"HTTP on port {settings.port}"
    print(f"salesbot: ok: settings, database and Slack answer ({mode})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
