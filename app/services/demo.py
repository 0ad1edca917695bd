"""Demo data: brands in several zones with schedules, some spend, and one user per role."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.control import local_day
from app.ingest.timestamps import local_to_utc
from app.models import Brand
from app.services.catalog import LoadSummary, load_fixtures
from app.services.spend import new_spend, write_spend
from app.services.users import create_user, find_user

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
WEEKEND = ["sat", "sun"]

DEMO_FIXTURES = {
    "brands": [
        {"name": "Acme Outdoor", "timezone": "America/New_York", "currency": "USD",
         "daily_budget": "500.00", "monthly_budget": "12000.00",
         "campaigns": [
             {"name": "Search - Brand", "schedule": [{"days": WEEKDAYS, "start": "07:00", "end": "21:00"}]},
             {"name": "Display - Retargeting"},
             {"name": "Shopping - Gear", "schedule": [{"days": WEEKDAYS + WEEKEND, "start": "09:00", "end": "23:30"}]},
         ]},
        {"name": "Brightside Books", "timezone": "Europe/London", "currency": "GBP",
         "daily_budget": "150.00", "monthly_budget": "4000.00",
         "campaigns": [
             {"name": "Search - Generic", "schedule": [{"days": WEEKDAYS, "start": "08:00", "end": "18:00"}]},
             {"name": "Social - Weekend", "schedule": [{"days": WEEKEND, "start": "10:00", "end": "22:00"}]},
         ]},
        {"name": "Chai Point", "timezone": "Asia/Kolkata", "currency": "INR",
         "daily_budget": "25000.00", "monthly_budget": "600000.00",
         "campaigns": [
             {"name": "Search - Delivery", "schedule": [{"days": WEEKDAYS + WEEKEND, "start": "06:00", "end": "23:00"}]},
             {"name": "Video - Monsoon", "enabled": False},
         ]},
        {"name": "Himalaya Treks", "timezone": "Asia/Kathmandu", "currency": "NPR",
         "daily_budget": "8000.00", "monthly_budget": "200000.00",
         "campaigns": [{"name": "Search - Treks", "schedule": [{"days": WEEKDAYS, "start": "09:15", "end": "17:45"}]}]},
        {"name": "Lord Howe Lodge", "timezone": "Australia/Lord_Howe", "currency": "AUD",
         "daily_budget": "120.00", "monthly_budget": "3000.00",
         "campaigns": [{"name": "Search - Stays"}, {"name": "Social - Summer", "schedule": [{"days": WEEKEND, "start": "08:00", "end": "24:00"}]}]},
        {"name": "Tokyo Tea House", "timezone": "Asia/Tokyo", "currency": "JPY",
         "daily_budget": "30000", "monthly_budget": "700000",
         "campaigns": [{"name": "Search - Matcha"}, {"name": "Display - Gifts", "schedule": [{"days": WEEKDAYS, "start": "12:00", "end": "14:00"}]}]},
    ]
}

DEMO_USERS = (
    ("admin@pacer.local", "admin", "pacer-admin"),
    ("manager@pacer.local", "manager", "pacer-manager"),
    ("viewer@pacer.local", "viewer", "pacer-viewer"),
)

# Share of the daily budget each brand spends per past day, and so far today (Acme hits its cap);
# Decimal strings, as money is never float.
_PACE = {"Acme Outdoor": ("0.8", "1.0"), "Brightside Books": ("0.9", "0.4"), "Chai Point": ("0.7", "0.5"),
         "Himalaya Treks": ("0.75", "0.3"), "Lord Howe Lodge": ("0.6", "0.2"), "Tokyo Tea House": ("0.95", "0.6")}


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
                new_spend(campaign, share_minor, local_to_utc(wall, tz), source="manual",
                          external_id=f"demo-{campaign.id}-{day.isoformat()}")
            )
    write_spend(session, records)
