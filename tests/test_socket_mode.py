"""Socket Mode on par with HTTP: the same request log line, a health answer, a clean stop on SIGTERM/SIGINT.

The app talks to a local fake of Socket Mode (`tests/fakes/socket_mode_server.py`): it hands out a
WebSocket URL from `apps.connections.open`, sends envelopes like Slack and records acks and close frames;
every other Web API call goes on to the fake Web API.
"""

import json
import logging
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from slack_sdk.socket_mode.builtin import SocketModeClient

from app import Runtime, SettingsError, build, load_settings, shut_down
from bot.scheduler import DigestRunner, start_scheduler
from bot.socket_mode import close_socket, health_wsgi, socket_mode_handler
from tests.conftest import MANAGER, RunningBot, drain_listeners
from tests.fakes.slack_api import FakeSlack
from tests.fakes.socket_mode_server import FakeSocketMode, wait_for
from tests.slack_requests import SIGNING_SECRET, slash_command
from tests.test_settings import clean_environment
from tests.test_startup import call, free_port

ROOT = Path(__file__).resolve().parents[1]
APP_TOKEN = "xapp-1-A1-test"
REQUEST_LINE = re.compile(
    r"request kind=(\S+) team=(\S+) user=(\S+) what=(\S+) status=(\d{3}) outcome=(ok|refused|error) ms=\d+"
)


def command_payload(command: str, text: str, **kw: Any) -> dict[str, str]:
    return dict(parse_qsl(slash_command(command, text, **kw).decode()))


@pytest.fixture
def socket_slack(slack: FakeSlack) -> Iterator[FakeSocketMode]:
    with FakeSocketMode(upstream=slack.base_url) as fake:
        yield fake


@pytest.fixture
def socket_runtime(database_url: str, socket_slack: FakeSocketMode) -> Iterator[Runtime]:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "DATABASE_URL": database_url,
            "SLACK_API_URL": socket_slack.base_url,
            "SALES_MANAGERS": MANAGER,
        }
    )
    runtime = build(settings)
    try:
        yield runtime
    finally:
        try:
            drain_listeners(runtime)  # before the fake Slack stops: no post-ack work may meet it stopped
        finally:
            runtime.engine.dispose()


def connected(runtime: Runtime, fake: FakeSocketMode) -> SocketModeClient:
    handler = socket_mode_handler(runtime.app, APP_TOKEN)
    handler.connect()
    wait_for(lambda: fake.connections, 10, "the app's WebSocket")
    return handler.client


# ---------------------------------------------------------------- the request log


def test_socket_mode_logs_the_same_line_as_http_without_the_typed_text(
    socket_runtime: Runtime, socket_slack: FakeSocketMode, bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    client = connected(socket_runtime, socket_slack)
    try:
        with caplog.at_level(logging.INFO, logger="salesbot.requests"):
            stages, refused = bot.slack.response_url("stages"), bot.slack.response_url("refused")
            ok = socket_slack.send_request(
                "slash_commands", command_payload("/pipeline", "stages", user_id="U1", response_url=stages)
            )
            told = socket_slack.send_request(
                "slash_commands", command_payload("/deal", "show deal-424242", user_id="U1", response_url=refused)
            )
            assert not socket_slack.ack_for(ok).get("payload") and not socket_slack.ack_for(told).get("payload")
            bot.slack.wait_for(lambda: len(bot.slack.responses) >= 2)
            answers = bot.slack.responses
            shown = {answer["url"]: json.dumps(answer) for answer in answers}
            assert "Meeting booked" in shown[stages] and "deal-424242" in shown[refused]
            wait_for(lambda: len(caplog.records) >= 3, 5, "two request lines and a refusal")
            socket_lines = [record.getMessage() for record in caplog.records]
            caplog.clear()
            bot.command("/pipeline", "stages", user="U1")
            bot.command("/deal", "show deal-424242", user="U1")
            http_lines = [record.getMessage() for record in caplog.records]
    finally:
        close_socket(client)
    fields = [match.groups() for line in socket_lines if (match := REQUEST_LINE.fullmatch(line))]
    assert sorted(fields) == sorted(
        [
            ("command", "T1", "U1", "/pipeline", "200", "ok"),
            ("command", "T1", "U1", "/deal", "200", "ok"),  # acked; refused after the ack, on a line of its own
        ]
    ), socket_lines
    assert "answer kind=command team=T1 user=U1 what=/deal outcome=refused error=CommandError" in socket_lines
    assert sorted(fields) == sorted(match.groups() for line in http_lines if (match := REQUEST_LINE.fullmatch(line)))
    assert not any("stages" in line or "424242" in line or "xapp" in line for line in socket_lines)


# ---------------------------------------------------------------- the health answer


def test_healthz_answers_200_only_while_the_database_answers_and_the_socket_is_connected() -> None:
    state = {"database": True, "socket": True}
    wsgi = health_wsgi(database_answers=lambda: state["database"], connected=lambda: state["socket"])
    assert call(wsgi, "GET", "/healthz")[::2] == ("200 OK", b"ok\n")
    get = call(wsgi, "GET", "/healthz")
    assert call(wsgi, "HEAD", "/healthz") == (get[0], get[1], b"")
    state["socket"] = False
    assert call(wsgi, "GET", "/healthz")[::2] == ("503 Service Unavailable", b"not connected to Slack\n")
    state.update(socket=True, database=False)
    assert call(wsgi, "GET", "/healthz")[::2] == ("503 Service Unavailable", b"database unavailable\n")
    assert call(wsgi, "HEAD", "/healthz")[::2] == ("503 Service Unavailable", b"")
    assert call(wsgi, "POST", "/healthz")[0] == "404 Not Found"
    assert call(wsgi, "GET", "/slack/events")[0] == "404 Not Found"


# ---------------------------------------------------------------- the stop, in process


def test_shut_down_closes_the_socket_with_a_close_frame_after_the_deliveries_in_flight(
    socket_runtime: Runtime, socket_slack: FakeSocketMode
) -> None:
    delivering = threading.Event()
    delivered: list[str] = []

    def slow_delivery() -> None:
        delivering.set()
        time.sleep(0.5)
        delivered.append("digest")

    scheduler = start_scheduler(DigestRunner(socket_runtime.services, lambda due: ("1.0", False), worker="test"))
    scheduler.add_job(slow_delivery, id="slow-delivery")
    client = connected(socket_runtime, socket_slack)
    [connection] = socket_slack.connections
    assert delivering.wait(5)

    shut_down(
        stop_requests=lambda: close_socket(client),
        listeners=socket_runtime.app.listener_runner.listener_executor,
        scheduler=scheduler,
        engine=socket_runtime.engine,
    )

    assert delivered == ["digest"], "the delivery in flight was finished"
    assert not scheduler.running
    assert connection.closed_cleanly and connection.close_code == 1000
    assert not client.is_connected()
    # The threads that reconnect (the session's reader on a close, the monitor every ping) have ended,
    # so any reconnection they made is counted by now.
    assert not client.current_session_runner.is_alive() and not client.current_app_monitor.is_alive()
    assert len(socket_slack.connections) == 1 and len(socket_slack.opened) == 1, "no reconnection after the close"


# ---------------------------------------------------------------- python app.py, for real


def app_environment(tmp_path: Path, fake: FakeSocketMode, **extra: str) -> dict[str, str]:
    return clean_environment(
        **{
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": fake.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'salesbot.db'}",
            "SALES_MANAGERS": MANAGER,
        }
        | extra
    )


def health(port: int, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_python_app_py_serves_socket_mode_answers_health_and_stops_cleanly(
    tmp_path: Path, slack: FakeSlack, socket_slack: FakeSocketMode, stop: signal.Signals
) -> None:
    health_port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        cwd=tmp_path,
        env=app_environment(tmp_path, socket_slack, HEALTH_PORT=str(health_port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: socket_slack.connections or process.poll() is not None, 30, "the app's WebSocket")
        assert process.poll() is None, process.communicate()[1]
        url = slack.response_url("stages")
        socket_slack.send_request(
            "slash_commands", command_payload("/pipeline", "stages", user_id="U1", response_url=url)
        )
        assert "Meeting booked" in json.dumps(slack.wait_for(lambda: slack.responses)[0]["blocks"])
        assert wait_for(lambda: health(health_port)[0] == 200 or None, 10, "a healthy answer")
        assert health(health_port) == (200, b"ok\n") and health(health_port, "HEAD") == (200, b"")

        process.send_signal(stop)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    [connection] = socket_slack.connections
    assert connection.closed_cleanly and connection.close_code == 1000, stderr
    assert "Traceback" not in stderr
    assert re.search(r"request kind=command team=T1 user=U1 what=/pipeline status=200 outcome=ok ms=\d+", stderr)
    assert f"stopping on {stop.name}" in stderr and stderr.rstrip().endswith("stopped")
    assert APP_TOKEN not in stderr and "xoxb-test" not in stderr


# ---------------------------------------------------------------- python app.py --check


def run_check(tmp_path: Path, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--check"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_exits_0_when_settings_database_and_slack_are_fine_even_while_the_app_holds_its_port(
    tmp_path: Path, socket_slack: FakeSocketMode, slack: FakeSlack
) -> None:
    socket_mode = run_check(tmp_path, app_environment(tmp_path, socket_slack))
    assert (socket_mode.returncode, socket_mode.stdout, socket_mode.stderr) == (
        0,
        "salesbot: ok: settings, database and Slack answer (Socket Mode)\n",
        "",
    )
    assert slack.calls_to("auth.test"), "the bot token was tried"
    assert socket_slack.opened == [], "apps.connections.open is left to the app: about one call a minute"
    with port_held() as port:
        http = run_check(tmp_path, app_environment(tmp_path, socket_slack, SLACK_APP_TOKEN="", PORT=str(port)))
    assert (http.returncode, http.stdout) == (
        0,
        f"salesbot: ok: settings, database and Slack answer (HTTP on port {port})\n",
    )


@contextmanager
def port_held() -> Iterator[int]:
    """A port someone else holds, as the running app holds PORT."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_check_exits_2_naming_what_is_wrong(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'missing' / 'salesbot.db'}"
    nobody = f"http://127.0.0.1:{free_port()}/api/"
    environ = clean_environment(
        SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s", DATABASE_URL=missing, SLACK_API_URL=nobody
    )
    result = run_check(tmp_path, environ)
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    [database, slack] = result.stderr.splitlines()
    assert database == (
        f"salesbot: DATABASE_URL {missing} cannot be opened (unable to open database file): "
        "its folder must exist and be writable."
    )
    assert slack.startswith(f"salesbot: SLACK_API_URL {nobody} does not answer (")


# ---------------------------------------------------------------- HEALTH_PORT as a setting


def test_a_bad_or_taken_health_port_is_named_like_port() -> None:
    good = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_APP_TOKEN": APP_TOKEN}
    with pytest.raises(SettingsError) as refused:
        load_settings(good | {"HEALTH_PORT": "health"})
    assert refused.value.problems == ("HEALTH_PORT must be a port number from 1 to 65535, like 8080, not 'health'.",)
    assert load_settings(good | {"HEALTH_PORT": "8080"}).health_port == 8080
    assert load_settings(good | {"HEALTH_PORT": ""}).health_port is None
    with port_held() as port:
        with pytest.raises(SettingsError) as refused:
            load_settings(good | {"HEALTH_PORT": str(port)}, bind=True)
        assert refused.value.problems == (
            f"HEALTH_PORT {port} is already in use on this machine: stop what holds it or choose a free port, "
            "like 8080.",
        )
        # In HTTP mode /healthz is served on PORT, so HEALTH_PORT is not opened.
        http = {key: value for key, value in good.items() if key != "SLACK_APP_TOKEN"}
        assert load_settings(http | {"HEALTH_PORT": str(port), "PORT": str(free_port())}, bind=True)


def test_python_app_py_in_http_mode_also_stops_cleanly_on_sigterm(tmp_path: Path, slack: FakeSlack) -> None:
    port = free_port()
    process = http_app(tmp_path, slack, port)
    try:

        def healthy() -> bool | None:
            try:
                return health(port)[0] == 200 or None
            except OSError:
                assert process.poll() is None, "the app stopped"
                return None

        wait_for(healthy, 30, "the app's /healthz")
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "stopping on SIGTERM" in stderr and "Traceback" not in stderr


def test_a_sigterm_while_the_app_is_still_starting_stops_it_cleanly(tmp_path: Path, slack: FakeSlack) -> None:
    """Sent while the database is being migrated, before the port answers: recorded, and the app stops cleanly
    once it is up, instead of dying of the signal (a supervisor stopping a slow start)."""
    process = http_app(tmp_path, slack, free_port())
    try:
        assert process.stderr is not None
        first = process.stderr.readline()  # the first line is logged as the migrations begin
        assert "alembic" in first, first
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, first + rest
    assert "stopping on SIGTERM" in rest


def http_app(tmp_path: Path, slack: FakeSlack, port: int) -> subprocess.Popen[str]:
    """`python app.py` serving HTTP on `port` over a fresh SQLite file, its log on a pipe."""
    environ = clean_environment(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_APP_TOKEN="",
        SLACK_API_URL=slack.base_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'salesbot.db'}",
        SALES_MANAGERS=MANAGER,
        PORT=str(port),
    )
    return subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=environ, stderr=subprocess.PIPE, text=True
    )
