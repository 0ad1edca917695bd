"""When a campaign's schedule, flight dates and switch would let it run over the coming days.

Budgets are left out on purpose: future spend is unknown, so this is the most a
campaign can run, not a forecast. The answer follows the brand's wall clock
exactly as the control rule does: a window over an hour that DST skips is
shorter that day (and a window inside the skipped hour never happens), and a
window over a repeated hour covers it both times.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.control.flight import in_flight
from app.control.periods import local_time
from app.control.schedule import DAY_MINUTES, Window

UPCOMING_DAYS = 7
_PROBE = timedelta(hours=1)  # zone offsets are sampled this often; no zone changes twice within an hour


@dataclass(frozen=True)
class RunInterval:
    """One stretch of time the campaign may run, within one brand-local calendar day.

    ``start`` and ``end`` are aware datetimes in the brand's zone; ``end`` is
    exclusive and is the next day's midnight for an interval that runs to 24:00.
    """

    day: date
    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        # Aware datetimes with the same tzinfo subtract as wall clocks; go through UTC for real time.
        return self.end.astimezone(UTC) - self.start.astimezone(UTC)

    @property
    def start_minute(self) -> int:
        """Wall-clock minutes since the local midnight of ``day`` at the start."""
        return self.start.hour * 60 + self.start.minute

    @property
    def end_minute(self) -> int:
        """Wall-clock minutes since the local midnight of ``day`` at the end; 1440 for 24:00."""
        if self.end.date() > self.day:
            return DAY_MINUTES
        return self.end.hour * 60 + self.end.minute


@dataclass(frozen=True)
class UpcomingDay:
    day: date
    intervals: tuple[RunInterval, ...]

    @property
    def total(self) -> timedelta:
        return sum((interval.duration for interval in self.intervals), timedelta())


def _offset(instant: datetime, tz: ZoneInfo) -> timedelta:
    offset = instant.astimezone(tz).utcoffset()
    assert offset is not None
    return offset


def _constant_offset_spans(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[datetime, datetime, timedelta]]:
    """Split the UTC range [start, end) where the zone's offset changes, each part with its offset."""
    spans = []
    span_start, offset = start, _offset(start, tz)
    probe = start
    while probe < end:
        following = min(probe + _PROBE, end)
        if _offset(following, tz) != offset:
            # Binary search (to the second) for the first instant with the new offset.
            low, high = probe, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _offset(middle, tz) == offset:
                    low = middle
                else:
                    high = middle
            spans.append((span_start, high, offset))
            span_start, offset = high, _offset(high, tz)
        probe = following
    spans.append((span_start, end, offset))
    return spans


def upcoming_runs(
    windows: Iterable[Window],
    start_date: date | None,
    end_date: date | None,
    enabled: bool,
    tz: ZoneInfo,
    now: datetime,
    *,
    days: int = UPCOMING_DAYS,
) -> list[UpcomingDay]:
    """The intervals the campaign may run on each of ``days`` brand-local days from today.

    Today is the brand-local date containing ``now`` and its intervals start no earlier
    than ``now``; the other days are whole calendar days in ``tz``. Only the switch
    (``enabled``), the flight dates (inclusive, brand-local) and the schedule count;
    no windows means any hour. Returns one UpcomingDay per date, in order.
    """
    windows = tuple(windows)
    local_now = local_time(now, tz)
    first_day = local_now.date()
    dates = [first_day + timedelta(days=i) for i in range(days)]
    by_day: dict[date, list[tuple[datetime, datetime]]] = {d: [] for d in dates}
    if enabled:
        now_utc = now.astimezone(UTC)
        # Generous bound: the last local day ends at most a day and a few hours of offset after this.
        horizon = now_utc + timedelta(days=days + 1)
        for span_start, span_end, offset in _constant_offset_spans(now_utc, horizon, tz):
            # Within a span, wall clock = UTC + offset, so each wall-clock window maps to one UTC range.
            wall_first = (span_start + offset).replace(tzinfo=None).date()
            wall_last = (span_end + offset - timedelta(microseconds=1)).replace(tzinfo=None).date()
            day = wall_first
            while day <= wall_last:
                if day in by_day and in_flight(start_date, end_date, day):
                    ranges = (
                        [(w.start, w.end) for w in windows if w.day == day.weekday()] if windows else [(0, DAY_MINUTES)]
                    )
                    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) - offset
                    for start_minute, end_minute in ranges:
                        start = max(span_start, midnight + timedelta(minutes=start_minute))
                        end = min(span_end, midnight + timedelta(minutes=end_minute))
                        if start < end:
                            by_day[day].append((start, end))
                day += timedelta(days=1)
    result = []
    for day in dates:
        merged: list[tuple[datetime, datetime]] = []
        for start, end in sorted(by_day[day]):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        intervals = tuple(RunInterval(day, start.astimezone(tz), end.astimezone(tz)) for start, end in merged)
        result.append(UpcomingDay(day, intervals))
    return result
