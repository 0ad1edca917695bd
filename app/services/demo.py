"""Demo data: brands in several zones with schedules, some spend, and one user per role; and the steps of
`demo run`, the demonstration of the system Pacer replaces (normal spend, a brand pushed over its daily
budget, a dayparting change, the next daily reset)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.control import Window, local_day, local_time
from app.ingest.timestamps import local_to_utc
from app.models import Brand, Campaign
from app.money import to_decimal
from app.services.campaigns import Outcome, record_manual_spend, set_schedule
from app.services.catalog import LoadSummary, load_fixtures
from app.services.random_spend import running_campaigns
from app.services.reconcile import Change, reconcile_brand
from app.services.spend import new_spend, write_spend
from app.services.totals import spend_today_and_month
from app.services.users import create_user, find_user

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
WEEKEND = ["sat", "sun"]

DEMO_FIXTURES = {
    "brands": [
        {
            "name": "Acme Outdoor",
            "timezone": "America/New_York",
            "currency": "USD",
            "daily_budget": "500.00",
            "monthly_budget": "12000.00",
            "campaigns": [
                {"name": "Search - Brand", "schedule": [{"days": WEEKDAYS, "start": "07:00", "end": "21:00"}]},
                {"name": "Display - Retargeting"},
                {
                    "name": "Shopping - Gear",
                    "schedule": [{"days": WEEKDAYS + WEEKEND, "start": "09:00", "end": "23:30"}],
                },
            ],
        },
        {
            "name": "Brightside Books",
            "timezone": "Europe/London",
            "currency": "GBP",
            "daily_budget": "150.00",
            "monthly_budget": "4000.00",
            "campaigns": [
                {"name": "Search - Generic", "schedule": [{"days": WEEKDAYS, "start": "08:00", "end": "18:00"}]},
                {"name": "Social - Weekend", "schedule": [{"days": WEEKEND, "start": "10:00", "end": "22:00"}]},
            ],
        },
        {
            "name": "Chai Point",
            "timezone": "Asia/Kolkata",
            "currency": "INR",
            "daily_budget": "25000.00",
            "monthly_budget": "600000.00",
            "campaigns": [
                {
                    "name": "Search - Delivery",
                    "schedule": [{"days": WEEKDAYS + WEEKEND, "start": "06:00", "end": "23:00"}],
                },
                {"name": "Video - Monsoon", "enabled": False},
            ],
        },
        {
            "name": "Himalaya Treks",
            "timezone": "Asia/Kathmandu",
            "currency": "NPR",
            "daily_budget": "8000.00",
            "monthly_budget": "200000.00",
            "campaigns": [
                {"name": "Search - Treks", "schedule": [{"days": WEEKDAYS, "start": "09:15", "end": "17:45"}]}
            ],
        },
        {
            "name": "Lord Howe Lodge",
            "timezone": "Australia/Lord_Howe",
            "currency": "AUD",
            "daily_budget": "120.00",
            "monthly_budget": "3000.00",
            "campaigns": [
                {"name": "Search - Stays"},
                {"name": "Social - Summer", "schedule": [{"days": WEEKEND, "start": "08:00", "end": "24:00"}]},
            ],
        },
        {
            "name": "Tokyo Tea House",
            "timezone": "Asia/Tokyo",
            "currency": "JPY",
            "daily_budget": "30000",
            "monthly_budget": "700000",
            "campaigns": [
                {"name": "Search - Matcha"},
                {"name": "Display - Gifts", "schedule": [{"days": WEEKDAYS, "start": "12:00", "end": "14:00"}]},
            ],
        },
    ]
}

DEMO_USERS = (
    ("admin@pacer.local", "admin", "pacer-admin"),
    ("manager@pacer.local", "manager", "pacer-manager"),
    ("viewer@pacer.local", "viewer", "pacer-viewer"),
)

# Share of the daily budget each brand spends per past day, and so far today (Acme hits its cap);
# Decimal strings, as money is never float.
_PACE = {
    "Acme Outdoor": ("0.8", "1.0"),
    "Brightside Books": ("0.9", "0.4"),
    "Chai Point": ("0.7", "0.5"),
    "Himalaya Treks": ("0.75", "0.3"),
    "Lord Howe Lodge": ("0.6", "0.2"),
    "Tokyo Tea House": ("0.95", "0.6"),
}


def demo_loaded(session: Session) -> bool:
    return session.scalar(select(Brand.id).where(Brand.name == DEMO_FIXTURES["brands"][0]["name"])) is not None


def seed_demo(session: Session, now: datetime) -> LoadSummary | None:
    """Load the demo brands, spend for this month so far, and the demo users; does not commit.

    Returns None (and changes nothing) if the demo data is already there.
    """
    for email, role, password in DEMO_USERS:
        if find_user(session, email) is None:
            create_user(session, email, password, role)
    if demo_loaded(session):
        return None
    summary = load_fixtures(session, DEMO_FIXTURES, now)
    for brand in session.scalars(select(Brand).where(Brand.id.in_(summary.brand_ids))):
        _demo_spend(session, brand, now)
    return summary


def _demo_spend(session: Session, brand: Brand, now: datetime) -> None:
    tz = ZoneInfo(brand.timezone)
    today = local_day(now, tz)
    past_share, today_share = _PACE[brand.name]
    campaigns = [c for c in brand.campaigns if c.enabled]
    records = []
    for offset in range(today.day - 1, -1, -1):
        day = today - timedelta(days=offset)
        share = today_share if offset == 0 else past_share
        total = int(brand.daily_budget_minor * Decimal(share))
        # Today's spend lands just after local midnight, past days' in the afternoon.
        hour = 0 if offset == 0 else 15
        for i, campaign in enumerate(campaigns):
            wall = datetime(day.year, day.month, day.day, hour, 5 * i)
            share_minor = total // len(campaigns) + (total % len(campaigns) if i == 0 else 0)
            records.append(
                new_spend(
                    campaign,
                    share_minor,
                    local_to_utc(wall, tz),
                    source="manual",
                    external_id=f"demo-{campaign.id}-{day.isoformat()}",
                )
            )
    write_spend(session, records)


# --- `demo run` -----------------------------------------------------------------------------------

DEMO_ACTOR = "demo"
OVER_BUDGET_BRAND = "Brightside Books"
# Its spend stays far below both budgets all month, so the schedule alone decides it.
DAYPARTING_BRAND, DAYPARTING_CAMPAIGN = "Lord Howe Lodge", "Search - Stays"


class DemoError(LookupError):
    """The demo data the demonstration needs is missing or archived; the message says what to do."""


def demo_brand(session: Session, name: str) -> Brand:
    brand = session.scalar(select(Brand).where(Brand.name == name, Brand.archived_at.is_(None)))
    if brand is None:
        raise DemoError(
            f"the demo brand {name!r} is missing or archived; reset the demo data "
            "(`make db-reset`, then `make setup`) to run the demonstration"
        )
    return brand


@dataclass(frozen=True)
class DemoSpend:
    brand: str
    campaign: str
    amount: str
    currency: str


def normal_spend(session: Session, now: datetime, rng: random.Random) -> list[DemoSpend]:
    """Spend 1-4 % of its brand's daily budget on each running campaign, keeping every brand under its
    daily budget (the over-budget brand is left for :func:`push_over_daily_budget`); does not commit."""
    spends, used = [], {}
    for campaign in running_campaigns(session):
        brand = campaign.brand
        if brand.name == OVER_BUDGET_BRAND:
            continue
        if brand.id not in used:
            used[brand.id] = spend_today_and_month(session, brand, now)[0]
        minor = brand.daily_budget_minor * rng.randint(1, 4) // 100
        if minor == 0 or used[brand.id] + minor >= brand.daily_budget_minor:
            continue
        used[brand.id] += minor
        spends.append(_record(session, campaign, minor, now))
    return spends


def push_over_daily_budget(session: Session, now: datetime) -> DemoSpend:
    """Spend what is left of the over-budget brand's daily budget and a tenth more on one of its campaigns
    (a running one if any); does not commit. Raises DemoError if the brand is missing."""
    brand = demo_brand(session, OVER_BUDGET_BRAND)
    live = [c for c in brand.campaigns if c.archived_at is None]
    if not live:
        raise DemoError(f"the demo brand {brand.name!r} has no campaign to spend on")
    campaign = next((c for c in live if c.status == "active"), live[0])
    today = spend_today_and_month(session, brand, now)[0]
    minor = max(brand.daily_budget_minor - today, 0) + max(brand.daily_budget_minor // 10, 1)
    return _record(session, campaign, minor, now)


def _record(session: Session, campaign: Campaign, minor: int, now: datetime) -> DemoSpend:
    amount = f"{to_decimal(minor, campaign.brand.currency):f}"
    record_manual_spend(session, campaign, amount=amount, now=now)
    return DemoSpend(campaign.brand.name, campaign.name, amount, campaign.brand.currency)


@dataclass
class ScheduleChange:
    campaign: Campaign
    windows: list[Window]
    outcome: Outcome

    def describe(self) -> str:
        window = self.windows[0]
        return f"every day {window.label()[4:]}"


def change_dayparting(session: Session, now: datetime) -> ScheduleChange:
    """Give the dayparting campaign a two-hour window every day starting at the next full local hour, so it
    pauses now (out of hours) and the sweep resumes it when the window opens; reconciles under DEMO_ACTOR."""
    brand = demo_brand(session, DAYPARTING_BRAND)
    campaign = next((c for c in brand.campaigns if c.name == DAYPARTING_CAMPAIGN and c.archived_at is None), None)
    if campaign is None:
        raise DemoError(f"the demo campaign {DAYPARTING_BRAND} / {DAYPARTING_CAMPAIGN} is missing or archived")
    start = (local_time(now, ZoneInfo(brand.timezone)).hour + 1) % 24 * 60
    windows = [Window(day, start, min(start + 120, 24 * 60)) for day in range(7)]
    outcome = set_schedule(session, campaign, windows, now=now, actor=DEMO_ACTOR)
    return ScheduleChange(campaign, windows, outcome)


def next_local_midnight(now: datetime, tz: ZoneInfo) -> datetime:
    """The instant the brand-local day after ``now``'s begins."""
    tomorrow = local_day(now, tz) + timedelta(days=1)
    return local_to_utc(datetime.combine(tomorrow, time()), tz)


def preview_daily_reset(session: Session, now: datetime) -> tuple[Brand, datetime, list[Change]]:
    """Dry run: what the daily reset does to the over-budget brand at its next local midnight (its spend for
    the new day is zero); writes nothing and ends the transaction."""
    brand = demo_brand(session, OVER_BUDGET_BRAND)
    midnight = next_local_midnight(now, ZoneInfo(brand.timezone))
    changes = reconcile_brand(session, brand.id, midnight, actor="reset_daily", dry_run=True)
    session.rollback()
    return brand, midnight, changes
