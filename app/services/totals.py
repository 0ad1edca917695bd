"""Reading a brand's spend: the per-brand day totals summed over a local day, a month, a span.

The totals are kept by app.services.spend in the same transaction as every spend write, so
a reader touches at most 31 rows per brand, however long its history.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.control import local_day, month_bounds
from app.models import Brand, BrandDaySpend


def spend_between(session: Session, brand_id: int, first: date, last: date) -> int:
    """The brand's spend over brand-local dates first..last inclusive, in minor units."""
    total = session.scalar(
        select(func.coalesce(func.sum(BrandDaySpend.amount_minor), 0)).where(
            BrandDaySpend.brand_id == brand_id,
            BrandDaySpend.local_date >= first,
            BrandDaySpend.local_date <= last,
        )
    )
    return int(total)


def spend_for_local_day(session: Session, brand_id: int, day: date) -> int:
    return spend_between(session, brand_id, day, day)


def spend_for_local_month(session: Session, brand_id: int, day: date) -> int:
    """The brand's spend in the brand-local calendar month containing ``day``."""
    first, last = month_bounds(day)
    return spend_between(session, brand_id, first, last)


def spend_today_and_month(session: Session, brand: Brand, now: datetime) -> tuple[int, int]:
    """Spend of the brand-local day and month containing ``now``, in minor units."""
    today = local_day(now, ZoneInfo(brand.timezone))
    first, last = month_bounds(today)
    rows = session.execute(
        select(BrandDaySpend.local_date, BrandDaySpend.amount_minor).where(
            BrandDaySpend.brand_id == brand.id,
            BrandDaySpend.local_date >= first,
            BrandDaySpend.local_date <= last,
        )
    ).all()
    return (
        sum(amount for day, amount in rows if day == today),
        sum(amount for _, amount in rows),
    )
