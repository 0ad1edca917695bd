"""The next instant at which a brand's campaigns can change state without new spend.

Without new spend, the control rule's answer for a brand changes only when the brand's wall
clock crosses a schedule boundary (a window's start or end, in local minutes of the week), the
local date changes (a new day's budget, a new month's budget, a flight's first or last date), or
the zone's offset changes (DST: a skipped or repeated hour can enter or leave a window without
its boundary ever showing on the wall clock). The sweep reconciles a brand when this instant has
come. An earlier answer costs one needless reconcile; a later one would delay enforcement, so
every doubt resolves to the earlier instant.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.control.periods import local_time
from app.control.schedule import DAY_MINUTES, Window

WEEK_MINUTES = 7 * DAY_MINUTES
_SECOND = timedelta(seconds=1)


def schedule_boundaries(windows: Iterable[Window]) -> tuple[int, ...]:
    """Sorted local minutes of the week (0 = Monday 00:00) at which any window starts or ends."""
    return tuple(sorted({(w.day * DAY_MINUTES + edge) % WEEK_MINUTES for w in windows for edge in (w.start, w.end)}))


def next_change_at(boundaries: tuple[int, ...], tz: ZoneInfo, now: datetime) -> datetime:
    """The first instant strictly after ``now`` (aware, returned in UTC) at which the brand's wall clock
    in ``tz`` reaches one of ``boundaries`` (see :func:`schedule_boundaries`), its next local midnight,
    or an offset change, whichever comes first. Never later than the next local date change."""
    local = local_time(now, tz)
    minute_of_week = local.weekday() * DAY_MINUTES + local.hour * 60 + local.minute
    # Wall-clock minutes from now until the next boundary; midnight (the next day's minute 0) always counts.
    to_midnight = DAY_MINUTES - (local.hour * 60 + local.minute)
    ahead = to_midnight
    if boundaries:
        index = bisect_right(boundaries, minute_of_week)
        following = boundaries[index] if index < len(boundaries) else boundaries[0] + WEEK_MINUTES
        ahead = min(ahead, following - minute_of_week)
    # The wall clock at that boundary, read back as an instant with today's offset.
    wall = local.replace(second=0, microsecond=0, tzinfo=None) + timedelta(minutes=ahead)
    offset = local.utcoffset()
    assert offset is not None
    candidate = (wall - offset).replace(tzinfo=UTC)
    if _offset(candidate, tz) == offset and _offset(candidate - _SECOND, tz) == offset:
        return candidate
    # The offset changes before the boundary: that change is the answer, found to the whole second
    # (zones change offset on whole minutes), and always after ``now`` since the offset at ``now`` is the old one.
    low, high = int(now.timestamp()), int(candidate.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(datetime.fromtimestamp(middle, UTC), tz) == offset:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def _offset(instant: datetime, tz: ZoneInfo) -> timedelta:
    offset = instant.astimezone(tz).utcoffset()
    assert offset is not None
    return offset
