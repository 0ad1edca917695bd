"""Reading where every campaign stands: stored state plus the brand's spend today and this month."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Brand
from app.money import format_amount
from app.services.totals import spend_today_and_month


def campaign_states(session: Session, now: datetime, *, brand_name: str | None = None) -> list[dict]:
    """One dict per campaign of every brand not archived (or of one brand), ordered by brand and campaign.

    Amounts are decimal strings in the currency's major unit; today and this month
    are the brand-local day and month containing ``now``. Raises LookupError for an
    unknown brand name.
    """
    stmt = select(Brand).where(Brand.archived_at.is_(None)).options(selectinload(Brand.campaigns)).order_by(Brand.name)
    if brand_name is not None:
        stmt = stmt.where(Brand.name == brand_name)
    brands = session.scalars(stmt).all()
    if brand_name is not None and not brands:
        raise LookupError(f"no brand named {brand_name!r}")
    states = []
    for brand in brands:
        today, month = spend_today_and_month(session, brand, now)
        money = lambda minor, currency=brand.currency: format_amount(minor, currency)  # noqa: E731
        for campaign in brand.campaigns:
            if campaign.archived_at is not None:
                continue
            states.append(
                {
                    "brand": brand.name,
                    "campaign": campaign.name,
                    "status": campaign.status,
                    "reasons": campaign.reasons,
                    "spend_today": money(today),
                    "spend_month": money(month),
                    "daily_budget": money(brand.daily_budget_minor),
                    "monthly_budget": money(brand.monthly_budget_minor),
                    "currency": brand.currency,
                }
            )
    return states
