"""Settings are read once, at start-up; a missing one stops the start with one clear line.

Every other bad setting, and a normal start's silence, are in test_startup.py."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app import DEFAULT_DATABASE_URL, SettingsError, load_settings, settings_from_environment
from tests.fakes.slack_api import FakeSlack
from tests.slack_requests import SIGNING_SECRET, SlackSender, shown_reply

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cret"}


def test_defaults() -> None:
    settings = load_settings(REQUIRED)
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///salesbot.db"
    assert settings.port == 3000 and settings.app_token is None and settings.slack_api_url is None


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_missing_or_empty_required_setting_is_named(missing: str) -> None:
    for value in (None, "", "   "):
        environ = dict(REQUIRED)
        if value is None:
            del environ[missing]
        else:
            environ[missing] = value
        with pytest.raises(SettingsError) as refused:
            load_settings(environ)
        [problem] = refused.value.problems
        assert problem.startswith(f"{missing} is not set: give the ")
        assert problem.endswith(". See the Configuration section of README.md.")


def test_values_are_parsed() -> None:
    settings = load_settings(
        REQUIRED
        | {
            "SALES_MANAGERS": " U0123ABCD, W0456EFGH ,,",
            "SLACK_API_URL": "http://127.0.0.1:9/api",
            "PORT": "8080",
            "SLACK_APP_TOKEN": "xapp-1",
        }
    )
    assert settings.sales_managers == frozenset({"U0123ABCD", "W0456EFGH"})
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.port == 8080 and settings.app_token == "xapp-1"
    with pytest.raises(SettingsError, match="PORT"):
        load_settings(REQUIRED | {"PORT": "eighty"})


def test_an_empty_variable_overrides_dotenv_and_counts_as_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-env\nSLACK_SIGNING_SECRET=s\nSLACK_APP_TOKEN=xapp-from-dotenv\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_APP_TOKEN", "")
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    settings = settings_from_environment()
    assert settings.bot_token == "xoxb-env"
    assert settings.app_token is None


def clean_environment(**extra: str) -> dict[str, str]:
    keep = {name: value for name, value in os.environ.items() if not name.startswith(("SLACK_", "SALES_", "DATABASE_"))}
    return keep | extra


def test_start_without_a_token_prints_one_line_and_exits(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=tmp_path,
        env=clean_environment(SLACK_SIGNING_SECRET="s"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "salesbot: SLACK_BOT_TOKEN is not set: give the Bot User OAuth Token (xoxb-…) from your Slack app's "
        "OAuth & Permissions page. See the Configuration section of README.md."
    ]


def wait_until_healthy(process: "subprocess.Popen[str]", port: int, *, timeout: float) -> None:
    """Poll GET /healthz until it answers 200; fail with the process's output if it dies or never does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as health:
                if health.status == 200:
                    return
        except OSError:
            pass
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        assert time.monotonic() < deadline, f"nothing answered /healthz on port {port} within {timeout} s"
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_python_app_py_serves_http_end_to_end(tmp_path: Path, slack: FakeSlack) -> None:
    """The real entry point: migrates a fresh SQLite file, serves /healthz and signed Slack requests,
    and logs no warning on a normal start (SLACK_BOT_TOKEN in the environment, as from `.env`)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        cwd=tmp_path,
        env=clean_environment(
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.base_url,
            PORT=str(port),
            SLACK_APP_TOKEN="",
            SALES_MANAGERS="U0123ABCD",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = ""
    try:
        wait_until_healthy(process, port, timeout=30)
        url = slack.response_url("entry")
        sender = SlackSender(f"http://127.0.0.1:{port}/slack/events")
        response = shown_reply(sender.command("/deal", "new Entry point test", response_url=url), slack, url)
        assert response.status == 200 and "Created deal-1" in response.json()["text"]
        slack.wait_for(lambda: [m for m in slack.messages if "Entry point test" in m["text"]])
        slack.wait_for("views.publish", count=2)  # the owner's and the manager's Home tabs: all the work is done
        assert (tmp_path / "salesbot.db").exists()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "serving Slack requests" in output
    assert [line for line in output.splitlines() if " WARNING " in line or "Traceback" in line] == []
