"""Which brands have a campaign whose stored state differs from the control rule's at ``now``: the
full sweep's check of every campaign in a fixed number of set-based queries, whatever the number of
brands (no ORM object per campaign). It only chooses brands; ``reconcile_brand`` (which applies
:func:`app.control.decide`) remains the one writer, so a wrong answer here costs a needless visit or
leaves a fix to the next sweep, never a wrong state.

The rule's facts are computed as :func:`app.control.decide` reads them: the brand-local date, weekday
and minute of ``now`` (per zone, app.services.zones), flights inclusive, a schedule window half-open
in local minutes, spend at or over a budget pausing. tests/test_out_of_step.py holds the two to the
same answer over varied worlds.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, String, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from app.control import Reason, local_time, month_bounds
from app.models import Brand, BrandDaySpend, Campaign, ScheduleWindow
from app.services.zones import per_zone, zones_in_use


def _flag(condition, reason: Reason):
    return case((condition, literal(f"{reason},", String())), else_=literal("", String()))


def brands_out_of_step(session: Session, now: datetime) -> list[int]:
    """Ids of brands not archived with a campaign (archived ones included, as reconcile includes them)
    whose stored status or reasons differ from the rule's at ``now``, or that was never evaluated. Reads only."""
    zones = zones_in_use(session)
    if not zones:
        return []
    local = {zone: local_time(now, ZoneInfo(zone)) for zone in zones}
    today = per_zone({z: t.date() for z, t in local.items()}, Date())
    weekday = per_zone({z: t.weekday() for z, t in local.items()}, Integer())
    minute = per_zone({z: t.hour * 60 + t.minute for z, t in local.items()}, Integer())
    first = per_zone({z: month_bounds(t.date())[0] for z, t in local.items()}, Date())
    last = per_zone({z: month_bounds(t.date())[1] for z, t in local.items()}, Date())

    # Per brand (one row each): which budget reasons hold now, as the tail of the reasons text. One
    # correlated read per brand, a seek of the (brand, day) key to the month's days (at most 31 rows, today's
    # among them), so the cost does not grow with the history before the month whatever plan the database
    # picks (a join let PostgreSQL scan every day total); grouped, so it is computed once per brand.
    spend_today = func.coalesce(
        func.sum(case((BrandDaySpend.local_date == today, BrandDaySpend.amount_minor), else_=0)), 0
    )
    spend_month = func.coalesce(func.sum(BrandDaySpend.amount_minor), 0)
    tail = (
        select(
            _flag(spend_today >= Brand.daily_budget_minor, Reason.DAILY_BUDGET)
            + _flag(spend_month >= Brand.monthly_budget_minor, Reason.MONTHLY_BUDGET)
        )
        .where(BrandDaySpend.brand_id == Brand.id, BrandDaySpend.local_date >= first, BrandDaySpend.local_date <= last)
        .correlate(Brand)
        .scalar_subquery()
    )
    budgets = (
        select(Brand.id.label("brand_id"), tail.label("tail"))
        .where(Brand.archived_at.is_(None))
        .group_by(Brand.id)
        .subquery()
    )

    # Per campaign: its own reasons, in the rule's order, then the brand's; compared with what is stored,
    # in SQL, so only the brands out of step come back.
    # One read of the campaign's windows: NULL without windows (any hour), 2 when one contains now, else 1.
    inside = and_(
        ScheduleWindow.day_of_week == weekday, ScheduleWindow.start_minute <= minute, ScheduleWindow.end_minute > minute
    )
    schedule = (
        select(func.max(case((inside, 2), else_=1))).where(ScheduleWindow.campaign_id == Campaign.id).scalar_subquery()
    )
    expected = (
        _flag(or_(Campaign.enabled.is_(False), Campaign.archived_at.is_not(None)), Reason.DISABLED)
        + _flag(
            or_(
                and_(Campaign.start_date.is_not(None), Campaign.start_date > today),
                and_(Campaign.end_date.is_not(None), Campaign.end_date < today),
            ),
            Reason.FLIGHT,
        )
        + _flag(schedule == 1, Reason.SCHEDULE)
        + budgets.c.tail
    )
    stored = case((Campaign.reasons_text == "", literal("", String())), else_=Campaign.reasons_text + ",")
    # The stored status must follow the stored reasons; those must equal the rule's (so expected is read once).
    status = case((Campaign.reasons_text == "", literal("active", String())), else_=literal("paused", String()))
    return list(
        session.scalars(
            select(Campaign.brand_id)
            .join(budgets, budgets.c.brand_id == Campaign.brand_id)
            .join(Brand, Brand.id == Campaign.brand_id)
            .where(or_(Campaign.status_changed_at.is_(None), stored != expected, Campaign.status != status))
            .distinct()
            .order_by(Campaign.brand_id)
        )
    )
