"""`fixtures load`: brands, campaigns and schedules from a JSON document, written through their services.

This module reads the document (its shape, JSON types, dates and schedule rows); every rule
about a brand or a campaign is the one of app.services.brands and app.services.campaigns,
with their messages, prefixed by the path of the bad value (``brands[0].campaigns[1].name``).

- A brand is matched by name ignoring case, as the brand form keeps names unique ignoring
  case: "acme" updates the one brand "Acme" (its stored spelling is kept). A campaign is
  matched by its exact name within the brand, as the campaign form treats names.
- An entry for an existing brand or campaign changes only the fields it states. Defaults
  (time zone UTC, currency USD, enabled, no schedule) apply only on create, where both
  budgets are required. A missing ``schedule`` keeps the stored one; ``[]`` or ``null``
  clears it (the campaign runs at any hour).
- Every entry goes through the services in the caller's transaction and every problem is
  collected; any problem raises CatalogError at the end, and the caller rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.control import Window, parse_clock
from app.control.schedule import DAY_NAMES, check_hours, check_step, merge_windows
from app.database import IdBlock
from app.models import Brand, Campaign
from app.services.brands import BrandError, BrandLocked, BrandNames, create_brand, update_brand
from app.services.campaigns import (
    CampaignError,
    CampaignLocked,
    NewCampaigns,
    create_campaign,
    set_schedule,
    update_campaign,
    validate_campaign,
)

_DAY_ALIASES = {name: i for i, name in enumerate(DAY_NAMES)} | {
    full: i for i, full in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
}


def day_number(text: str) -> int | None:
    """A weekday as fixtures name it: mon..sun or monday..sunday (any case) or 0..6 (0 = Monday); None if not one."""
    text = text.strip().lower()
    if text.isdigit():
        return int(text) if int(text) <= 6 else None
    return _DAY_ALIASES.get(text)


BRAND_DEFAULTS = {"timezone": "UTC", "currency": "USD", "daily_budget": "", "monthly_budget": ""}


class CatalogError(ValueError):
    """Invalid brand or campaign data; ``problems`` lists each with the path of the bad value."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


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


def load_fixtures(session: Session, data: Any, now: datetime) -> LoadSummary:
    """Create or update the document's brands, campaigns and schedules at ``now``; does not commit or reconcile.

    The caller reconciles ``brand_ids`` of the summary once it has committed. Raises CatalogError
    listing every problem; the session may then hold some of the writes, so the caller rolls back.
    """
    if not isinstance(data, dict) or not isinstance(data.get("brands"), list):
        raise CatalogError(['the document must be an object with a "brands" list'])
    loader = _Loader(session, now)
    # Every brand the document names, with its campaigns and schedules, in a few queries instead of a few per entry.
    loader.names = BrandNames(
        session, [raw["name"] for raw in data["brands"] if isinstance(raw, dict) and isinstance(raw.get("name"), str)]
    )
    for i, raw in enumerate(data["brands"]):
        loader.brand(raw, f"brands[{i}]")
    if loader.problems:
        raise CatalogError(loader.problems)
    loader.new_campaigns.write()
    return loader.summary


class _Loader:
    # The services reconcile under this name unless told not to; the loader always tells them not to.
    actor = "fixtures"

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.problems: list[str] = []
        self.summary = LoadSummary()
        self.seen_brands: set[str] = set()
        self.names: BrandNames | None = None
        self.created: set[int] = set()  # brands this load created: no campaigns yet (and none to load)
        self.listed: set[int] = set()  # summary.brand_ids as a set: a list lookup per brand was quadratic
        # The brands this load adds take their ids here, so they are written at once, not flushed one by one;
        # their campaigns and schedules are gathered and written in multi-row inserts.
        self.brand_ids = IdBlock(session, Brand)
        self.new_campaigns = NewCampaigns(session)

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def service_errors(self, where: str, errors: dict[str, list[str]], *, reported: set[str] = frozenset()) -> None:
        """The service's messages at their paths, but for fields already reported as unreadable."""
        for name, messages in errors.items():
            if name in reported:
                continue
            for message in messages:
                self.problem(f"{where}.{name}" if name else where, message)

    def brand(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            self.problem(where, "must be an object")
            return
        name = _text(raw, "name", where, self, default="")
        key = (name or "").strip().lower()
        if key and key in self.seen_brands:
            self.problem(f"{where}.name", f"brand {name.strip()!r} appears twice (names are matched ignoring case)")
        self.seen_brands.add(key)
        fields = {}
        for text_field in ("timezone", "currency"):
            if text_field in raw and (value := _text(raw, text_field, where, self)) is not None:
                fields[text_field] = value
        # The budgets go to the service as given: parse_budget judges text and numbers alike.
        fields |= {budget: raw[budget] for budget in ("daily_budget", "monthly_budget") if budget in raw}
        campaigns = raw.get("campaigns", [])
        if campaigns is None:
            campaigns = []
        elif not isinstance(campaigns, list):
            self.problem(f"{where}.campaigns", "must be a list")
            campaigns = []

        brand, writable = self._write_brand(key, name, fields, where, reported={"name"} if name is None else set())
        seen: set[str] = set()
        # The brand was created, or locked by update_brand, in this transaction: its campaigns by name stand
        # for the per-entry lock and name query of the campaign services.
        siblings = {} if brand is None or brand.id in self.created else {c.name: c for c in brand.campaigns}
        for j, craw in enumerate(campaigns):
            self.campaign(brand, writable, craw, f"{where}.campaigns[{j}]", seen, siblings)
        if writable and brand is not None and brand.id not in self.listed:
            self.listed.add(brand.id)
            self.summary.brand_ids.append(brand.id)

    def _write_brand(
        self, key: str, name: str | None, fields: dict, where: str, reported: set[str]
    ) -> tuple[Brand | None, bool]:
        """The brand the entry names, created or updated, and whether its campaigns may be written."""
        existing = self.names.named(key) if key else []
        if len(existing) > 1:
            spellings = ", ".join(f"“{b.name}”" for b in existing)
            self.problem(
                f"{where}.name",
                f"{len(existing)} brands are named so ignoring case ({spellings}); "
                "rename all but one in the brand form first.",
            )
            return None, False
        if existing:
            try:
                result = update_brand(
                    self.session,
                    existing[0].id,
                    self.now,
                    actor=self.actor,
                    reconcile=False,
                    names=self.names,
                    **fields,
                )
            except BrandLocked as exc:
                self.problem(f"{where}.name", f"{exc}.")
                return None, False
            except BrandError as exc:
                self.service_errors(where, exc.errors, reported=reported)
                return existing[0], False
            self.summary.brands_updated += bool(result.changed)
            return result.brand, True
        try:
            brand = create_brand(
                self.session,
                self.now,
                actor=self.actor,
                reconcile=False,
                names=self.names,
                ids=self.brand_ids,
                **(BRAND_DEFAULTS | fields | {"name": name or ""}),
            )
        except BrandError as exc:
            self.service_errors(where, exc.errors, reported=reported)
            return None, False
        self.summary.brands_created += 1
        self.created.add(brand.id)
        return brand, True

    def campaign(
        self,
        brand: Brand | None,
        brand_written: bool,
        raw: Any,
        where: str,
        seen: set[str],
        siblings: dict[str, Any],
    ) -> None:
        if not isinstance(raw, dict):
            self.problem(where, "must be an object")
            return
        before = len(self.problems)
        text = _text(raw, "name", where, self, default="")
        name = (text or "").strip()
        if name and name in seen:
            self.problem(f"{where}.name", f"campaign {name!r} appears twice")
        seen.add(name)
        fields: dict[str, Any] = {}
        if "enabled" in raw:
            if isinstance(raw["enabled"], bool):
                fields["enabled"] = raw["enabled"]
            else:
                self.problem(f"{where}.enabled", "must be true or false")
        for date_field in ("start_date", "end_date"):
            if date_field in raw:
                fields[date_field] = _parse_date(raw[date_field], f"{where}.{date_field}", self)
        windows = parse_schedule(raw["schedule"], f"{where}.schedule", self.problems) if "schedule" in raw else None
        existing = siblings.get(name) if brand is not None and name else None

        if not brand_written or len(self.problems) > before:
            self._check_campaign(brand, existing, name, fields, where, reported={"name"} if text is None else set())
            return
        if brand.id in self.created:
            try:
                self.new_campaigns.add(
                    brand,
                    name=name,
                    enabled=fields.get("enabled", True),
                    start_date=fields.get("start_date"),
                    end_date=fields.get("end_date"),
                    windows=windows or [],
                    siblings=siblings,
                )
            except CampaignError as exc:
                self.service_errors(where, exc.errors)
                return
            self.summary.campaigns_created += 1
            return
        try:
            if existing is None:
                outcome = create_campaign(
                    self.session,
                    brand,
                    name=name,
                    enabled=fields.get("enabled", True),
                    start_date=fields.get("start_date"),
                    end_date=fields.get("end_date"),
                    now=self.now,
                    actor=self.actor,
                    reconcile=False,
                    siblings=siblings,
                    ids=self.new_campaigns.campaign_ids,  # on SQLite, the ids handed out are not stored yet
                )
                changed = True
            else:
                outcome = update_campaign(
                    self.session, existing, now=self.now, actor=self.actor, reconcile=False, siblings=siblings, **fields
                )
                changed = outcome.changed
            if windows is not None:
                changed = (
                    set_schedule(
                        self.session,
                        outcome.campaign,
                        windows,
                        now=self.now,
                        actor=self.actor,
                        reconcile=False,
                        brand_locked=True,
                        ids=self.new_campaigns.window_ids,
                    ).changed
                    or changed
                )
        except CampaignLocked as exc:
            self.problem(where, f"{exc}.")
            return
        except CampaignError as exc:
            self.service_errors(where, exc.errors)
            return
        if existing is None:
            self.summary.campaigns_created += 1
        elif changed:
            self.summary.campaigns_updated += 1

    def _check_campaign(
        self, brand: Brand | None, existing: Campaign | None, name: str, fields: dict, where: str, reported: set[str]
    ) -> None:
        """Report what the campaign service would refuse, for an entry that is not written."""
        stored = {"start_date": existing.start_date, "end_date": existing.end_date} if existing else {}
        values = stored | {k: v for k, v in fields.items() if k in ("start_date", "end_date") and v is not _BAD}
        try:
            validate_campaign(
                self.session,
                brand,
                name=name,
                start_date=values.get("start_date"),
                end_date=values.get("end_date"),
                campaign_id=existing.id if existing else None,
            )
        except CampaignError as exc:
            self.service_errors(where, exc.errors, reported=reported)


_BAD = object()  # a value already reported as unreadable


def _text(raw: dict, key: str, where: str, loader: _Loader, default: str | None = None) -> str | None:
    value = raw.get(key, default)
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        loader.problem(f"{where}.{key}", f"must be text, not {_json_type(value)}")
        return None
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "a number"


def _parse_date(value: Any, where: str, loader: _Loader) -> date | None | object:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str):
            return date.fromisoformat(value)
    except ValueError:
        pass
    loader.problem(where, f"{value!r} is not a date like 2026-12-31")
    return _BAD


def parse_schedule(rows: Any, where: str, problems: list[str]) -> list[Window]:
    """Schedule rows ``{"days": [...], "start": "HH:MM", "end": "HH:MM"}`` as merged windows; null is none."""
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
            problems.append(f'{here}.days: must be a non-empty list like ["mon", "tue"]')
            days = []
        day_numbers = []
        for day in days:
            is_number = isinstance(day, int) and not isinstance(day, bool)
            number = day if is_number else _DAY_ALIASES.get(str(day).strip().lower())
            if number is None or not 0 <= number <= 6:
                problems.append(f"{here}.days: {day!r} is not a day (mon..sun or 0..6)")
            else:
                day_numbers.append(number)
        # The times are read on their own, so a bad time is reported even when the days are bad too.
        bounds = []
        for key in ("start", "end"):
            try:
                minute = parse_clock(str(row.get(key, "")))
                check_step(key, minute)
            except ValueError as exc:
                problems.append(f"{here}.{key}: {exc}")
            else:
                bounds.append(minute)
        if len(bounds) < 2:
            continue
        try:
            check_hours(*bounds)
        except ValueError as exc:
            problems.append(f"{here}: {exc}")
            continue
        windows.extend(Window(number, *bounds) for number in day_numbers)
    return merge_windows(windows)
