"""Digest schedules: setting them from Slack, when they are due, and claiming each delivery once.

A schedule is a local wall-clock time in an IANA zone (weekly on a weekday, or daily). Its instants
are computed on local calendar days and only then converted, so 09:00 stays 09:00 across DST changes;
a time that a DST jump skips runs at the same instant as the wall time just after the jump, and a
time that happens twice runs at its first occurrence.

Delivery is exactly-once per channel and period: whoever inserts the `digest_delivery` row for
(team, channel, period_key) delivers; everyone else skips. Failed deliveries are retried with
backoff by whichever process wins a conditional UPDATE, until the grace period after the due time.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from commands.deals.managers import require_manager
from commands.digest.report import Period
from commands.errors import CommandError
from commands.i18n.translator import tr
from commands.inbox.requests import Claim, claim_in
from commands.outbox.retry import DIGESTS, ERROR_TEXT_LIMIT
from commands.services import Actor, Services
from storage import digest_queries, outbox_queries
from storage.models import DeliveryStatus, DigestDelivery, DigestSchedule, QuietDigest

logger = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_GRACE = dt.timedelta(hours=12)
MISSED = "missed: no app was running within the grace period after the due time"
RETRY_BATCH = 100
QUIET_CHOICES: tuple[str, ...] = tuple(QuietDigest)
DEFAULT_QUIET: str = QuietDigest.SHORT


@dataclass(frozen=True)
class SetSchedule:
    frequency: Literal["weekly", "daily"]
    weekday: str | None
    at: dt.time
    tz: str | None
    quiet: str = QuietDigest.SHORT
    """One of `QUIET_CHOICES`, what a quiet period posts: `short` (one line), `skip` (nothing) or `full`."""


@dataclass(frozen=True)
class ScheduleView:
    channel_id: str
    frequency: str
    weekday: str | None
    at: dt.time
    tz: str
    next_run: dt.datetime  # aware, in tz
    quiet: str = QuietDigest.SHORT


@dataclass(frozen=True)
class DueDigest:
    team_id: str
    channel_id: str
    period_key: str
    period: Period
    due_at: dt.datetime  # aware, UTC


# --- Use cases for Slack users --------------------------------------------------------------------


def set_schedule(
    services: Services, actor: Actor, *, channel_id: str, command: SetSchedule, default_tz: str
) -> ScheduleView:
    """Post the channel's digest on this schedule from now on (replacing any earlier one). Managers only.

    Only instants after this call are due: a time already passed today is not posted now.
    """
    tz = command.tz or default_tz
    with services.sessions.begin() as session:
        # TRANSLATORS: completes "Only a sales manager can …".
        require_manager(session, services, actor, doing=tr("schedule the digest"))
        _zone(tz)
        schedule = digest_queries.save_schedule(
            session,
            team_id=actor.team_id,
            channel_id=channel_id,
            frequency=command.frequency,
            weekday=command.weekday if command.frequency == "weekly" else None,
            at_time=command.at.strftime("%H:%M"),
            tz=tz,
            quiet=command.quiet,
            changed_by=actor.user_id,
            changed_at=services.clock(),
        )
        return _view(schedule, now=services.clock())


def show_schedule(services: Services, actor: Actor, *, channel_id: str) -> ScheduleView | None:
    """The channel's active schedule and its next run, or None when the digest is not scheduled."""
    with services.sessions() as session:
        schedule = digest_queries.get_schedule(session, team_id=actor.team_id, channel_id=channel_id)
        if schedule is None or not schedule.active:
            return None
        return _view(schedule, now=services.clock())


def schedule_off(services: Services, actor: Actor, *, channel_id: str, claim: Claim | None = None) -> bool:
    """Stop the channel's scheduled digest (the row is kept, inactive). Managers only.

    False when the channel had no active schedule.
    """
    with services.sessions.begin() as session:
        claim_in(session, claim, now=services.clock())
        # TRANSLATORS: completes "Only a sales manager can …".
        require_manager(session, services, actor, doing=tr("turn off the scheduled digest"))
        return digest_queries.deactivate_schedule(
            session,
            team_id=actor.team_id,
            channel_id=channel_id,
            changed_by=actor.user_id,
            changed_at=services.clock(),
        )


def quiet_choice(services: Services, *, team_id: str, channel_id: str) -> QuietDigest:
    """What the channel's schedule posts for a quiet period, read when the digest is delivered (so a retry
    follows the latest setting); `short` when the schedule is gone."""
    with services.sessions() as session:
        schedule = digest_queries.get_schedule(session, team_id=team_id, channel_id=channel_id)
        return QuietDigest(schedule.quiet) if schedule is not None else QuietDigest.SHORT


# --- Schedule arithmetic --------------------------------------------------------------------------


def latest_due(frequency: str, weekday: str | None, at: dt.time, tz: str, *, now: dt.datetime) -> dt.datetime:
    """The most recent scheduled instant at or before `now`, aware in `tz`."""
    return _latest(frequency, weekday, at, tz, now=now)[1]


def next_run(frequency: str, weekday: str | None, at: dt.time, tz: str, *, now: dt.datetime) -> dt.datetime:
    """The first scheduled instant after `now`, aware in `tz`."""
    zone = _zone(tz)
    step = _step(frequency)
    day = _first_scheduled_day_from(frequency, weekday, now.astimezone(zone).date())
    while (instant := _instant(day, at, zone)) <= now:
        day += step
    return instant


def period_for(frequency: str, due_at: dt.datetime, tz: str, *, at: dt.time | None = None) -> Period:
    """What a digest due at `due_at` covers: the local week (or day) before it, as UTC instants.

    weekly: [the same wall time 7 local calendar days earlier, due_at); daily: 1 local day earlier.
    Pass the schedule's wall time as `at` when it may differ from due_at's (a time a DST jump
    skipped), so that consecutive periods meet exactly.
    """
    zone = _zone(tz)
    local_due = due_at.astimezone(zone)
    start = _instant(local_due.date() - _step(frequency), at or local_due.time(), zone)
    return Period(start=start.astimezone(dt.UTC), end=due_at.astimezone(dt.UTC), tz=tz)


# --- Delivery bookkeeping for the scheduler (spans all workspaces) --------------------------------


def due_digests(services: Services, *, now: dt.datetime, grace: dt.timedelta = DEFAULT_GRACE) -> list[DueDigest]:
    """Digests due now: each active schedule's latest instant, if within `grace` and not claimed yet."""
    return [due for due in _unclaimed_latest(services, now=now) if now - due.due_at <= grace]


def abandon_missed(
    services: Services, *, now: dt.datetime, worker: str, grace: dt.timedelta = DEFAULT_GRACE
) -> list[DueDigest]:
    """Record as abandoned, with a log line, the digests missed for longer than `grace` (the app was down)."""
    abandoned = []
    for due in _unclaimed_latest(services, now=now):
        if now - due.due_at <= grace:
            continue
        recorded = _insert_claim(services, due, worker=worker, now=now, status=DeliveryStatus.GIVEN_UP, error=MISSED)
        if recorded is None:
            continue
        logger.warning(
            "digest skipped: team=%s channel=%s period=%s was due at %s, more than %s ago",
            due.team_id,
            due.channel_id,
            due.period_key,
            due.due_at.isoformat(),
            grace,
        )
        abandoned.append(due)
    return abandoned


def claim(services: Services, due: DueDigest, *, worker: str, now: dt.datetime) -> int | None:
    """Claim the digest for this worker: the delivery id, or None when another process already has it."""
    return _insert_claim(services, due, worker=worker, now=now, status=DeliveryStatus.SENDING)


def reclaim_retries(
    services: Services, *, now: dt.datetime, worker: str, grace: dt.timedelta = DEFAULT_GRACE
) -> list[tuple[int, DueDigest]]:
    """Take over failed deliveries whose retry is due and claims left stale by a dead process.

    Returns those this worker won, to deliver again. One past the grace period after its due
    time is marked abandoned, with a log line, instead.
    """
    stale_before = DIGESTS.stale_before(now)
    with services.sessions() as session:
        rows = outbox_queries.due(
            session,
            DigestDelivery,
            now=now,
            stale_before=stale_before,
            order_by=(col(DigestDelivery.period_end), col(DigestDelivery.id)),
            limit=RETRY_BATCH,
        )
    won = []
    for row in rows:
        assert row.id is not None
        due = _due_of(row)
        past_grace = now - due.due_at > grace
        with services.sessions.begin() as session:
            change = outbox_queries.give_up_retryable if past_grace else _claim_retry
            taken = change(
                session, DigestDelivery, row_id=row.id, now=now, stale_before=stale_before, claimed_by=worker
            )
        if not taken:
            continue
        if past_grace:
            logger.warning(
                "digest abandoned: team=%s channel=%s period=%s was due at %s, more than %s ago; "
                "%d attempt(s), last error: %s",
                due.team_id,
                due.channel_id,
                due.period_key,
                due.due_at.isoformat(),
                grace,
                row.attempts,
                row.last_error or f"{row.status} by {row.claimed_by} and never finished",
            )
            continue
        won.append((row.id, due))
    return won


def mark_sent(
    services: Services, delivery_id: int, *, message_ts: str | None, chart_uploaded: bool, now: dt.datetime
) -> None:
    """Record the delivery as done; `message_ts` None: nothing was posted, by the schedule's choice for a quiet
    period (`quiet:skip`)."""
    with services.sessions.begin() as session:
        outbox_queries.sent(
            session,
            DigestDelivery,
            row_id=delivery_id,
            now=now,
            message_ts=message_ts,
            chart_uploaded=chart_uploaded,
            next_attempt_at=None,
        )


def mark_failed(services: Services, delivery_id: int, *, error: str, now: dt.datetime) -> None:
    """Record a failed attempt; the next one is due after `DIGESTS.delay(attempts)` (given up only when the grace
    period is over, by `reclaim_retries`)."""
    with services.sessions.begin() as session:
        delivery = digest_queries.get_delivery(session, delivery_id=delivery_id, for_update=True)
        if delivery is None:
            return
        recorded = outbox_queries.not_sent(
            session,
            DigestDelivery,
            row_id=delivery_id,
            error=error[:ERROR_TEXT_LIMIT],
            next_attempt_at=DIGESTS.next_attempt(delivery.attempts, now),
            give_up=False,
        )
    if not recorded:
        logger.warning("digest delivery %d failed but is no longer claimed (status %s)", delivery_id, delivery.status)


# --- Helpers --------------------------------------------------------------------------------------


def _view(schedule: DigestSchedule, *, now: dt.datetime) -> ScheduleView:
    at = dt.time.fromisoformat(schedule.at_time)
    return ScheduleView(
        channel_id=schedule.channel_id,
        frequency=schedule.frequency,
        weekday=schedule.weekday,
        at=at,
        tz=schedule.tz,
        next_run=next_run(schedule.frequency, schedule.weekday, at, schedule.tz, now=now),
        quiet=schedule.quiet,
    )


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise CommandError(
            # TRANSLATORS: keep `tz:` and the zone's name (Europe/Berlin) as they are.
            tr(
                "'{tz}' is not a time zone I know. Add tz: with an IANA zone, like tz:Europe/Berlin.",
                tz=tz,
            )
        ) from error


def _step(frequency: str) -> dt.timedelta:
    if frequency == "weekly":
        return dt.timedelta(days=7)
    if frequency == "daily":
        return dt.timedelta(days=1)
    raise ValueError(f"unknown digest frequency {frequency!r}")


def _instant(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    # fold=0: a repeated wall time means its first occurrence, and a skipped one is read with the
    # offset from before the jump, which lands on the wall time just after it. Normalised through UTC
    # so the result shows the wall time that really happens.
    return dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC).astimezone(zone)


def _first_scheduled_day_from(frequency: str, weekday: str | None, day: dt.date) -> dt.date:
    if frequency != "weekly":
        return day
    return day + dt.timedelta(days=(_weekday_index(weekday) - day.weekday()) % 7)


def _last_scheduled_day_until(frequency: str, weekday: str | None, day: dt.date) -> dt.date:
    if frequency != "weekly":
        return day
    return day - dt.timedelta(days=(day.weekday() - _weekday_index(weekday)) % 7)


def _weekday_index(weekday: str | None) -> int:
    if weekday not in WEEKDAYS:
        raise ValueError(f"a weekly schedule needs a weekday (mon…sun), got {weekday!r}")
    return WEEKDAYS.index(weekday)


def _latest(
    frequency: str, weekday: str | None, at: dt.time, tz: str, *, now: dt.datetime
) -> tuple[dt.date, dt.datetime]:
    """The local day and instant of the latest scheduled run at or before `now`."""
    zone = _zone(tz)
    step = _step(frequency)
    day = _last_scheduled_day_until(frequency, weekday, now.astimezone(zone).date())
    while (instant := _instant(day, at, zone)) > now:
        day -= step
    return day, instant


def _latest_digest(schedule: DigestSchedule, *, now: dt.datetime) -> DueDigest | None:
    """The schedule's latest instant as a digest, unless it came before the schedule was set."""
    at = dt.time.fromisoformat(schedule.at_time)
    day, instant = _latest(schedule.frequency, schedule.weekday, at, schedule.tz, now=now)
    if instant < schedule.changed_at:
        return None
    return DueDigest(
        team_id=schedule.team_id,
        channel_id=schedule.channel_id,
        period_key=f"{schedule.frequency}:{day.isoformat()}T{schedule.at_time}",
        period=period_for(schedule.frequency, instant, schedule.tz, at=at),
        due_at=instant.astimezone(dt.UTC),
    )


def _safe_latest_digest(schedule: DigestSchedule, *, now: dt.datetime) -> DueDigest | None:
    try:
        return _latest_digest(schedule, now=now)
    except (CommandError, ValueError):  # one unreadable row (zone gone from tzdata) must not stop every digest
        logger.exception("digest schedule team=%s channel=%s cannot be read", schedule.team_id, schedule.channel_id)
        return None


def _unclaimed_latest(services: Services, *, now: dt.datetime) -> list[DueDigest]:
    with services.sessions() as session:
        schedules = digest_queries.all_active_schedules(session)
        candidates = [due for schedule in schedules if (due := _safe_latest_digest(schedule, now=now)) is not None]
        existing = digest_queries.existing_deliveries(session, period_keys=[due.period_key for due in candidates])
    return [due for due in candidates if (due.team_id, due.channel_id, due.period_key) not in existing]


def _insert_claim(
    services: Services,
    due: DueDigest,
    *,
    worker: str,
    now: dt.datetime,
    status: DeliveryStatus,
    error: str | None = None,
) -> int | None:
    try:
        with services.sessions.begin() as session:
            return digest_queries.insert_delivery(
                session,
                team_id=due.team_id,
                channel_id=due.channel_id,
                period_key=due.period_key,
                period_start=due.period.start,
                period_end=due.period.end,
                tz=due.period.tz,
                status=status,
                claimed_by=worker,
                claimed_at=now,
                attempts=1 if status == DeliveryStatus.SENDING else 0,
                last_error=error,
            )
    except IntegrityError:  # the unique (team, channel, period_key): another process claimed it first
        return None


def _claim_retry(session: Session, table: type[DigestDelivery], **claim: Any) -> bool:
    return outbox_queries.claim(session, table, due_only=True, **claim)


def _due_of(row: DigestDelivery) -> DueDigest:
    return DueDigest(
        team_id=row.team_id,
        channel_id=row.channel_id,
        period_key=row.period_key,
        period=Period(start=row.period_start, end=row.period_end, tz=row.tz),
        due_at=row.period_end,
    )
