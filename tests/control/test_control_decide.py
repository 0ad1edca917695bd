"""decide(): the control rule as a table of facts -> status and reasons."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import product
from zoneinfo import ZoneInfo

import pytest

from app.control import BudgetFacts, CampaignFacts, Decision, Reason, Status, Window, budget_reasons, decide

UTC = UTC
MON, TUE, SUN = 0, 1, 6

# Monday 2026-06-01 12:00 UTC, judged for a brand in UTC.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
TZ = ZoneInfo("UTC")

ENABLED = True
DISABLED = False
NO_FLIGHT = (None, None)
IN_FLIGHT = (date(2026, 6, 1), date(2026, 6, 1))
ENDED = (date(2026, 5, 1), date(2026, 5, 31))
NOT_STARTED = (date(2026, 6, 2), None)
NO_WINDOWS: tuple[Window, ...] = ()
IN_WINDOW = (Window(MON, 12 * 60, 13 * 60),)
OUT_OF_WINDOW = (Window(TUE, 12 * 60, 13 * 60), Window(MON, 11 * 60, 12 * 60))
UNDER = BudgetFacts(daily_budget=1000, monthly_budget=30000, spend_today=999, spend_month=29999)

D, F, S, DB, MB = (
    Reason.DISABLED,
    Reason.FLIGHT,
    Reason.SCHEDULE,
    Reason.DAILY_BUDGET,
    Reason.MONTHLY_BUDGET,
)


def facts(enabled: bool = True, flight: tuple = NO_FLIGHT, windows: tuple[Window, ...] = NO_WINDOWS) -> CampaignFacts:
    return CampaignFacts(enabled=enabled, start_date=flight[0], end_date=flight[1], windows=windows)


def budget(daily: int = 1000, monthly: int = 30000, today: int = 0, month: int = 0) -> BudgetFacts:
    return BudgetFacts(daily_budget=daily, monthly_budget=monthly, spend_today=today, spend_month=month)


# name, campaign, budget, expected reasons (empty = active)
RULE_CASES = [
    # All rules pass.
    ("active-no-constraints", facts(), UNDER, ()),
    ("active-in-flight-in-window", facts(flight=IN_FLIGHT, windows=IN_WINDOW), UNDER, ()),
    # Each reason alone.
    ("disabled-alone", facts(enabled=DISABLED), UNDER, (D,)),
    ("flight-ended-alone", facts(flight=ENDED), UNDER, (F,)),
    ("flight-not-started-alone", facts(flight=NOT_STARTED), UNDER, (F,)),
    ("schedule-alone", facts(windows=OUT_OF_WINDOW), UNDER, (S,)),
    ("daily-alone", facts(), budget(today=1000, month=1000), (DB,)),
    ("monthly-alone", facts(), budget(today=0, month=30000), (MB,)),
    # Combinations, always in the fixed order.
    ("disabled+flight", facts(DISABLED, ENDED), UNDER, (D, F)),
    ("disabled+schedule", facts(DISABLED, windows=OUT_OF_WINDOW), UNDER, (D, S)),
    ("disabled+daily", facts(DISABLED), budget(today=1000), (D, DB)),
    ("disabled+monthly", facts(DISABLED), budget(month=30000), (D, MB)),
    ("flight+schedule", facts(flight=NOT_STARTED, windows=OUT_OF_WINDOW), UNDER, (F, S)),
    ("flight+daily", facts(flight=ENDED), budget(today=5000), (F, DB)),
    ("schedule+monthly", facts(windows=OUT_OF_WINDOW), budget(month=31000), (S, MB)),
    ("daily+monthly", facts(), budget(today=1000, month=30000), (DB, MB)),
    ("disabled+schedule+monthly", facts(DISABLED, windows=OUT_OF_WINDOW), budget(month=30000), (D, S, MB)),
    (
        "flight+schedule+daily+monthly",
        facts(flight=ENDED, windows=OUT_OF_WINDOW),
        budget(today=1000, month=30000),
        (F, S, DB, MB),
    ),
    ("all-five", facts(DISABLED, ENDED, OUT_OF_WINDOW), budget(today=1000, month=30000), (D, F, S, DB, MB)),
]


@pytest.mark.parametrize(
    ("campaign", "budget_facts", "reasons"),
    [row[1:] for row in RULE_CASES],
    ids=[row[0] for row in RULE_CASES],
)
def test_decide_table(campaign: CampaignFacts, budget_facts: BudgetFacts, reasons: tuple[Reason, ...]) -> None:
    decision = decide(campaign, budget_facts, NOW, TZ)
    assert decision.reasons == reasons
    assert decision.status is (Status.PAUSED if reasons else Status.ACTIVE)
    assert decision.active is (not reasons)


# Every one of the 32 combinations of the five rules, named by what fails.
COMBINATIONS = list(product((False, True), repeat=5))


def _combo_id(fails: tuple[bool, ...]) -> str:
    names = [reason.value for reason, fail in zip(Reason, fails, strict=False) if fail]
    return "+".join(names) or "active"


@pytest.mark.parametrize("fails", COMBINATIONS, ids=[_combo_id(c) for c in COMBINATIONS])
def test_every_combination_lists_exactly_the_failing_rules_in_order(fails: tuple[bool, ...]) -> None:
    disabled, off_flight, off_schedule, over_daily, over_monthly = fails
    campaign = facts(
        enabled=not disabled,
        flight=ENDED if off_flight else IN_FLIGHT,
        windows=OUT_OF_WINDOW if off_schedule else IN_WINDOW,
    )
    budget_facts = budget(today=1000 if over_daily else 999, month=30000 if over_monthly else 29999)
    decision = decide(campaign, budget_facts, NOW, TZ)
    expected = tuple(reason for reason, fail in zip((D, F, S, DB, MB), fails, strict=False) if fail)
    assert decision == Decision(Status.PAUSED if expected else Status.ACTIVE, expected)


def test_reason_order_and_values() -> None:
    assert [r.value for r in Reason] == ["disabled", "flight", "schedule", "daily_budget", "monthly_budget"]
    assert [s.value for s in Status] == ["active", "paused"]


# Budget boundaries: spend equal to the budget pauses; one minor unit below runs.
# name, daily, monthly, spend today, spend month, reasons
BUDGET_CASES = [
    ("well-under", 1000, 30000, 10, 100, ()),
    ("one-below-both", 1000, 30000, 999, 29999, ()),
    ("daily-exactly-equal", 1000, 30000, 1000, 29999, (DB,)),
    ("daily-one-over", 1000, 30000, 1001, 29999, (DB,)),
    ("monthly-exactly-equal", 1000, 30000, 999, 30000, (MB,)),
    ("monthly-one-over", 1000, 30000, 999, 30001, (MB,)),
    ("both-exactly-equal", 1000, 30000, 1000, 30000, (DB, MB)),
    ("daily-over-monthly-budget-too", 1000, 500, 1000, 500, (DB, MB)),
    ("smallest-budgets-one-below", 1, 1, 0, 0, ()),
    ("smallest-budgets-equal", 1, 1, 1, 1, (DB, MB)),
    ("zero-daily-no-spend", 0, 30000, 0, 0, (DB,)),
    ("zero-monthly-no-spend", 1000, 0, 0, 0, (MB,)),
    ("zero-both-no-spend", 0, 0, 0, 0, (DB, MB)),
    ("zero-daily-large-monthly", 0, 10**12, 0, 0, (DB,)),
    ("big-ints-one-below", 10**15, 10**16, 10**15 - 1, 10**16 - 1, ()),
    ("big-ints-equal", 10**15, 10**16, 10**15, 10**16, (DB, MB)),
]


@pytest.mark.parametrize(
    ("daily", "monthly", "today", "month", "reasons"),
    [row[1:] for row in BUDGET_CASES],
    ids=[row[0] for row in BUDGET_CASES],
)
def test_budget_boundaries(daily: int, monthly: int, today: int, month: int, reasons: tuple[Reason, ...]) -> None:
    budget_facts = budget(daily, monthly, today, month)
    assert budget_reasons(budget_facts) == reasons
    decision = decide(facts(), budget_facts, NOW, TZ)
    assert decision.reasons == reasons
    assert decision.active is (not reasons)


@pytest.mark.parametrize(
    ("enabled", "windows"),
    [(True, NO_WINDOWS), (True, IN_WINDOW), (False, NO_WINDOWS)],
    ids=["enabled", "enabled-in-window", "disabled"],
)
def test_zero_budget_always_pauses(enabled: bool, windows: tuple[Window, ...]) -> None:
    decision = decide(facts(enabled, windows=windows), budget(daily=0, monthly=0), NOW, TZ)
    assert decision.status is Status.PAUSED
    assert decision.reasons[-2:] == (DB, MB)


# The schedule is judged on the brand's wall clock at the instant.
# name, zone, UTC instant, windows, expected reasons
ZONED_CASES = [
    ("utc-monday-noon-in", "UTC", "2026-06-01T12:00", IN_WINDOW, ()),
    ("ny-monday-08:00-not-in-noon-window", "America/New_York", "2026-06-01T12:00", IN_WINDOW, (S,)),
    ("ny-monday-noon-in", "America/New_York", "2026-06-01T16:00", IN_WINDOW, ()),
    ("kathmandu-monday-12:00", "Asia/Kathmandu", "2026-06-01T06:15", IN_WINDOW, ()),
    ("kathmandu-monday-11:59", "Asia/Kathmandu", "2026-06-01T06:14", IN_WINDOW, (S,)),
    ("chatham-monday-12:00-utc-still-sunday", "Pacific/Chatham", "2026-05-31T23:15", IN_WINDOW, ()),
    ("chatham-monday-13:00", "Pacific/Chatham", "2026-06-01T00:15", IN_WINDOW, (S,)),
    ("ny-spring-skipped-hour-window", "America/New_York", "2026-03-08T07:00", (Window(SUN, 120, 180),), (S,)),
    ("ny-fall-repeated-hour-first", "America/New_York", "2026-11-01T05:30", (Window(SUN, 60, 120),), ()),
    ("ny-fall-repeated-hour-second", "America/New_York", "2026-11-01T06:30", (Window(SUN, 60, 120),), ()),
    ("lhi-fall-repeated-half-hour-second", "Australia/Lord_Howe", "2026-04-04T15:15", (Window(SUN, 90, 120),), ()),
    ("lhi-spring-skipped-half-hour", "Australia/Lord_Howe", "2026-10-03T15:30", (Window(SUN, 120, 150),), (S,)),
]


@pytest.mark.parametrize(
    ("zone", "instant", "windows", "reasons"),
    [row[1:] for row in ZONED_CASES],
    ids=[row[0] for row in ZONED_CASES],
)
def test_decide_uses_brand_wall_clock(
    zone: str, instant: str, windows: tuple[Window, ...], reasons: tuple[Reason, ...]
) -> None:
    now = datetime.fromisoformat(instant).replace(tzinfo=UTC)
    decision = decide(facts(windows=windows), UNDER, now, ZoneInfo(zone))
    assert decision.reasons == reasons


@pytest.mark.parametrize(
    ("now", "reasons"),
    [
        # Wall times that never occur in New York, given in New York's own tzinfo:
        # 02:30 "EST" is really 03:30 EDT, so a 02:00-03:00 window is closed.
        (datetime(2026, 3, 8, 2, 30, tzinfo=ZoneInfo("America/New_York")), (S,)),
        (datetime(2026, 3, 8, 2, 59, tzinfo=ZoneInfo("America/New_York")), (S,)),
        # The same window on an ordinary Sunday is open.
        (datetime(2026, 3, 1, 2, 30, tzinfo=ZoneInfo("America/New_York")), ()),
    ],
    ids=["imaginary-02:30", "imaginary-02:59", "ordinary-sunday-02:30"],
)
def test_imaginary_local_instant_is_never_in_skipped_window(now: datetime, reasons: tuple[Reason, ...]) -> None:
    window = (Window(SUN, 120, 180),)
    assert decide(facts(windows=window), UNDER, now, ZoneInfo("America/New_York")).reasons == reasons


def test_decide_rejects_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(facts(), UNDER, datetime(2026, 6, 1, 12, 0), TZ)
