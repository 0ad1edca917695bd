"""Month pacing: how a brand's month-to-date spend compares with spending its budget evenly.

The month is the brand-local calendar month, measured in real elapsed time, so a
month with a DST change is an hour shorter or longer and its days count for what
they really last. Amounts are integer minor units; ratios are exact fractions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from app.control.rule import BudgetFacts, budget_reasons

# Projections divide by elapsed time; in the month's first hour they extrapolate from a
# full hour instead, so a few minutes of spend do not project to an absurd month.
MIN_PROJECTION_WINDOW = timedelta(hours=1)
# Before this much of the local month has passed, a rate says nothing yet: the state reads "too early".
TOO_EARLY_BEFORE = timedelta(hours=6)
# A projected month-end within these percentages of the budget counts as on track.
AHEAD_ABOVE_PERCENT = 110
BEHIND_BELOW_PERCENT = 90

_MICROSECOND = timedelta(microseconds=1)


class PacingState(StrEnum):
    CAPPED = "capped"
    AHEAD = "ahead"
    BEHIND = "behind"
    ON_TRACK = "on track"
    NO_BUDGET = "no budget"  # a monthly budget of zero: nothing to pace against
    NOT_STARTED = "not started"  # no spend yet this month
    TOO_EARLY = "too early"  # the first hours of the month: no rate to trust yet

    @property
    def is_forecast(self) -> bool:
        """True when the projection means something (ahead, behind, on track or capped)."""
        return self not in (PacingState.NO_BUDGET, PacingState.NOT_STARTED, PacingState.TOO_EARLY)


@dataclass(frozen=True)
class Pacing:
    """Where a brand stands in its month at one instant (amounts in minor units)."""

    elapsed: Fraction  # share of the local month gone, 0..1
    expected: int  # even-pacing spend to date: monthly budget x elapsed share
    projected: int  # month-to-date spend extrapolated at its current rate to the month's end
    state: PacingState

    @property
    def elapsed_percent(self) -> float:
        return float(self.elapsed * 100)


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("the local now must be timezone-aware (in the brand's zone)")


def local_midnight(day: date, tzinfo) -> datetime:
    """The instant a local calendar day starts in ``tzinfo``."""
    return datetime(day.year, day.month, day.day, tzinfo=tzinfo)


def month_span(local_now: datetime) -> tuple[datetime, datetime]:
    """The local month containing ``local_now``: its first instant and the next month's first instant."""
    _require_aware(local_now)
    first = local_now.date().replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return local_midnight(first, local_now.tzinfo), local_midnight(following, local_now.tzinfo)


def _real(later: datetime, earlier: datetime) -> timedelta:
    # Subtracting aware datetimes that share a tzinfo compares wall clocks; go through UTC for real time.
    return later.astimezone(UTC) - earlier.astimezone(UTC)


def _divide(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up to a whole minor unit (values here are never negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def _microseconds(span: timedelta) -> int:
    return span // _MICROSECOND


def _month_micros(local_now: datetime) -> tuple[int, int]:
    """Real microseconds elapsed in the local month at ``local_now`` (0..total), and the month's total."""
    start, end = month_span(local_now)
    total = _microseconds(_real(end, start))
    return min(max(_microseconds(_real(local_now, start)), 0), total), total


def elapsed_fraction(local_now: datetime) -> Fraction:
    """The share (0..1) of the local month that has really elapsed at ``local_now``."""
    elapsed, total = _month_micros(local_now)
    return Fraction(elapsed, total)


def projection_factor(local_now: datetime) -> Fraction:
    """What month-to-date spend is multiplied by to project the local month's end (>= 1)."""
    elapsed, total = _month_micros(local_now)
    return Fraction(total, min(max(elapsed, _microseconds(MIN_PROJECTION_WINDOW)), total))


def projected_spend(spend_month: int, local_now: datetime) -> int:
    """Month-to-date spend extrapolated at its rate so far to the end of the local month."""
    factor = projection_factor(local_now)
    return _divide(spend_month * factor.numerator, factor.denominator)


def remaining_allowance(budget: BudgetFacts, local_now: datetime) -> int:
    """The most the daily budget lets the brand still spend this local month: what is left of
    today's budget plus a full daily budget for each day after today."""
    _, end = month_span(local_now)
    days_after_today = (end.date() - local_now.date()).days - 1
    return max(budget.daily_budget - budget.spend_today, 0) + budget.daily_budget * days_after_today


def pacing_state(budget: BudgetFacts, projected: int, elapsed: timedelta = TOO_EARLY_BEFORE) -> PacingState:
    """No budget for a zero monthly budget; capped if a budget rule pauses the brand now; not started
    without spend this month, too early in its first hours; else ahead / behind / on track by projection."""
    if budget.monthly_budget == 0:
        return PacingState.NO_BUDGET
    if budget_reasons(budget):
        return PacingState.CAPPED
    if budget.spend_month == 0:
        return PacingState.NOT_STARTED
    if elapsed < TOO_EARLY_BEFORE:
        return PacingState.TOO_EARLY
    if projected * 100 > budget.monthly_budget * AHEAD_ABOVE_PERCENT:
        return PacingState.AHEAD
    if projected * 100 < budget.monthly_budget * BEHIND_BELOW_PERCENT:
        return PacingState.BEHIND
    return PacingState.ON_TRACK


def pace(budget: BudgetFacts, local_now: datetime, *, created: datetime | None = None) -> Pacing:
    """Pacing of the brand-local month containing ``local_now`` (an aware datetime in the brand's zone).

    ``budget`` holds the spend of the local day and month containing ``local_now``. The projection
    extrapolates the month's rate, but never beyond what the daily budget allows for the days left.
    A brand ``created`` (an aware instant) on the local day of ``local_now`` reads "not started"
    rather than behind: a month it joined today says nothing yet about its pace.
    """
    elapsed, total = _month_micros(local_now)
    window = min(max(elapsed, _microseconds(MIN_PROJECTION_WINDOW)), total)
    at_rate = _divide(budget.spend_month * total, window)
    projected = min(at_rate, budget.spend_month + remaining_allowance(budget, local_now))
    state = pacing_state(budget, projected, timedelta(microseconds=elapsed))
    if state == PacingState.BEHIND and created is not None and local_day_of(created, local_now) == local_now.date():
        state = PacingState.NOT_STARTED
    return Pacing(
        elapsed=Fraction(elapsed, total),
        expected=_divide(budget.monthly_budget * elapsed, total),
        projected=projected,
        state=state,
    )


def local_day_of(instant: datetime, local_now: datetime) -> date:
    """The local date of an aware ``instant`` in ``local_now``'s zone."""
    return instant.astimezone(local_now.tzinfo).date()


def even_pacing_by_day(monthly_budget: int, local_now: datetime) -> list[tuple[date, int]]:
    """For each day of the local month of ``local_now``: the even-pacing spend at that day's end.

    Each day counts for its real length, so a 23-hour DST day adds less than a 25-hour one.
    """
    start, end = month_span(local_now)
    total = _microseconds(_real(end, start))
    points = []
    day = start.date()
    while day < end.date():
        day_end = local_midnight(day + timedelta(days=1), local_now.tzinfo)
        points.append((day, _divide(monthly_budget * _microseconds(_real(day_end, start)), total)))
        day += timedelta(days=1)
    return points
