"""Digest schedules: who may set them, when they are due (across DST), and exactly-once claims."""

import logging
import threading
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func
from sqlmodel import col, select

from commands.digest.schedules import (
    DueDigest,
    SetSchedule,
    abandon_missed,
    claim,
    due_digests,
    latest_due,
    mark_failed,
    mark_sent,
    next_run,
    period_for,
    reclaim_retries,
    schedule_off,
    set_schedule,
    show_schedule,
)
from commands.errors import CommandError
from commands.outbox.retry import DIGESTS, THREAD_POSTS
from commands.services import Actor, Services
from storage.db import make_session_factory
from storage.models import DigestDelivery, DigestSchedule
from tests.conftest import MANAGER, REP, Clock

TEAM = "T1"
manager = Actor(TEAM, MANAGER)
rep = Actor(TEAM, REP)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
GRACE = timedelta(hours=12)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def weekly(day: str, at: str, tz: str | None = None) -> SetSchedule:
    return SetSchedule(frequency="weekly", weekday=day, at=time.fromisoformat(at), tz=tz)


def daily(at: str, tz: str | None = None) -> SetSchedule:
    return SetSchedule(frequency="daily", weekday=None, at=time.fromisoformat(at), tz=tz)


def schedule(services: Services, command: SetSchedule, *, channel: str = "C1", actor: Actor = manager) -> None:
    set_schedule(services, actor, channel_id=channel, command=command, default_tz="UTC")


def deliveries(services: Services) -> list[DigestDelivery]:
    with services.sessions() as session:
        return list(session.exec(select(DigestDelivery).order_by(col(DigestDelivery.id))).all())


def delivery(services: Services, delivery_id: int) -> DigestDelivery:
    with services.sessions() as session:
        row = session.get(DigestDelivery, delivery_id)
        assert row is not None
        return row


def claim_due(services: Services, clock: Clock, worker: str = "A") -> tuple[int, DueDigest]:
    [due] = due_digests(services, now=clock.now, grace=GRACE)
    delivery_id = claim(services, due, worker=worker, now=clock.now)
    assert delivery_id is not None
    return delivery_id, due


# --- set / show / off ----------------------------------------------------------------------------


def test_manager_sets_a_weekly_schedule_and_sees_its_next_run(services: Services, clock: Clock) -> None:
    # clock: Monday 2026-11-02 09:00 UTC = 10:00 in Berlin, so this week's 09:00 has passed.
    view = set_schedule(
        services, manager, channel_id="C1", command=weekly("mon", "09:00", "Europe/Berlin"), default_tz="UTC"
    )
    assert (view.channel_id, view.frequency, view.weekday, view.at, view.tz) == (
        "C1",
        "weekly",
        "mon",
        time(9, 0),
        "Europe/Berlin",
    )
    assert view.next_run == datetime(2026, 11, 9, 9, 0, tzinfo=BERLIN)
    assert view.next_run.tzinfo == BERLIN
    assert show_schedule(services, rep, channel_id="C1") == view
    with services.sessions() as session:
        stored = session.get(DigestSchedule, (TEAM, "C1"))
        assert stored is not None
        assert (stored.at_time, stored.active, stored.changed_by) == ("09:00", True, MANAGER)


def test_zone_defaults_to_the_given_one_and_a_new_schedule_replaces_the_old(services: Services) -> None:
    schedule(services, weekly("fri", "16:30"))
    view = set_schedule(services, manager, channel_id="C1", command=daily("08:00"), default_tz="America/New_York")
    assert (view.frequency, view.weekday, view.tz) == ("daily", None, "America/New_York")
    assert view.next_run == datetime(2026, 11, 2, 8, 0, tzinfo=NEW_YORK)  # 09:00 UTC is 04:00 in New York
    with services.sessions() as session:
        assert session.exec(select(func.count()).select_from(DigestSchedule)).one() == 1


def test_an_unknown_default_zone_is_refused_with_how_to_fix_it(services: Services) -> None:
    with pytest.raises(CommandError) as refused:
        set_schedule(services, manager, channel_id="C1", command=daily("08:00"), default_tz="Mars/Olympus")
    assert "tz:" in refused.value.message
    assert show_schedule(services, manager, channel_id="C1") is None


def test_schedules_are_per_workspace_and_channel(services: Services) -> None:
    schedule(services, daily("08:00"))
    assert show_schedule(services, manager, channel_id="C2") is None
    assert show_schedule(services, Actor("T2", MANAGER), channel_id="C1") is None
    assert schedule_off(services, Actor("T2", MANAGER), channel_id="C1") is False
    assert show_schedule(services, manager, channel_id="C1") is not None


def test_off_keeps_the_row_inactive_and_says_when_there_was_nothing(services: Services) -> None:
    assert schedule_off(services, manager, channel_id="C1") is False
    schedule(services, daily("08:00"))
    assert schedule_off(services, manager, channel_id="C1") is True
    assert show_schedule(services, manager, channel_id="C1") is None
    assert schedule_off(services, manager, channel_id="C1") is False
    with services.sessions() as session:
        stored = session.get(DigestSchedule, (TEAM, "C1"))
        assert stored is not None and stored.active is False


def test_only_managers_set_or_turn_off_a_schedule(services: Services) -> None:
    with pytest.raises(CommandError) as refused:
        schedule(services, daily("08:00"), actor=rep)
    assert "manager" in refused.value.message
    with services.sessions() as session:
        assert session.exec(select(func.count()).select_from(DigestSchedule)).one() == 0

    schedule(services, daily("08:00"))
    with pytest.raises(CommandError):
        schedule_off(services, rep, channel_id="C1")
    with pytest.raises(CommandError):
        schedule(services, weekly("mon", "07:00"), actor=rep)
    view = show_schedule(services, rep, channel_id="C1")
    assert view is not None and (view.frequency, view.at) == ("daily", time(8, 0))


# --- schedule arithmetic --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "weekday", "at", "tz", "now", "latest", "following"),
    [
        # Weekly Monday 09:00 in Berlin, across the end of summer time on Sunday 2026-10-25.
        (
            "weekly",
            "mon",
            "09:00",
            "Europe/Berlin",
            utc(2026, 10, 26, 7, 59),
            utc(2026, 10, 19, 7),
            utc(2026, 10, 26, 8),
        ),
        ("weekly", "mon", "09:00", "Europe/Berlin", utc(2026, 10, 26, 8, 0), utc(2026, 10, 26, 8), utc(2026, 11, 2, 8)),
        # Daily 09:00 in Berlin on the day itself: 07:00 UTC before, 08:00 UTC on it.
        ("daily", None, "09:00", "Europe/Berlin", utc(2026, 10, 25, 7, 30), utc(2026, 10, 24, 7), utc(2026, 10, 25, 8)),
        # 02:30 happens twice on 2026-10-25 in Berlin: the digest runs at the first one only.
        (
            "daily",
            None,
            "02:30",
            "Europe/Berlin",
            utc(2026, 10, 25, 1, 45),
            utc(2026, 10, 25, 0, 30),
            utc(2026, 10, 26, 1, 30),
        ),
        # New York springs forward on 2026-03-08: 09:00 moves from 14:00 to 13:00 UTC.
        ("daily", None, "09:00", "America/New_York", utc(2026, 3, 8, 12), utc(2026, 3, 7, 14), utc(2026, 3, 8, 13)),
        ("weekly", "sun", "09:00", "America/New_York", utc(2026, 3, 8, 13), utc(2026, 3, 8, 13), utc(2026, 3, 15, 13)),
        # 02:30 does not exist on 2026-03-08 in New York: it runs at 03:30 EDT (07:30 UTC), once.
        (
            "daily",
            None,
            "02:30",
            "America/New_York",
            utc(2026, 3, 8, 7),
            utc(2026, 3, 7, 7, 30),
            utc(2026, 3, 8, 7, 30),
        ),
        (
            "daily",
            None,
            "02:30",
            "America/New_York",
            utc(2026, 3, 8, 7, 30),
            utc(2026, 3, 8, 7, 30),
            utc(2026, 3, 9, 6, 30),
        ),
        # Local midnight in Tokyo is 15:00 UTC the day before.
        ("daily", None, "00:00", "Asia/Tokyo", utc(2026, 11, 1, 14, 59), utc(2026, 10, 31, 15), utc(2026, 11, 1, 15)),
        ("weekly", "mon", "00:00", "Asia/Tokyo", utc(2026, 11, 1, 15), utc(2026, 11, 1, 15), utc(2026, 11, 8, 15)),
    ],
)
def test_latest_due_and_next_run_are_local_wall_times(
    frequency: str,
    weekday: str | None,
    at: str,
    tz: str,
    now: datetime,
    latest: datetime,
    following: datetime,
) -> None:
    wall = time.fromisoformat(at)
    found_latest = latest_due(frequency, weekday, wall, tz, now=now)
    found_next = next_run(frequency, weekday, wall, tz, now=now)
    # Compared in UTC: an aware datetime in a repeated wall-clock hour never equals one in another zone (PEP 495).
    assert found_latest.astimezone(UTC) == latest
    assert found_next.astimezone(UTC) == following
    assert found_latest <= now < found_next
    assert found_latest.tzinfo == ZoneInfo(tz) and found_next.tzinfo == ZoneInfo(tz)


def test_a_skipped_wall_time_shows_the_time_that_really_happens() -> None:
    run = next_run("daily", None, time(2, 30), "America/New_York", now=utc(2026, 3, 8, 5))
    assert (run.hour, run.minute, run.utcoffset()) == (3, 30, timedelta(hours=-4))


@pytest.mark.parametrize(
    ("frequency", "due_at", "tz", "start", "hours"),
    [
        ("weekly", datetime(2026, 10, 26, 9, tzinfo=BERLIN), "Europe/Berlin", utc(2026, 10, 19, 7), 169),
        ("weekly", datetime(2026, 3, 9, 9, tzinfo=NEW_YORK), "America/New_York", utc(2026, 3, 2, 14), 167),
        ("weekly", datetime(2026, 11, 9, 9, tzinfo=BERLIN), "Europe/Berlin", utc(2026, 11, 2, 8), 168),
        ("daily", datetime(2026, 3, 8, 9, tzinfo=NEW_YORK), "America/New_York", utc(2026, 3, 7, 14), 23),
        ("daily", datetime(2026, 10, 25, 9, tzinfo=BERLIN), "Europe/Berlin", utc(2026, 10, 24, 7), 25),
        ("daily", datetime(2026, 11, 2, 0, tzinfo=ZoneInfo("Asia/Tokyo")), "Asia/Tokyo", utc(2026, 10, 31, 15), 24),
    ],
)
def test_period_is_seven_or_one_local_days_in_utc(
    frequency: str, due_at: datetime, tz: str, start: datetime, hours: int
) -> None:
    period = period_for(frequency, due_at, tz)
    assert period.start == start
    assert period.end == due_at
    assert period.end - period.start == timedelta(hours=hours)
    assert period.start.tzinfo == UTC and period.end.tzinfo == UTC
    assert period.tz == tz


def test_consecutive_periods_meet_even_when_the_wall_time_is_skipped() -> None:
    at = time(2, 30)
    before = latest_due("daily", None, at, "America/New_York", now=utc(2026, 3, 8, 7, 29))
    skipped = latest_due("daily", None, at, "America/New_York", now=utc(2026, 3, 8, 7, 30))
    period = period_for("daily", skipped, "America/New_York", at=at)
    assert period.start == before
    assert period.end == skipped


def test_retry_delay_doubles_from_one_minute_up_to_an_hour() -> None:
    for policy in (DIGESTS, THREAD_POSTS):
        assert [policy.delay(n) / timedelta(minutes=1) for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert policy.delay(10_000) == timedelta(minutes=60)


def test_thread_posts_give_up_after_eight_attempts_and_digests_only_on_their_grace_period() -> None:
    assert [THREAD_POSTS.gives_up(n) for n in (1, 7, 8)] == [False, False, True]
    assert not DIGESTS.gives_up(10_000)


# --- due digests and claims -----------------------------------------------------------------------


def test_a_due_digest_is_claimed_once(services: Services, clock: Clock) -> None:
    clock.now = utc(2026, 11, 2, 8, 0)  # 09:00 in Berlin
    schedule(services, daily("10:00", "Europe/Berlin"))
    assert due_digests(services, now=clock.now, grace=GRACE) == []

    clock.advance(hours=1, seconds=1)  # 10:00:01 in Berlin
    [due] = due_digests(services, now=clock.now, grace=GRACE)
    assert (due.team_id, due.channel_id, due.period_key) == (TEAM, "C1", "daily:2026-11-02T10:00")
    assert due.due_at == utc(2026, 11, 2, 9)
    assert (due.period.start, due.period.end, due.period.tz) == (
        utc(2026, 11, 1, 9),
        utc(2026, 11, 2, 9),
        "Europe/Berlin",
    )

    first = claim(services, due, worker="A", now=clock.now)
    assert first is not None
    assert claim(services, due, worker="B", now=clock.now) is None
    assert due_digests(services, now=clock.now, grace=GRACE) == []
    [row] = deliveries(services)
    assert (row.id, row.status, row.claimed_by, row.attempts) == (first, "sending", "A", 1)
    assert (row.period_start, row.period_end, row.tz) == (due.period.start, due.period.end, "Europe/Berlin")


def test_period_key_is_the_local_date_at_a_midnight_schedule(services: Services, clock: Clock) -> None:
    clock.now = utc(2026, 11, 1, 12)
    schedule(services, daily("00:00", "Asia/Tokyo"))
    clock.now = utc(2026, 11, 1, 15)  # midnight in Tokyo, still November 1st in UTC
    [due] = due_digests(services, now=clock.now, grace=GRACE)
    assert due.period_key == "daily:2026-11-02T00:00"
    assert (due.period.start, due.period.end) == (utc(2026, 10, 31, 15), utc(2026, 11, 1, 15))


def test_due_digests_span_workspaces_and_skip_inactive_schedules(services: Services, clock: Clock) -> None:
    clock.now = utc(2026, 11, 2, 8)
    schedule(services, daily("08:30"), channel="C1")
    schedule(services, daily("08:30"), channel="C2")
    set_schedule(services, Actor("T2", MANAGER), channel_id="C1", command=daily("08:30"), default_tz="UTC")
    schedule_off(services, manager, channel_id="C2")
    clock.advance(minutes=30)
    found = due_digests(services, now=clock.now, grace=GRACE)
    assert sorted((due.team_id, due.channel_id) for due in found) == [("T1", "C1"), ("T2", "C1")]


def test_a_time_already_passed_when_the_schedule_is_set_is_not_due(services: Services, clock: Clock) -> None:
    schedule(services, daily("08:00"))  # clock: 09:00 UTC
    assert due_digests(services, now=clock.now, grace=GRACE) == []
    clock.now = utc(2026, 11, 3, 8)
    assert [due.period_key for due in due_digests(services, now=clock.now, grace=GRACE)] == ["daily:2026-11-03T08:00"]


def test_only_one_of_many_racing_claims_wins(services: Services, clock: Clock, engine: Engine) -> None:
    clock.now = utc(2026, 11, 2, 8)
    schedule(services, daily("08:30"))
    clock.advance(minutes=30)
    [due] = due_digests(services, now=clock.now, grace=GRACE)
    workers = [Services(sessions=make_session_factory(engine), pipeline=services.pipeline) for _ in range(6)]
    results: list[int | None] = []
    start = threading.Barrier(len(workers))

    def race(index: int) -> None:
        start.wait()
        results.append(claim(workers[index], due, worker=f"W{index}", now=clock.now))

    threads = [threading.Thread(target=race, args=(index,)) for index in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([result for result in results if result is not None]) == 1
    assert len(deliveries(services)) == 1


def test_a_run_missed_while_down_is_due_within_grace_only(services: Services, clock: Clock) -> None:
    clock.now = utc(2026, 11, 2, 7)
    schedule(services, weekly("mon", "09:00", "Europe/Berlin"))  # 08:00 UTC
    due_at = utc(2026, 11, 2, 8)
    late = due_at + GRACE
    assert [due.due_at for due in due_digests(services, now=late, grace=GRACE)] == [due_at]
    assert due_digests(services, now=late + timedelta(seconds=1), grace=GRACE) == []


def test_a_run_missed_past_grace_is_recorded_abandoned_with_a_log_line(
    services: Services, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    clock.now = utc(2026, 11, 2, 7)
    schedule(services, daily("08:00"))
    now = utc(2026, 11, 2, 20, 1)  # 12 h 1 min after the run
    with caplog.at_level(logging.WARNING, logger="commands.digest.schedules"):
        [missed] = abandon_missed(services, now=now, worker="A", grace=GRACE)
        assert abandon_missed(services, now=now, worker="B", grace=GRACE) == []
    assert missed.period_key == "daily:2026-11-02T08:00"
    [row] = deliveries(services)
    assert (row.status, row.attempts) == ("given_up", 0)
    [record] = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert "daily:2026-11-02T08:00" in record.getMessage() and record.levelno == logging.WARNING


def test_a_failure_is_retried_after_backoff_then_sent(services: Services, clock: Clock) -> None:
    clock.now = utc(2026, 11, 2, 8)
    schedule(services, daily("08:30"))
    clock.advance(minutes=30)
    delivery_id, due = claim_due(services, clock)

    mark_failed(services, delivery_id, error="SlackApiError: internal_error", now=clock.now)
    row = delivery(services, delivery_id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, clock.now + timedelta(minutes=1))
    assert row.last_error == "SlackApiError: internal_error"
    assert due_digests(services, now=clock.now, grace=GRACE) == []  # failed is not "new" again

    assert reclaim_retries(services, now=clock.now + timedelta(seconds=59), worker="A", grace=GRACE) == []
    clock.advance(minutes=1)
    assert reclaim_retries(services, now=clock.now, worker="B", grace=GRACE) == [(delivery_id, due)]
    assert reclaim_retries(services, now=clock.now, worker="A", grace=GRACE) == []  # B won it
    row = delivery(services, delivery_id)
    assert (row.status, row.attempts, row.claimed_by) == ("sending", 2, "B")

    mark_failed(services, delivery_id, error="timeout", now=clock.now)
    assert delivery(services, delivery_id).next_attempt_at == clock.now + timedelta(minutes=2)
    clock.advance(minutes=2)
    [(retried, _)] = reclaim_retries(services, now=clock.now, worker="A", grace=GRACE)
    mark_sent(services, retried, message_ts="1700000000.000100", chart_uploaded=True, now=clock.now)

    row = delivery(services, delivery_id)
    assert (row.status, row.attempts, row.message_ts, row.chart_uploaded) == ("sent", 3, "1700000000.000100", True)
    assert row.sent_at == clock.now
    clock.advance(hours=1)
    assert reclaim_retries(services, now=clock.now, worker="A", grace=GRACE) == []
    assert due_digests(services, now=clock.now, grace=GRACE) == []


def test_a_claim_left_by_a_dead_process_is_taken_over_after_15_minutes(services: Services, clock: Clock) -> None:
    clock.now = utc(2026, 11, 2, 8)
    schedule(services, daily("08:30"))
    clock.advance(minutes=30)
    delivery_id, due = claim_due(services, clock, worker="dead")
    assert reclaim_retries(services, now=clock.now + timedelta(minutes=14), worker="B", grace=GRACE) == []
    clock.advance(minutes=15)
    assert reclaim_retries(services, now=clock.now, worker="B", grace=GRACE) == [(delivery_id, due)]
    assert reclaim_retries(services, now=clock.now, worker="C", grace=GRACE) == []
    row = delivery(services, delivery_id)
    assert (row.status, row.claimed_by, row.attempts) == ("sending", "B", 2)


def test_a_digest_still_failing_past_grace_is_abandoned_with_a_log_line(
    services: Services, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    clock.now = utc(2026, 11, 2, 8)
    schedule(services, daily("08:30"))
    clock.advance(minutes=30)
    due_at = clock.now
    delivery_id, _ = claim_due(services, clock)
    while True:
        mark_failed(services, delivery_id, error="channel_not_found", now=clock.now)
        next_attempt = delivery(services, delivery_id).next_attempt_at
        assert next_attempt is not None
        clock.now = next_attempt
        if clock.now - due_at > GRACE:
            break
        assert reclaim_retries(services, now=clock.now, worker="A", grace=GRACE) != []
    with caplog.at_level(logging.WARNING, logger="commands.digest.schedules"):
        assert reclaim_retries(services, now=clock.now, worker="A", grace=GRACE) == []
    row = delivery(services, delivery_id)
    assert row.status == "given_up"
    # Attempts at 0, 1, 3, 7, 15, 31, 63 minutes, then hourly up to 663 minutes: the next (723) is past 12 h.
    assert row.attempts == 17
    assert any("abandoned" in r.getMessage() and "channel_not_found" in r.getMessage() for r in caplog.records), (
        caplog.text
    )
    clock.advance(days=1)
    assert reclaim_retries(services, now=clock.now, worker="A", grace=GRACE) == []
