"""next_change_at: the next instant a brand's state can change without spend, as a table of cases
(DST days in New York, London and Lord Howe, Kolkata's half-hour offset, month ends, the week's wrap),
and a property: no state change is ever missed before the instant it returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.control import Window, in_schedule, local_time
from app.control.next_change import next_change_at, schedule_boundaries

MON, SUN, WED = 0, 6, 2


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def w(day: int, start: str, end: str) -> Window:
    minutes = lambda hhmm: int(hhmm[:2]) * 60 + int(hhmm[3:])  # noqa: E731
    return Window(day, minutes(start), minutes(end))


CASES = [
    # zone, windows, now, expected, why
    ("UTC", (), "2026-11-25T15:00Z", "2026-11-26T00:00Z", "no windows: the next midnight"),
    ("UTC", (w(WED, "09:00", "17:00"),), "2026-11-25T15:00Z", "2026-11-25T17:00Z", "a window's end"),
    ("UTC", (w(WED, "09:00", "17:00"),), "2026-11-25T17:00Z", "2026-11-26T00:00Z", "strictly after now"),
    ("UTC", (w(WED, "09:00", "17:00"),), "2026-11-25T08:59:59Z", "2026-11-25T09:00Z", "a window's start"),
    ("UTC", (w(MON, "08:00", "09:00"),), "2026-11-29T12:00Z", "2026-11-30T00:00Z", "the week wraps: midnight first"),
    ("UTC", (w(MON, "08:00", "09:00"),), "2026-11-30T00:00Z", "2026-11-30T08:00Z", "then Monday's window"),
    ("UTC", (w(SUN, "23:00", "24:00"),), "2026-11-29T23:30Z", "2026-11-30T00:00Z", "24:00 is Monday's midnight"),
    ("UTC", (), "2026-11-30T23:59:30Z", "2026-12-01T00:00Z", "month end"),
    ("UTC", (), "2026-12-31T23:00Z", "2027-01-01T00:00Z", "year end"),
    ("Asia/Kolkata", (), "2026-11-25T15:00Z", "2026-11-25T18:30Z", "Kolkata's midnight is 18:30Z"),
    ("Asia/Kolkata", (w(WED, "20:45", "21:00"),), "2026-11-25T15:00Z", "2026-11-25T15:15Z", "a half-hour offset"),
    ("Asia/Kolkata", (), "2027-02-28T18:00Z", "2027-02-28T18:30Z", "February's end in Kolkata"),
    # New York springs forward on 2026-03-08 at 02:00 EST (07:00Z) to 03:00 EDT.
    ("America/New_York", (), "2026-03-07T12:00Z", "2026-03-08T05:00Z", "midnight before the DST day"),
    ("America/New_York", (), "2026-03-08T05:00Z", "2026-03-08T07:00Z", "the offset change itself"),
    ("America/New_York", (), "2026-03-08T07:00Z", "2026-03-09T04:00Z", "a 23-hour day ends at 04:00Z"),
    (
        "America/New_York",
        (w(SUN, "02:00", "02:30"),),
        "2026-03-08T05:00Z",
        "2026-03-08T07:00Z",
        "a window inside the skipped hour: the jump",
    ),
    (
        "America/New_York",
        (w(SUN, "01:00", "02:30"),),
        "2026-03-08T06:30Z",
        "2026-03-08T07:00Z",
        "a window whose end is skipped: it ends at the jump",
    ),
    # New York falls back on 2026-11-01 at 02:00 EDT (06:00Z) to 01:00 EST.
    ("America/New_York", (w(SUN, "01:30", "02:00"),), "2026-11-01T05:00Z", "2026-11-01T05:30Z", "first 01:30"),
    ("America/New_York", (w(SUN, "01:30", "02:00"),), "2026-11-01T05:30Z", "2026-11-01T06:00Z", "leaves at the change"),
    ("America/New_York", (w(SUN, "01:30", "02:00"),), "2026-11-01T06:00Z", "2026-11-01T06:30Z", "second 01:30"),
    ("America/New_York", (w(SUN, "01:30", "02:00"),), "2026-11-01T06:30Z", "2026-11-01T07:00Z", "second 02:00"),
    ("America/New_York", (), "2026-11-01T07:00Z", "2026-11-02T05:00Z", "a 25-hour day ends at 05:00Z"),
    # London: summer time ends on 2026-10-25 at 02:00 BST (01:00Z).
    ("Europe/London", (), "2026-10-24T23:30Z", "2026-10-25T01:00Z", "the change before midnight"),
    ("Europe/London", (), "2026-10-25T01:00Z", "2026-10-26T00:00Z", "then GMT's midnight"),
    ("Europe/London", (w(SUN, "00:00", "24:00"),), "2026-03-28T23:00Z", "2026-03-29T00:00Z", "spring: Sunday"),
    ("Europe/London", (w(SUN, "00:00", "24:00"),), "2026-03-29T00:00Z", "2026-03-29T01:00Z", "spring: the jump"),
    ("Europe/London", (w(SUN, "00:00", "24:00"),), "2026-03-29T01:00Z", "2026-03-29T23:00Z", "spring: BST midnight"),
    # Lord Howe moves by half an hour: 02:00 +11 -> 01:30 +10:30 on 2026-04-05 (15:00Z the day before).
    ("Australia/Lord_Howe", (w(SUN, "01:45", "02:00"),), "2026-04-04T14:00Z", "2026-04-04T14:45Z", "first 01:45"),
    ("Australia/Lord_Howe", (w(SUN, "01:45", "02:00"),), "2026-04-04T14:45Z", "2026-04-04T15:00Z", "the change"),
    ("Australia/Lord_Howe", (w(SUN, "01:45", "02:00"),), "2026-04-04T15:00Z", "2026-04-04T15:15Z", "second 01:45"),
    # ... and 02:00 +10:30 -> 02:30 +11 on 2026-10-04 (15:30Z the day before).
    ("Australia/Lord_Howe", (), "2026-10-03T14:00Z", "2026-10-03T15:30Z", "spring: the half-hour jump"),
    ("Australia/Lord_Howe", (), "2026-10-03T15:30Z", "2026-10-04T13:00Z", "then midnight at +11"),
]


@pytest.mark.parametrize("zone, windows, now, expected, why", CASES, ids=[case[-1] for case in CASES])
def test_next_change_at(zone, windows, now, expected, why):
    assert next_change_at(schedule_boundaries(windows), ZoneInfo(zone), at(now)) == at(expected)


def test_boundaries_are_minutes_of_the_week_with_24_00_wrapping_to_monday():
    assert schedule_boundaries([w(SUN, "23:00", "24:00"), w(MON, "00:00", "01:00"), w(MON, "00:00", "01:00")]) == (
        0,
        60,
        6 * 1440 + 23 * 60,
    )


ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/Santiago",
    "Pacific/Chatham",
]
window = st.builds(
    lambda day, start, length: Window(day, start * 15, min(1440, start * 15 + length * 15)),
    st.integers(0, 6),
    st.integers(0, 95),
    st.integers(1, 40),
)


def state(windows, tz, instant):
    local = local_time(instant, tz)
    return local.date(), tuple(in_schedule([one], local) for one in windows)


@settings(max_examples=40, deadline=None)
@given(zone=st.sampled_from(ZONES), windows=st.lists(window, max_size=4), seconds=st.integers(0, 366 * 24 * 3600 - 1))
def test_no_change_of_date_or_window_is_missed_before_the_answer(zone, windows, seconds):
    tz = ZoneInfo(zone)
    now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    answer = next_change_at(schedule_boundaries(windows), tz, now)
    assert now < answer <= now + timedelta(hours=26)
    before = state(windows, tz, now)
    minute = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while minute < answer:  # zones change offset on whole minutes, so minutes are enough
        assert state(windows, tz, minute) == before, minute
        minute += timedelta(minutes=1)
