"""Compute the pipeline digest for one workspace and period: the one computation behind the Slack
message, the chart, and `python -m commands digest --json`.

Definitions (each number in the digest means exactly this):
- The period is [start, end); `as_of` is its end. Stage totals, stalled deals and pending moves are
  the state at `as_of`, rebuilt from the event history.
- A deal *enters* a stage when it is created (first stage), when a move into or across the stage
  is approved (a skip enters every stage it crosses), or when it is moved back to the stage.
- Won in the period: deals that crossed into the won stage from an earlier one (a move back into
  it is not a new win).
- Conversion of a stage over a window [as_of - window, as_of): of the deals that entered the stage
  in the window, the share with a move approved past it (next rate), or to the won stage or beyond
  (won rate), at or after entering it and before the window's end; the previous window is the one
  before it, measured by its own end.
  Days in stage: per entry, until the deal's next stage change or loss (or the window's end);
  0 for a stage a skip passed through. The median is over entries.
- Forecast: each open deal before the won stage counts as its stage's won rate of a win.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from commands.digest_report import (
    Conversion,
    DealLine,
    Digest,
    Forecast,
    Listing,
    MoveLine,
    PendingLine,
    Period,
    StageConversion,
    StageForecast,
    StageTotal,
    StalledLine,
    Total,
)
from commands.pipeline import Pipeline
from commands.results import evidence_from_json, stage_or_placeholder
from commands.services import Services
from storage import report_queries as reports
from storage.db import read_only

LIST_LIMIT = 10
DEFAULT_PERIOD_DAYS = 7
DEFAULT_WINDOW_DAYS = 90
PENDING_AFTER = timedelta(days=1)


def period_ending(as_of: datetime, *, days: int = DEFAULT_PERIOD_DAYS, tz: str = "UTC") -> Period:
    """The `days` local calendar days before `as_of` (so a week is 167 or 169 hours across DST)."""
    zone = ZoneInfo(tz)
    local_end = as_of.astimezone(zone)
    local_start = (local_end.replace(tzinfo=None) - timedelta(days=days)).replace(tzinfo=zone)
    return Period(start=local_start.astimezone(UTC), end=as_of.astimezone(UTC), tz=tz)


def local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def compute_digest(
    services: Services, *, team_id: str, period: Period, window_days: int = DEFAULT_WINDOW_DAYS
) -> Digest:
    pipeline = services.pipeline
    as_of = period.end
    order = {stage.key: index for index, stage in enumerate(pipeline.stages)}
    won_position = order[pipeline.won_stage().key]
    window = timedelta(days=window_days)
    with services.sessions() as session:
        read_only(session)
        open_counts = {row.stage_key: row for row in reports.open_deals_by_stage(session, team_id=team_id, at=as_of)}
        by_stage = tuple(
            StageTotal(stage, open_counts[stage.key].deals, open_counts[stage.key].value_cents)
            if stage.key in open_counts
            else StageTotal(stage, 0, 0)
            for stage in pipeline.stages
        )
        won_count, won_value = reports.won_in_period(
            session, team_id=team_id, stage_order=order, won_position=won_position, start=period.start, end=as_of
        )
        lost = reports.lost_in_period(session, team_id=team_id, start=period.start, end=as_of)

        def events(kind: str) -> tuple[list[reports.EventRow], int]:
            return reports.events_in_period(
                session, team_id=team_id, kind=kind, start=period.start, end=as_of, limit=LIST_LIMIT
            )

        approved = _moves(pipeline, *events("approved"))
        rejected = _moves(pipeline, *events("rejected"))
        new_deals = _deals(pipeline, *events("created"))
        lost_deals = _deals(pipeline, *events("lost"))
        pending_rows, pending_total = reports.pending_older_than(
            session, team_id=team_id, at=as_of, requested_before=as_of - PENDING_AFTER, limit=LIST_LIMIT
        )
        stalled_rows, stalled_total = reports.stalled_deals(
            session,
            team_id=team_id,
            at=as_of,
            stalled_before={stage.key: as_of - timedelta(days=stage.stall_after_days) for stage in pipeline.stages},
            limit=LIST_LIMIT,
        )

        def conversion(end: datetime) -> list[reports.ConversionRow]:
            return reports.stage_conversion(
                session, team_id=team_id, stage_order=order, won_position=won_position, start=end - window, end=end
            )

        current = conversion(as_of)
        previous = conversion(as_of - window)
        basis = reports.deals_entering_before_won(
            session, team_id=team_id, stage_order=order, won_position=won_position, start=as_of - window, end=as_of
        )
    return Digest(
        team_id=team_id,
        as_of=as_of,
        period=period,
        window_days=window_days,
        by_stage=by_stage,
        won_in_period=StageTotal(pipeline.won_stage(), won_count, won_value),
        lost_in_period=Total(*lost),
        approved=approved,
        rejected=rejected,
        new_deals=new_deals,
        lost_deals=lost_deals,
        pending=Listing(
            tuple(
                PendingLine(
                    row.deal_number,
                    row.deal_name,
                    stage_or_placeholder(pipeline, row.to_stage),
                    row.requested_by,
                    row.requested_at,
                    row.channel_id,
                    row.message_ts,
                    row.thread_ts,
                )
                for row in pending_rows
            ),
            pending_total,
        ),
        stalled=Listing(
            tuple(
                StalledLine(
                    row.deal_number,
                    row.deal_name,
                    row.owner_id,
                    stage_or_placeholder(pipeline, row.stage_key),
                    row.entered_at,
                    (as_of - row.entered_at).days,
                    stage_or_placeholder(pipeline, row.stage_key).stall_after_days,
                    row.value_cents,
                )
                for row in stalled_rows
            ),
            stalled_total,
        ),
        conversion=_conversions(pipeline, current, previous),
        forecast=_forecast(pipeline, by_stage, current, won_position, basis),
    )


def _moves(pipeline: Pipeline, rows: list[reports.EventRow], total: int) -> Listing[MoveLine]:
    return Listing(
        tuple(
            MoveLine(
                deal_number=row.deal_number,
                deal_name=row.deal_name,
                from_stage=stage_or_placeholder(pipeline, row.from_stage or ""),
                to_stage=stage_or_placeholder(pipeline, row.to_stage or ""),
                requested_by=row.requested_by or row.owner_id,
                decided_by=row.actor_id,
                at=row.at,
                evidence=evidence_from_json(row.evidence),
                reason=row.note,
            )
            for row in rows
        ),
        total,
    )


def _deals(pipeline: Pipeline, rows: list[reports.EventRow], total: int) -> Listing[DealLine]:
    return Listing(
        tuple(
            DealLine(
                deal_number=row.deal_number,
                deal_name=row.deal_name,
                owner_id=row.owner_id,
                stage=stage_or_placeholder(pipeline, row.to_stage or row.from_stage or ""),
                value_cents=row.value_cents,
                at=row.at,
                reason=row.note,
            )
            for row in rows
        ),
        total,
    )


def _conversion(row: reports.ConversionRow) -> Conversion:
    return Conversion(row.entered, row.reached_next, row.reached_won, row.median_days)


def _conversions(
    pipeline: Pipeline, current: list[reports.ConversionRow], previous: list[reports.ConversionRow]
) -> tuple[StageConversion, ...]:
    """Each stage's conversion; the worst is the lowest next-stage rate among stages with a next stage."""
    rates = {index: row.reached_next / row.entered for index, row in enumerate(current[:-1]) if row.entered}
    worst = min(rates, key=lambda index: (rates[index], index)) if rates else None
    return tuple(
        StageConversion(stage, _conversion(current[index]), _conversion(previous[index]), index == worst)
        for index, stage in enumerate(pipeline.stages)
    )


def _forecast(
    pipeline: Pipeline,
    by_stage: tuple[StageTotal, ...],
    current: list[reports.ConversionRow],
    won_position: int,
    basis: int,
) -> Forecast:
    stages = []
    for index, total in enumerate(by_stage[:won_position]):
        row = current[index]
        rate = row.reached_won / row.entered if row.entered else None
        stages.append(StageForecast(total.stage, total.deals, total.value_cents, rate, row.entered))
    expected_wins = sum(stage.open_deals * (stage.won_rate or 0.0) for stage in stages)
    expected_value = sum(stage.open_value_cents * (stage.won_rate or 0.0) for stage in stages)
    return Forecast(
        expected_wins=round(expected_wins, 2),
        expected_value_cents=round(expected_value),
        open_deals=sum(stage.open_deals for stage in stages),
        basis=basis,
        stages=tuple(stages),
    )
