"""Brand-local calendar periods.

A brand's day and month are calendar days and months in its IANA zone, so a
DST day lasts 23 or 25 hours. All instants passed in must be timezone-aware.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("instant must be timezone-aware")


def local_time(now: datetime, tz: ZoneInfo) -> datetime:
    """The wall-clock time in ``tz`` at the absolute instant ``now``."""
    _require_aware(now)
    # Go through UTC: when ``now`` already carries ``tz``, astimezone(tz) returns it
    # unchanged, so a wall time DST skips (e.g. 02:30 on a spring-forward day) would
    # survive instead of becoming the real wall clock at that instant.
    return now.astimezone(UTC).astimezone(tz)


def local_day(now: datetime, tz: ZoneInfo) -> date:
    """The brand-local calendar date containing the instant ``now``.

    An instant whose local date would fall before 0001-01-01 or after 9999-12-31 (possible for a
    stored spend once its brand moves to another zone) counts on the first or last date there is.
    """
    try:
        return local_time(now, tz).date()
    except OverflowError:
        return date.min if now.astimezone(UTC).year == 1 else date.max


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_bounds(day: date) -> tuple[date, date]:
    """First and last calendar date (inclusive) of the month containing ``day``."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)
