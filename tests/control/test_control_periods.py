"""Brand-local calendar periods: local_time, local_day, month_bounds, month_start.

The transition instants in these tables were checked against the system
zoneinfo database (scanning 2026 in 15-minute steps):

* America/New_York  2026-03-08 07:00Z  01:59 EST -> 03:00 EDT (23 h day)
                    2026-11-01 06:00Z  01:59 EDT -> 01:00 EST (25 h day)
* Europe/London     2026-03-29 01:00Z  00:59 GMT -> 02:00 BST (23 h day)
                    2026-10-25 01:00Z  01:59 BST -> 01:00 GMT (25 h day)
* Australia/Lord_Howe (30-minute shift, +11:00 summer / +10:30 standard)
                    2026-04-04 15:00Z  01:59 +11:00 -> 01:30 +10:30 (24.5 h day)
                    2026-10-03 15:30Z  01:59 +10:30 -> 02:30 +11:00 (23.5 h day)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.control import local_day, local_time, month_bounds, month_start

UTC = UTC


def utc(text: str) -> datetime:
    """'2026-03-08T07:00' -> that instant in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (UTC instant, zone, expected wall clock in the zone as ISO with offset, fold)
LOCAL_TIME_CASES = [
    # America/New_York, spring forward 2026-03-08: 02:00-03:00 never happens.
    ("2026-03-08T04:59", "America/New_York", "2026-03-07T23:59:00-05:00", 0),
    ("2026-03-08T05:00", "America/New_York", "2026-03-08T00:00:00-05:00", 0),
    ("2026-03-08T06:59", "America/New_York", "2026-03-08T01:59:00-05:00", 0),
    ("2026-03-08T07:00", "America/New_York", "2026-03-08T03:00:00-04:00", 0),
    ("2026-03-09T03:59", "America/New_York", "2026-03-08T23:59:00-04:00", 0),
    ("2026-03-09T04:00", "America/New_York", "2026-03-09T00:00:00-04:00", 0),
    # America/New_York, fall back 2026-11-01: 01:00-02:00 happens twice.
    ("2026-11-01T04:00", "America/New_York", "2026-11-01T00:00:00-04:00", 0),
    ("2026-11-01T05:00", "America/New_York", "2026-11-01T01:00:00-04:00", 0),
    ("2026-11-01T05:59", "America/New_York", "2026-11-01T01:59:00-04:00", 0),
    ("2026-11-01T06:00", "America/New_York", "2026-11-01T01:00:00-05:00", 1),
    ("2026-11-01T06:59", "America/New_York", "2026-11-01T01:59:00-05:00", 1),
    ("2026-11-01T07:00", "America/New_York", "2026-11-01T02:00:00-05:00", 0),
    ("2026-11-02T04:59", "America/New_York", "2026-11-01T23:59:00-05:00", 0),
    ("2026-11-02T05:00", "America/New_York", "2026-11-02T00:00:00-05:00", 0),
    # Europe/London, 2026-03-29 (01:00-02:00 skipped) and 2026-10-25 (01:00-02:00 twice).
    ("2026-03-29T00:59", "Europe/London", "2026-03-29T00:59:00+00:00", 0),
    ("2026-03-29T01:00", "Europe/London", "2026-03-29T02:00:00+01:00", 0),
    ("2026-03-29T22:59", "Europe/London", "2026-03-29T23:59:00+01:00", 0),
    ("2026-03-29T23:00", "Europe/London", "2026-03-30T00:00:00+01:00", 0),
    ("2026-10-24T23:00", "Europe/London", "2026-10-25T00:00:00+01:00", 0),
    ("2026-10-25T00:59", "Europe/London", "2026-10-25T01:59:00+01:00", 0),
    ("2026-10-25T01:00", "Europe/London", "2026-10-25T01:00:00+00:00", 1),
    ("2026-10-25T23:59", "Europe/London", "2026-10-25T23:59:00+00:00", 0),
    # Australia/Lord_Howe: half-hour DST. Back 2026-04-05 02:00 -> 01:30.
    ("2026-04-04T12:59", "Australia/Lord_Howe", "2026-04-04T23:59:00+11:00", 0),
    ("2026-04-04T13:00", "Australia/Lord_Howe", "2026-04-05T00:00:00+11:00", 0),
    ("2026-04-04T14:59", "Australia/Lord_Howe", "2026-04-05T01:59:00+11:00", 0),
    ("2026-04-04T15:00", "Australia/Lord_Howe", "2026-04-05T01:30:00+10:30", 1),
    ("2026-04-04T15:29", "Australia/Lord_Howe", "2026-04-05T01:59:00+10:30", 1),
    ("2026-04-04T15:30", "Australia/Lord_Howe", "2026-04-05T02:00:00+10:30", 0),
    ("2026-04-05T13:29", "Australia/Lord_Howe", "2026-04-05T23:59:00+10:30", 0),
    ("2026-04-05T13:30", "Australia/Lord_Howe", "2026-04-06T00:00:00+10:30", 0),
    # Australia/Lord_Howe: forward 2026-10-04 02:00 -> 02:30.
    ("2026-10-03T13:30", "Australia/Lord_Howe", "2026-10-04T00:00:00+10:30", 0),
    ("2026-10-03T15:29", "Australia/Lord_Howe", "2026-10-04T01:59:00+10:30", 0),
    ("2026-10-03T15:30", "Australia/Lord_Howe", "2026-10-04T02:30:00+11:00", 0),
    ("2026-10-04T12:59", "Australia/Lord_Howe", "2026-10-04T23:59:00+11:00", 0),
    ("2026-10-04T13:00", "Australia/Lord_Howe", "2026-10-05T00:00:00+11:00", 0),
    # Fractional offsets without DST.
    ("2026-06-30T18:14", "Asia/Kathmandu", "2026-06-30T23:59:00+05:45", 0),
    ("2026-06-30T18:15", "Asia/Kathmandu", "2026-07-01T00:00:00+05:45", 0),
    ("2026-05-10T00:00", "Asia/Kathmandu", "2026-05-10T05:45:00+05:45", 0),
    ("2026-05-10T00:00", "Asia/Kolkata", "2026-05-10T05:30:00+05:30", 0),
    # Month end: local is already Feb 1 while UTC is still Jan 31 ...
    ("2026-01-31T18:29", "Asia/Kolkata", "2026-01-31T23:59:00+05:30", 0),
    ("2026-01-31T18:30", "Asia/Kolkata", "2026-02-01T00:00:00+05:30", 0),
    # ... and vice versa: UTC is already Feb 1 while local is still Jan 31.
    ("2026-02-01T04:59", "America/New_York", "2026-01-31T23:59:00-05:00", 0),
    ("2026-02-01T05:00", "America/New_York", "2026-02-01T00:00:00-05:00", 0),
    # Leap day 2028-02-29.
    ("2028-02-28T18:29", "Asia/Kolkata", "2028-02-28T23:59:00+05:30", 0),
    ("2028-02-28T18:30", "Asia/Kolkata", "2028-02-29T00:00:00+05:30", 0),
    ("2028-03-01T04:59", "America/New_York", "2028-02-29T23:59:00-05:00", 0),
    ("2028-03-01T05:00", "America/New_York", "2028-03-01T00:00:00-05:00", 0),
    # Year end Dec 31 -> Jan 1, both directions.
    ("2026-12-31T18:14", "Asia/Kathmandu", "2026-12-31T23:59:00+05:45", 0),
    ("2026-12-31T18:15", "Asia/Kathmandu", "2027-01-01T00:00:00+05:45", 0),
    ("2027-01-01T04:59", "America/New_York", "2026-12-31T23:59:00-05:00", 0),
    ("2027-01-01T05:00", "America/New_York", "2027-01-01T00:00:00-05:00", 0),
    ("2026-12-31T23:59", "UTC", "2026-12-31T23:59:00+00:00", 0),
    ("2027-01-01T00:00", "UTC", "2027-01-01T00:00:00+00:00", 0),
]


@pytest.mark.parametrize(
    ("instant", "zone", "expected", "fold"),
    LOCAL_TIME_CASES,
    ids=[f"{zone}@{instant}Z" for instant, zone, _, _ in LOCAL_TIME_CASES],
)
def test_local_time_and_day(instant: str, zone: str, expected: str, fold: int) -> None:
    now = utc(instant)
    wall = local_time(now, ZoneInfo(zone))
    assert wall.isoformat() == expected
    assert wall.fold == fold
    # Same absolute instant (timestamps: PEP 495 makes a repeated-hour time unequal
    # to every time in another zone under ==).
    assert wall.timestamp() == now.timestamp()
    assert local_day(now, ZoneInfo(zone)) == date.fromisoformat(expected[:10])


# (zone, local date, its length in hours)
DAY_LENGTH_CASES = [
    ("America/New_York", "2026-03-08", 23),
    ("America/New_York", "2026-03-09", 24),
    ("America/New_York", "2026-11-01", 25),
    ("Europe/London", "2026-03-29", 23),
    ("Europe/London", "2026-10-25", 25),
    ("Australia/Lord_Howe", "2026-04-05", 24.5),
    ("Australia/Lord_Howe", "2026-10-04", 23.5),
    ("Asia/Kathmandu", "2026-10-04", 24),
    ("Asia/Kolkata", "2028-02-29", 24),
    ("UTC", "2026-12-31", 24),
]


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    DAY_LENGTH_CASES,
    ids=[f"{zone}:{day}={hours}h" for zone, day, hours in DAY_LENGTH_CASES],
)
def test_local_day_length(zone: str, day: str, hours: float) -> None:
    """Count the minutes whose instant local_day assigns to ``day``: a DST day is shorter or longer."""
    target = date.fromisoformat(day)
    tz = ZoneInfo(zone)
    start = datetime.combine(target - timedelta(days=1), datetime.min.time(), UTC)
    minutes = [start + timedelta(minutes=i) for i in range(3 * 24 * 60)]
    inside = [m for m in minutes if local_day(m, tz) == target]
    assert len(inside) == hours * 60
    # The minutes of one local day are one contiguous run of instants.
    assert inside[-1] - inside[0] == timedelta(minutes=len(inside) - 1)


# (any date in the month, first, last)
MONTH_BOUNDS_CASES = [
    ("2026-01-01", "2026-01-01", "2026-01-31"),
    ("2026-01-31", "2026-01-01", "2026-01-31"),
    ("2026-02-01", "2026-02-01", "2026-02-28"),
    ("2026-02-28", "2026-02-01", "2026-02-28"),
    ("2028-02-29", "2028-02-01", "2028-02-29"),
    ("2028-02-01", "2028-02-01", "2028-02-29"),
    ("2100-02-10", "2100-02-01", "2100-02-28"),
    ("2000-02-10", "2000-02-01", "2000-02-29"),
    ("2026-04-15", "2026-04-01", "2026-04-30"),
    ("2026-12-31", "2026-12-01", "2026-12-31"),
    ("2027-01-01", "2027-01-01", "2027-01-31"),
]


@pytest.mark.parametrize(
    ("day", "first", "last"),
    MONTH_BOUNDS_CASES,
    ids=[day for day, _, _ in MONTH_BOUNDS_CASES],
)
def test_month_bounds(day: str, first: str, last: str) -> None:
    d = date.fromisoformat(day)
    assert month_bounds(d) == (date.fromisoformat(first), date.fromisoformat(last))
    assert month_start(d) == date.fromisoformat(first)


# (UTC instant, zone, first and last date of the brand-local month containing it)
LOCAL_MONTH_CASES = [
    ("2026-01-31T18:29", "Asia/Kolkata", "2026-01-01", "2026-01-31"),
    ("2026-01-31T18:30", "Asia/Kolkata", "2026-02-01", "2026-02-28"),
    ("2026-02-01T04:59", "America/New_York", "2026-01-01", "2026-01-31"),
    ("2026-02-01T05:00", "America/New_York", "2026-02-01", "2026-02-28"),
    ("2028-03-01T04:59", "America/New_York", "2028-02-01", "2028-02-29"),
    ("2028-02-28T18:30", "Asia/Kolkata", "2028-02-01", "2028-02-29"),
    ("2026-12-31T18:15", "Asia/Kathmandu", "2027-01-01", "2027-01-31"),
    ("2027-01-01T04:59", "America/New_York", "2026-12-01", "2026-12-31"),
    ("2026-03-31T13:00", "Australia/Lord_Howe", "2026-04-01", "2026-04-30"),
    ("2026-03-31T12:59", "Australia/Lord_Howe", "2026-03-01", "2026-03-31"),
]


@pytest.mark.parametrize(
    ("instant", "zone", "first", "last"),
    LOCAL_MONTH_CASES,
    ids=[f"{zone}@{instant}Z" for instant, zone, _, _ in LOCAL_MONTH_CASES],
)
def test_month_of_instant_is_brand_local(instant: str, zone: str, first: str, last: str) -> None:
    day = local_day(utc(instant), ZoneInfo(zone))
    assert month_bounds(day) == (date.fromisoformat(first), date.fromisoformat(last))


# The same absolute instant expressed with different offsets gives the same wall clock.
SAME_INSTANT_CASES = [
    (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), "America/New_York", "2026-03-08T03:00:00-04:00"),
    (datetime(2026, 3, 8, 12, 30, tzinfo=ZoneInfo("Asia/Kolkata")), "America/New_York", "2026-03-08T03:00:00-04:00"),
    (datetime(2026, 3, 8, 3, 0, tzinfo=timezone(timedelta(hours=-4))), "America/New_York", "2026-03-08T03:00:00-04:00"),
    # Imaginary wall times in the brand's own zone (Python reads them with the
    # pre-transition offset) must be normalised to the real wall clock.
    (datetime(2026, 3, 8, 2, 30, tzinfo=ZoneInfo("America/New_York")), "America/New_York", "2026-03-08T03:30:00-04:00"),
    (datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/London")), "Europe/London", "2026-03-29T02:30:00+01:00"),
    (
        datetime(2026, 10, 4, 2, 15, tzinfo=ZoneInfo("Australia/Lord_Howe")),
        "Australia/Lord_Howe",
        "2026-10-04T02:45:00+11:00",
    ),
    # A repeated wall time in the brand's own zone keeps its fold.
    (
        datetime(2026, 11, 1, 1, 30, fold=0, tzinfo=ZoneInfo("America/New_York")),
        "America/New_York",
        "2026-11-01T01:30:00-04:00",
    ),
    (
        datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York")),
        "America/New_York",
        "2026-11-01T01:30:00-05:00",
    ),
]


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    SAME_INSTANT_CASES,
    ids=[
        "utc",
        "kolkata-offset",
        "fixed-offset",
        "ny-imaginary-0230",
        "london-imaginary-0130",
        "lord-howe-imaginary-0215",
        "ny-repeated-fold0",
        "ny-repeated-fold1",
    ],
)
def test_local_time_of_instant_in_any_offset(now: datetime, zone: str, expected: str) -> None:
    wall = local_time(now, ZoneInfo(zone))
    assert wall.isoformat() == expected
    assert wall.utcoffset() == datetime.fromisoformat(expected).utcoffset()


def test_local_day_never_returns_a_date_a_zone_skipped() -> None:
    """Pacific/Apia skipped 2011-12-30 entirely; no instant is on that local date."""
    apia = ZoneInfo("Pacific/Apia")
    imaginary = datetime(2011, 12, 30, 12, 0, tzinfo=apia)
    assert local_day(imaginary, apia) == date(2011, 12, 31)


@pytest.mark.parametrize(
    "naive",
    [datetime(2026, 1, 1, 12, 0), datetime(2028, 2, 29)],
    ids=["noon", "leap-midnight"],
)
def test_naive_instants_are_rejected(naive: datetime) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_time(naive, ZoneInfo("UTC"))
    with pytest.raises(ValueError, match="timezone-aware"):
        local_day(naive, ZoneInfo("UTC"))
