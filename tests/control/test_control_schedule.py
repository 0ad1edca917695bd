"""Dayparting windows: parsing, validation, half-open membership, and DST days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.control import Window, format_minutes, in_schedule, local_time, parse_clock, window_at
from app.control.schedule import merge_windows

UTC = UTC
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
# 2026-06-01 is a Monday; day n of that week is WEEK_START + n days.
WEEK_START = date(2026, 6, 1)


def hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def w(day: int, start: str, end: str) -> Window:
    return Window(day, hm(start), hm(end))


def wall(day: int, clock: str, second: int = 0) -> datetime:
    """A local wall-clock time on weekday ``day`` of the reference week."""
    d = WEEK_START + timedelta(days=day)
    return datetime(d.year, d.month, d.day, hm(clock) // 60, hm(clock) % 60, second)


# ---------------------------------------------------------------- parse_clock

PARSE_GOOD = [
    ("00:00", 0),
    ("09:30", 570),
    ("9:30", 570),
    ("0:15", 15),
    ("12:45", 765),
    ("23:59", 1439),
    ("24:00", 1440),
    (" 07:45 ", 465),
]


@pytest.mark.parametrize(("text", "minutes"), PARSE_GOOD, ids=[repr(t) for t, _ in PARSE_GOOD])
def test_parse_clock_accepts(text: str, minutes: int) -> None:
    assert parse_clock(text) == minutes


PARSE_BAD = [
    ("24:15", "between 00:00 and 24:00"),
    ("24:01", "between 00:00 and 24:00"),
    ("25:00", "between 00:00 and 24:00"),
    ("09:60", "between 00:00 and 24:00"),
    ("99:99", "between 00:00 and 24:00"),
    ("abc", "not HH:MM"),
    ("", "not HH:MM"),
    ("9", "not HH:MM"),
    ("930", "not HH:MM"),
    ("09:3", "not HH:MM"),
    ("009:30", "not HH:MM"),
    ("-1:00", "not HH:MM"),
    ("09:30:00", "not HH:MM"),
    ("09.30", "not HH:MM"),
    ("9:30am", "not HH:MM"),
]


@pytest.mark.parametrize(("text", "message"), PARSE_BAD, ids=[repr(t) for t, _ in PARSE_BAD])
def test_parse_clock_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_clock(text)


@pytest.mark.parametrize("minutes", range(0, 1441, 15), ids=lambda m: format_minutes(m))
def test_format_and_parse_round_trip(minutes: int) -> None:
    text = format_minutes(minutes)
    assert len(text) == 5 and text[2] == ":"
    assert parse_clock(text) == minutes


# ------------------------------------------------------------- Window validity

VALID_WINDOWS = [
    (MON, 0, 15),
    (MON, 0, 1440),
    (SUN, 1425, 1440),
    (WED, 555, 1020),
]


@pytest.mark.parametrize(("day", "start", "end"), VALID_WINDOWS, ids=lambda v: str(v))
def test_valid_windows(day: int, start: int, end: int) -> None:
    window = Window(day, start, end)
    assert (window.day, window.start, window.end) == (day, start, end)


INVALID_WINDOWS = [
    ("start-not-quarter", (MON, 550, 600), "15-minute step"),
    ("end-not-quarter", (MON, 540, 610), "15-minute step"),
    ("start-one-minute", (MON, 1, 60), "15-minute step"),
    ("start-equals-end", (MON, 540, 540), "start before end"),
    ("start-after-end", (MON, 600, 540), "start before end"),
    ("end-past-24h", (MON, 1380, 1455), "within 00:00-24:00"),
    ("negative-start", (MON, -15, 60), "within 00:00-24:00"),
    ("day-7", (7, 540, 600), "day of week"),
    ("day-negative", (-1, 540, 600), "day of week"),
]


@pytest.mark.parametrize(
    ("args", "message"),
    [(args, message) for _, args, message in INVALID_WINDOWS],
    ids=[name for name, _, _ in INVALID_WINDOWS],
)
def test_invalid_windows_raise(args: tuple[int, int, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Window(*args)


def test_window_label() -> None:
    assert w(MON, "09:00", "17:30").label() == "mon 09:00-17:30"
    assert w(SUN, "23:45", "24:00").label() == "sun 23:45-24:00"


# ----------------------------------------------------------- membership table

MEMBERSHIP = [
    # window, local time, expected
    ("9to5-before", w(MON, "09:00", "17:00"), wall(MON, "08:59"), False),
    ("9to5-start-inclusive", w(MON, "09:00", "17:00"), wall(MON, "09:00"), True),
    ("9to5-last-minute", w(MON, "09:00", "17:00"), wall(MON, "16:59", 59), True),
    ("9to5-end-exclusive", w(MON, "09:00", "17:00"), wall(MON, "17:00"), False),
    ("9to5-other-day", w(MON, "09:00", "17:00"), wall(TUE, "09:00"), False),
    ("quarter-before", w(FRI, "09:15", "09:30"), wall(FRI, "09:14", 59), False),
    ("quarter-start", w(FRI, "09:15", "09:30"), wall(FRI, "09:15"), True),
    ("quarter-end-minus-1", w(FRI, "09:15", "09:30"), wall(FRI, "09:29", 59), True),
    ("quarter-end", w(FRI, "09:15", "09:30"), wall(FRI, "09:30"), False),
    ("first-quarter-midnight", w(WED, "00:00", "00:15"), wall(WED, "00:00"), True),
    ("first-quarter-00:15", w(WED, "00:00", "00:15"), wall(WED, "00:15"), False),
    ("end-24:00-includes-23:59", w(MON, "23:00", "24:00"), wall(MON, "23:59", 59), True),
    ("end-24:00-start", w(MON, "23:00", "24:00"), wall(MON, "23:00"), True),
    ("end-24:00-before", w(MON, "23:00", "24:00"), wall(MON, "22:59"), False),
    ("end-24:00-excludes-next-00:00", w(MON, "23:00", "24:00"), wall(TUE, "00:00"), False),
    ("sunday-all-day-00:00", w(SUN, "00:00", "24:00"), wall(SUN, "00:00"), True),
    ("sunday-all-day-23:59", w(SUN, "00:00", "24:00"), wall(SUN, "23:59"), True),
    ("sunday-all-day-not-monday", w(SUN, "00:00", "24:00"), wall(MON, "00:00"), False),
    ("sunday-all-day-not-saturday", w(SUN, "00:00", "24:00"), wall(SAT, "23:59"), False),
]


@pytest.mark.parametrize(
    ("window", "local", "expected"),
    [(window, local, expected) for _, window, local, expected in MEMBERSHIP],
    ids=[name for name, *_ in MEMBERSHIP],
)
def test_single_window_membership(window: Window, local: datetime, expected: bool) -> None:
    assert window.contains(local.weekday(), local.hour * 60 + local.minute) is expected
    assert in_schedule([window], local) is expected
    assert window_at([window], local) == (window if expected else None)


SEVERAL = (w(MON, "09:00", "12:00"), w(MON, "13:00", "17:00"), w(SAT, "10:00", "14:00"))
SEVERAL_CASES = [
    ("first", wall(MON, "10:00"), SEVERAL[0]),
    ("gap-between", wall(MON, "12:30"), None),
    ("second", wall(MON, "13:00"), SEVERAL[1]),
    ("third", wall(SAT, "13:59"), SEVERAL[2]),
    ("after-all", wall(SAT, "14:00"), None),
    ("unlisted-day", wall(THU, "10:00"), None),
]


@pytest.mark.parametrize(
    ("local", "expected"),
    [(local, expected) for _, local, expected in SEVERAL_CASES],
    ids=[name for name, *_ in SEVERAL_CASES],
)
def test_any_window_matches(local: datetime, expected: Window | None) -> None:
    assert window_at(SEVERAL, local) == expected
    assert in_schedule(SEVERAL, local) is (expected is not None)
    # Order of windows does not change membership.
    assert in_schedule(tuple(reversed(SEVERAL)), local) is (expected is not None)


@pytest.mark.parametrize(
    "local",
    [
        wall(MON, "00:00"),
        wall(WED, "03:17", 42),
        wall(SUN, "23:59", 59),
        datetime(2026, 3, 8, 3, 0, tzinfo=ZoneInfo("America/New_York")),
        datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York")),
    ],
    ids=["mon-midnight", "wed-odd-minute", "sun-last-second", "ny-spring-forward", "ny-fall-back-repeat"],
)
def test_no_windows_runs_at_any_hour(local: datetime) -> None:
    assert in_schedule((), local) is True
    assert in_schedule(iter(()), local) is True
    assert window_at((), local) is None


MERGE_CASES = [
    ("touching", [w(MON, "09:00", "10:00"), w(MON, "10:00", "11:00")], [w(MON, "09:00", "11:00")]),
    ("overlapping", [w(MON, "09:00", "10:30"), w(MON, "10:00", "11:00")], [w(MON, "09:00", "11:00")]),
    ("contained", [w(MON, "09:00", "17:00"), w(MON, "10:00", "11:00")], [w(MON, "09:00", "17:00")]),
    (
        "gap-kept",
        [w(MON, "09:00", "10:00"), w(MON, "10:15", "11:00")],
        [w(MON, "09:00", "10:00"), w(MON, "10:15", "11:00")],
    ),
    (
        "other-day-kept",
        [w(TUE, "00:00", "01:00"), w(MON, "23:00", "24:00")],
        [w(MON, "23:00", "24:00"), w(TUE, "00:00", "01:00")],
    ),
    ("empty", [], []),
]


@pytest.mark.parametrize(
    ("windows", "expected"),
    [(windows, expected) for _, windows, expected in MERGE_CASES],
    ids=[name for name, *_ in MERGE_CASES],
)
def test_merge_windows(windows: list[Window], expected: list[Window]) -> None:
    assert merge_windows(windows) == expected


# ------------------------------------------------------------------ DST days
#
# Every DST day below is a Sunday (day 6). Membership is judged on the wall
# clock that local_time gives for an absolute UTC instant.

DST_MEMBERSHIP = [
    # America/New_York spring forward 2026-03-08: 02:00-03:00 does not exist.
    ("ny-spring-01:59-before-gap", "America/New_York", w(SUN, "02:00", "03:00"), "2026-03-08T06:59", False),
    ("ny-spring-03:00-after-gap", "America/New_York", w(SUN, "02:00", "03:00"), "2026-03-08T07:00", False),
    ("ny-spring-01:59-in-1to2", "America/New_York", w(SUN, "01:00", "02:00"), "2026-03-08T06:59", True),
    ("ny-spring-03:00-in-3to4", "America/New_York", w(SUN, "03:00", "04:00"), "2026-03-08T07:00", True),
    ("ny-spring-window-spanning-gap", "America/New_York", w(SUN, "01:45", "03:15"), "2026-03-08T07:00", True),
    ("ny-control-week-before", "America/New_York", w(SUN, "02:00", "03:00"), "2026-03-01T07:30", True),
    # America/New_York fall back 2026-11-01: 01:00-02:00 happens twice.
    ("ny-fall-00:59-edt", "America/New_York", w(SUN, "01:00", "02:00"), "2026-11-01T04:59", False),
    ("ny-fall-01:00-edt", "America/New_York", w(SUN, "01:00", "02:00"), "2026-11-01T05:00", True),
    ("ny-fall-01:59-edt", "America/New_York", w(SUN, "01:00", "02:00"), "2026-11-01T05:59", True),
    ("ny-fall-01:00-est", "America/New_York", w(SUN, "01:00", "02:00"), "2026-11-01T06:00", True),
    ("ny-fall-01:59-est", "America/New_York", w(SUN, "01:00", "02:00"), "2026-11-01T06:59", True),
    ("ny-fall-02:00-est", "America/New_York", w(SUN, "01:00", "02:00"), "2026-11-01T07:00", False),
    # Europe/London: 01:00-02:00 skipped 2026-03-29, repeated 2026-10-25.
    ("london-spring-00:59", "Europe/London", w(SUN, "01:00", "02:00"), "2026-03-29T00:59", False),
    ("london-spring-02:00", "Europe/London", w(SUN, "01:00", "02:00"), "2026-03-29T01:00", False),
    ("london-fall-01:30-bst", "Europe/London", w(SUN, "01:00", "02:00"), "2026-10-25T00:30", True),
    ("london-fall-01:30-gmt", "Europe/London", w(SUN, "01:00", "02:00"), "2026-10-25T01:30", True),
    ("london-fall-02:00-gmt", "Europe/London", w(SUN, "01:00", "02:00"), "2026-10-25T02:00", False),
    # Australia/Lord_Howe: 01:30-02:00 repeated 2026-04-05, 02:00-02:30 skipped 2026-10-04.
    ("lhi-fall-01:29", "Australia/Lord_Howe", w(SUN, "01:30", "02:00"), "2026-04-04T14:29", False),
    ("lhi-fall-01:30-first", "Australia/Lord_Howe", w(SUN, "01:30", "02:00"), "2026-04-04T14:30", True),
    ("lhi-fall-01:59-first", "Australia/Lord_Howe", w(SUN, "01:30", "02:00"), "2026-04-04T14:59", True),
    ("lhi-fall-01:30-second", "Australia/Lord_Howe", w(SUN, "01:30", "02:00"), "2026-04-04T15:00", True),
    ("lhi-fall-01:59-second", "Australia/Lord_Howe", w(SUN, "01:30", "02:00"), "2026-04-04T15:29", True),
    ("lhi-fall-02:00", "Australia/Lord_Howe", w(SUN, "01:30", "02:00"), "2026-04-04T15:30", False),
    ("lhi-spring-01:59-before-gap", "Australia/Lord_Howe", w(SUN, "02:00", "02:30"), "2026-10-03T15:29", False),
    ("lhi-spring-02:30-after-gap", "Australia/Lord_Howe", w(SUN, "02:00", "02:30"), "2026-10-03T15:30", False),
    ("lhi-spring-02:30-in-2:30to3", "Australia/Lord_Howe", w(SUN, "02:30", "03:00"), "2026-10-03T15:30", True),
]


@pytest.mark.parametrize(
    ("zone", "window", "instant", "expected"),
    [row[1:] for row in DST_MEMBERSHIP],
    ids=[row[0] for row in DST_MEMBERSHIP],
)
def test_dst_membership_at_instant(zone: str, window: Window, instant: str, expected: bool) -> None:
    now = datetime.fromisoformat(instant).replace(tzinfo=UTC)
    assert in_schedule([window], local_time(now, ZoneInfo(zone))) is expected


# (zone, local DST day, window, minutes of real time the window is open that day)
DST_MINUTES = [
    ("ny-spring-skipped-hour-never", "America/New_York", "2026-03-08", w(SUN, "02:00", "03:00"), 0),
    ("ny-spring-whole-day-23h", "America/New_York", "2026-03-08", w(SUN, "00:00", "24:00"), 23 * 60),
    ("ny-spring-window-across-gap", "America/New_York", "2026-03-08", w(SUN, "01:00", "04:00"), 120),
    ("ny-fall-repeated-hour-twice", "America/New_York", "2026-11-01", w(SUN, "01:00", "02:00"), 120),
    ("ny-fall-whole-day-25h", "America/New_York", "2026-11-01", w(SUN, "00:00", "24:00"), 25 * 60),
    ("london-spring-skipped", "Europe/London", "2026-03-29", w(SUN, "01:00", "02:00"), 0),
    ("london-fall-repeated", "Europe/London", "2026-10-25", w(SUN, "01:00", "02:00"), 120),
    ("lhi-spring-skipped-half-hour", "Australia/Lord_Howe", "2026-10-04", w(SUN, "02:00", "02:30"), 0),
    ("lhi-spring-whole-day-23.5h", "Australia/Lord_Howe", "2026-10-04", w(SUN, "00:00", "24:00"), 23 * 60 + 30),
    ("lhi-fall-repeated-half-hour", "Australia/Lord_Howe", "2026-04-05", w(SUN, "01:30", "02:00"), 60),
    ("lhi-fall-hour-1to2", "Australia/Lord_Howe", "2026-04-05", w(SUN, "01:00", "02:00"), 90),
    ("lhi-fall-whole-day-24.5h", "Australia/Lord_Howe", "2026-04-05", w(SUN, "00:00", "24:00"), 24 * 60 + 30),
]


@pytest.mark.parametrize(
    ("zone", "day", "window", "minutes"),
    [row[1:] for row in DST_MINUTES],
    ids=[row[0] for row in DST_MINUTES],
)
def test_dst_minutes_in_schedule(zone: str, day: str, window: Window, minutes: int) -> None:
    """Scan every UTC minute around the DST day and count those in schedule."""
    tz = ZoneInfo(zone)
    start = datetime.fromisoformat(day).replace(tzinfo=UTC) - timedelta(days=1)
    open_minutes = [
        now
        for now in (start + timedelta(minutes=i) for i in range(3 * 24 * 60))
        if in_schedule([window], local_time(now, tz))
    ]
    assert len(open_minutes) == minutes
    for now in open_minutes:
        wall_clock = local_time(now, tz)
        assert wall_clock.date() == date.fromisoformat(day)
        assert window.start <= wall_clock.hour * 60 + wall_clock.minute < window.end
