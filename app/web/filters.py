"""Jinja filters and globals: money and counts (app/money.py's one formatter), brand-local times,
reasons in words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_login import current_user

from app.extensions import db
from app.models import utcnow
from app.money import display_amount, format_count, format_money
from app.services.alerts import recent_count
from app.web.pagination import page_url

REASON_WORDS = {
    "disabled": "Switched off",
    "flight": "Outside its flight dates",
    "schedule": "Outside its dayparting hours",
    "daily_budget": "Daily budget reached",
    "monthly_budget": "Monthly budget reached",
}


def money(minor: int | None, currency: str) -> str:
    """'1,234.50 USD' with grouping, from minor units."""
    if minor is None:
        return "—"
    return format_money(minor, currency)


def amount(text: str | None) -> str:
    """'12,000.00' from a stored decimal string such as an event's facts ('12000.00')."""
    return display_amount(text)


def count(value: int | None) -> str:
    """'16,001'."""
    return "—" if value is None else format_count(value)


def local(value: datetime | None, zone: str = "UTC", fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "—"
    try:
        return value.astimezone(ZoneInfo(zone)).strftime(fmt)
    except OverflowError:  # an instant at the very edge of year 1 or 9999 has no local time there
        return value.strftime(fmt) + " UTC"


def reason_words(reason: str) -> str:
    return REASON_WORDS.get(reason, reason)


def register_filters(app: Flask) -> None:
    app.add_template_filter(money)
    app.add_template_filter(amount)
    app.add_template_filter(count)
    app.add_template_filter(local)
    app.add_template_filter(reason_words)
    app.jinja_env.globals["REASON_WORDS"] = REASON_WORDS
    app.jinja_env.globals["page_url"] = page_url

    @app.context_processor
    def roles():
        user = current_user
        signed_in = bool(user and user.is_authenticated)
        return {
            "can_edit": signed_in and user.can("manager"),
            "is_admin": signed_in and user.can("admin"),
            # The header's badge: alerts fired in the last day (a read, on every page).
            "alert_badge": recent_count(db.session, utcnow()) if signed_in else 0,
        }
