"""The digest as plain text, for the command line."""

from collections.abc import Callable
from typing import TypeVar
from zoneinfo import ZoneInfo

from commands.digest_report import Digest, Listing
from commands.parsing import format_amount, format_deal_id

T = TypeVar("T")


def _money(cents: int | None) -> str:
    return "-" if cents is None else format_amount(cents)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _listed(title: str, listing: Listing[T], line: Callable[[T], str]) -> list[str]:
    """A blank line, the title with the full count, one indented line per item, then "and N more"."""
    more = [f"  and {listing.more} more"] if listing.more else []
    return ["", f"{title} ({listing.total}):", *(f"  {line(item)}" for item in listing.items), *more]


def digest_text(digest: Digest) -> str:
    zone = ZoneInfo(digest.period.tz)
    start, end = digest.period.start.astimezone(zone), digest.period.end.astimezone(zone)
    lines = [
        f"Pipeline digest {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} ({digest.period.tz})",
        "",
        "Where deals are:",
    ]
    lines += [f"  {t.stage.name}: {t.deals} deals, {_money(t.value_cents)}" for t in digest.by_stage]
    lines.append(
        f"  Won this period: {digest.won_in_period.deals} ({_money(digest.won_in_period.value_cents)}); "
        f"lost: {digest.lost_in_period.deals} ({_money(digest.lost_in_period.value_cents)})"
    )
    lines += _listed(
        "Moved",
        digest.approved,
        lambda m: (
            f"{format_deal_id(m.deal_number)} {m.deal_name}: {m.from_stage.name} -> {m.to_stage.name} "
            f"by {m.requested_by}, approved by {m.decided_by}; evidence: {', '.join(e.url for e in m.evidence)}"
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
            f"{format_deal_id(s.deal_number)} {s.deal_name}: {s.stage.name} for {s.days_in_stage} days "
            f"(limit {s.stall_after_days}), owner {s.owner_id}"
        ),
    )
    lines += ["", f"Stage conversion (last {digest.window_days} days; previous window in brackets):"]
    for row in digest.conversion:
        now, before = row.current, row.previous
        lines.append(
            f"  {row.stage.name}: {now.entered} entered, {_rate(now.next_rate)} to next ({_rate(before.next_rate)}), "
            f"{_rate(now.won_rate)} closed ({_rate(before.won_rate)})"
            + (f", median {now.median_days:.1f} days" if now.median_days is not None else "")
            + ("  <- converts worst" if row.worst else "")
        )
    forecast = digest.forecast
    lines += [
        "",
        f"Forecast: {forecast.expected_wins:.1f} wins worth {_money(forecast.expected_value_cents)} "
        f"from {forecast.open_deals} open deals ({forecast.basis} deals behind the rates)"
        + ("" if forecast.enough_history else "; too few deals to trust the rates"),
    ]
    return "\n".join(lines)
