"""Faults: Slack refusing or dropping calls, the database going away, a process killed mid-way,
two managers clicking at once, Slack redelivering an event. Each keeps the stored state right."""

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.announcer import Announcer
from bot.blocks import APPROVE_ACTION
from commands.deals.deal import NewDeal, create_deal
from commands.deals.evidence import Evidence
from commands.deals.moves import Advance, AlreadyDecided, decide_move, request_move
from commands.deals.results import MoveRequested
from commands.errors import CommandError
from commands.services import Actor, Services
from storage.db import make_engine, make_session_factory
from storage.models import Announcement, Deal, DealEvent, MoveRequest
from tests.conftest import MANAGER, OTHER_MANAGER, REP, RunningBot, drain_listeners, running_bot
from tests.fakes.slack_api import FakeSlack
from tests.fakes.tcp_proxy import TcpProxy

CHANNEL = "C_SALES"


def cards(slack: FakeSlack) -> list[dict[str, object]]:
    return [m for m in slack.messages if m["channel"] == CHANNEL and not m.get("thread_ts")]


def deal(bot: RunningBot, number: int = 1) -> Deal:
    with bot.services.sessions() as session:
        return session.exec(select(Deal).where(Deal.number == number)).one()


def announcements(bot: RunningBot) -> list[tuple[str, str]]:
    with bot.services.sessions() as session:
        return [(a.kind, a.status) for a in session.exec(select(Announcement).order_by(col(Announcement.id))).all()]


def failed_attempts(bot: RunningBot) -> list[tuple[str, str, int]]:
    """Announcements that were tried and put back (pending, with an error), and how often tried."""
    with bot.services.sessions() as session:
        rows = session.exec(select(Announcement).order_by(col(Announcement.id))).all()
        return [(a.kind, a.status, a.attempts) for a in rows if a.last_error]


@pytest.mark.parametrize(
    "fault",
    [
        lambda slack: slack.fail_next("chat.postMessage", status=429, retry_after=1),
        lambda slack: slack.fail_next("chat.postMessage", status=503),
        lambda slack: slack.fail_next("chat.postMessage", status=500, times=2),
        lambda slack: slack.drop_next("chat.postMessage"),
    ],
    ids=["rate-limited", "unavailable", "server-error-twice", "connection-dropped"],
)
def test_slack_faults_are_retried_and_the_user_sees_the_same_outcome(
    bot: RunningBot, fault: Callable[[FakeSlack], None]
) -> None:
    fault(bot.slack)
    response = bot.command("/deal", "new Resilient deal")
    assert "Created deal-1" in response.json()["text"]
    [card] = bot.slack.wait_for(lambda: cards(bot.slack), timeout=15)
    assert "Resilient deal" in str(card["text"])
    bot.slack.wait_for(lambda: deal(bot).thread_ts == card["ts"])
    assert bot.slack.failures_served >= 1
    bot.slack.wait_for(lambda: announcements(bot) == [("card", "sent")])


def test_when_slack_stays_down_the_post_is_kept_and_delivered_later(bot: RunningBot) -> None:
    bot.slack.fail_next("chat.postMessage", status=500, times=100)
    response = bot.command("/deal", "new Patient deal")
    assert "Created deal-1" in response.json()["text"]
    bot.slack.wait_for(lambda: failed_attempts(bot) == [("card", "pending", 1)], timeout=30)
    assert deal(bot).name == "Patient deal" and deal(bot).thread_ts is None

    bot.slack.reset()  # Slack is back; the next catch-up (after the backoff) delivers the card
    later = replace(bot.services, clock=lambda: bot.services.clock() + timedelta(minutes=5))
    assert Announcer(later, bot.runtime.app.client).catch_up() == 1
    [card] = cards(bot.slack)
    assert deal(bot).thread_ts == card["ts"]
    assert announcements(bot) == [("card", "sent")]


def test_killed_after_storing_a_move_the_restarted_app_posts_it_and_it_can_be_decided(
    database_url: str, slack: FakeSlack
) -> None:
    with running_bot(database_url, slack) as first:
        first.command("/deal", "new Interrupted deal")
        slack.wait_for(lambda: announcements(first) == [("card", "sent")])
        services = first.services
    # The process stores the move and dies before posting it (no app is running to post it).
    stored = request_move(
        services, Actor("T1", REP), Advance(1, (Evidence("https://mail.example.com/ok"),), None, None)
    )
    assert isinstance(stored, MoveRequested)
    # What it leaves behind: the thread post owed in the database, for whichever process runs next.
    assert announcements(first) == [("card", "sent"), ("move_requested", "pending")]

    with running_bot(database_url, slack) as restarted:
        scheduler = restarted.runtime.start_scheduler()  # catches up at start
        try:
            [posted] = slack.wait_for(lambda: [m for m in slack.messages if "asks to move" in str(m["text"])])
        finally:
            scheduler.shutdown(wait=True)
        thread_ts = deal(restarted).thread_ts
        assert posted["thread_ts"] == thread_ts
        restarted.sender.action(
            APPROVE_ACTION, str(stored.move.id), user_id=MANAGER, message_ts=posted["ts"], thread_ts=thread_ts
        )
        slack.wait_for(lambda: "Approved by" in json.dumps(slack.message(CHANNEL, str(posted["ts"]))))
        assert deal(restarted).stage_key == "needs-confirmed"


def test_two_managers_approving_at_the_same_instant_decide_once(engine: Engine, services: Services) -> None:
    created = create_deal(services, Actor("T1", REP), channel_id=CHANNEL, command=NewDeal("Race", None, None, ()))
    requested = request_move(
        services, Actor("T1", REP), Advance(created.number, (Evidence("https://e.example.com/1"),), None, None)
    )
    assert isinstance(requested, MoveRequested)
    # Each manager on their own connection pool, as on two app workers.
    workers = [
        replace(services, sessions=make_session_factory(make_engine(str(engine.url.render_as_string(False)))))
        for _ in range(2)
    ]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def click(worker: Services, manager: str) -> None:
        barrier.wait()
        try:
            decide_move(worker, Actor("T1", manager), move_id=requested.move.id, approve=True)
            outcomes.append("decided")
        except AlreadyDecided:
            outcomes.append("already decided")

    threads = [
        threading.Thread(target=click, args=(w, m)) for w, m in zip(workers, (MANAGER, OTHER_MANAGER), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["already decided", "decided"]
    with services.sessions() as session:
        approved = session.exec(select(DealEvent).where(DealEvent.kind == "approved")).all()
        assert len(approved) == 1
        assert session.exec(select(Deal)).one().stage_key == "needs-confirmed"
        assert session.exec(select(MoveRequest)).one().status == "approved"


def test_concurrent_new_deals_are_numbered_without_gaps(engine: Engine, services: Services) -> None:
    url = engine.url.render_as_string(False)
    workers = [replace(services, sessions=make_session_factory(make_engine(url))) for _ in range(4)]
    barrier = threading.Barrier(16)
    numbers: list[int] = []

    def create(index: int) -> None:
        barrier.wait()
        worker = workers[index % len(workers)]
        team = "T1" if index % 2 else "T2"
        created = create_deal(
            worker, Actor(team, REP), channel_id=CHANNEL, command=NewDeal(f"D{index}", None, None, ())
        )
        numbers.append(created.number)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with services.sessions() as session:
        for team in ("T1", "T2"):
            stored = sorted(d.number for d in session.exec(select(Deal).where(Deal.team_id == team)).all())
            assert stored == list(range(1, 9))


def test_a_redelivered_event_is_handled_once(bot: RunningBot) -> None:
    event = {"type": "app_home_opened", "user": REP, "tab": "home", "channel": "D1"}
    assert bot.sender.send_event(event, event_id="Ev42").status == 200
    bot.slack.wait_for("views.publish")
    assert bot.sender.send_event(event, event_id="Ev42", retry_num=1).status == 200
    assert bot.sender.send_event(event, event_id="Ev43").status == 200
    bot.slack.wait_for("views.publish", count=2)
    drain_listeners(bot.runtime)  # every listener the three deliveries started has finished
    assert len(bot.slack.calls_to("views.publish")) == 2  # Ev42 and Ev43, not the redelivered Ev42


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs a PostgreSQL server to cut off")
def test_database_outage_gets_a_try_again_message_and_the_app_recovers(slack: FakeSlack, tmp_path: object) -> None:
    from tests.conftest import reset_postgresql

    url = os.environ["TEST_DATABASE_URL"]
    reset_postgresql(url)
    target = urlsplit(url)
    with TcpProxy(target.hostname or "127.0.0.1", target.port or 5432) as proxy:
        via_proxy = urlunsplit(target._replace(netloc=f"{target.username}@127.0.0.1:{proxy.port}"))
        with running_bot(via_proxy, slack) as bot:
            assert "Created deal-1" in bot.command("/deal", "new Before outage").json()["text"]
            proxy.cut()
            started = time.monotonic()
            during = bot.command("/deal", "new During outage")
            assert time.monotonic() - started < 3.0  # inside Slack's ack limit
            assert "did not answer" in during.json()["text"] and "try again" in during.json()["text"]
            proxy.restore()
            after = bot.command("/deal", "new After outage")
            assert "Created deal-2" in after.json()["text"]  # no half-written deal-2 from the outage
            with bot.services.sessions() as session:
                assert [d.name for d in session.exec(select(Deal).order_by(col(Deal.number))).all()] == [
                    "Before outage",
                    "After outage",
                ]


def test_use_case_refusals_do_not_depend_on_slack(services: Services) -> None:
    """Authorization lives in the use cases, so every entry point (CLI, scheduler, tests) obeys it."""
    created = create_deal(services, Actor("T1", REP), channel_id=CHANNEL, command=NewDeal("Mine", None, None, ()))
    with pytest.raises(CommandError, match="Only the owner"):
        request_move(
            services, Actor("T1", "U_STRANGER"), Advance(created.number, (Evidence("https://x.example"),), None, None)
        )
