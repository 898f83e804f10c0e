"""Scheduled digests: one APScheduler tick per process, and the database decides who delivers what.

APScheduler holds no digest jobs. Several schedulers sharing a job store would each fire every job,
and a job due while the app restarts would be skipped after its 1 s misfire grace time. Instead each
process ticks every few seconds from a memory job store; a tick reads the schedules from the
database and claims each due digest there (commands.digest.schedules), so processes may come and go, run
side by side, or start hours late, and each digest is still posted once.
"""

import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from commands.digest.schedules import (
    DEFAULT_GRACE,
    DueDigest,
    abandon_missed,
    claim,
    due_digests,
    mark_failed,
    mark_sent,
    reclaim_retries,
)
from commands.services import Services

logger = logging.getLogger(__name__)

Deliver = Callable[[DueDigest], tuple[str | None, bool]]
"""Posts one digest; returns (message_ts, chart_uploaded), message_ts None when the schedule skips a quiet
period; raises when it could not post."""

TICK_JOB_ID = "digest-tick"
WORKER_NAME_LIMIT = 128


def worker_name() -> str:
    """Who claimed a delivery, for the record: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:WORKER_NAME_LIMIT]


class DigestRunner:
    """One tick's work: record missed digests, claim and deliver due ones, retry failed ones."""

    def __init__(self, services: Services, deliver: Deliver, *, worker: str, grace: timedelta = DEFAULT_GRACE) -> None:
        self.services = services
        self.deliver = deliver
        self.worker = worker[:WORKER_NAME_LIMIT]
        self.grace = grace

    def run_once(self, now: datetime | None = None) -> list[int]:
        """Deliver everything due at `now` (default: the services' clock); the ids of the deliveries sent."""
        clock: Callable[[], datetime] = self.services.clock if now is None else (lambda: now)
        started = clock()
        abandon_missed(self.services, now=started, worker=self.worker, grace=self.grace)
        sent = []
        # Claim one digest at a time: a claim held while delivering others would only delay them.
        for due in due_digests(self.services, now=started, grace=self.grace):
            delivery_id = claim(self.services, due, worker=self.worker, now=clock())
            if delivery_id is not None and self._deliver(delivery_id, due, clock):
                sent.append(delivery_id)
        for delivery_id, due in reclaim_retries(self.services, now=clock(), worker=self.worker, grace=self.grace):
            if self._deliver(delivery_id, due, clock):
                sent.append(delivery_id)
        return sent

    def _deliver(self, delivery_id: int, due: DueDigest, clock: Callable[[], datetime]) -> bool:
        try:
            message_ts, chart_uploaded = self.deliver(due)
        except Exception as error:  # any failure of one post is recorded and retried; it must not stop the others
            logger.exception(
                "digest delivery %d failed: team=%s channel=%s period=%s",
                delivery_id,
                due.team_id,
                due.channel_id,
                due.period_key,
            )
            mark_failed(self.services, delivery_id, error=f"{type(error).__name__}: {error}", now=clock())
            return False
        mark_sent(self.services, delivery_id, message_ts=message_ts, chart_uploaded=chart_uploaded, now=clock())
        logger.info(
            "digest sent: delivery=%d team=%s channel=%s period=%s ts=%s",
            delivery_id,
            due.team_id,
            due.channel_id,
            due.period_key,
            message_ts,
        )
        return True


def start_scheduler(runner: DigestRunner, *, interval_seconds: float = 30) -> BackgroundScheduler:
    """Start ticking `runner` now and every `interval_seconds`; the caller calls `shutdown()` on the result.

    coalesce and max_instances=1: a slow tick never overlaps the next, and missed ticks run once.
    misfire_grace_time=None: a late tick still runs (the digests' own grace period is in the runner).
    """
    scheduler = BackgroundScheduler(timezone=UTC)
    _tick(scheduler, runner.run_once, job_id=TICK_JOB_ID, name="digest tick", interval_seconds=interval_seconds)
    scheduler.start()
    return scheduler


CATCH_UP_JOB_ID = "thread-catch-up"


def add_thread_catch_up(
    scheduler: BackgroundScheduler, catch_up: Callable[[], object], *, interval_seconds: float = 30
) -> None:
    """Also deliver, now and on every tick, the thread posts that Slack or a dead process left owed."""
    _tick(scheduler, catch_up, job_id=CATCH_UP_JOB_ID, name="thread catch-up", interval_seconds=interval_seconds)


REMINDERS_JOB_ID = "reminders"


def add_reminders(
    scheduler: BackgroundScheduler, remind: Callable[[], object], *, interval_seconds: float = 60
) -> None:
    """Also owe and deliver, now and on every tick, the reminders of pending moves and nudges of stalled deals
    that are due (`bot.reminders.ReminderRunner.run_once`); the database's claims keep each one single."""
    _tick(scheduler, remind, job_id=REMINDERS_JOB_ID, name="reminders", interval_seconds=interval_seconds)


def _tick(
    scheduler: BackgroundScheduler, job: Callable[[], object], *, job_id: str, name: str, interval_seconds: float
) -> None:
    """Run `job` now and every `interval_seconds`, never overlapping itself, late runs still run (once)."""
    scheduler.add_job(
        job,
        trigger=IntervalTrigger(seconds=interval_seconds, timezone=UTC),
        id=job_id,
        name=name,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )
