"""The "next 7 days" rule: when schedule, flight dates and switch let a campaign run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.control import BudgetFacts, CampaignFacts, Window, decide
from app.control.upcoming import upcoming_runs

UTC_ZONE = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
# Wednesday 25 November 2026, 15:00 UTC.
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
WEEKDAYS_9_17 = tuple(Window(day, 9 * 60, 17 * 60) for day in range(5))


def spans(day):
    return [(i.start.strftime("%H:%M%z"), i.end.strftime("%H:%M%z")) for i in day.intervals]


def test_no_windows_runs_every_hour_from_now_for_seven_local_days():
    days = upcoming_runs((), None, None, True, UTC_ZONE, NOW)
    assert [d.day for d in days] == [date(2026, 11, 25) + timedelta(days=i) for i in range(7)]
    assert days[0].total == timedelta(hours=9)  # today counts from now, 15:00, to midnight
    assert [d.total for d in days[1:]] == [timedelta(hours=24)] * 6
    assert days[0].intervals[0].start == NOW
    assert (days[0].intervals[0].start_minute, days[0].intervals[0].end_minute) == (900, 1440)


def test_disabled_never_runs():
    days = upcoming_runs(WEEKDAYS_9_17, None, None, False, UTC_ZONE, NOW)
    assert len(days) == 7 and all(d.intervals == () for d in days)


def test_weekday_windows_fall_on_their_weekdays_and_today_is_clipped_at_now():
    days = upcoming_runs(WEEKDAYS_9_17, None, None, True, UTC_ZONE, NOW)
    by_date = {d.day: spans(d) for d in days}
    assert by_date[date(2026, 11, 25)] == [("15:00+0000", "17:00+0000")]  # Wednesday, already 15:00
    assert by_date[date(2026, 11, 26)] == [("09:00+0000", "17:00+0000")]  # Thursday
    assert by_date[date(2026, 11, 28)] == [] and by_date[date(2026, 11, 29)] == []  # the weekend
    assert by_date[date(2026, 11, 30)] == [("09:00+0000", "17:00+0000")]  # Monday


def test_a_window_that_ended_before_now_is_gone_today():
    days = upcoming_runs((Window(2, 8 * 60, 12 * 60),), None, None, True, UTC_ZONE, NOW)
    assert days[0].intervals == ()
    assert all(d.intervals == () for d in days[1:])  # the next Wednesday is the 8th day, outside


def test_touching_windows_merge_and_a_window_to_2400_ends_at_midnight():
    windows = (Window(3, 0, 60), Window(3, 60, 120), Window(3, 22 * 60, 1440))
    thursday = upcoming_runs(windows, None, None, True, UTC_ZONE, NOW)[1]
    assert spans(thursday) == [("00:00+0000", "02:00+0000"), ("22:00+0000", "00:00+0000")]
    last = thursday.intervals[-1]
    assert last.end_minute == 1440 and last.end.date() == date(2026, 11, 27)


def test_flight_dates_are_inclusive_brand_local_dates():
    days = upcoming_runs((), date(2026, 11, 27), date(2026, 11, 28), True, UTC_ZONE, NOW)
    assert [d.day for d in days if d.intervals] == [date(2026, 11, 27), date(2026, 11, 28)]
    assert all(d.total == timedelta(hours=24) for d in days if d.intervals)


def test_days_are_brand_local_dates():
    tokyo = ZoneInfo("Asia/Tokyo")
    # 15:00 UTC is already Thursday 00:00 in Tokyo.
    days = upcoming_runs((Window(3, 0, 60),), None, None, True, tokyo, NOW)
    assert days[0].day == date(2026, 11, 26)
    assert spans(days[0]) == [("00:00+0900", "01:00+0900")]


def test_spring_forward_window_over_the_skipped_hour_is_shorter_that_day():
    # Sunday 14 March 2027 in New York: 02:00 EST jumps to 03:00 EDT.
    friday = datetime(2027, 3, 12, 17, 0, tzinfo=UTC)
    windows = (Window(6, 60, 240),)  # Sunday 01:00-04:00
    sunday = upcoming_runs(windows, None, None, True, NEW_YORK, friday)[2]
    assert sunday.day == date(2027, 3, 14)
    assert spans(sunday) == [("01:00-0500", "04:00-0400")]
    assert sunday.total == timedelta(hours=2)
    # The same window a week earlier, on an ordinary Sunday, lasts three hours.
    ordinary = upcoming_runs(windows, None, None, True, NEW_YORK, friday - timedelta(days=7))[2]
    assert ordinary.total == timedelta(hours=3)


def test_spring_forward_window_inside_the_skipped_hour_never_happens():
    friday = datetime(2027, 3, 12, 17, 0, tzinfo=UTC)
    days = upcoming_runs((Window(6, 120, 180),), None, None, True, NEW_YORK, friday)
    assert all(d.intervals == () for d in days)
    whole = upcoming_runs((), None, None, True, NEW_YORK, friday)
    assert whole[2].total == timedelta(hours=23)


def test_fall_back_repeated_hour_runs_both_times():
    # Sunday 1 November 2026 in New York: 02:00 EDT falls back to 01:00 EST.
    friday = datetime(2026, 10, 30, 16, 0, tzinfo=UTC)
    sunday = upcoming_runs((Window(6, 60, 120),), None, None, True, NEW_YORK, friday)[2]
    assert spans(sunday) == [("01:00-0400", "02:00-0500")]
    assert sunday.total == timedelta(hours=2)
    # A window ending inside the repeated hour is two separate stretches of real time.
    split = upcoming_runs((Window(6, 0, 90),), None, None, True, NEW_YORK, friday)[2]
    assert spans(split) == [("00:00-0400", "01:30-0400"), ("01:00-0500", "01:30-0500")]
    assert split.total == timedelta(hours=2)
    assert upcoming_runs((), None, None, True, NEW_YORK, friday)[2].total == timedelta(hours=25)


def test_day_starting_after_a_skipped_midnight():
    # Chile moves its clocks from Saturday 24:00 to Sunday 01:00 (6 September 2026).
    santiago = ZoneInfo("America/Santiago")
    days = upcoming_runs((), None, None, True, santiago, datetime(2026, 9, 3, 12, 0, tzinfo=UTC))
    sunday = next(d for d in days if d.day == date(2026, 9, 6))
    assert sunday.total == timedelta(hours=23)
    assert sunday.intervals[0].start_minute == 60


def test_every_interval_agrees_with_the_control_rule():
    """Sample every 15 minutes: inside an interval the rule (budgets aside) says active, outside paused."""
    windows = (Window(6, 60, 240), Window(0, 9 * 60, 17 * 60 + 30), Window(2, 23 * 60, 1440))
    facts = CampaignFacts(enabled=True, start_date=date(2027, 3, 13), end_date=None, windows=windows)
    money = BudgetFacts(daily_budget=100, monthly_budget=100, spend_today=0, spend_month=0)
    start = datetime(2027, 3, 11, 17, 7, tzinfo=UTC)
    days = upcoming_runs(windows, facts.start_date, facts.end_date, True, NEW_YORK, start)
    intervals = [i for d in days for i in d.intervals]
    probe = start
    end = days[-1].intervals[-1].end if days[-1].intervals else start + timedelta(days=6)
    while probe < end:
        inside = any(i.start <= probe < i.end for i in intervals)
        assert decide(facts, money, probe, NEW_YORK).active is inside, probe
        probe += timedelta(minutes=15)
