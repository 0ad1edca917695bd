"""Creating, editing and archiving brands by hand, each followed by a reconcile under the user's name.

Every function validates first and raises BrandError (messages keyed by field) before
writing anything; none commits. These are the brand rules for every caller: the brand form
and ``fixtures load`` (which passes ``reconcile=False`` and reconciles once at the end).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from app.database import IdBlock, lock_brand
from app.models import Brand, Campaign, SpendRecord
from app.money import MAX_MINOR, MoneyError, exponent, format_amount, is_currency, parse_amount, to_decimal, to_minor
from app.services.enforcement import enforce_after_commit
from app.services.reconcile import Change, reconcile_brand
from app.services.spend import rebuild_day_totals
from app.services.zone_names import canonical_zone

NAME_MAX = 200


def too_long_message(text: str, limit: int) -> str:
    """The one sentence for a name past its limit (brands and campaigns say it alike)."""
    return f"At most {limit} characters (this one has {len(text)})."


BRAND_FIELDS = ("name", "timezone", "currency", "daily_budget", "monthly_budget")


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


def parse_budget(value: str | Decimal | int, currency: str) -> int:
    """A budget as typed (plain decimal text, e.g. "1500.00") or a Decimal or int, in minor units of ``currency``.

    Text goes through :func:`app.money.parse_amount`, numbers through :func:`app.money.to_minor`;
    floats are refused, never rounded. Raises MoneyError with a sentence for the person who gave it.
    """
    if isinstance(value, bool) or not isinstance(value, str | Decimal | int):
        raise MoneyError('Enter the amount as text or a whole or decimal number, e.g. "1500.00".')
    try:
        if isinstance(value, str):
            return parse_amount(value, currency)
        return to_minor(Decimal(value), currency)
    except MoneyError as exc:
        raise MoneyError(_budget_sentence(exc.kind, value, currency)) from None


def _budget_sentence(kind: str, value: str | Decimal | int, currency: str) -> str:
    if kind == "empty":
        return "Enter an amount, e.g. 100.00 (0 pauses every campaign)."
    if kind == "negative":
        return "A budget cannot be negative."
    if kind == "decimals":
        digits = exponent(currency)
        allowed = "no decimals" if digits == 0 else f"at most {digits} decimal{'s' if digits > 1 else ''}"
        return f"{currency} amounts have {allowed}."
    if kind == "too_large":
        return f"Too large: at most {format_amount(MAX_MINOR, currency)} {currency}."
    if kind == "not_finite":
        return "Enter a finite amount."
    text = value.strip() if isinstance(value, str) else value
    return f"“{text}” is not an amount: use digits and a decimal point, e.g. 1500.00."


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones() | {"UTC"})


@lru_cache(maxsize=1024)  # fixtures ask for a few zones thousands of times
def valid_timezone(name: str) -> bool:
    """True for an IANA zone name this machine knows (and can load), e.g. "America/New_York"."""
    if name not in _zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def brand_has_spend(session: Session, brand_id: int) -> bool:
    return bool(session.scalar(select(exists().where(SpendRecord.brand_id == brand_id))))


def brands_named(session: Session, name: str) -> list[Brand]:
    """The brands (archived too) whose name equals ``name`` ignoring case and surrounding spaces."""
    # The exact name too: SQLite's lower() folds ASCII only, so "Ä" would not find a stored "Ä" by lower() alone.
    name = name.strip()
    same = or_(Brand.name == name, func.lower(Brand.name) == name.lower())
    return list(session.scalars(select(Brand).where(same).order_by(Brand.id)))


def brand_typed(session: Session, name: str) -> tuple[Brand | None, list[str]]:
    """The brand a person typed the name of (as :func:`brands_named`: case and surrounding spaces aside), or
    None and up to three names containing what was typed, to suggest."""
    found = brands_named(session, name)
    exact = [brand for brand in found if brand.name == name.strip()]
    if len(exact) == 1 or len(found) == 1:
        return (exact or found)[0], []
    near = select(Brand.name).where(Brand.name.icontains(name.strip(), autoescape=True)).order_by(Brand.name)
    return None, list(session.scalars(near.limit(3)))


class BrandNames:
    """What :func:`brands_named` answers for many names, read in one query per 500 names (fixtures):
    the brands (archived too) by name ignoring case and surrounding spaces, with their campaigns and
    schedules loaded. Brands created afterwards are added with :meth:`add` (create_brand does)."""

    def __init__(self, session: Session, names: Iterable[str]) -> None:
        self.by_key: dict[str, list[Brand]] = {}
        stripped = sorted({name.strip() for name in names if name.strip()})
        for i in range(0, len(stripped), 500):
            chunk = stripped[i : i + 500]
            # The exact names too: SQLite's lower() folds ASCII only (see brands_named).
            same = or_(Brand.name.in_(chunk), func.lower(Brand.name).in_({name.lower() for name in chunk}))
            for brand in session.scalars(
                select(Brand)
                .where(same)
                .order_by(Brand.id)
                .options(selectinload(Brand.campaigns).selectinload(Campaign.windows))
            ):
                self.add(brand)

    def named(self, name: str) -> list[Brand]:
        return list(self.by_key.get(name.strip().lower(), ()))

    def add(self, brand: Brand) -> None:
        self.by_key.setdefault(brand.name.strip().lower(), []).append(brand)


def _name_taken(session: Session, name: str, brand_id: int | None, names: BrandNames | None = None) -> Brand | None:
    # Case-insensitive, so "Acme" and "acme" never sit side by side in the lists.
    named = names.named(name) if names is not None else brands_named(session, name)
    return next((other for other in named if other.id != brand_id), None)


def validate_brand(
    session: Session,
    *,
    name: str,
    timezone: str,
    currency: str,
    daily_budget: str | Decimal,
    monthly_budget: str | Decimal,
    brand: Brand | None = None,
    names: BrandNames | None = None,
) -> BrandValues:
    """Check every field (all problems at once) against the database; raises BrandError.

    ``names``, when the caller has one, answers the name lookup instead of a query.
    """
    errors: dict[str, list[str]] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    name = (name or "").strip()
    if not name:
        fail("name", "Enter a name.")
    elif len(name) > NAME_MAX:
        fail("name", too_long_message(name, NAME_MAX))
    else:
        other = _name_taken(session, name, brand.id if brand is not None else None, names)
        if other is not None:
            archived = " (archived)" if other.archived_at is not None else ""
            fail("name", f"A brand named “{other.name}”{archived} already exists.")

    timezone = (timezone or "").strip()
    if not valid_timezone(timezone):
        fail("timezone", f"“{timezone}” is not an IANA time zone; pick one from the list, e.g. America/New_York.")
    else:
        timezone = canonical_zone(timezone)  # an alias (US/Eastern, Asia/Calcutta) is stored by its listed name

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


def create_brand(
    session: Session,
    now: datetime,
    *,
    actor: str,
    reconcile: bool = True,
    names: BrandNames | None = None,
    ids: IdBlock | None = None,
    **fields,
) -> Brand:
    """Validate and add a brand (fields as for :func:`validate_brand`); flushes, does not commit.

    With ``reconcile=False`` the caller reconciles the brand once it has made all its changes.
    With ``names`` the name is checked against it, and the new brand added to it. With ``ids`` (a
    caller adding many, with ``reconcile=False``) the brand takes its id from that block and is not
    flushed: the caller's next flush writes many brands in one statement.
    """
    values = validate_brand(session, names=names, **fields)
    # With ids given, every column is given too (the stored default of the alert percentages as well), so
    # the ORM has nothing to read back and writes many new brands in one statement.
    bulk = {"id": ids.take(), "alert_percents": Brand.__table__.c.alert_percents.default.arg} if ids else {}
    brand = Brand(
        **bulk,
        name=values.name,
        timezone=values.timezone,
        currency=values.currency,
        daily_budget_minor=values.daily_budget_minor,
        monthly_budget_minor=values.monthly_budget_minor,
        created_at=now,
    )
    session.add(brand)
    if ids is None:
        session.flush()
    if names is not None:
        names.add(brand)
    if reconcile:
        reconcile_brand(session, brand.id, now, actor=actor, automatic=False)
    enforce_after_commit(session, [brand.id])
    return brand


class BrandLocked(ValueError):
    """The brand is archived, so it can no longer be changed."""


@dataclass
class BrandUpdate:
    brand: Brand
    changed: list[str]
    changes: list[Change]


def update_brand(
    session: Session,
    brand_id: int,
    now: datetime,
    *,
    actor: str,
    reconcile: bool = True,
    names: BrandNames | None = None,
    **fields,
) -> BrandUpdate:
    """Validate and apply the fields given under the brand's lock, then reconcile its campaigns at ``now``.

    ``fields`` are any of name, timezone, currency, daily_budget, monthly_budget (as for
    :func:`validate_brand`); the others keep their stored values, except that a new currency
    needs both budgets stated in it. A time zone change moves every spend record to its new
    local date and rebuilds the day totals first. With ``reconcile=False`` the caller
    reconciles. Raises LookupError for an unknown brand, BrandLocked for an archived one,
    BrandError for bad input.
    """
    unknown = set(fields) - set(BRAND_FIELDS)
    if unknown:
        raise TypeError(f"update_brand() got unknown fields: {', '.join(sorted(unknown))}")
    brand = lock_brand(session, brand_id)
    if brand is None:
        raise LookupError(f"no brand with id {brand_id}")
    if brand.archived_at is not None:
        raise BrandLocked(f"“{brand.name}” is archived and cannot be edited")
    stored = {
        "name": brand.name,
        "timezone": brand.timezone,
        "currency": brand.currency,
        "daily_budget": to_decimal(brand.daily_budget_minor, brand.currency),
        "monthly_budget": to_decimal(brand.monthly_budget_minor, brand.currency),
    }
    restate = _budgets_to_restate(brand, fields)
    try:
        values = validate_brand(session, brand=brand, names=names, **(stored | fields))
    except BrandError as exc:
        raise BrandError(exc.errors | restate) from None
    if restate:
        raise BrandError(restate)
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
    changes = reconcile_brand(session, brand.id, now, actor=actor, automatic=False) if reconcile else []
    enforce_after_commit(session, [brand.id])
    return BrandUpdate(brand, changed, changes)


def _budgets_to_restate(brand: Brand, fields: dict) -> dict[str, list[str]]:
    # A stored amount means something else in another currency: 100.00 USD is not 100 JPY.
    currency = fields.get("currency")
    new = currency.strip().upper() if isinstance(currency, str) else brand.currency
    if new == brand.currency or not is_currency(new):
        return {}
    return {
        field: [f"State the {field.replace('_', ' ')} in {new} too: the currency changes from {brand.currency}."]
        for field in ("daily_budget", "monthly_budget")
        if field not in fields
    }


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


@dataclass
class BrandRestore:
    brand: Brand
    campaigns: int  # the campaigns brought back with it
    changes: list[Change]


def restore_brand(session: Session, brand_id: int, now: datetime, *, actor: str) -> BrandRestore:
    """Bring an archived brand back with the campaigns archived with it, then reconcile it at ``now``
    under ``actor`` (a manual change in the log). Campaigns archived on their own before stay archived.

    Idempotent: restoring a brand that is not archived changes nothing. Raises LookupError for an unknown brand.
    """
    brand = lock_brand(session, brand_id)
    if brand is None:
        raise LookupError(f"no brand with id {brand_id}")
    if brand.archived_at is None:
        return BrandRestore(brand, 0, [])
    # archive_brand stamps the brand and the campaigns it archives with the same instant.
    with_it = [campaign for campaign in brand.campaigns if campaign.archived_at == brand.archived_at]
    for campaign in with_it:
        campaign.archived_at = None
    brand.archived_at = None
    session.flush()
    enforce_after_commit(session, [brand.id])
    return BrandRestore(brand, len(with_it), reconcile_brand(session, brand.id, now, actor=actor, automatic=False))
