"""Flight dates: the brand-local dates (inclusive) a campaign may run."""

from __future__ import annotations

from datetime import date


def in_flight(start: date | None, end: date | None, day: date) -> bool:
    """True when brand-local ``day`` is within [start, end]; a missing bound is open."""
    if start is not None and day < start:
        return False
    return not (end is not None and day > end)
