"""Per-brand local values in SQL: a value computed in Python once per time zone in use, handed to the
database as a CASE over ``brand.timezone``, so a set-based query can use each brand's local day,
weekday or minute without a row per brand in Python."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import case, literal, select
from sqlalchemy.orm import Session

from app.models import Brand


def per_zone(values: dict[str, object], type_=None):
    """A CASE over ``brand.timezone`` giving each zone its value (zones sharing a value share a WHEN)."""
    grouped: dict[object, list[str]] = defaultdict(list)
    for zone, value in values.items():
        grouped[value].append(zone)
    if not grouped:
        return literal(None, type_)
    if len(grouped) == 1:  # e.g. mid-month every zone shares the month's bounds: a constant is cheaper
        return literal(next(iter(grouped)), type_)
    # The last value is the ELSE, so a zone added since the zones were read still gets a value.
    *firsts, (last, _) = grouped.items()
    whens = [(Brand.timezone.in_(sorted(zones)), literal(value, type_)) for value, zones in firsts]
    return case(*whens, else_=literal(last, type_))


def zones_in_use(session: Session) -> list[str]:
    return list(session.scalars(select(Brand.timezone).distinct()))
