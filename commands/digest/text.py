"""The digest as plain text, for the command line."""

from collections.abc import Callable
from typing import TypeVar

from commands.digest.estimators import THIN_SPELLS
from commands.digest.report import Conversion, Digest, Listing, MoveLine
from commands.formats import format_amount, format_deal_id, period_label, plural, rate

T = TypeVar("T")


def _money(cents: int | None) -> str:
    return "-" if cents is None else format_amount(cents)


def _rate(value: float | None) -> str:
    return rate(value, unknown="-")


def _listed(title: str, listing: Listing[T], line: Callable[[T], str]) -> list[str]:
    """A blank line, the title with the full count, one indented line per item, then "and N more"."""
    more = [f"  and {listing.more} more"] if listing.more else []
    return ["", f"{title} ({listing.total}):", *(f"  {line(item)}" for item in listing.items), *more]


def digest_text(digest: Digest) -> str:
    lines = [
        f"Pipeline digest, {period_label(digest.period, with_zone=True)}",
        "",
        "Where deals are:",
    ]
    lines += [f"  {t.stage.name}: {plural(t.deals, 'deal')}, {_money(t.value_cents)}" for t in digest.by_stage]
    lines.append(
        f"  Won this period: {digest.won_in_period.deals} ({_money(digest.won_in_period.value_cents)}); "
        f"lost: {digest.lost_in_period.deals} ({_money(digest.lost_in_period.value_cents)})"
    )
    lines += _listed(
        "Moved",
        digest.approved,
        lambda m: (
            f"{format_deal_id(m.deal_number)} {m.deal_name}: {m.from_stage.name} -> {m.to_stage.name} "
            f"by {m.requested_by}, {_approved_by(m)}; evidence: {', '.join(e.url for e in m.evidence)}"
        ),
    )
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
    lines += _listed(
        "Lost",
        digest.lost_deals,
        lambda d: f"{format_deal_id(d.deal_number)} {d.deal_name} at {d.stage.name}: {d.reason}",
    )
    lines += _listed(
        "Waiting for a manager over a day",
        digest.pending,
        lambda p: f"{format_deal_id(p.deal_number)} {p.deal_name} -> {p.to_stage.name}, asked by {p.requested_by}",
    )
    lines += _listed(
        "Stalled",
        digest.stalled,
        lambda s: (
            f"{format_deal_id(s.deal_number)} {s.deal_name}: {s.stage.name} for {plural(s.days_in_stage, 'day')} "
            f"(limit {s.stall_after_days}), owner {s.owner_id}"
        ),
    )
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
