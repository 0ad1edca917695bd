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

from sqlalchemy import Date, Integer, String, and_, case, exists, func, literal, not_, or_, select
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

    # Per brand (one row each): which budget reasons hold now, as the tail of the reasons text.
    spent = select(func.coalesce(func.sum(BrandDaySpend.amount_minor), 0)).where(BrandDaySpend.brand_id == Brand.id)
    spend_today = spent.where(BrandDaySpend.local_date == today).scalar_subquery()
    spend_month = spent.where(BrandDaySpend.local_date >= first, BrandDaySpend.local_date <= last).scalar_subquery()
    budget_tails = {
        brand_id: tail
        for brand_id, tail in session.execute(
            select(
                Brand.id,
                _flag(spend_today >= Brand.daily_budget_minor, Reason.DAILY_BUDGET)
                + _flag(spend_month >= Brand.monthly_budget_minor, Reason.MONTHLY_BUDGET),
            ).where(Brand.archived_at.is_(None))
        )
    }

    # Per campaign: the campaign's own reasons, in the rule's order, beside what is stored.
    windows = ScheduleWindow.campaign_id == Campaign.id
    in_window = and_(windows, ScheduleWindow.day_of_week == weekday, ScheduleWindow.start_minute <= minute,
                     ScheduleWindow.end_minute > minute)
    head = (
        _flag(or_(Campaign.enabled.is_(False), Campaign.archived_at.is_not(None)), Reason.DISABLED)
        + _flag(or_(and_(Campaign.start_date.is_not(None), Campaign.start_date > today),
                    and_(Campaign.end_date.is_not(None), Campaign.end_date < today)), Reason.FLIGHT)
        + _flag(and_(exists().where(windows), not_(exists().where(in_window))), Reason.SCHEDULE)
    )
    rows = session.execute(
        select(Campaign.brand_id, head, Campaign.reasons_text, Campaign.status, Campaign.status_changed_at.is_(None))
        .join(Brand, Brand.id == Campaign.brand_id)
        .where(Brand.archived_at.is_(None))
    )
    out: set[int] = set()
    for brand_id, campaign_reasons, stored, status, never in rows:
        if brand_id in out:
            continue
        expected = campaign_reasons + budget_tails[brand_id]
        if never or stored + "," * bool(stored) != expected or status != ("paused" if expected else "active"):
            out.add(brand_id)
    return sorted(out)
