"""The documented scale-out command: gunicorn workers of `app:create_wsgi()` over one database."""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlmodel import select

from storage.db import make_engine, make_session_factory
from storage.models import Deal
from tests.conftest import MANAGER
from tests.fakes.slack_api import FakeSlack
from tests.slack_requests import SIGNING_SECRET, Response, SlackSender, shown_reply
from tests.test_settings import clean_environment, free_port, wait_until_healthy

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 3
DEALS = 24


def test_gunicorn_workers_share_one_database_and_number_deals_without_gaps(
    database_url: str, slack: FakeSlack, tmp_path: Path
) -> None:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(WORKERS),
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "--chdir",
            str(ROOT),
            "app:create_wsgi()",
        ],
        cwd=tmp_path,
        env=clean_environment(
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.base_url,
            DATABASE_URL=database_url,
            SALES_MANAGERS=MANAGER,
            SLACK_APP_TOKEN="",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_healthy(server, port, timeout=60)
        sender = SlackSender(f"http://127.0.0.1:{port}/slack/events")
        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(lambda i: new_deal(sender, slack, f"Load {i}"), range(DEALS)))
        assert [a.status for a in answers] == [200] * DEALS
        assert all("Created deal-" in a.json()["text"] for a in answers)
        engine = make_engine(database_url)
        with make_session_factory(engine)() as session:
            assert sorted(d.number for d in session.exec(select(Deal)).all()) == list(range(1, DEALS + 1))
        engine.dispose()
        slack.wait_for(lambda: len([m for m in slack.messages if "Load" in m["text"]]) == DEALS, timeout=30)
        assert slack.violations == []
    finally:
        server.terminate()
        server.wait(timeout=30)


def new_deal(sender: SlackSender, slack: FakeSlack, name: str) -> Response:
    """`/deal new <name>` as a rep, and the reply they see (it comes on the response_url after the ack)."""
    url = slack.response_url("load")
    return shown_reply(sender.command("/deal", f"new {name}", user_id="U_REP", response_url=url), slack, url)
