"""Month pacing (app.control.pacing): elapsed share in real time, even pacing, projection, state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from app.control.pacing import (
    PacingState,
    elapsed_fraction,
    even_pacing_by_day,
    month_span,
    pace,
    projected_spend,
)
from app.control.rule import BudgetFacts

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
TOKYO = ZoneInfo("Asia/Tokyo")


def at(tz, *args) -> datetime:
    return datetime(*args, tzinfo=tz)


@pytest.mark.parametrize(
    ("local_now", "expected"),
    [
        # November in UTC: 720 hours; the 16th at midnight is exactly half.
        (at(UTC, 2026, 11, 16), Fraction(1, 2)),
        (at(UTC, 2026, 11, 1), Fraction(0)),
        (at(UTC, 2026, 11, 1, 0, 36), Fraction(36, 720 * 60)),
        # New York, March 2026: clocks spring forward on the 8th, the month lasts 743 hours, and
        # local midnight of the 16th is 15 x 24 - 1 = 359 real hours in.
        (at(NY, 2026, 3, 16), Fraction(359, 743)),
        (at(NY, 2026, 3, 8), Fraction(7 * 24, 743)),
        (at(NY, 2026, 3, 9), Fraction(8 * 24 - 1, 743)),
        # New York, November 2026: clocks fall back on the 1st at 02:00, the month lasts 721 hours.
        (at(NY, 2026, 11, 2), Fraction(25, 721)),
        (at(NY, 2026, 11, 16), Fraction(15 * 24 + 1, 721)),
        # The repeated 01:30 on 1 November: the first (EDT) is 1.5 real hours in, the second (EST) 2.5.
        (datetime(2026, 11, 1, 1, 30, tzinfo=NY, fold=0), Fraction(3, 2 * 721)),
        (datetime(2026, 11, 1, 1, 30, tzinfo=NY, fold=1), Fraction(5, 2 * 721)),
        # London, October 2026: clocks fall back on the 25th, the month lasts 745 hours.
        (at(LONDON, 2026, 10, 31, 12), Fraction(30 * 24 + 1 + 12, 745)),
        # Tokyo has no DST; 31 December 23:00 is 743 of 744 hours.
        (at(TOKYO, 2026, 12, 31, 23), Fraction(743, 744)),
    ],
)
def test_elapsed_fraction_is_real_time_in_the_local_month(local_now, expected):
    assert elapsed_fraction(local_now) == expected


def test_elapsed_fraction_follows_the_local_month_not_the_utc_one():
    instant = at(UTC, 2026, 11, 30, 23, 30)  # already 1 December, 08:30 in Tokyo
    start, end = month_span(instant.astimezone(TOKYO))
    assert (start.date(), end.date()) == (date(2026, 12, 1), date(2027, 1, 1))
    assert elapsed_fraction(instant.astimezone(TOKYO)) == Fraction(17, 2 * 744)
    assert elapsed_fraction(instant) == Fraction(719 * 2 + 1, 2 * 720)


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="aware"):
        elapsed_fraction(datetime(2026, 11, 16))


def budget(spend_month: int, monthly: int = 300_000, spend_today: int = 0, daily: int = 20_000) -> BudgetFacts:
    return BudgetFacts(daily_budget=daily, monthly_budget=monthly, spend_today=spend_today, spend_month=spend_month)


HALF = at(UTC, 2026, 11, 16)  # half of November gone


@pytest.mark.parametrize(
    ("facts", "local_now", "expected_spend", "projected", "state"),
    [
        # Exactly on the even-pacing line.
        (budget(150_000), HALF, 150_000, 300_000, PacingState.ON_TRACK),
        # Projection at exactly 110 % and 90 % is still on track; one minor unit beyond is not.
        (budget(165_000), HALF, 150_000, 330_000, PacingState.ON_TRACK),
        (budget(165_001), HALF, 150_000, 330_002, PacingState.AHEAD),
        (budget(135_000), HALF, 150_000, 270_000, PacingState.ON_TRACK),
        (budget(134_999), HALF, 150_000, 269_998, PacingState.BEHIND),
        # No spend yet this month reads "not started", not "behind".
        (budget(0), HALF, 150_000, 0, PacingState.NOT_STARTED),
        # Capped: the month's budget is spent, or today's is.
        (budget(300_000), HALF, 150_000, 600_000, PacingState.CAPPED),
        (budget(150_000, spend_today=20_000), HALF, 150_000, 300_000, PacingState.CAPPED),
        # A zero monthly budget reads "no budget", not "capped", whatever the daily one says.
        (budget(0, monthly=0, daily=0), HALF, 0, 0, PacingState.NO_BUDGET),
        (budget(0, monthly=0, daily=20_000), HALF, 0, 0, PacingState.NO_BUDGET),
        (budget(5_000, monthly=0, daily=20_000, spend_today=5_000), HALF, 0, 10_000, PacingState.NO_BUDGET),
        # The projection never exceeds what the daily budget allows for the days left: half of November
        # gone, 15 days left at 2,000/day (30,000) on top of 160,000 spent, not the rate's 320,000.
        (budget(160_000, monthly=400_000, daily=2_000), HALF, 200_000, 190_000, PacingState.BEHIND),
        # The rest of today counts only for what is left of today's budget (1,500 of 2,000 spent).
        (
            budget(160_000, monthly=400_000, daily=2_000, spend_today=1_500),
            at(UTC, 2026, 11, 16, 12),
            206_667,
            160_000 + 500 + 14 * 2_000,
            PacingState.BEHIND,
        ),
        # On the month's last day with today's budget spent, nothing more can be spent: capped at the spend.
        (
            budget(290_000, monthly=400_000, daily=2_000, spend_today=2_000),
            at(UTC, 2026, 11, 30, 12),
            393_333,
            290_000,
            PacingState.CAPPED,
        ),
        # A quarter of the way through New York's 743-hour March (DST): expected is budget x 359/743.
        (budget(100_000, monthly=743_000), at(NY, 2026, 3, 16), 359_000, 206_964, PacingState.BEHIND),
        # The month's very first instant: nothing expected, nothing projected, no division by zero.
        (budget(0), at(UTC, 2026, 12, 1), 0, 0, PacingState.NOT_STARTED),
        # Five minutes in, the projection extrapolates from a full hour (744 hours in December), but
        # the first hours of a month read "too early" whatever the rate says.
        (budget(100, monthly=100_000), at(UTC, 2026, 12, 1, 0, 5), 11, 74_400, PacingState.TOO_EARLY),
        (budget(200, monthly=100_000), at(UTC, 2026, 12, 1, 0, 5), 11, 148_800, PacingState.TOO_EARLY),
        # Two hours in, it uses the real two hours; still too early.
        (budget(200, monthly=100_000), at(UTC, 2026, 12, 1, 2), 269, 74_400, PacingState.TOO_EARLY),
        # From six hours in, the state follows the projection.
        (budget(800, monthly=100_000), at(UTC, 2026, 12, 1, 6), 806, 99_200, PacingState.ON_TRACK),
        (budget(500, monthly=100_000), at(UTC, 2026, 12, 1, 5, 59), 804, 62_173, PacingState.TOO_EARLY),
        # The month's last minute: the projection is the spend itself, give or take a minute's worth.
        (budget(299_000), at(UTC, 2026, 11, 30, 23, 59), 299_993, 299_007, PacingState.ON_TRACK),
    ],
)
def test_pace_table(facts, local_now, expected_spend, projected, state):
    result = pace(facts, local_now)
    assert result.expected == expected_spend
    assert result.projected == projected
    assert result.state is state
    assert 0 <= result.elapsed <= 1


def test_projection_is_never_below_the_spend_so_far():
    for minutes in (0, 1, 59, 60, 61, 600, 43_199):
        now = at(UTC, 2026, 11, 1) + timedelta(minutes=minutes)
        assert projected_spend(12_345, now) >= 12_345


def test_state_words():
    assert [str(s) for s in PacingState] == [
        "capped",
        "ahead",
        "behind",
        "on track",
        "no budget",
        "not started",
        "too early",
    ]
    assert [s.is_forecast for s in PacingState] == [True] * 4 + [False] * 3


def test_even_pacing_by_day_counts_each_day_for_its_real_length():
    points = even_pacing_by_day(743_000, at(NY, 2026, 3, 20, 15))
    assert len(points) == 31
    assert points[0] == (date(2026, 3, 1), 24_000)
    assert points[6] == (date(2026, 3, 7), 7 * 24_000)
    # The 8th lasts 23 hours, so it adds 23 / 743 of the budget.
    assert points[7] == (date(2026, 3, 8), 7 * 24_000 + 23_000)
    assert points[-1] == (date(2026, 3, 31), 743_000)
    increments = [b - a for (_, a), (_, b) in zip(points, points[1:], strict=False)]
    assert increments.count(23_000) == 1 and increments.count(24_000) == 29


def test_even_pacing_by_day_in_a_plain_month_is_linear():
    points = even_pacing_by_day(300_000, at(UTC, 2026, 11, 5))
    assert [amount for _, amount in points] == [10_000 * n for n in range(1, 31)]
    assert points[-1][0] == date(2026, 11, 30)


@pytest.mark.parametrize(
    ("created", "state"),
    [
        (None, PacingState.BEHIND),
        (datetime(2026, 10, 1, tzinfo=UTC), PacingState.BEHIND),  # an old brand that is behind
        (datetime(2026, 11, 25, 4, 0, tzinfo=UTC), PacingState.BEHIND),  # 24 Nov 23:00 in New York
        (datetime(2026, 11, 25, 6, 0, tzinfo=UTC), PacingState.NOT_STARTED),  # created this local day
    ],
)
def test_a_brand_created_today_is_not_started_rather_than_behind(created, state):
    local_now = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("America/New_York"))
    facts = BudgetFacts(daily_budget=10_000, monthly_budget=300_000, spend_today=500, spend_month=500)
    assert pace(facts, local_now, created=created).state == state


def test_a_brand_created_today_that_spends_fast_is_still_ahead():
    local_now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    facts = BudgetFacts(daily_budget=300_000, monthly_budget=300_000, spend_today=290_000, spend_month=290_000)
    assert pace(facts, local_now, created=local_now - timedelta(hours=1)).state == PacingState.AHEAD
