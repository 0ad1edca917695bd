"""Flight dates: inclusive brand-local dates, with open bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.control import BudgetFacts, CampaignFacts, Reason, decide, in_flight, local_day

UTC = UTC
D = date.fromisoformat

FLIGHT_CASES = [
    # name, start, end, day, expected
    ("day-before-start", D("2026-03-01"), D("2026-03-31"), D("2026-02-28"), False),
    ("start-inclusive", D("2026-03-01"), D("2026-03-31"), D("2026-03-01"), True),
    ("middle", D("2026-03-01"), D("2026-03-31"), D("2026-03-15"), True),
    ("end-inclusive", D("2026-03-01"), D("2026-03-31"), D("2026-03-31"), True),
    ("day-after-end", D("2026-03-01"), D("2026-03-31"), D("2026-04-01"), False),
    ("single-day-on", D("2028-02-29"), D("2028-02-29"), D("2028-02-29"), True),
    ("single-day-before", D("2028-02-29"), D("2028-02-29"), D("2028-02-28"), False),
    ("single-day-after", D("2028-02-29"), D("2028-02-29"), D("2028-03-01"), False),
    ("open-start-long-ago", None, D("2026-03-31"), D("1999-01-01"), True),
    ("open-start-end-inclusive", None, D("2026-03-31"), D("2026-03-31"), True),
    ("open-start-after-end", None, D("2026-03-31"), D("2026-04-01"), False),
    ("open-end-far-future", D("2026-03-01"), None, D("2099-12-31"), True),
    ("open-end-start-inclusive", D("2026-03-01"), None, D("2026-03-01"), True),
    ("open-end-before-start", D("2026-03-01"), None, D("2026-02-28"), False),
    ("both-open", None, None, D("2026-06-01"), True),
    ("year-end-inclusive", D("2026-12-01"), D("2026-12-31"), D("2026-12-31"), True),
    ("year-end-next-jan-1", D("2026-12-01"), D("2026-12-31"), D("2027-01-01"), False),
    ("inverted-range-never", D("2026-03-31"), D("2026-03-01"), D("2026-03-15"), False),
]


@pytest.mark.parametrize(
    ("start", "end", "day", "expected"),
    [row[1:] for row in FLIGHT_CASES],
    ids=[row[0] for row in FLIGHT_CASES],
)
def test_in_flight(start: date | None, end: date | None, day: date, expected: bool) -> None:
    assert in_flight(start, end, day) is expected


# The flight is judged on the brand-LOCAL date of the instant, not the UTC date.
LOCAL_FLIGHT_CASES = [
    # name, zone, start, end, UTC instant, local date, in flight
    (
        "ny-utc-next-day-still-end-date",
        "America/New_York",
        None,
        D("2026-03-31"),
        "2026-04-01T03:59",
        "2026-03-31",
        True,
    ),
    ("ny-end-date-over-locally", "America/New_York", None, D("2026-03-31"), "2026-04-01T04:00", "2026-04-01", False),
    (
        "ny-utc-start-date-not-yet-local",
        "America/New_York",
        D("2026-04-01"),
        None,
        "2026-04-01T03:59",
        "2026-03-31",
        False,
    ),
    (
        "kolkata-utc-prev-day-already-start",
        "Asia/Kolkata",
        D("2026-04-01"),
        None,
        "2026-03-31T18:30",
        "2026-04-01",
        True,
    ),
    ("kolkata-one-minute-earlier", "Asia/Kolkata", D("2026-04-01"), None, "2026-03-31T18:29", "2026-03-31", False),
    (
        "kolkata-utc-still-end-date-over-locally",
        "Asia/Kolkata",
        None,
        D("2026-03-31"),
        "2026-03-31T18:30",
        "2026-04-01",
        False,
    ),
    (
        "kathmandu-end-last-minute",
        "Asia/Kathmandu",
        D("2026-12-31"),
        D("2026-12-31"),
        "2026-12-31T18:14",
        "2026-12-31",
        True,
    ),
    (
        "kathmandu-end-new-year",
        "Asia/Kathmandu",
        D("2026-12-31"),
        D("2026-12-31"),
        "2026-12-31T18:15",
        "2027-01-01",
        False,
    ),
    (
        "lord-howe-start-at-local-midnight",
        "Australia/Lord_Howe",
        D("2026-04-05"),
        D("2026-04-05"),
        "2026-04-04T13:00",
        "2026-04-05",
        True,
    ),
    (
        "lord-howe-25h-day-last-minute",
        "Australia/Lord_Howe",
        D("2026-04-05"),
        D("2026-04-05"),
        "2026-04-05T13:29",
        "2026-04-05",
        True,
    ),
    (
        "lord-howe-next-day",
        "Australia/Lord_Howe",
        D("2026-04-05"),
        D("2026-04-05"),
        "2026-04-05T13:30",
        "2026-04-06",
        False,
    ),
    (
        "ny-fall-back-day-25th-hour",
        "America/New_York",
        D("2026-11-01"),
        D("2026-11-01"),
        "2026-11-02T04:59",
        "2026-11-01",
        True,
    ),
    (
        "ny-leap-day-utc-march",
        "America/New_York",
        D("2028-02-29"),
        D("2028-02-29"),
        "2028-03-01T04:59",
        "2028-02-29",
        True,
    ),
]


@pytest.mark.parametrize(
    ("zone", "start", "end", "instant", "local", "expected"),
    [row[1:] for row in LOCAL_FLIGHT_CASES],
    ids=[row[0] for row in LOCAL_FLIGHT_CASES],
)
def test_flight_uses_brand_local_date(
    zone: str, start: date | None, end: date | None, instant: str, local: str, expected: bool
) -> None:
    tz = ZoneInfo(zone)
    now = datetime.fromisoformat(instant).replace(tzinfo=UTC)
    assert local_day(now, tz) == D(local)
    assert in_flight(start, end, local_day(now, tz)) is expected

    campaign = CampaignFacts(enabled=True, start_date=start, end_date=end)
    budget = BudgetFacts(daily_budget=100, monthly_budget=1000, spend_today=0, spend_month=0)
    decision = decide(campaign, budget, now, tz)
    assert decision.active is expected
    assert decision.reasons == (() if expected else (Reason.FLIGHT,))
