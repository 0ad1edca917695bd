"""Creating, editing and archiving brands by hand, each followed by a reconcile under the user's name.

Every function validates first and raises BrandError (messages keyed by field) before
writing anything; none commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.database import lock_brand
from app.models import Brand
from app.money import MAX_MINOR, MoneyError, exponent, format_amount, is_currency, to_minor
from app.services.catalog import brand_has_spend, valid_timezone
from app.services.enforcement import enforce_after_commit
from app.services.reconcile import Change, reconcile_brand
from app.services.spend import rebuild_day_totals

NAME_MAX = 200
_PLAIN_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]*)?$|^\.[0-9]+$")


class BrandError(ValueError):
    """Invalid brand input; ``errors`` maps each field name to its sentences."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class BrandValues:
    """Validated brand fields; budgets in minor units of ``currency``."""

    name: str
    timezone: str
    currency: str
    daily_budget_minor: int
    monthly_budget_minor: int


def parse_budget(value: str | Decimal, currency: str) -> int:
    """A budget as typed (plain decimal, e.g. "1500.00") or a Decimal, in minor units of ``currency``.

    Raises MoneyError with a sentence for the person who typed it.
    """
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise MoneyError("Enter an amount, e.g. 100.00 (0 pauses every campaign).")
        if text.startswith("-"):
            raise MoneyError("A budget cannot be negative.")
        if not _PLAIN_DECIMAL.match(text):
            raise MoneyError(f"“{text}” is not an amount: use digits and a decimal point, e.g. 1500.00.")
        try:
            value = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            raise MoneyError(f"“{text}” is not an amount.") from None
    if not value.is_finite():
        raise MoneyError("Enter a finite amount.")
    if value < 0:
        raise MoneyError("A budget cannot be negative.")
    digits = exponent(currency)
    if value.scaleb(digits) != value.scaleb(digits).to_integral_value():
        allowed = "no decimals" if digits == 0 else f"at most {digits} decimal{'s' if digits > 1 else ''}"
        raise MoneyError(f"{currency} amounts have {allowed}.")
    if value.scaleb(digits) > MAX_MINOR:
        raise MoneyError(f"Too large: at most {format_amount(MAX_MINOR, currency)} {currency}.")
    return to_minor(value, currency)


def _name_taken(session: Session, name: str, brand_id: int | None) -> Brand | None:
    # Case-insensitive, so "Acme" and "acme" never sit side by side in the lists.
    stmt = select(Brand).where(func.lower(Brand.name) == name.lower())
    if brand_id is not None:
        stmt = stmt.where(Brand.id != brand_id)
    return session.scalars(stmt.limit(1)).first()


def validate_brand(
    session: Session,
    *,
    name: str,
    timezone: str,
    currency: str,
    daily_budget: str | Decimal,
    monthly_budget: str | Decimal,
    brand: Brand | None = None,
) -> BrandValues:
    """Check every field (all problems at once) against the database; raises BrandError."""
    errors: dict[str, list[str]] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    name = (name or "").strip()
    if not name:
        fail("name", "Enter a name.")
    elif len(name) > NAME_MAX:
        fail("name", f"At most {NAME_MAX} characters (this one has {len(name)}).")
    else:
        other = _name_taken(session, name, brand.id if brand is not None else None)
        if other is not None:
            archived = " (archived)" if other.archived_at is not None else ""
            fail("name", f"A brand named “{other.name}”{archived} already exists.")

    timezone = (timezone or "").strip()
    if not valid_timezone(timezone):
        fail("timezone", f"“{timezone}” is not an IANA time zone; pick one from the list, e.g. America/New_York.")

    currency = (currency or "").strip().upper()
    currency_ok = is_currency(currency)
    if not currency_ok:
        fail("currency", f"“{currency}” is not an ISO 4217 currency code; pick one from the list.")
    elif brand is not None and brand.currency != currency and brand_has_spend(session, brand.id):
        fail("currency", f"This brand has spend recorded in {brand.currency}, so its currency cannot change.")

    budgets: dict[str, int] = {}
    for field, value in (("daily_budget", daily_budget), ("monthly_budget", monthly_budget)):
        if not currency_ok:
            continue  # the amounts cannot be checked without knowing the currency's decimals
        try:
            budgets[field] = parse_budget(value, currency)
        except MoneyError as exc:
            fail(field, str(exc))

    if errors:
        raise BrandError(errors)
    return BrandValues(name, timezone, currency, budgets["daily_budget"], budgets["monthly_budget"])


def create_brand(session: Session, now: datetime, *, actor: str, **fields) -> Brand:
    """Validate and add a brand (fields as for :func:`validate_brand`); flushes, does not commit."""
    values = validate_brand(session, **fields)
    brand = Brand(
        name=values.name,
        timezone=values.timezone,
        currency=values.currency,
        daily_budget_minor=values.daily_budget_minor,
        monthly_budget_minor=values.monthly_budget_minor,
        created_at=now,
    )
    session.add(brand)
    session.flush()
    reconcile_brand(session, brand.id, now, actor=actor, automatic=False)
    enforce_after_commit(session, [brand.id])
    return brand


@dataclass
class BrandUpdate:
    brand: Brand
    changed: list[str]
    changes: list[Change]


def update_brand(session: Session, brand_id: int, now: datetime, *, actor: str, **fields) -> BrandUpdate:
    """Validate and apply new values under the brand's lock, then reconcile its campaigns at ``now``.

    A time zone change moves every spend record to its new local date and rebuilds the day
    totals first. Raises LookupError for an unknown brand, BrandError for bad input.
    """
    brand = lock_brand(session, brand_id)
    if brand is None:
        raise LookupError(f"no brand with id {brand_id}")
    values = validate_brand(session, brand=brand, **fields)
    labels = {
        "name": "name",
        "timezone": "time zone",
        "currency": "currency",
        "daily_budget_minor": "daily budget",
        "monthly_budget_minor": "monthly budget",
    }
    changed = [label for attr, label in labels.items() if getattr(brand, attr) != getattr(values, attr)]
    zone_changed = brand.timezone != values.timezone
    for attr in labels:
        setattr(brand, attr, getattr(values, attr))
    session.flush()
    if zone_changed:
        rebuild_day_totals(session, brand)
        session.flush()
    changes = reconcile_brand(session, brand.id, now, actor=actor, automatic=False)
    enforce_after_commit(session, [brand.id])
    return BrandUpdate(brand, changed, changes)


def archive_brand(session: Session, brand_id: int, now: datetime, *, actor: str) -> list[Change]:
    """Archive the brand and its campaigns at ``now`` and pause them; history is kept.

    Idempotent: archiving an archived brand changes nothing. Raises LookupError for an unknown brand.
    """
    brand = lock_brand(session, brand_id)
    if brand is None:
        raise LookupError(f"no brand with id {brand_id}")
    if brand.archived_at is None:
        brand.archived_at = now
    for campaign in brand.campaigns:
        if campaign.archived_at is None:
            campaign.archived_at = now
    session.flush()
    enforce_after_commit(session, [brand.id])
    return reconcile_brand(session, brand.id, now, actor=actor, automatic=False)
