"""Reading the overview and brand pages: spend against budgets, pacing and campaign counts.

Searching, sorting and paginating happen in SQL, and a page's figures come from a fixed
number of grouped queries, so no step loops over all brands in Python. Each brand's
local "today" and month depend on its time zone: they are computed in Python once per
zone in use and handed to the database as a CASE over ``brand.timezone``. Amounts are
integer minor units; ``now`` is an aware instant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Select, case, func, select
from sqlalchemy.orm import Session, joinedload

from app.control import BudgetFacts, local_day, month_bounds
from app.control.pacing import Pacing, even_pacing_by_day, pace
from app.models import Brand, BrandDaySpend, BrandFigure, Campaign, CampaignEvent, SpendRecord
from app.money import format_amount
from app.services.figures import PAUSED_COLUMNS
from app.services.reasons import pause_counts, pause_words
from app.services.spend import counted_spend
from app.services.zones import per_zone

# Sort keys of the overview and the direction each starts in.
SORTS = {"name": "asc", "daily": "desc", "monthly": "desc", "pacing": "desc", "paused": "desc"}

# The triage strip: each key's words and the brands it keeps, from the figures (each on an index) as of
# each brand's last reconcile. At risk: projected past 110 % of the monthly budget (it runs out early).
TRIAGE = {
    "capped": ("capped", BrandFigure.pacing == "capped"),
    "at-risk": ("at risk", BrandFigure.pacing == "ahead"),
    "behind": ("behind", BrandFigure.pacing == "behind"),
    "budget": ("paused by budget", BrandFigure.paused_budget > 0),
    "hours": ("out of hours", BrandFigure.paused_schedule > 0),
}


@dataclass(frozen=True)
class BrandRow:
    """One brand on the overview (or the head of its own page)."""

    brand: Brand
    local_now: datetime
    spend_today: int
    spend_month: int
    active: int
    paused: int
    pacing: Pacing
    # Paused campaigns by reason (app.services.reasons.pause_counts: "schedule", "daily", ..., "budget").
    paused_by: dict[str, int] = field(default_factory=dict)

    @property
    def pause_summary(self) -> str:
        """ "3 out of hours, 1 daily budget"; "" when nothing is paused."""
        return pause_words(self.paused_by)

    @property
    def paused_by_budget(self) -> int:
        return self.paused_by.get("budget", 0)

    @property
    def projected_percent(self) -> float | None:
        """The projected month-end as a percentage of the monthly budget; None without a budget."""
        budget = self.brand.monthly_budget_minor
        return None if budget == 0 else self.pacing.projected * 100 / budget

    @property
    def daily_above_monthly(self) -> bool:
        """A daily budget above the monthly one is allowed, but the monthly one always binds first."""
        return self.brand.daily_budget_minor > self.brand.monthly_budget_minor


def _local_todays(zones, now: datetime) -> dict[str, date]:
    return {zone: local_day(now, ZoneInfo(zone)) for zone in zones}


class _Periods:
    """SQL expressions for each brand's local today and month bounds, from the zones in use."""

    def __init__(self, zones, now: datetime) -> None:
        todays = _local_todays(zones, now)
        self.today = per_zone(todays, Date())
        self.first = per_zone({z: month_bounds(d)[0] for z, d in todays.items()}, Date())
        self.last = per_zone({z: month_bounds(d)[1] for z, d in todays.items()}, Date())


def brands_select(
    session: Session,
    now: datetime,
    *,
    q: str = "",
    sort: str = "name",
    descending: bool | None = None,
    archived: bool = False,
    triage: str | None = None,
) -> Select:
    """The overview's brands, filtered and sorted in SQL, ready for ``db.paginate``.

    ``q`` matches anywhere in the name, case-insensitively; ``sort`` is a key of SORTS
    (daily and monthly sort by the share of the budget used, pacing by the projected
    month-end against the monthly budget, paused by the number of paused campaigns).
    ``archived`` lists the archived brands instead of the live ones; ``triage`` (a key of TRIAGE) keeps
    only the brands it counts. Ties go by name.
    """
    if sort not in SORTS:
        sort = "name"
    if descending is None:
        descending = SORTS[sort] == "desc"
    stmt = select(Brand).where(Brand.archived_at.is_not(None) if archived else Brand.archived_at.is_(None))
    q = (q or "").strip()
    if q:
        stmt = stmt.where(Brand.name.icontains(q, autoescape=True))
    if triage in TRIAGE:
        stmt = stmt.join(BrandFigure, BrandFigure.brand_id == Brand.id).where(TRIAGE[triage][1])
    if sort == "name":
        key = func.lower(Brand.name)
    else:
        # The precomputed figures (app.services.figures), each on its index; a brand without figures yet
        # (never reconciled) sorts as 0. A figure of yesterday keeps its place until the brand's midnight sweep.
        if triage not in TRIAGE:
            stmt = stmt.outerjoin(BrandFigure, BrandFigure.brand_id == Brand.id)
        key = {
            "daily": BrandFigure.daily_share,
            "monthly": BrandFigure.monthly_share,
            "pacing": BrandFigure.projected_share,
            "paused": BrandFigure.paused,
        }[sort]
        return stmt.order_by(key.desc().nulls_last() if descending else key.asc().nulls_first(), Brand.name, Brand.id)
    return stmt.order_by(key.desc() if descending else key.asc(), Brand.name, Brand.id)


def brand_rows(session: Session, brands: list[Brand], now: datetime) -> list[BrandRow]:
    """Spend today and this month (each brand's own local day and month), campaign counts and pacing.

    Read from the precomputed figures (one indexed read); the brands whose figures are missing or of
    another local day or month (between a midnight and its sweep) are computed from the day totals
    and campaigns in two grouped queries, so what is shown is always exact.
    """
    if not brands:
        return []
    figures = {
        f.brand_id: f
        for f in session.scalars(select(BrandFigure).where(BrandFigure.brand_id.in_([b.id for b in brands])))
    }
    rows, stale = [], []
    for brand in brands:
        local_now = now.astimezone(ZoneInfo(brand.timezone))
        figure = figures.get(brand.id)
        if figure is None or figure.day != local_now.date():
            stale.append(brand)
            continue
        paused_by = {key: getattr(figure, f"paused_{key}") for key in PAUSED_COLUMNS}
        rows.append(
            _row(brand, local_now, figure.spend_today, figure.spend_month, figure.active, figure.paused, paused_by)
        )
    by_id = {row.brand.id: row for row in rows + _computed_rows(session, stale, now)}
    return [by_id[brand.id] for brand in brands]


def _row(
    brand: Brand, local_now: datetime, today: int, month: int, active: int, paused: int, paused_by: dict[str, int]
) -> BrandRow:
    budget = BudgetFacts(brand.daily_budget_minor, brand.monthly_budget_minor, today, month)
    pacing = pace(budget, local_now, created=brand.created_at)
    return BrandRow(brand, local_now, today, month, active, paused, pacing, paused_by)


def _computed_rows(session: Session, brands: list[Brand], now: datetime) -> list[BrandRow]:
    if not brands:
        return []
    ids = [b.id for b in brands]
    periods = _Periods({b.timezone for b in brands}, now)
    totals = {
        brand_id: (int(today), int(month))
        for brand_id, today, month in session.execute(
            select(
                BrandDaySpend.brand_id,
                func.sum(case((BrandDaySpend.local_date == periods.today, BrandDaySpend.amount_minor), else_=0)),
                func.sum(BrandDaySpend.amount_minor),
            )
            .join(Brand, Brand.id == BrandDaySpend.brand_id)
            .where(
                BrandDaySpend.brand_id.in_(ids),
                BrandDaySpend.local_date >= periods.first,
                BrandDaySpend.local_date <= periods.last,
            )
            .group_by(BrandDaySpend.brand_id)
        )
    }
    counts = {
        brand_id: (int(active or 0), int(paused or 0))
        for brand_id, active, paused in session.execute(
            select(
                Campaign.brand_id,
                func.sum(case((Campaign.status == "active", 1), else_=0)),
                func.sum(case((Campaign.status == "paused", 1), else_=0)),
            )
            .where(Campaign.brand_id.in_(ids), Campaign.archived_at.is_(None))
            .group_by(Campaign.brand_id)
        )
    }
    reasons: dict[int, list[tuple[str, int]]] = {}
    for brand_id, text, number in session.execute(
        select(Campaign.brand_id, Campaign.reasons_text, func.count())
        .where(Campaign.brand_id.in_(ids), Campaign.archived_at.is_(None), Campaign.status == "paused")
        .group_by(Campaign.brand_id, Campaign.reasons_text)
    ):
        reasons.setdefault(brand_id, []).append((text, number))
    rows = []
    for brand in brands:
        today, month = totals.get(brand.id, (0, 0))
        active, paused = counts.get(brand.id, (0, 0))
        local_now = now.astimezone(ZoneInfo(brand.timezone))
        rows.append(_row(brand, local_now, today, month, active, paused, pause_counts(reasons.get(brand.id, []))))
    return rows


def triage_counts(session: Session) -> dict[str, int]:
    """How many live brands each triage filter keeps: one statement, a count per filter on its index."""
    counts = [
        select(func.count())
        .select_from(BrandFigure)
        .join(Brand, Brand.id == BrandFigure.brand_id)
        .where(condition, Brand.archived_at.is_(None))
        .scalar_subquery()
        for _, condition in TRIAGE.values()
    ]
    return {key: int(value or 0) for key, value in zip(TRIAGE, session.execute(select(*counts)).one(), strict=True)}


def latest_automatic_actions(session: Session, limit: int = 10) -> list[CampaignEvent]:
    """The newest status changes made by jobs (not people), with their campaign and brand loaded."""
    return list(
        session.scalars(
            select(CampaignEvent)
            .where(CampaignEvent.automatic.is_(True))
            .options(joinedload(CampaignEvent.campaign), joinedload(CampaignEvent.brand))
            .order_by(CampaignEvent.at.desc(), CampaignEvent.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class ChartDay:
    day: date
    spend: int
    cumulative: int | None  # None for days after today
    even_pacing: int


def month_chart(session: Session, brand: Brand, now: datetime) -> list[ChartDay]:
    """Each day of the brand's current local month: its spend, the running total up to today,
    and the even-pacing line at the day's end (each day weighted by its real length)."""
    local_now = now.astimezone(ZoneInfo(brand.timezone))
    today = local_now.date()
    first, last = month_bounds(today)
    spend = dict(
        session.execute(
            select(BrandDaySpend.local_date, BrandDaySpend.amount_minor).where(
                BrandDaySpend.brand_id == brand.id,
                BrandDaySpend.local_date >= first,
                BrandDaySpend.local_date <= last,
            )
        ).all()
    )
    days = []
    running = 0
    for day, expected in even_pacing_by_day(brand.monthly_budget_minor, local_now):
        amount = int(spend.get(day, 0))
        running += amount
        days.append(ChartDay(day, amount, running if day <= today else None, expected))
    return days


def chart_data(brand: Brand, days: list[ChartDay], row: BrandRow) -> dict:
    """The chart's JSON: amounts as decimal strings in major units (the page turns them into numbers)."""
    money = lambda minor: None if minor is None else format_amount(minor, brand.currency)  # noqa: E731
    return {
        "currency": brand.currency,
        "days": [d.day.isoformat() for d in days],
        "labels": [str(d.day.day) for d in days],
        "daily_spend": [money(d.spend) for d in days],
        "cumulative": [money(d.cumulative) for d in days],
        "even_pacing": [money(d.even_pacing) for d in days],
        "daily_budget": money(brand.daily_budget_minor),
        "monthly_budget": money(brand.monthly_budget_minor),
        "today": row.local_now.date().isoformat(),
    }


def spend_records_select(brand_id: int) -> Select:
    """The brand's spend records, newest first, with their campaigns loaded; for ``db.paginate``."""
    return (
        select(SpendRecord)
        .where(SpendRecord.brand_id == brand_id, counted_spend())
        .options(joinedload(SpendRecord.campaign))
        .order_by(SpendRecord.spent_at.desc(), SpendRecord.id.desc())
    )


def live_campaigns_select(brand_id: int) -> Select:
    """The brand's campaigns that are not archived, by name (the (brand_id, name) index), for ``db.paginate``."""
    return select(Campaign).where(Campaign.brand_id == brand_id, Campaign.archived_at.is_(None)).order_by(Campaign.name)


def live_campaigns(session: Session, brand_id: int) -> list[Campaign]:
    """The brand's campaigns that are not archived, by name."""
    return list(
        session.scalars(
            select(Campaign)
            .where(Campaign.brand_id == brand_id, Campaign.archived_at.is_(None))
            .order_by(Campaign.name)
        )
    )


def archived_campaign_count(session: Session, brand_id: int) -> int:
    return int(
        session.scalar(select(func.count()).where(Campaign.brand_id == brand_id, Campaign.archived_at.is_not(None)))
        or 0
    )
