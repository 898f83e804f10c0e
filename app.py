"""Entry point: read settings once, wire the parts together, and serve Slack.

`python app.py` loads `.env`, migrates the database, and runs Socket Mode when
SLACK_APP_TOKEN is set, otherwise HTTP on PORT (Slack requests at POST /slack/events).
"""

import argparse
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from dotenv import find_dotenv, load_dotenv
from slack_bolt import App
from sqlalchemy import Engine

from bot.announcer import Announcer
from bot.app_factory import create_app, make_client
from bot.digest_post import digest_deliverer
from bot.http import Wsgi, make_wsgi
from bot.scheduler import DigestRunner, add_thread_catch_up, start_scheduler, worker_name
from commands.pipeline import Pipeline
from commands.pipeline_file import PipelineFileError, default_pipeline, load_pipeline
from commands.services import Services
from storage.db import database_answers, make_engine, make_session_factory
from storage.migrate import upgrade_to_head

logger = logging.getLogger("salesbot")

README_HINT = "See the Configuration section of README.md."
DEFAULT_DATABASE_URL = "sqlite:///salesbot.db"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it."""


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


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read settings from an environment mapping; an empty value counts as unset."""

    def get(name: str) -> str | None:
        value = environ.get(name, "").strip()
        return value or None

    def required(name: str) -> str:
        value = get(name)
        if value is None:
            raise SettingsError(f"{name} is not set. {README_HINT}")
        return value

    scheduler_text = (get("RUN_SCHEDULER") or "true").lower()
    if scheduler_text not in {"true", "false", "1", "0", "yes", "no"}:
        raise SettingsError(f"RUN_SCHEDULER must be true or false, not {scheduler_text!r}. {README_HINT}")
    port_text = get("PORT") or "3000"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise SettingsError(f"PORT must be a port number like 3000, not {port_text!r}. {README_HINT}")
    api_url = get("SLACK_API_URL")
    return Settings(
        bot_token=required("SLACK_BOT_TOKEN"),
        signing_secret=required("SLACK_SIGNING_SECRET"),
        app_token=get("SLACK_APP_TOKEN"),
        port=int(port_text),
        database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        slack_api_url=api_url if api_url is None or api_url.endswith("/") else api_url + "/",
        sales_managers=frozenset(user.strip() for user in (get("SALES_MANAGERS") or "").split(",") if user.strip()),
        pipeline_file=get("PIPELINE_FILE"),
        log_level=(get("LOG_LEVEL") or "INFO").upper(),
        run_scheduler=scheduler_text in {"true", "1", "yes"},
    )


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
        """Tick the digest schedules and the thread catch-up in this process; the database's claims
        make every digest and every thread post go out once, however many processes tick."""
        runner = DigestRunner(self.services, digest_deliverer(self.services, self.app.client), worker=worker_name())
        scheduler = start_scheduler(runner)
        add_thread_catch_up(scheduler, Announcer(self.services, self.app.client).catch_up)
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
    app = create_app(services=services, signing_secret=settings.signing_secret, client=client)
    wsgi = make_wsgi(app, healthy=lambda: database_answers(engine))
    return Runtime(settings=settings, engine=engine, services=services, app=app, wsgi=wsgi)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # bolt's middleware logs each request
        pass


def serve_http(runtime: Runtime) -> None:
    server = make_server(
        "0.0.0.0", runtime.settings.port, runtime.wsgi, server_class=ThreadingWSGIServer, handler_class=QuietHandler
    )
    logger.info("serving Slack requests on http://0.0.0.0:%d/slack/events", runtime.settings.port)
    server.serve_forever()


def serve_socket_mode(runtime: Runtime) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    assert runtime.settings.app_token is not None
    logger.info("connecting to Slack in Socket Mode")
    SocketModeHandler(runtime.app, runtime.settings.app_token).start()


def settings_from_environment() -> Settings:
    """Settings from the process environment, filled in from `.env` in the working directory.

    Variables already in the environment win over `.env`, even when empty, so `SLACK_APP_TOKEN=`
    on the command line forces HTTP mode whatever `.env` says.
    """
    load_dotenv(find_dotenv(usecwd=True))
    return load_settings(os.environ)


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every tick at INFO


def create_wsgi() -> Wsgi:
    """The app for a WSGI server, one per worker: `gunicorn -w 4 --threads 8 'app:create_wsgi()'`.

    Every worker is stateless (all state is in the database), so any worker can take any request;
    each runs the digest tick unless RUN_SCHEDULER=false, and the database's claims keep digests single.
    """
    settings = settings_from_environment()
    configure_logging(settings)
    runtime = build(settings)
    if settings.run_scheduler:
        runtime.start_scheduler()
    return runtime.wsgi


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python app.py", description="Run the pipeline Slack bot.")
    parser.add_argument("--no-scheduler", action="store_true", help="do not post scheduled digests from this process")
    arguments = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = settings_from_environment()
        configure_logging(settings)
        runtime = build(settings)
    except (SettingsError, PipelineFileError) as error:
        print(f"salesbot: {error}", file=sys.stderr)
        return 2
    scheduler = runtime.start_scheduler() if settings.run_scheduler and not arguments.no_scheduler else None
    try:
        if settings.app_token:
            serve_socket_mode(runtime)
        else:
            serve_http(runtime)
    except KeyboardInterrupt:
        logger.info("stopping")
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
