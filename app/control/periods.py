"""Brand-local calendar periods.

A brand's day and month are calendar days and months in its IANA zone, so a
DST day lasts 23 or 25 hours. All instants passed in must be timezone-aware.
"""

from __future__ import annotations

import calendar
import math
from datetime import UTC, date, datetime, timedelta
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


def utc_offset_spans(tz: ZoneInfo, first: datetime, last: datetime) -> list[tuple[datetime, datetime, timedelta]]:
    """Half-open UTC spans ``[start, end)`` covering the instants ``first`` to ``last`` (both included), each
    with ``tz``'s UTC offset throughout it: an instant's local date is the date of instant + offset.

    Lets a database compute local dates in a few set-based statements (one per span: two a year for a
    zone with daylight saving time) instead of one value per row. Offset changes are found to the second
    (tzdata changes them on whole seconds), looking at every six hours in between.
    """
    _require_aware(first)
    _require_aware(last)

    def offset(second: int) -> timedelta:
        return datetime.fromtimestamp(second, UTC).astimezone(tz).utcoffset()

    start, end = math.floor(first.timestamp()), math.floor(last.timestamp())
    spans = []
    current = offset(start)
    at = start
    while at < end:
        probe = min(at + _PROBE, end)
        if offset(probe) == current:
            at = probe
            continue
        low, high = at, probe  # offset(low) == current != offset(high): the change is in (low, high]
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if offset(middle) == current else (low, middle)
        spans.append((start, high, current))
        start, at, current = high, high, offset(high)
    spans.append((start, end + 1, current))  # to the second after ``last``, which may have a fraction
    return [(datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC), off) for a, b, off in spans]


_PROBE = 6 * 3600
