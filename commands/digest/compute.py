"""Compute the pipeline digest for one workspace and period: the one computation behind the Slack
message, the chart, and `python -m commands digest --json`.

Definitions (each number in the digest means exactly this):
- The period is [start, end); `as_of` is its end. Stage totals, stalled deals and pending moves are
  the state at `as_of`, read from the stage spells (each deal's stays in each stage, kept with its
  events: `storage.spells`). A deal's days in stage and when it is stalled: `commands.digest.stalled`, over
  every stage but the last, split into the pipeline and onboarding, and grouped by owner (`report.Stalled`).
  A stalled deal whose nudges are snoozed at `as_of` is listed with its snooze (until when, by whom, why) and
  counted in its owner's stalled deals: a snooze is shown, never hidden. Snoozed at `as_of`: the deal's
  current snooze was set at or before `as_of` and ends after it. (Only a deal's latest snooze is kept apart
  from its history, so for a past `as_of` a snooze since replaced is not shown; one set later never is.)
- A deal *enters* a stage when it is created (first stage), when a move into or across the stage
  is approved (a skip enters every stage it crosses, and leaves the ones in between at once), or
  when it is moved back to the stage.
- Won in the period: deals that crossed into the won stage from an earlier one (a move back into
  it is not a new win).
- Conversion of a stage over a window [as_of - window, as_of): the stays that entered it in the
  window, as they stood at `as_of`: how many moved on, dropped out (lost or moved back) and are still
  there, and the estimators of `commands.digest.estimators` over them (next-stage rate, the probability of
  being won, the median days in stage), each treating the stays still open as not yet known rather
  than as failures. The previous window is [as_of - 2 windows, as_of - window), seen as of its own
  end, with the same estimators, so the two compare like with like.
- Forecast: `commands.digest.estimators.outlook` over the deals open before the won stage at `as_of`, with
  the rates of the current window and the times to close of the deals won in it.
- The pipeline is the stages before the won stage; the customers are the won stage and every stage after it.
  Each has its own totals.
- Every total's change is since the same moment a week earlier, and so is the forecast's, with its reasons:
  `commands.digest.changes` defines them.
- Moves per transition: the approved moves and moves back in the period, counted per (from, to). An approved
  move to the next stage is `forward`, over one or more stages `skip`, to an earlier stage `back`, as is every
  move back. The notable moves are at most `NOTABLE_EACH` of each: the largest approved moves forward by the
  deal's value, the largest skips, the largest moves back (a move in two of these is listed once, with both).
- Lost deals by reason: `LostReason` defines the grouping; most deals first, then by reason.
- Narrowed to one owner (`owner_id`, "your own digest"): every count, value, list and change reads only the
  deals that owner owns at the time the digest is computed (a deal handed over counts wholly for its new
  owner, its past included): where deals are, won and lost, moves and transitions, new, lost and pending,
  stalled, and the forecast's open deals and its change. The *rates* are not narrowed: the stage conversion,
  the forecast's chances of a win and its times to close, and `forecast.basis` are the whole team's, because
  one rep's few deals make a rate that is mostly noise. So the rep's forecast is the team's rates applied to
  the rep's open deals, and the conversion section is the team's.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands.deals.results import evidence_from_json, stage_or_placeholder
from commands.digest import changes, estimators
from commands.digest.report import (
    Conversion,
    DealLine,
    Digest,
    Forecast,
    Listing,
    LostReason,
    MoveLine,
    NotableMove,
    OwnerStalls,
    PendingLine,
    Period,
    RateFactor,
    SnoozeNote,
    StageConversion,
    StageForecast,
    StageGroup,
    StageTotal,
    Stalled,
    StalledLine,
    Total,
    Transition,
)
from commands.digest.stalled import before_win, days_in_stage, onboarding, stall_cutoffs, stall_watched
from commands.pipeline.stages import Pipeline, Stage
from commands.services import Services
from storage import queries, reminder_queries, spell_queries
from storage import report_queries as reports
from storage.db import read_only
from storage.models import DealSnooze, EventKind

LIST_LIMIT = 10
OWNER_LIMIT = 10
"""The owners listed with their stalled deals; the rest are counted ("and N more owners")."""
DEFAULT_PERIOD_DAYS = 7
DEFAULT_WINDOW_DAYS = 90
FORECAST_DAYS = 365
"""How far back the forecast's rates and times to close look: longer than the conversion window, because a
forecast's error from rates resting on few stays soon outweighs what a recent change in them would add."""
PENDING_AFTER = timedelta(days=1)
NOTABLE_EACH = 3
NO_REASON = "(no reason given)"


def period_ending(as_of: datetime, *, days: int = DEFAULT_PERIOD_DAYS, tz: str = "UTC") -> Period:
    """The `days` local calendar days before `as_of` (so a week is 167 or 169 hours across DST)."""
    zone = ZoneInfo(tz)
    local_end = as_of.astimezone(zone)
    local_start = (local_end.replace(tzinfo=None) - timedelta(days=days)).replace(tzinfo=zone)
    return Period(start=local_start.astimezone(UTC), end=as_of.astimezone(UTC), tz=tz)


def local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def compute_digest(
    services: Services,
    *,
    team_id: str,
    period: Period,
    window_days: int = DEFAULT_WINDOW_DAYS,
    forecast_days: int = FORECAST_DAYS,
    owner_id: str | None = None,
) -> Digest:
    """The digest (see the module's definitions); only `owner_id`'s deals when given, with the team's rates."""
    pipeline = services.pipeline
    as_of = period.end
    won_key = pipeline.won_stage().key
    before_won = pipeline.keys[: pipeline.index(won_key)]
    window = timedelta(days=window_days)
    earlier = changes.week_earlier(as_of, period.tz)
    forecast_start = as_of - timedelta(days=forecast_days)
    with services.sessions() as session:
        read_only(session)
        open_rows = spell_queries.open_by_stage_and_age(session, team_id=team_id, at=as_of, owner_id=owner_id)
        won_count, won_value = spell_queries.won_in_period(
            session, team_id=team_id, won_key=won_key, start=period.start, end=as_of, owner_id=owner_id
        )
        lost = reports.lost_in_period(session, team_id=team_id, start=period.start, end=as_of, owner_id=owner_id)

        def events(kind: EventKind) -> tuple[list[reports.EventRow], int]:
            return reports.events_in_period(
                session,
                team_id=team_id,
                kind=kind,
                start=period.start,
                end=as_of,
                limit=LIST_LIMIT,
                owner_id=owner_id,
            )

        approved_rows, approved_total = events(EventKind.APPROVED)
        move_ids = [row.move_id for row in approved_rows if row.move_id is not None]
        approvers = queries.approvers(session, team_id=team_id, move_ids=move_ids)
        approved = _moves(pipeline, approved_rows, approved_total, approvers)
        transitions = _transitions(
            pipeline,
            reports.moves_per_transition(session, team_id=team_id, start=period.start, end=as_of, owner_id=owner_id),
        )
        notable = _notable(session, pipeline, team_id, period, transitions, owner_id)
        rejected = _moves(pipeline, *events(EventKind.REJECTED))
        new_deals = _deals(pipeline, *events(EventKind.CREATED))
        lost_deals = _deals(pipeline, *events(EventKind.LOST))
        lost_reasons = _lost_reasons(
            reports.lost_by_note(session, team_id=team_id, start=period.start, end=as_of, owner_id=owner_id)
        )
        pending_rows, pending_total = reports.pending_older_than(
            session,
            team_id=team_id,
            at=as_of,
            requested_before=as_of - PENDING_AFTER,
            limit=LIST_LIMIT,
            owner_id=owner_id,
        )
        stalled = _stalled(session, pipeline, team_id, as_of, owner_id)
        current = spell_queries.stays_watched(session, team_id=team_id, start=as_of - window, end=as_of)
        previous = spell_queries.stays_watched(session, team_id=team_id, start=as_of - 2 * window, end=as_of - window)
        forecast_watch = spell_queries.stays_watched(session, team_id=team_id, start=forecast_start, end=as_of)
        earlier_watch = spell_queries.stays_watched(
            session, team_id=team_id, start=earlier - timedelta(days=forecast_days), end=earlier
        )
        stays_now = reports.open_stays_at(session, team_id=team_id, at=as_of, owner_id=owner_id)
        stays_then = reports.open_stays_at(session, team_id=team_id, at=earlier, owner_id=owner_id)
        close_times = spell_queries.close_times(
            session, team_id=team_id, won_key=won_key, stage_keys=before_won, start=forecast_start, end=as_of
        )
        basis = spell_queries.deals_entering(
            session, team_id=team_id, stage_keys=before_won, start=as_of - window, end=as_of
        )
    by_stage = changes.with_changes(_by_stage(pipeline, open_rows), stays_then)
    won_position = pipeline.index(won_key)
    forecast_chain = estimators.chain(watches(before_won, forecast_watch))
    forecast_change = changes.forecast_change(
        open_keys=before_won,
        chain_now=forecast_chain,
        chain_then=estimators.chain(watches(before_won, earlier_watch)),
        now=stays_now,
        then=stays_then,
        as_of=as_of,
        earlier=earlier,
    )
    return Digest(
        team_id=team_id,
        as_of=as_of,
        period=period,
        window_days=window_days,
        by_stage=by_stage,
        won_in_period=StageTotal(pipeline.won_stage(), won_count, won_value),
        lost_in_period=Total(*lost),
        week_earlier=earlier,
        pipeline=StageGroup(by_stage[:won_position]),
        customers=StageGroup(by_stage[won_position:]),
        transitions=transitions,
        notable_moves=notable,
        lost_reasons=lost_reasons,
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
        stalled=stalled,
        conversion=_conversions(pipeline, current, previous),
        forecast=replace(
            _forecast(pipeline, by_stage, forecast_chain, open_rows, close_times, basis), change=forecast_change
        ),
        owner_id=owner_id,
    )


def _stalled(session: Session, pipeline: Pipeline, team_id: str, as_of: datetime, owner_id: str | None) -> Stalled:
    def listing(watched: tuple[Stage, ...]) -> tuple[list[spell_queries.StalledRow], int]:
        return spell_queries.stalled_deals(
            session,
            team_id=team_id,
            at=as_of,
            stalled_before=stall_cutoffs(watched, as_of),
            limit=LIST_LIMIT,
            owner_id=owner_id,
        )

    pipeline_rows, pipeline_total = listing(before_win(pipeline))
    onboarding_rows, onboarding_total = listing(onboarding(pipeline))
    owner_rows, owner_total = spell_queries.stalled_by_owner(
        session,
        team_id=team_id,
        at=as_of,
        stalled_before=stall_cutoffs(stall_watched(pipeline), as_of),
        limit=OWNER_LIMIT,
        owner_id=owner_id,
    )
    numbers = [row.deal_number for row in (*pipeline_rows, *onboarding_rows, *(o.oldest for o in owner_rows))]
    snoozes = reminder_queries.snoozes_by_number(session, team_id=team_id, numbers=numbers, at=as_of)

    def line(row: spell_queries.StalledRow) -> StalledLine:
        stage = stage_or_placeholder(pipeline, row.stage_key)
        return StalledLine(
            row.deal_number,
            row.deal_name,
            row.owner_id,
            stage,
            row.entered_at,
            days_in_stage(row.entered_at, as_of),
            stage.stall_after_days,
            row.value_cents,
            _snooze_note(snoozes.get(row.deal_number)),
        )

    return Stalled(
        pipeline=Listing(tuple(line(row) for row in pipeline_rows), pipeline_total),
        onboarding=Listing(tuple(line(row) for row in onboarding_rows), onboarding_total),
        by_owner=Listing(
            tuple(OwnerStalls(row.owner_id, row.deals, row.snoozed, line(row.oldest)) for row in owner_rows),
            owner_total,
        ),
    )


def _snooze_note(snooze: DealSnooze | None) -> SnoozeNote | None:
    return None if snooze is None else SnoozeNote(snooze.until, snooze.snoozed_by, snooze.reason)


def _by_stage(pipeline: Pipeline, open_rows: list[spell_queries.OpenRow]) -> tuple[StageTotal, ...]:
    deals: dict[str, int] = defaultdict(int)
    value: dict[str, int] = defaultdict(int)
    for row in open_rows:
        deals[row.stage_key] += row.deals
        value[row.stage_key] += row.value_cents
    return tuple(StageTotal(stage, deals[stage.key], value[stage.key]) for stage in pipeline.stages)


def _transitions(pipeline: Pipeline, rows: list[tuple[str, str, str, int]]) -> tuple[Transition, ...]:
    """Moves per (from, to), most first, then in pipeline order of where they went from and to."""
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for event_kind, source, target, count in rows:
        counts[(source, target, _move_kind(pipeline, event_kind, source, target))] += count
    transitions = [
        Transition(stage_or_placeholder(pipeline, source), stage_or_placeholder(pipeline, target), kind, count)
        for (source, target, kind), count in counts.items()
    ]
    order = {key: index for index, key in enumerate(pipeline.keys)}
    return tuple(
        sorted(
            transitions,
            key=lambda t: (-t.moves, order.get(t.from_stage.key, len(order)), order.get(t.to_stage.key, len(order))),
        )
    )


def _move_kind(pipeline: Pipeline, event_kind: str, source: str, target: str) -> str:
    if event_kind == EventKind.MOVED_BACK:
        return "back"
    if source not in pipeline.keys or target not in pipeline.keys:
        return "forward"
    step = pipeline.index(target) - pipeline.index(source)
    return "back" if step < 0 else "skip" if step > 1 else "forward"


def _notable(
    session: Session,
    pipeline: Pipeline,
    team_id: str,
    period: Period,
    transitions: tuple[Transition, ...],
    owner_id: str | None,
) -> tuple[NotableMove, ...]:
    """The largest forward moves, then the largest skips and moves back, each move once with every reason."""
    by_kind: dict[str, list[tuple[str, str, str]]] = {"largest": [], "skip": [], "back": []}
    for transition in transitions:
        event_kinds = (EventKind.MOVED_BACK, EventKind.APPROVED) if transition.kind == "back" else (EventKind.APPROVED,)
        pairs = [(kind, transition.from_stage.key, transition.to_stage.key) for kind in event_kinds]
        by_kind["largest" if transition.kind == "forward" else transition.kind] += pairs
        if transition.kind == "skip":
            by_kind["largest"] += pairs
    found: dict[tuple[int, datetime, str, str, str], tuple[reports.EventRow, list[str]]] = {}
    for label, wanted in by_kind.items():
        rows = reports.largest_moves(
            session,
            team_id=team_id,
            start=period.start,
            end=period.end,
            transitions=wanted,
            limit=NOTABLE_EACH,
            owner_id=owner_id,
        )
        for row in rows:
            key = (row.deal_number, row.at, row.kind, row.from_stage or "", row.to_stage or "")
            reasons = found.setdefault(key, (row, []))[1]
            if label not in reasons:
                reasons.append(label)
    move_ids = [row.move_id for row, _ in found.values() if row.move_id is not None]
    approvers = queries.approvers(session, team_id=team_id, move_ids=move_ids)
    notable = []
    for row, why in found.values():
        move = _moves(pipeline, [row], 1, approvers if row.kind == EventKind.APPROVED else None).items[0]
        notable.append(NotableMove(move, tuple(why)))
    return tuple(notable)


def _lost_reasons(rows: list[tuple[str, int, int]]) -> Listing[LostReason]:
    """Every reason (see `LostReason`), most deals first, then by the reason; the first `LIST_LIMIT` listed."""
    deals: dict[str, int] = defaultdict(int)
    value: dict[str, int] = defaultdict(int)
    for note, count, cents in rows:
        reason = " ".join(note.split()).casefold() or NO_REASON
        deals[reason] += count
        value[reason] += cents
    reasons = sorted(
        (LostReason(reason, deals[reason], value[reason]) for reason in deals), key=lambda r: (-r.deals, r.reason)
    )
    return Listing(tuple(reasons[:LIST_LIMIT]), len(reasons))


def watches(keys: Sequence[str], rows: spell_queries.WatchRows) -> list[estimators.Watch]:
    """The stays watched per stage of `keys`, as the estimators read them."""
    exits: dict[str, list[estimators.Stay]] = {key: [] for key in keys}
    entries: dict[str, dict[int, int]] = {key: {} for key in keys}
    for key, hours, outcome, count in rows.exits:
        if key in exits:
            exits[key].append(estimators.Stay(hours, estimators.Outcome(outcome), count))
    for key, hours, count in rows.entries:
        if key in entries:
            entries[key][hours] = entries[key].get(hours, 0) + count
    return [estimators.Watch(key, tuple(exits[key]), entries[key]) for key in keys]


def _stage_spells(keys: Sequence[str], rows: list[spell_queries.StayRow]) -> list[estimators.Watch]:
    """The stays that began in the window, per stage: all of them seen from the start."""
    stays: dict[str, list[estimators.Stay]] = {key: [] for key in keys}
    for row in rows:
        if row.stage_key in stays:
            stays[row.stage_key].append(estimators.Stay(row.hours, estimators.Outcome(row.outcome), row.count))
    return [estimators.Watch(key, tuple(stays[key])) for key in keys]


def _moves(
    pipeline: Pipeline, rows: list[reports.EventRow], total: int, approvers: dict[int, tuple[str, ...]] | None = None
) -> Listing[MoveLine]:
    return Listing(
        tuple(
            MoveLine(
                deal_number=row.deal_number,
                deal_name=row.deal_name,
                from_stage=stage_or_placeholder(pipeline, row.from_stage or ""),
                to_stage=stage_or_placeholder(pipeline, row.to_stage or ""),
                requested_by=row.requested_by or row.owner_id,
                decided_by=_decider(row, approvers),
                at=row.at,
                evidence=evidence_from_json(row.evidence),
                reason=row.note,
                approved_by=_approvers(row, approvers or {}),
                value_cents=row.value_cents,
            )
            for row in rows
        ),
        total,
    )


def _decider(row: reports.EventRow, approvers: dict[int, tuple[str, ...]] | None) -> str | None:
    """The event's actor, except for a move the pipeline approved (no approver): its event names the rep."""
    if approvers is not None and row.move_id is not None and not approvers.get(row.move_id):
        return None
    return row.actor_id


def _approvers(row: reports.EventRow, approvers: dict[int, tuple[str, ...]]) -> tuple[str, ...]:
    """Who approved a move. An imported move has no stored move, so its one approver is the event's actor."""
    if row.move_id is None:
        return (row.actor_id,)
    return approvers.get(row.move_id, ())


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


def _conversions(
    pipeline: Pipeline, current: spell_queries.WatchRows, previous: spell_queries.WatchRows
) -> tuple[StageConversion, ...]:
    """Each stage's conversion in both windows; the worst is the lowest next-stage rate now, among stages
    with a next stage and at least one ended stay."""
    now, before = _window_conversions(pipeline, current), _window_conversions(pipeline, previous)
    rates = {index: row.next_rate for index, row in enumerate(now[:-1]) if row.next_rate is not None and row.rate_basis}
    worst = min(rates, key=lambda index: (rates[index], index)) if rates else None
    return tuple(
        StageConversion(stage, now[index], before[index], index == worst) for index, stage in enumerate(pipeline.stages)
    )


def _window_conversions(pipeline: Pipeline, window: spell_queries.WatchRows) -> list[Conversion]:
    """The counts and the median read the stays that began in the window; the rates read every stay in it."""
    won_position = pipeline.index(pipeline.won_stage().key)
    spells = _stage_spells(pipeline.keys, window.began)
    stage_watches = watches(pipeline.keys, window)
    chain = estimators.chain(stage_watches[:won_position])
    result = []
    for position, stage_spells in enumerate(spells):
        rate = estimators.next_rate(stage_watches[position], chain.prior)
        median = estimators.median_days(stage_spells.exits)
        result.append(
            Conversion(
                entered=stage_spells.entered,
                moved_on=stage_spells.moved_on,
                skipped=stage_spells.skipped,
                dropped_out=stage_spells.dropped_out,
                lost=stage_spells.lost,
                moved_back=stage_spells.moved_back,
                still_open=stage_spells.still_open,
                next_rate=rate.value if rate.ended else None,
                next_rate_raw=rate.raw,
                rate_basis=rate.ended,
                won_rate=chain.win_chance(position).probability if position < won_position else None,
                median_days=median.days if median else None,
                watched_days=median.longest_days if median else 0.0,
            )
        )
    return result


def _forecast(
    pipeline: Pipeline,
    by_stage: tuple[StageTotal, ...],
    chain: estimators.Chain,
    open_rows: list[spell_queries.OpenRow],
    close_rows: list[tuple[str, int, int]],
    basis: int,
) -> Forecast:
    days: dict[str, dict[int, int]] = defaultdict(dict)
    for key, day, count in close_rows:
        days[key][day] = count
    outlook = estimators.outlook(
        chain,
        [estimators.OpenDeals(row.stage_key, row.age_days, row.deals, row.value_cents) for row in open_rows],
        estimators.CloseTimes(days),
    )
    stages = []
    for position, (total, stage_outlook) in enumerate(zip(by_stage, outlook.stages, strict=False)):
        chance = chain.win_chance(position)
        stages.append(
            StageForecast(
                stage=total.stage,
                open_deals=stage_outlook.open_deals,
                open_value_cents=stage_outlook.open_value_cents,
                won_rate=chance.probability,
                basis=chance.basis,
                factors=tuple(
                    RateFactor(pipeline.stage(factor.stage_key), factor.rate.value, factor.rate.ended)
                    for factor in chance.factors
                ),
                expected_wins=round(stage_outlook.expected_wins, 2),
                expected_value_cents=round(stage_outlook.expected_value_cents),
            )
        )
    return Forecast(
        expected_wins=round(outlook.expected_wins, 2),
        expected_value_cents=round(outlook.expected_value_cents),
        wins_low=outlook.low,
        wins_high=outlook.high,
        soon_days=estimators.SOON_DAYS,
        soon_wins=round(outlook.soon_wins, 2),
        soon_value_cents=round(outlook.soon_value_cents),
        open_deals=sum(stage.open_deals for stage in stages),
        basis=basis,
        stages=tuple(stages),
    )
