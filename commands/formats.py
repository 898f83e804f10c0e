"""How the bot writes numbers, counts, ids, periods and shortened text, wherever it shows them."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from commands.digest.report import Period
from commands.i18n.translator import Translator


def format_deal_id(n: int) -> str:
    return f"deal-{n}"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 deal`, `2 deals`, `1,200 deals`; `nouns` for a plural that is not the noun plus s."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def clip(text: str, limit: int) -> str:
    """The text, cut to `limit` characters with a closing ellipsis when it is longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def span(t: Translator, length: timedelta) -> str:
    """Whole days, or whole hours under a day, in the reader's language."""
    if length.days >= 1:
        return t.n("{count} day", "{count} days", length.days)
    hours = length.seconds // 3600
    return t.n("{count} hour", "{count} hours", hours) if hours >= 1 else t("less than an hour")


def period_days(t: Translator, period: Period, *, with_zone: bool = False) -> str:
    """The period's first and last local days in the reader's language, like `23–29 Nov 2026` (`23–29 nov 2026`):
    the end is exclusive, so its last day is just before it. `with_zone` adds the zone the days are read in."""
    zone = ZoneInfo(period.tz)
    first = period.start.astimezone(zone).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(zone).date()
    days = t.days(first, last).replace("\u2009", " ")  # CLDR's thin spaces around a span's dash: plain ones
    return t("{days} ({zone})", days=days, zone=period.tz) if with_zone else days
