"""When a person may be reminded: their working hours, in their own time zone.

Working hours are 08:00 (inclusive) to 20:00 (exclusive) local time, Monday to Friday. A reminder due outside
them is deferred to the next tick inside them, never dropped. A zone this machine does not know counts as UTC.
"""

from datetime import UTC, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WORKDAY_START = time(8, 0)
WORKDAY_END = time(20, 0)
WEEKEND = frozenset({5, 6})  # Saturday, Sunday (datetime.weekday)


def in_working_hours(zone: str, at: datetime) -> bool:
    local = at.astimezone(_zone(zone))
    return local.weekday() not in WEEKEND and WORKDAY_START <= local.time() < WORKDAY_END


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC
