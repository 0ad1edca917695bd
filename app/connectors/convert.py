"""From a platform's figures to Pacer's: money to the brand's minor units, an account-local hour to
the instant it starts. Pure and exact (Decimal and integers, never float)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from app.money import exponent


class ConversionError(ValueError):
    """A figure Pacer cannot place (a zone or currency it cannot convert); the message is a sentence."""


def to_minor_units(amount: Decimal, currency: str) -> int:
    """A platform amount in major units (exact Decimal, e.g. cost_micros / 10^6) to integer minor units
    of ``currency``, rounded half up: 1.234999 USD -> 123, 1.235 USD -> 124. The rounding is per hour,
    so a day's total can differ from the platform's own day total by up to half a minor unit per hour."""
    if not amount.is_finite() or amount < 0:
        raise ConversionError(f"a platform amount must be a finite number of at least 0, not {amount}")
    return int(amount.scaleb(exponent(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def hour_start(day: date, hour: int, zone: str) -> datetime:
    """The UTC instant an account-local hour starts. In a fall-back night the repeated hour is read as
    its first occurrence (the platforms report one row for it); an hour skipped by DST is an error."""
    if not 0 <= hour <= 23:
        raise ConversionError(f"hour {hour} is not between 0 and 23")
    tz = ZoneInfo(zone)
    local = datetime.combine(day, time(hour), tzinfo=tz)
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ConversionError(f"{day} {hour:02d}:00 does not exist in {zone} (skipped by daylight saving time)")
    return instant


def brand_hour(instant: datetime, brand_zone: str) -> datetime:
    """``instant`` when it starts an hour of the brand's zone, else ConversionError: an account whose
    zone is not a whole number of hours from the brand's cannot be split into the brand's hours."""
    local = instant.astimezone(ZoneInfo(brand_zone))
    if local.minute or local.second or local.microsecond:
        raise ConversionError(
            f"the account's hours start at :{local.minute:02d} in the brand's zone {brand_zone}: "
            "use an account in a zone a whole number of hours from the brand's"
        )
    return instant
