"""The control rule: whether a campaign is active at an instant, and why not.

A campaign is active if and only if it is enabled, inside its flight dates,
inside one of its schedule windows (or has none), and its brand's spend for
the current local day and month is below the daily and monthly budgets.
Otherwise it is paused and ``reasons`` lists every failing rule, in the
fixed order of :class:`Reason`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.control.flight import in_flight
from app.control.periods import local_time
from app.control.schedule import Window, in_schedule


class Status(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class Reason(StrEnum):
    """Why a campaign is paused; declaration order is the order reasons are listed."""

    DISABLED = "disabled"
    FLIGHT = "flight"
    SCHEDULE = "schedule"
    DAILY_BUDGET = "daily_budget"
    MONTHLY_BUDGET = "monthly_budget"


@dataclass(frozen=True)
class CampaignFacts:
    enabled: bool
    start_date: date | None = None
    end_date: date | None = None
    windows: tuple[Window, ...] = ()


@dataclass(frozen=True)
class BudgetFacts:
    """Budgets and spend in integer minor units, spend for the brand-local day and month of ``now``."""

    daily_budget: int
    monthly_budget: int
    spend_today: int
    spend_month: int


@dataclass(frozen=True)
class Decision:
    status: Status
    reasons: tuple[Reason, ...]

    @property
    def active(self) -> bool:
        return self.status is Status.ACTIVE


def budget_reasons(budget: BudgetFacts) -> tuple[Reason, ...]:
    """The budget rules that fail: spend at or over a budget pauses (a zero budget always does)."""
    reasons = []
    if budget.spend_today >= budget.daily_budget:
        reasons.append(Reason.DAILY_BUDGET)
    if budget.spend_month >= budget.monthly_budget:
        reasons.append(Reason.MONTHLY_BUDGET)
    return tuple(reasons)


def decide(campaign: CampaignFacts, budget: BudgetFacts, now: datetime, tz: ZoneInfo) -> Decision:
    """Apply the control rule at the absolute instant ``now`` for a brand in zone ``tz``.

    ``budget`` must hold the spend of the brand-local day and month that contain ``now``.
    """
    local = local_time(now, tz)
    reasons: list[Reason] = []
    if not campaign.enabled:
        reasons.append(Reason.DISABLED)
    if not in_flight(campaign.start_date, campaign.end_date, local.date()):
        reasons.append(Reason.FLIGHT)
    if not in_schedule(campaign.windows, local):
        reasons.append(Reason.SCHEDULE)
    reasons.extend(budget_reasons(budget))
    return Decision(Status.PAUSED if reasons else Status.ACTIVE, tuple(reasons))
