"""Brands, campaigns and schedules: validation and create-or-update by name.

``load_fixtures`` takes the JSON document of the ``fixtures load`` command,
checks all of it first (every problem reported with its path, e.g.
``brands[0].campaigns[1].schedule[0].start``), and only then writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.control import Window, format_minutes, parse_clock
from app.control.schedule import DAY_NAMES, STEP_MINUTES, merge_windows
from app.models import Brand, Campaign, ScheduleWindow, SpendRecord
from app.money import MoneyError, is_currency, to_minor
from app.services.spend import rebuild_day_totals

_DAY_ALIASES = {name: i for i, name in enumerate(DAY_NAMES)} | {
    full: i for i, full in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
}


class CatalogError(ValueError):
    """Invalid brand or campaign data; ``problems`` lists each with the path of the bad value."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class BrandSpec:
    name: str
    timezone: str
    currency: str
    daily_budget_minor: int
    monthly_budget_minor: int
    campaigns: list[CampaignSpec] = field(default_factory=list)


@dataclass
class CampaignSpec:
    name: str
    enabled: bool
    start_date: date | None
    end_date: date | None
    windows: list[Window]


@dataclass
class LoadSummary:
    brands_created: int = 0
    brands_updated: int = 0
    campaigns_created: int = 0
    campaigns_updated: int = 0
    brand_ids: list[int] = field(default_factory=list)

    def describe(self) -> str:
        return (
            f"brands: {self.brands_created} created, {self.brands_updated} updated; "
            f"campaigns: {self.campaigns_created} created, {self.campaigns_updated} updated"
        )


def valid_timezone(name: str) -> bool:
    if name not in _zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_ZONES: set[str] | None = None


def _zones() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones() | {"UTC"}
    return _ZONES


def timezone_names() -> list[str]:
    return sorted(_zones())


def parse_money(value: Any, currency: str, where: str, problems: list[str]) -> int | None:
    """A budget given as a JSON string or number (read as Decimal, never float) in minor units."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        problems.append(f"{where}: must be a decimal amount like \"100.00\"")
        return None
    try:
        amount = Decimal(str(value).strip())
        return to_minor(amount, currency)
    except InvalidOperation:
        problems.append(f"{where}: {value!r} is not a decimal amount")
    except MoneyError as exc:
        problems.append(f"{where}: {exc}")
    return None


def _parse_date(value: Any, where: str, problems: list[str]) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}: {value!r} is not a date like 2026-12-31")
        return None


def parse_schedule(rows: Any, where: str, problems: list[str]) -> list[Window]:
    """Schedule rows ``{"days": [...], "start": "HH:MM", "end": "HH:MM"}`` as merged windows."""
    if rows is None:
        return []
    if not isinstance(rows, list):
        problems.append(f"{where}: must be a list of {{days, start, end}}")
        return []
    windows: list[Window] = []
    for i, row in enumerate(rows):
        here = f"{where}[{i}]"
        if not isinstance(row, dict):
            problems.append(f"{here}: must be an object with days, start and end")
            continue
        days = row.get("days")
        if not isinstance(days, list) or not days:
            problems.append(f"{here}.days: must be a non-empty list like [\"mon\", \"tue\"]")
            days = []
        day_numbers = []
        for day in days:
            number = day if isinstance(day, int) and not isinstance(day, bool) else _DAY_ALIASES.get(str(day).strip().lower())
            if number is None or not 0 <= number <= 6:
                problems.append(f"{here}.days: {day!r} is not a day (mon..sun or 0..6)")
            else:
                day_numbers.append(number)
        # The times are checked on their own, so a bad time is reported even when the days are bad too.
        bounds = []
        for key in ("start", "end"):
            try:
                minute = parse_clock(str(row.get(key, "")))
            except ValueError as exc:
                problems.append(f"{here}.{key}: {exc}")
                continue
            if minute % STEP_MINUTES:
                problems.append(f"{here}.{key}: {format_minutes(minute)} is not on a 15-minute step (:00, :15, :30, :45)")
                continue
            bounds.append(minute)
        if len(bounds) == 2:
            if bounds[0] >= bounds[1]:
                problems.append(f"{here}: start {format_minutes(bounds[0])} must be before end {format_minutes(bounds[1])}")
            else:
                windows.extend(Window(number, *bounds) for number in day_numbers)
    return merge_windows(windows)


def _parse_campaign(raw: Any, where: str, problems: list[str]) -> CampaignSpec | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be an object")
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}.name: is required")
    elif len(name.strip()) > 200:
        problems.append(f"{where}.name: longer than 200 characters")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"{where}.enabled: must be true or false")
    start = _parse_date(raw.get("start_date"), f"{where}.start_date", problems)
    end = _parse_date(raw.get("end_date"), f"{where}.end_date", problems)
    if start and end and start > end:
        problems.append(f"{where}: start_date {start} is after end_date {end}")
    windows = parse_schedule(raw.get("schedule"), f"{where}.schedule", problems)
    if not isinstance(name, str) or not isinstance(enabled, bool):
        return None
    return CampaignSpec(name.strip(), enabled, start, end, windows)


def parse_fixtures(data: Any) -> list[BrandSpec]:
    """Validate a fixtures document; raises CatalogError listing every problem."""
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("brands"), list):
        raise CatalogError(["the document must be an object with a \"brands\" list"])
    specs: list[BrandSpec] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["brands"]):
        where = f"brands[{i}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be an object")
            continue
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}.name: is required")
            name = ""
        name = name.strip()
        if len(name) > 200:
            problems.append(f"{where}.name: longer than 200 characters")
        if name in seen:
            problems.append(f"{where}.name: brand {name!r} appears twice")
        seen.add(name)
        timezone = raw.get("timezone") or "UTC"
        if not isinstance(timezone, str) or not valid_timezone(timezone):
            problems.append(f"{where}.timezone: {timezone!r} is not an IANA time zone like America/New_York")
        currency = raw.get("currency") or "USD"
        if not isinstance(currency, str) or not is_currency(currency.upper()):
            problems.append(f"{where}.currency: {currency!r} is not an ISO 4217 currency code")
            currency = "USD"
        currency = currency.upper()
        budgets = {}
        for key in ("daily_budget", "monthly_budget"):
            if key not in raw:
                problems.append(f"{where}.{key}: is required")
            else:
                budgets[key] = parse_money(raw[key], currency, f"{where}.{key}", problems)
        campaigns_raw = raw.get("campaigns") or []
        if not isinstance(campaigns_raw, list):
            problems.append(f"{where}.campaigns: must be a list")
            campaigns_raw = []
        campaigns = []
        names: set[str] = set()
        for j, craw in enumerate(campaigns_raw):
            spec = _parse_campaign(craw, f"{where}.campaigns[{j}]", problems)
            # Checked on the raw name, so a duplicate of a campaign with other problems is reported too.
            cname = craw.get("name") if isinstance(craw, dict) else None
            if isinstance(cname, str) and cname.strip():
                if cname.strip() in names:
                    problems.append(f"{where}.campaigns[{j}].name: campaign {cname.strip()!r} appears twice")
                names.add(cname.strip())
            if spec is not None:
                campaigns.append(spec)
        if budgets.get("daily_budget") is not None and budgets.get("monthly_budget") is not None:
            specs.append(BrandSpec(name, timezone, currency, budgets["daily_budget"], budgets["monthly_budget"], campaigns))
    if problems:
        raise CatalogError(problems)
    return specs


def set_windows(session: Session, campaign: Campaign, windows: list[Window]) -> bool:
    """Replace a campaign's schedule; returns whether it changed."""
    new = merge_windows(windows)
    if list(campaign.schedule()) == new:
        return False
    campaign.windows.clear()
    session.flush()
    campaign.windows.extend(
        ScheduleWindow(day_of_week=w.day, start_minute=w.start, end_minute=w.end) for w in new
    )
    return True


def brand_has_spend(session: Session, brand_id: int) -> bool:
    return bool(session.scalar(select(exists().where(SpendRecord.brand_id == brand_id))))


def apply_brand(session: Session, spec: BrandSpec, summary: LoadSummary) -> Brand:
    brand = session.scalar(select(Brand).where(Brand.name == spec.name))
    if brand is None:
        brand = Brand(name=spec.name)
        session.add(brand)
        summary.brands_created += 1
        changed = False
    else:
        if brand.currency != spec.currency and brand_has_spend(session, brand.id):
            raise CatalogError([f"brand {spec.name!r}: its currency cannot change from {brand.currency} "
                                f"to {spec.currency} because it has spend recorded"])
        changed = (brand.timezone, brand.currency, brand.daily_budget_minor, brand.monthly_budget_minor,
                   brand.archived_at) != (spec.timezone, spec.currency, spec.daily_budget_minor,
                                          spec.monthly_budget_minor, None)
    zone_changed = brand.id is not None and brand.timezone != spec.timezone
    brand.timezone = spec.timezone
    brand.currency = spec.currency
    brand.daily_budget_minor = spec.daily_budget_minor
    brand.monthly_budget_minor = spec.monthly_budget_minor
    brand.archived_at = None
    session.flush()
    if zone_changed:
        rebuild_day_totals(session, brand)
    for cspec in spec.campaigns:
        campaign = next((c for c in brand.campaigns if c.name == cspec.name), None)
        is_new = campaign is None
        if is_new:
            campaign = Campaign(brand=brand, name=cspec.name)
            session.add(campaign)
            summary.campaigns_created += 1
        fields_changed = (campaign.enabled, campaign.start_date, campaign.end_date, campaign.archived_at) != (
            cspec.enabled, cspec.start_date, cspec.end_date, None)
        campaign.enabled = cspec.enabled
        campaign.start_date = cspec.start_date
        campaign.end_date = cspec.end_date
        campaign.archived_at = None
        session.flush()
        windows_changed = set_windows(session, campaign, cspec.windows)
        if not is_new and (fields_changed or windows_changed):
            summary.campaigns_updated += 1
    if changed:
        summary.brands_updated += 1
    summary.brand_ids.append(brand.id)
    return brand


def load_fixtures(session: Session, data: Any) -> LoadSummary:
    """Create or update brands, campaigns and schedules by name; does not commit.

    Raises CatalogError (with every problem) before writing anything if the document is invalid.
    """
    specs = parse_fixtures(data)
    problems = []
    for i, spec in enumerate(specs):
        brand = session.scalar(select(Brand).where(Brand.name == spec.name))
        if brand is not None and brand.currency != spec.currency and brand_has_spend(session, brand.id):
            problems.append(f"brands[{i}].currency: {spec.name!r} has spend recorded in {brand.currency}, "
                            f"so its currency cannot change to {spec.currency}")
    if problems:
        raise CatalogError(problems)
    summary = LoadSummary()
    for spec in specs:
        apply_brand(session, spec, summary)
    return summary
