"""Dayparting windows: weekday plus a half-open [start, end) range of local minutes.

Windows are on 15-minute steps; ``end`` may be 24:00 (1440). Membership uses
the brand's wall clock, so a local time skipped by DST never matches and a
repeated one matches both times.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

STEP_MINUTES = 15
DAY_MINUTES = 24 * 60
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True, order=True)
class Window:
    """One schedule row: ``day`` 0=Monday..6=Sunday, minutes since local midnight."""

    day: int
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.day <= 6:
            raise ValueError(f"day of week must be 0 (Monday) to 6 (Sunday), got {self.day}")
        check_hours(self.start, self.end)

    def contains(self, weekday: int, minute: int) -> bool:
        return weekday == self.day and self.start <= minute < self.end

    def label(self) -> str:
        return f"{DAY_NAMES[self.day]} {format_minutes(self.start)}-{format_minutes(self.end)}"


def check_hours(start: int, end: int) -> None:
    """The rule for a window's minutes: 15-minute steps, start before end, within 00:00-24:00.

    Raises ValueError with a sentence naming the bad bound.
    """
    check_step("start", start)
    check_step("end", end)
    if not 0 <= start < end <= DAY_MINUTES:
        raise ValueError(
            f"window {format_minutes(start)}-{format_minutes(end)} must have start before end, within 00:00-24:00"
        )


def check_step(name: str, minute: int) -> None:
    """Raises ValueError unless ``minute`` (a window's ``name`` bound) is on a 15-minute step."""
    if minute % STEP_MINUTES:
        raise ValueError(f"{name} {format_minutes(minute)} is not on a 15-minute step (:00, :15, :30, :45)")


def parse_clock(text: str) -> int:
    """'09:30' -> 570 minutes; '24:00' -> 1440. Raises ValueError with a sentence."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f"time {text!r} is not HH:MM")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"time {text!r} is not between 00:00 and 24:00")
    return hours * 60 + minutes


def format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def window_at(windows: Iterable[Window], local: datetime) -> Window | None:
    """The first window containing the local wall-clock time ``local``, if any."""
    weekday = local.weekday()
    minute = local.hour * 60 + local.minute
    for window in windows:
        if window.contains(weekday, minute):
            return window
    return None


def in_schedule(windows: Iterable[Window], local: datetime) -> bool:
    """True if the campaign may run at local time ``local``; no windows means any hour."""
    windows = tuple(windows)
    return not windows or window_at(windows, local) is not None


def merge_windows(windows: Iterable[Window]) -> list[Window]:
    """Sorted windows with touching or overlapping ranges on the same day merged."""
    merged: list[Window] = []
    for window in sorted(windows):
        last = merged[-1] if merged else None
        if last and last.day == window.day and window.start <= last.end:
            merged[-1] = Window(last.day, last.start, max(last.end, window.end))
        else:
            merged.append(window)
    return merged
