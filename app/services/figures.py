"""The overview's per-brand figures (brand_figure), kept by the writes that change them, so the overview
reads one row per brand and sorts on an index, whatever the spend history.

Two writers: :func:`add_spend_to_figures` (from app.services.spend's day totals, the one place they
change: same transaction, exact amounts, no clock: an amount counts if its local date is the figure's day
or in its month) and :func:`refresh_brand_figures` (from reconcile_brand: everything recomputed at its
``now``, the counts included). Reconcile follows every spend (enforcement), every settings change, and
each brand-local midnight (the due sweep), so a figure's day is the brand's today except for the
moments between a midnight and that sweep; readers treat another day or month as 0.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Date, bindparam, case, func, literal, select, update
from sqlalchemy.orm import Session

from app.control import BudgetFacts, local_time, month_start
from app.control.pacing import pace, projection_factor
from app.database import upsert_insert
from app.models import Brand, BrandFigure, Campaign
from app.services.reasons import pause_counts
from app.services.totals import spend_today_and_month

# The brand_figure columns paused_<key> (app.services.reasons.pause_counts's keys).
PAUSED_COLUMNS = ("disabled", "flight", "schedule", "daily", "monthly", "budget")


def share(amount: float, budget: int) -> float:
    """The share of a budget used; a zero budget is always reached (1.0), as the overview's bars show."""
    return 1.0 if budget == 0 else amount / budget


def refresh_brand_figures(session: Session, brand: Brand, now: datetime) -> None:
    """Recompute the brand's figures at ``now`` (its local day and month, the projection, the counts of
    campaigns not archived). Does not commit."""
    local = local_time(now, ZoneInfo(brand.timezone))
    spend_today, spend_month = spend_today_and_month(session, brand, now)
    counts = dict(
        session.execute(
            select(Campaign.status, func.count())
            .where(Campaign.brand_id == brand.id, Campaign.archived_at.is_(None))
            .group_by(Campaign.status)
        ).all()
    )
    factor = float(projection_factor(local))
    budget = BudgetFacts(brand.daily_budget_minor, brand.monthly_budget_minor, spend_today, spend_month)
    paused_by = pause_counts(
        session.execute(
            select(Campaign.reasons_text, func.count())
            .where(Campaign.brand_id == brand.id, Campaign.archived_at.is_(None), Campaign.status == "paused")
            .group_by(Campaign.reasons_text)
        ).all()
    )
    values = {
        "day": local.date(),
        "spend_today": spend_today,
        "month": month_start(local.date()),
        "spend_month": spend_month,
        "projection_factor": factor,
        "daily_share": share(spend_today, brand.daily_budget_minor),
        "monthly_share": share(spend_month, brand.monthly_budget_minor),
        "projected_share": share(spend_month * factor, brand.monthly_budget_minor),
        "active": counts.get("active", 0),
        "paused": counts.get("paused", 0),
        "pacing": str(pace(budget, local, created=brand.created_at).state),
        **{f"paused_{key}": paused_by.get(key, 0) for key in PAUSED_COLUMNS},
    }
    table = BrandFigure.__table__
    insert = upsert_insert(session, table).values(brand_id=brand.id, **values)
    session.execute(insert.on_conflict_do_update(index_elements=[table.c.brand_id], set_=values))


def add_spend_to_figures(session: Session, deltas: dict[tuple[int, date], int]) -> None:
    """Add day-total deltas ((brand id, local date) -> minor units) to the figures of the day and month
    they belong to; an amount for another day or month changes nothing here. One executemany. Does not commit."""
    if not deltas:
        return
    figure = BrandFigure.__table__.c
    daily_budget = select(Brand.daily_budget_minor).where(Brand.id == figure.brand_id).scalar_subquery()
    monthly_budget = select(Brand.monthly_budget_minor).where(Brand.id == figure.brand_id).scalar_subquery()
    amount = bindparam("delta", type_=BigInteger())
    today = case(
        (figure.day == bindparam("delta_day", type_=Date()), figure.spend_today + amount), else_=figure.spend_today
    )
    month = figure.spend_month + amount
    stmt = (
        update(BrandFigure.__table__)
        .where(figure.brand_id == bindparam("delta_brand"), figure.month == bindparam("delta_month", type_=Date()))
        .values(
            spend_today=today,
            spend_month=month,
            daily_share=_share(today, daily_budget),
            monthly_share=_share(month, monthly_budget),
            projected_share=_share(month * figure.projection_factor, monthly_budget),
        )
    )
    session.execute(
        stmt,
        [
            {"delta_brand": brand_id, "delta_day": day, "delta_month": month_start(day), "delta": delta}
            for (brand_id, day), delta in sorted(deltas.items())
        ],
    )


def _share(amount, budget):
    return case((budget == 0, literal(1.0)), else_=amount * 1.0 / budget)
