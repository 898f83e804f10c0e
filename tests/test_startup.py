"""A bad setting stops the start: one line per problem, all of them at once, exit code 2, no traceback."""

import json
import logging
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from app import SettingsError, build, load_settings, warn_if_no_managers
from bot.http import Wsgi
from storage import queries
from tests.fakes.slack_api import TEAM_ID, FakeSlack
from tests.test_settings import clean_environment

ROOT = Path(__file__).resolve().parents[1]
GOOD = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cret"}
UNREACHABLE_POSTGRESQL = "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/x"
BOT_TOKEN_WHERE = "the Bot User OAuth Token (xoxb-…) from your Slack app's OAuth & Permissions page"
APP_TOKEN_WHERE = (
    "an App-Level Token (xapp-…, scope connections:write) from your Slack app's Basic Information page, "
    "or leave it empty to serve HTTP on PORT"
)
DATABASE_EXAMPLES = "sqlite:///salesbot.db (a file) or postgresql+psycopg://user:password@host:5432/salesbot"


def problems(environ: dict[str, str], **checks: bool) -> list[str]:
    with pytest.raises(SettingsError) as refused:
        load_settings(environ, **checks)
    assert str(refused.value) == "\n".join(refused.value.problems)
    return list(refused.value.problems)


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        (
            "SLACK_BOT_TOKEN",
            "xoxb-...",
            "SLACK_BOT_TOKEN is still the placeholder 'xoxb-...' from .env.example: "
            f"replace it with {BOT_TOKEN_WHERE}.",
        ),
        (
            "SLACK_BOT_TOKEN",
            "xapp-1-A1-secret",
            "SLACK_BOT_TOKEN does not start with xoxb- (it is an App-Level Token, which belongs in SLACK_APP_TOKEN): "
            f"give {BOT_TOKEN_WHERE}.",
        ),
        ("SLACK_BOT_TOKEN", "secret", f"SLACK_BOT_TOKEN does not start with xoxb-: give {BOT_TOKEN_WHERE}."),
        (
            "SLACK_SIGNING_SECRET",
            "...",
            "SLACK_SIGNING_SECRET is still the placeholder '...' from .env.example: "
            "replace it with the Signing Secret from your Slack app's Basic Information page.",
        ),
        (
            "SLACK_APP_TOKEN",
            "xapp-…",
            f"SLACK_APP_TOKEN is still the placeholder 'xapp-…' from .env.example: replace it with {APP_TOKEN_WHERE}.",
        ),
        (
            "SLACK_APP_TOKEN",
            "xoxb-2-secret",
            "SLACK_APP_TOKEN does not start with xapp- (it is a bot token, which belongs in SLACK_BOT_TOKEN): "
            f"give {APP_TOKEN_WHERE}.",
        ),
        ("PORT", "eighty", "PORT must be a port number from 1 to 65535, like 3000, not 'eighty'."),
        ("PORT", "65536", "PORT must be a port number from 1 to 65535, like 3000, not '65536'."),
        (
            "DATABASE_URL",
            "nosuchdb://",
            "DATABASE_URL nosuchdb:// is neither SQLite nor PostgreSQL, which this app runs on: "
            f"use {DATABASE_EXAMPLES}.",
        ),
        ("DATABASE_URL", "salesbot.db", f"DATABASE_URL is not a database URL: use {DATABASE_EXAMPLES}."),
        (
            "DATABASE_URL",
            "postgresql+nosuchdriver://u:hunter2@db/x",
            "DATABASE_URL postgresql+nosuchdriver://u:***@db/x names a driver that cannot be loaded "
            f"(Can't load plugin: sqlalchemy.dialects:postgresql.nosuchdriver): use {DATABASE_EXAMPLES}.",
        ),
        (
            "SALES_MANAGERS",
            "U0123ABCD, @jane,jane@example.com, <@U0456EFGH>,u0789",
            "SALES_MANAGERS must list Slack member ids like U0123ABCD, separated by commas "
            "(in Slack: a profile → ⋯ → Copy member ID); these are not: "
            "'@jane', 'jane@example.com', '<@U0456EFGH>', 'u0789'.",
        ),
        (
            "PIPELINE_FILE",
            "/no/such/pipeline.yaml",
            "PIPELINE_FILE /no/such/pipeline.yaml: pipeline file not found. "
            "Check the path, or use the default pipeline.",
        ),
        (
            "SLACK_API_URL",
            "slack.com/api",
            "SLACK_API_URL must be the base URL of Slack's Web API, like https://slack.com/api/, "
            "not 'slack.com/api' (or leave it unset for Slack's own).",
        ),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not 'LOUD'."),
        ("RUN_SCHEDULER", "maybe", "RUN_SCHEDULER must be true or false, not 'maybe'."),
    ],
)
def test_each_bad_setting_is_named_with_what_a_good_value_looks_like(name: str, value: str, problem: str) -> None:
    assert problems(GOOD | {name: value}) == [problem]


def test_no_secret_is_repeated_in_a_problem() -> None:
    found = "\n".join(
        problems(
            {
                "SLACK_BOT_TOKEN": "xapp-1-A1-topsecret",
                "SLACK_SIGNING_SECRET": "s",
                "SLACK_APP_TOKEN": "xoxb-2-topsecret",
                "DATABASE_URL": "postgresql+nosuchdriver://u:topsecret@db/x",
            }
        )
    )
    assert "topsecret" not in found and found.count("\n") == 2


def test_every_problem_is_listed_at_once_in_the_order_of_the_settings() -> None:
    found = problems(
        {
            "SLACK_SIGNING_SECRET": "...",
            "PORT": "x",
            "DATABASE_URL": "nosuchdb://",
            "SALES_MANAGERS": "jane",
            "SLACK_API_URL": "ftp://slack.com/api/",
            "LOG_LEVEL": "chatty",
            "RUN_SCHEDULER": "often",
        }
    )
    assert [problem.split(" ")[0] for problem in found] == [
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "PORT",
        "DATABASE_URL",
        "SALES_MANAGERS",
        "SLACK_API_URL",
        "LOG_LEVEL",
        "RUN_SCHEDULER",
    ]


def test_usual_good_values_pass() -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxe.xoxb-1-rotated",
            "SLACK_SIGNING_SECRET": "0123456789abcdef0123456789abcdef",
            "SLACK_APP_TOKEN": "xapp-1-A1-2",
            "DATABASE_URL": "postgresql://user:password@db.example.com:5432/salesbot",
            "SALES_MANAGERS": "U0123ABCD,W0456EFGH",
            "PIPELINE_FILE": str(ROOT / "examples" / "pipeline.yaml"),
            "SLACK_API_URL": "https://slack-gov.com/api",
            "LOG_LEVEL": "debug",
            "RUN_SCHEDULER": "no",
        }
    )
    assert settings.log_level == "DEBUG" and settings.slack_api_url == "https://slack-gov.com/api/"
    assert not settings.run_scheduler and settings.sales_managers == frozenset({"U0123ABCD", "W0456EFGH"})


# ---------------------------------------------------------------- what only the start can check


def test_a_database_that_cannot_be_reached_is_named_without_its_password(tmp_path: Path, slack: FakeSlack) -> None:
    reachable = GOOD | {"SLACK_API_URL": slack.base_url}
    assert problems(reachable | {"DATABASE_URL": UNREACHABLE_POSTGRESQL}, connect=True) == [
        "DATABASE_URL postgresql+psycopg://postgres:***@127.0.0.1:1/x cannot be connected to (connection failed: "
        'connection to server at "127.0.0.1", port 1 failed: Connection refused): check that the database is running '
        "there and that its host, port, name, user and password are right."
    ]
    missing_folder = f"sqlite:///{tmp_path / 'no-such-folder' / 'salesbot.db'}"
    assert problems(reachable | {"DATABASE_URL": missing_folder}, connect=True) == [
        f"DATABASE_URL {missing_folder} cannot be opened (unable to open database file): "
        "its folder must exist and be writable."
    ]
    # Without `connect`, nothing is opened.
    assert load_settings(reachable | {"DATABASE_URL": UNREACHABLE_POSTGRESQL}).database_url == UNREACHABLE_POSTGRESQL


class RefusingSlack(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.dumps({"ok": False, "error": "invalid_auth"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def refusing_slack() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RefusingSlack)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/api/"
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_token_slack_refuses_or_a_slack_that_does_not_answer_is_named(tmp_path: Path, refusing_slack: str) -> None:
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'salesbot.db'}"}
    assert problems(GOOD | database | {"SLACK_API_URL": refusing_slack}, connect=True) == [
        f"SLACK_BOT_TOKEN was refused by Slack (invalid_auth): give {BOT_TOKEN_WHERE}."
    ]
    nobody = f"http://127.0.0.1:{free_port()}/api/"
    [problem] = problems(GOOD | database | {"SLACK_API_URL": nobody}, connect=True)
    assert problem.startswith(f"SLACK_API_URL {nobody} does not answer (")
    assert problem.endswith(
        "Connection refused): give the base URL of Slack's Web API, like https://slack.com/api/, or leave it unset."
    )


@pytest.fixture
def port_in_use() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_a_port_in_use_is_named_in_http_mode_only(port_in_use: int) -> None:
    assert problems(GOOD | {"PORT": str(port_in_use)}, bind=True) == [
        f"PORT {port_in_use} is already in use on this machine: stop what holds it or choose a free port, like 3000."
    ]
    assert load_settings(GOOD | {"PORT": str(port_in_use), "SLACK_APP_TOKEN": "xapp-1"}, bind=True).port == port_in_use
    assert load_settings(GOOD | {"PORT": str(port_in_use)}).port == port_in_use


# ---------------------------------------------------------------- the entry point


def run_app(cwd: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=cwd,
        env=clean_environment(**environ),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_python_app_py_names_the_placeholders_of_env_example_left_in_place(tmp_path: Path) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = run_app(tmp_path, DATABASE_URL="nosuchdb://")
    assert result.returncode == 2, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "salesbot: SLACK_BOT_TOKEN is still the placeholder 'xoxb-...' from .env.example: "
        f"replace it with {BOT_TOKEN_WHERE}.",
        "salesbot: SLACK_SIGNING_SECRET is still the placeholder '...' from .env.example: "
        "replace it with the Signing Secret from your Slack app's Basic Information page.",
        "salesbot: SLACK_APP_TOKEN is still the placeholder 'xapp-...' from .env.example: "
        f"replace it with {APP_TOKEN_WHERE}.",
        "salesbot: DATABASE_URL nosuchdb:// is neither SQLite nor PostgreSQL, which this app runs on: "
        f"use {DATABASE_EXAMPLES}.",
    ]
    assert not (tmp_path / "salesbot.db").exists()


def test_python_app_py_lists_every_problem_at_once_then_exits_2(
    tmp_path: Path, slack: FakeSlack, port_in_use: int
) -> None:
    result = run_app(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="s",
        SLACK_APP_TOKEN="",
        SLACK_API_URL=slack.base_url,
        PORT=str(port_in_use),
        DATABASE_URL=UNREACHABLE_POSTGRESQL,
        SALES_MANAGERS="Jane Doe",
        LOG_LEVEL="LOUD",
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr
    assert [line.split(" ")[1] for line in result.stderr.splitlines()] == [
        "SALES_MANAGERS",
        "LOG_LEVEL",
        "DATABASE_URL",
        "PORT",
    ]
    assert all(line.startswith("salesbot: ") for line in result.stderr.splitlines())
    assert slack.calls_to("auth.test"), "the token was checked with Slack"


def test_gunicorn_stops_on_bad_settings_with_one_line_per_problem_and_no_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{free_port()}", "--chdir", str(ROOT)]
        + ["app:create_wsgi()"],
        cwd=tmp_path,
        env=clean_environment(SLACK_BOT_TOKEN="xoxb-...", SLACK_SIGNING_SECRET="s", LOG_LEVEL="LOUD"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("salesbot: ")]
    assert [line.split(" ")[1] for line in lines] == ["SLACK_BOT_TOKEN", "LOG_LEVEL"]
    assert "App failed to load" in result.stderr


# ---------------------------------------------------------------- the warning when nobody can approve


def test_a_start_without_any_manager_logs_one_warning_saying_how_to_add_one(
    tmp_path: Path, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    environ = GOOD | {"DATABASE_URL": f"sqlite:///{tmp_path / 'salesbot.db'}", "SLACK_API_URL": slack.base_url}
    runtime = build(load_settings(environ))
    try:
        with caplog.at_level(logging.WARNING, logger="salesbot"):
            warn_if_no_managers(runtime)
        [warning] = [record for record in caplog.records if record.name == "salesbot"]
        assert warning.levelno == logging.WARNING
        assert "SALES_MANAGERS" in warning.getMessage() and "/pipeline managers add @someone" in warning.getMessage()

        caplog.clear()
        with runtime.services.sessions.begin() as session:
            queries.set_manager(
                session,
                team_id=TEAM_ID,
                user_id="U0123ABCD",
                active=True,
                changed_by="U0123ABCD",
                changed_at=datetime(2026, 11, 2, tzinfo=UTC),
            )
        warn_if_no_managers(runtime)
        assert caplog.records == [], "a manager added from Slack counts"
    finally:
        runtime.engine.dispose()

    runtime = build(load_settings(environ | {"SALES_MANAGERS": "U0123ABCD"}))
    try:
        with runtime.services.sessions.begin() as session:
            queries.set_manager(
                session,
                team_id=TEAM_ID,
                user_id="U0123ABCD",
                active=False,
                changed_by="U0123ABCD",
                changed_at=datetime(2026, 11, 3, tzinfo=UTC),
            )
        warn_if_no_managers(runtime)
        assert caplog.records == [], "a manager from SALES_MANAGERS counts"
    finally:
        runtime.engine.dispose()


# ---------------------------------------------------------------- HEAD /healthz


def call(wsgi: Wsgi, method: str, path: str) -> tuple[str, list[tuple[str, str]], bytes]:
    answer: dict[str, Any] = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: object = None
    ) -> Callable[[bytes], object]:
        answer.update(status=status, headers=headers)
        return lambda data: None

    body = b"".join(wsgi({"REQUEST_METHOD": method, "PATH_INFO": path}, start_response))
    return answer["status"], answer["headers"], body


def test_head_healthz_answers_like_get_without_a_body(tmp_path: Path, slack: FakeSlack) -> None:
    runtime = build(
        load_settings(GOOD | {"DATABASE_URL": f"sqlite:///{tmp_path / 'salesbot.db'}", "SLACK_API_URL": slack.base_url})
    )
    try:
        get = call(runtime.wsgi, "GET", "/healthz")
        assert get[0] == "200 OK" and get[2] == b"ok\n"
        assert call(runtime.wsgi, "HEAD", "/healthz") == (get[0], get[1], b"")
    finally:
        runtime.engine.dispose()
