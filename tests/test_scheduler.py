"""The digest scheduler: real APScheduler ticks, several processes, failures and restarts, posting to a fake Slack."""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as wall_time
from functools import partial
from typing import TypeVar

import pytest
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.app_factory import make_client
from bot.digest_post import digest_deliverer
from bot.scheduler import Deliver, DigestRunner, start_scheduler, worker_name
from commands.deals.deal import NewDeal, create_deal
from commands.digest.schedules import DEFAULT_GRACE, DueDigest, SetSchedule, set_schedule
from commands.services import Actor, Services
from storage.db import make_engine, make_session_factory
from storage.models import DigestDelivery
from tests.conftest import LISTENER_DRAIN_SECONDS, MANAGER, REP, Clock, stop_within
from tests.fakes.slack_api import FakeSlack

T = TypeVar("T")
TEAM = "T1"
CHANNEL = "C_DIGEST"
TICK = 0.2
DUE_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class PostDigest:
    """A stand-in for bot.digest_post.deliver_digest: one chat.postMessage per digest, recorded."""

    def __init__(self, slack: FakeSlack, *, fail_first: int = 0) -> None:
        self.client = WebClient(token="xoxb-test", base_url=slack.base_url)
        self.fail_first = fail_first
        self.calls: list[DueDigest] = []

    def __call__(self, due: DueDigest) -> tuple[str, bool]:
        self.calls.append(due)
        if len(self.calls) <= self.fail_first:
            raise RuntimeError("digest could not be computed")
        response = self.client.chat_postMessage(channel=due.channel_id, text=f"Pipeline digest {due.period_key}")
        return str(response["ts"]), False


class Ticking(DigestRunner):
    """The real runner, counting the ticks it finished: a test waits for ticks instead of sleeping, so a check
    that nothing (more) was posted is made after the scheduler did look."""

    def __init__(self, services: Services, deliver: Deliver, *, worker: str, grace: timedelta = DEFAULT_GRACE) -> None:
        super().__init__(services, deliver, worker=worker, grace=grace)
        self.ticks = 0
        self._ticked = threading.Condition()

    def run_once(self, now: datetime | None = None) -> list[int]:
        try:
            return super().run_once(now)
        finally:
            with self._ticked:
                self.ticks += 1
                self._ticked.notify_all()

    def wait_ticks(self, count: int, timeout: float = 5.0) -> None:
        """Wait until `count` ticks have finished since the scheduler started."""
        with self._ticked:
            if not self._ticked.wait_for(lambda: self.ticks >= count, timeout):
                raise AssertionError(f"worker {self.worker}: {self.ticks} ticks in {timeout}s, waited for {count}")


def more_ticks(*runners: Ticking, count: int = 2) -> None:
    """Wait until each runner finished `count` more ticks: at least one of them began after this call."""
    targets = [(runner, runner.ticks + count) for runner in runners]
    for runner, target in targets:
        runner.wait_ticks(target)


@pytest.fixture
def scheduled(services: Services, clock: Clock) -> Services:
    """A daily 09:00 UTC digest in CHANNEL, set the evening before; the clock stands just before 09:00."""
    clock.now = DUE_AT - timedelta(hours=12)
    command = SetSchedule(frequency="daily", weekday=None, at=wall_time(9, 0), tz="UTC")
    set_schedule(services, Actor(TEAM, MANAGER), channel_id=CHANNEL, command=command, default_tz="UTC")
    clock.now = DUE_AT - timedelta(seconds=2)
    return services


@pytest.fixture
def second_process(database_url: str, engine: Engine, scheduled: Services) -> Iterator[Services]:
    """Services on their own engine (their own connections), as another app process would have."""
    other_engine = make_engine(database_url)
    yield Services(sessions=make_session_factory(other_engine), pipeline=scheduled.pipeline, clock=scheduled.clock)
    other_engine.dispose()


@pytest.fixture
def schedulers(slack: FakeSlack) -> Iterator[list[BackgroundScheduler]]:
    """Schedulers a test starts; shut down at the end even when the test fails, and before the fake Slack
    stops (this fixture depends on it), their running ticks finished: it fails if one is still running."""
    started: list[BackgroundScheduler] = []
    yield started
    for scheduler in started:
        if scheduler.running:
            stop_within(partial(scheduler.shutdown, wait=True), LISTENER_DRAIN_SECONDS, "a scheduler tick")


def rows(services: Services) -> list[DigestDelivery]:
    with services.sessions() as session:
        return list(session.exec(select(DigestDelivery).order_by(col(DigestDelivery.id))).all())


def wait_until(condition: Callable[[], T], timeout: float = 5.0) -> T:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {condition.__name__}")
        time.sleep(0.02)
    return result


def posted(slack: FakeSlack) -> list[str]:
    return [message["text"] for message in slack.messages]


# --- the runner, tick by tick ---------------------------------------------------------------------


def test_a_tick_delivers_what_is_due_once(scheduled: Services, clock: Clock, slack: FakeSlack) -> None:
    runner = DigestRunner(scheduled, PostDigest(slack), worker="A")
    assert runner.run_once() == []
    clock.advance(seconds=2)
    [sent] = runner.run_once()
    assert runner.run_once() == []
    clock.advance(hours=1)
    assert runner.run_once() == []
    assert posted(slack) == ["Pipeline digest daily:2026-11-02T09:00"]
    [row] = rows(scheduled)
    assert (row.id, row.status, row.attempts, row.claimed_by) == (sent, "sent", 1, "A")
    assert row.message_ts == slack.messages[0]["ts"]
    clock.now = DUE_AT + timedelta(days=1)
    assert len(runner.run_once()) == 1
    assert len(posted(slack)) == 2


def test_a_deliver_that_raises_is_logged_recorded_and_retried(
    scheduled: Services, clock: Clock, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    deliver = PostDigest(slack, fail_first=1)
    runner = DigestRunner(scheduled, deliver, worker="A")
    clock.now = DUE_AT
    with caplog.at_level(logging.ERROR, logger="bot.scheduler"):
        assert runner.run_once() == []
    [record] = caplog.records
    assert record.exc_info is not None and "daily:2026-11-02T09:00" in record.getMessage()
    [row] = rows(scheduled)
    assert (row.status, row.last_error, row.next_attempt_at) == (
        "pending",
        "RuntimeError: digest could not be computed",
        DUE_AT + timedelta(minutes=1),
    )
    clock.advance(seconds=59)
    assert runner.run_once() == []
    clock.advance(seconds=1)
    assert runner.run_once() == [row.id]
    assert posted(slack) == ["Pipeline digest daily:2026-11-02T09:00"]
    assert [r.status for r in rows(scheduled)] == ["sent"]


def test_a_run_missed_past_grace_is_skipped_with_a_log_line(
    scheduled: Services, clock: Clock, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    runner = DigestRunner(scheduled, PostDigest(slack), worker="A", grace=timedelta(hours=2))
    clock.now = DUE_AT + timedelta(hours=2, minutes=1)
    with caplog.at_level(logging.WARNING):
        assert runner.run_once() == []
        assert runner.run_once() == []
    assert posted(slack) == []
    assert [r.status for r in rows(scheduled)] == ["given_up"]
    assert len([r for r in caplog.records if "skipped" in r.getMessage()]) == 1


# --- real APScheduler ----------------------------------------------------------------------------


def test_two_processes_ticking_post_the_digest_once(
    scheduled: Services, second_process: Services, clock: Clock, slack: FakeSlack, schedulers: list[BackgroundScheduler]
) -> None:
    first, second = PostDigest(slack), PostDigest(slack)
    runners = Ticking(scheduled, first, worker="A"), Ticking(second_process, second, worker="B")
    for runner in runners:
        schedulers.append(start_scheduler(runner, interval_seconds=TICK))
    more_ticks(*runners)  # both looked at 08:59:58
    assert posted(slack) == []  # nothing due yet

    clock.advance(seconds=2)  # 09:00: both processes' next ticks find the digest due
    slack.wait_for("chat.postMessage")
    more_ticks(*runners)  # both looked again after it was sent
    assert posted(slack) == ["Pipeline digest daily:2026-11-02T09:00"]
    assert len(first.calls) + len(second.calls) == 1
    [row] = rows(scheduled)
    assert row.status == "sent" and row.claimed_by in {"A", "B"}
    assert slack.violations == []


def test_a_failed_post_is_recorded_then_sent_by_a_later_tick(
    scheduled: Services, clock: Clock, slack: FakeSlack, schedulers: list[BackgroundScheduler]
) -> None:
    slack.fail_next("chat.postMessage", status=500, times=1)
    clock.now = DUE_AT
    runner = Ticking(scheduled, PostDigest(slack), worker="A")
    schedulers.append(start_scheduler(runner, interval_seconds=TICK))
    [failed] = wait_until(lambda: [r for r in rows(scheduled) if r.status == "pending"])
    assert "internal_error" in (failed.last_error or "")
    more_ticks(runner)  # ticks inside the backoff do not retry
    assert slack.failures_served == 1 and posted(slack) == []

    clock.advance(minutes=1)  # the backoff has passed
    wait_until(lambda: [r for r in rows(scheduled) if r.status == "sent"])
    more_ticks(runner)  # nor do ticks after the retry succeeded
    assert posted(slack) == ["Pipeline digest daily:2026-11-02T09:00"]
    [row] = rows(scheduled)
    assert (row.status, row.attempts) == ("sent", 2)


def test_a_restart_does_not_post_again_and_catches_up_on_a_missed_run(
    scheduled: Services, second_process: Services, clock: Clock, slack: FakeSlack, schedulers: list[BackgroundScheduler]
) -> None:
    clock.now = DUE_AT
    before = start_scheduler(DigestRunner(scheduled, PostDigest(slack), worker="A"), interval_seconds=TICK)
    schedulers.append(before)
    slack.wait_for("chat.postMessage")
    before.shutdown(wait=True)

    # Down through the next day's 09:00; back up three hours later, as another process.
    clock.now = DUE_AT + timedelta(days=1, hours=3)
    after = Ticking(second_process, PostDigest(slack), worker="A-restarted")
    schedulers.append(start_scheduler(after, interval_seconds=TICK))
    slack.wait_for("chat.postMessage", count=2)
    more_ticks(after)
    assert posted(slack) == ["Pipeline digest daily:2026-11-02T09:00", "Pipeline digest daily:2026-11-03T09:00"]
    assert [(r.period_key, r.status, r.claimed_by) for r in rows(scheduled)] == [
        ("daily:2026-11-02T09:00", "sent", "A"),
        ("daily:2026-11-03T09:00", "sent", "A-restarted"),
    ]


def test_the_first_tick_runs_at_start(
    scheduled: Services, clock: Clock, slack: FakeSlack, schedulers: list[BackgroundScheduler]
) -> None:
    clock.now = DUE_AT
    scheduler = start_scheduler(DigestRunner(scheduled, PostDigest(slack), worker=worker_name()), interval_seconds=30)
    schedulers.append(scheduler)
    slack.wait_for("chat.postMessage", timeout=5)  # long before the first 30 s interval


class SlowFirstTick(Ticking):
    """Its first tick blocks until released; it records how many of its ticks ever ran at once."""

    def __init__(self, services: Services, deliver: Deliver, *, worker: str) -> None:
        super().__init__(services, deliver, worker=worker)
        self.release = threading.Event()
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def run_once(self, now: datetime | None = None) -> list[int]:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            first = self.ticks == 0 and self.running == 1
        try:
            if first:
                assert self.release.wait(10), "the test never released the slow tick"
            return super().run_once(now)
        finally:
            with self._lock:
                self.running -= 1


def test_a_slow_tick_is_not_overlapped_by_the_next_and_ticking_goes_on_after_it(
    scheduled: Services, slack: FakeSlack, schedulers: list[BackgroundScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    runner = SlowFirstTick(scheduled, PostDigest(slack), worker="A")
    with caplog.at_level(logging.WARNING, logger="apscheduler"):
        schedulers.append(start_scheduler(runner, interval_seconds=TICK))
        # A tick falls due while the first is still running: the scheduler says it skipped it.
        wait_until(lambda: [r for r in caplog.records if "maximum number of running instances" in r.getMessage()])
    assert runner.ticks == 0 and runner.most_at_once == 1
    runner.release.set()
    runner.wait_ticks(3)  # the slow tick, then the ticks after it
    assert runner.most_at_once == 1


def test_two_schedulers_posting_the_real_digest_post_it_once_with_its_chart(
    scheduled: Services, second_process: Services, clock: Clock, slack: FakeSlack, schedulers: list[BackgroundScheduler]
) -> None:
    """The real delivery (digest message, then chart upload) behind two ticking schedulers."""
    clock.now = DUE_AT - timedelta(hours=1)
    create_deal(scheduled, Actor(TEAM, REP), channel_id=CHANNEL, command=NewDeal("Acme", None, None, ()))
    clock.now = DUE_AT
    runners = []
    for services, worker in ((scheduled, "A"), (second_process, "B")):
        deliver = digest_deliverer(services, make_client(token="xoxb-test", base_url=slack.base_url))
        runners.append(Ticking(services, deliver, worker=worker))
        schedulers.append(start_scheduler(runners[-1], interval_seconds=TICK))
    [row] = wait_until(lambda: [r for r in rows(scheduled) if r.status == "sent"], timeout=20)
    more_ticks(*runners)
    digests = [m for m in slack.messages if m["text"].startswith("Pipeline digest")]
    assert len(digests) == 1 and digests[0]["channel"] == CHANNEL
    assert len(slack.files) == 1 and slack.files[0]["channel_id"] == CHANNEL
    assert row.chart_uploaded and row.message_ts == digests[0]["ts"]
    assert len(rows(scheduled)) == 1
