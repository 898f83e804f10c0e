"""The digest as plain text, for the command line."""

from collections.abc import Callable
from typing import TypeVar
from zoneinfo import ZoneInfo

from commands.digest.estimators import THIN_SPELLS
from commands.digest.report import (
    Change,
    Conversion,
    Digest,
    ForecastChange,
    Listing,
    MoveLine,
    NotableMove,
    StageGroup,
    StageTotal,
    Stalled,
    StalledLine,
    Transition,
)
from commands.formats import format_amount, format_deal_id, period_label, plural, rate

PIPELINE_TITLE = "Pipeline (open deals before the win)"
CUSTOMERS_TITLE = "Customers (the won stage and after)"
REASON_WORDS = {
    "new": "new deals",
    "won": "wins",
    "lost": "losses",
    "moved": "moves",
    "time": "time in stage",
    "rates": "rates re-read",
}
WHY_WORDS = {"largest": "largest", "skip": "skipped a stage", "back": "moved back"}

T = TypeVar("T")


def _money(cents: int | None) -> str:
    return "-" if cents is None else format_amount(cents)


def _rate(value: float | None) -> str:
    return rate(value, unknown="-")


def _listed(title: str, listing: Listing[T], line: Callable[[T], str]) -> list[str]:
    """A blank line, the title with the full count, one indented line per item, then "and N more"."""
    more = [f"  and {listing.more} more"] if listing.more else []
    return ["", f"{title} ({listing.total}):", *(f"  {line(item)}" for item in listing.items), *more]


def signed_count(count: int) -> str:
    """`+7`, `-3`, `+0`: a change in a count."""
    return f"{count:+,}"


def signed_amount(cents: int) -> str:
    """`+90,000`, `-1,250.50`, `+0`: a change in value."""
    return ("+" if cents >= 0 else "") + format_amount(cents)


def with_change(deals: int, value_cents: int, change: Change | None, *, money: Callable[[int], str]) -> tuple[str, str]:
    """The count and the value, each followed by its change in brackets when there is one."""
    count, value = plural(deals, "deal"), money(value_cents)
    if change is None:
        return count, value
    return f"{count} ({signed_count(change.deals)})", f"{value} ({signed_amount(change.value_cents)})"


def stage_line(total: StageTotal, *, money: Callable[[int], str], separator: str) -> tuple[str, str]:
    """A stage's name and its counts with their changes."""
    return total.stage.name, separator.join(with_change(total.deals, total.value_cents, total.change, money=money))


def transition_label(transition: Transition, *, arrow: str) -> str:
    mark = {"skip": " (skip)", "back": " (back)"}.get(transition.kind, "")
    return f"{transition.from_stage.name} {arrow} {transition.to_stage.name}{mark}: {transition.moves:,}"


def notable_why(move: NotableMove) -> str:
    return ", ".join(WHY_WORDS[why] for why in move.why)


def forecast_change_words(change: ForecastChange, *, money: Callable[[int], str]) -> str:
    """`+1.2 wins, +90,000: new deals +0.8 (12 deals, +40,000), ...`, only the reasons that count."""
    parts = [
        f"{REASON_WORDS[reason.reason]} {reason.expected_wins:+.1f} "
        f"({plural(reason.deals, 'deal')}, {signed_amount(round(reason.expected_value_cents, -2))})"
        for reason in change.reasons
        if reason.deals
    ]
    return f"{change.expected_wins:+.1f} wins, {signed_amount(round(change.expected_value_cents, -2))}" + (
        f": {'; '.join(parts)}" if parts else ""
    )


def since_label(digest: Digest) -> str:
    """When the changes are counted from, in the digest's zone."""
    return f"{digest.week_earlier.astimezone(ZoneInfo(digest.period.tz)):%Y-%m-%d %H:%M} ({digest.period.tz})"


def _group_lines(title: str, group: StageGroup) -> list[str]:
    count, value = with_change(group.deals, group.value_cents, group.change, money=_money)
    lines = [f"  {title}: {count}, {value}"]
    for total in group.stages:
        name, numbers = stage_line(total, money=_money, separator=", ")
        lines.append(f"    {name}: {numbers}")
    return lines


def _title(digest: Digest) -> str:
    if digest.owner_id is None:
        return "Pipeline digest"
    return f"Pipeline digest of {digest.owner_id}'s deals (conversion rates and the forecast's chances: the team's)"


def digest_text(digest: Digest) -> str:
    lines = [
        f"{_title(digest)}, {period_label(digest.period, with_zone=True)}",
        "",
        f"Where deals are (in brackets: the change since {since_label(digest)}):",
        *_group_lines(PIPELINE_TITLE, digest.pipeline),
        *_group_lines(CUSTOMERS_TITLE, digest.customers),
    ]
    lines.append(
        f"  Won this period: {digest.won_in_period.deals} ({_money(digest.won_in_period.value_cents)}); "
        f"lost: {digest.lost_in_period.deals} ({_money(digest.lost_in_period.value_cents)})"
    )
    moved = sum(transition.moves for transition in digest.transitions)
    lines += ["", f"Moved ({moved}):", *(f"  {transition_label(t, arrow='->')}" for t in digest.transitions)]
    if digest.notable_moves:
        lines.append("  Worth a look:")
        lines += [
            f"    {format_deal_id(n.move.deal_number)} {n.move.deal_name} ({_money(n.move.value_cents)}): "
            f"{n.move.from_stage.name} -> {n.move.to_stage.name}, {notable_why(n)}; by {n.move.requested_by}"
            + (
                f": {n.move.reason}"
                if "back" in n.why
                else f", {_approved_by(n.move)}"
                + (f"; evidence: {', '.join(e.url for e in n.move.evidence)}" if n.move.evidence else "")
            )
            for n in digest.notable_moves
        ]
    lines += _listed(
        "Rejected",
        digest.rejected,
        lambda m: f"{format_deal_id(m.deal_number)} {m.deal_name} -> {m.to_stage.name}: {m.reason}",
    )
    lines += _listed(
        "New deals",
        digest.new_deals,
        lambda d: f"{format_deal_id(d.deal_number)} {d.deal_name} {_money(d.value_cents)}",
    )
    reasons = digest.lost_reasons
    lines += ["", f"Lost ({digest.lost_deals.total}), by reason:"]
    lines += [f"  {r.reason}: {r.deals:,} ({_money(r.value_cents)})" for r in reasons.items]
    lines += [f"  and {plural(reasons.more, 'other reason')}"] if reasons.more else []
    lines += _listed(
        "Waiting for a manager over a day",
        digest.pending,
        lambda p: f"{format_deal_id(p.deal_number)} {p.deal_name} -> {p.to_stage.name}, asked by {p.requested_by}",
    )
    lines += stalled_lines(digest.stalled)
    lines += conversion_lines(digest)
    lines += forecast_lines(digest)
    return "\n".join(lines)


def conversion_lines(digest: Digest) -> list[str]:
    lines = [
        "",
        f"Stage conversion: deals that entered each stage in the last {plural(digest.window_days, 'day')} "
        "(the window before in brackets):",
    ]
    thin = []
    for row in digest.conversion:
        now, before = row.current, row.previous
        if not now.entered and not before.entered:
            lines.append(f"  {row.stage.name}: none entered")
            continue
        parts = [
            f"  {row.stage.name}: of {now.entered} that entered, {now.moved_on} moved on, "
            f"{now.dropped_out} dropped out, {now.still_open} still there",
            f"{_rate(now.next_rate)} move on ({_rate(before.next_rate)})",
        ]
        if now.won_rate is not None or before.won_rate is not None:
            parts.append(f"{_rate(now.won_rate)} end up won ({_rate(before.won_rate)})")
        parts.append(median_words(now))
        lines.append("; ".join(parts) + ("  <- converts worst" if row.worst else ""))
        if now.entered and now.thin:
            thin.append(f"{row.stage.name} ({plural(now.rate_basis, 'ended stay')})")
    if thin:
        lines.append(
            f"  Fewer than {THIN_SPELLS} ended stays behind: {', '.join(thin)}; read those rates as rough guesses."
        )
    return lines


def forecast_lines(digest: Digest) -> list[str]:
    forecast = digest.forecast
    if not forecast.open_deals:
        return ["", "Forecast: no open deals before the win."]
    lines = [
        "",
        f"Forecast: about {forecast.expected_wins:.1f} wins (80% likely {forecast.wins_low} to {forecast.wins_high}) "
        f"worth {_money(forecast.expected_value_cents)} from {plural(forecast.open_deals, 'open deal')}; "
        f"about {forecast.soon_wins:.1f} of them ({_money(forecast.soon_value_cents)}) "
        f"within {plural(forecast.soon_days, 'day')}.",
    ]
    if forecast.change is not None:
        lines.append(f"  Since {since_label(digest)}: {forecast_change_words(forecast.change, money=_money)}")
    for stage in forecast.stages:
        if not stage.open_deals:
            continue
        factors = " x ".join(f"{_rate(f.rate)} ({f.ended})" for f in stage.factors)
        lines.append(
            f"  {stage.stage.name}: {plural(stage.open_deals, 'open deal')}, {_rate(stage.won_rate)} chance of a win "
            f"for a deal new to the stage ({factors} ended stays), {stage.expected_wins:.1f} wins expected"
            + (" - too few ended stays to trust" if stage.thin else "")
        )
    return lines


def median_words(conversion: Conversion, *, unknown: str = "-") -> str:
    if conversion.median_days is not None:
        return f"median {conversion.median_days:.1f} days"
    if conversion.entered - conversion.skipped > 0:
        return f"median over {conversion.watched_days:.0f} days (fewer than half have left)"
    return f"median {unknown}"


def _approved_by(move: MoveLine) -> str:
    if not move.approved_by:
        return "approved by the pipeline (no approval needed)"
    return "approved by " + " and ".join(move.approved_by)


def stalled_lines(stalled: Stalled) -> list[str]:
    """The stalled deals: the counts, per owner, then the pipeline's and onboarding's, oldest first."""
    lines = [
        "",
        f"Stalled ({stalled.total}): {stalled.pipeline.total} in the pipeline, "
        f"{stalled.onboarding.total} in onboarding (the last stage never stalls)",
    ]
    for owner in stalled.by_owner.items:
        snoozed = f" ({owner.snoozed} snoozed)" if owner.snoozed else ""
        lines.append(
            f"  {owner.owner_id}: {plural(owner.deals, 'stalled deal')}{snoozed}; oldest {_stalled(owner.oldest)}"
        )
    lines += [f"  and {plural(stalled.by_owner.more, 'more owner')}"] if stalled.by_owner.more else []
    lines += _listed("Stalled in the pipeline", stalled.pipeline, _stalled_owned)
    lines += _listed("Stalled in onboarding", stalled.onboarding, _stalled_owned)
    return lines


def _stalled_owned(s: StalledLine) -> str:
    return f"{_stalled(s)}, owner {s.owner_id}"


def _stalled(s: StalledLine) -> str:
    return (
        f"{format_deal_id(s.deal_number)} {s.deal_name}: {s.stage.name} for {plural(s.days_in_stage, 'day')} "
        f"(limit {s.stall_after_days})"
        + (f"; snoozed until {s.snooze.until:%d %b} by {s.snooze.snoozed_by}: {s.snooze.reason}" if s.snooze else "")
    )
