"""Parsing spend timestamps.

ISO 8601 with an offset or Z is an absolute instant; without one it is the
brand's wall-clock time. ``YYYY-MM-DD HH:MM[:SS]`` is accepted too. A wall-clock
time that DST skips is an error; a repeated one means its first occurrence.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,6})?)?"
    r"(?P<offset>Z|z|[+-]\d{2}(?::?\d{2})?)?$",
    re.ASCII,
)


class TimestampError(ValueError):
    """A timestamp that cannot be read; the message is a sentence."""


def parse_instant(text: str, tz: ZoneInfo | None) -> datetime:
    """Return the aware UTC instant of ``text``; naive times are wall-clock times in ``tz``.

    With ``tz`` None a naive time is refused (the caller has no zone to read it in).
    """
    raw = text.strip()
    if not raw:
        raise TimestampError("the spent_at time is empty")
    match = _TIMESTAMP.match(raw)
    if not match:
        raise TimestampError(
            f"timestamp {raw!r} is not ISO 8601 like 2026-03-08T14:30:00Z, "
            "2026-03-08T09:30:00-05:00 or 2026-03-08 09:30"
        )
    try:
        parsed = datetime.fromisoformat(raw.replace(",", ".").replace("z", "Z"))
    except ValueError:
        raise TimestampError(f"timestamp {raw!r} is not a real date and time") from None
    if parsed.tzinfo is None and tz is None:
        raise TimestampError(f"timestamp {raw!r} needs an offset or Z")
    try:
        instant = parsed.astimezone(UTC) if parsed.tzinfo is not None else local_to_utc(parsed, tz)
        if tz is not None:
            instant.astimezone(tz)  # its brand-local day must exist too (not so near year 1 or 9999)
    except OverflowError:
        raise TimestampError(f"timestamp {raw!r} is out of range") from None
    return instant


def local_to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """A naive wall-clock time in ``tz`` as an aware UTC instant (first occurrence if repeated)."""
    local = wall.replace(tzinfo=tz, fold=0)
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        raise TimestampError(
            f"{wall:%Y-%m-%d %H:%M} does not exist in {tz.key}: the clocks skip it for daylight saving time"
        )
    return instant


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_HOUR = re.compile(
    r"^(?P<day>\d{4}-\d{2}-\d{2})[T ](?P<hour>\d{2})(?::00(?::00)?)?(?P<offset>Z|[+-]\d{2}:?\d{2})?$", re.ASCII
)


def parse_period_start(text: str, period: str, tz: ZoneInfo) -> datetime:
    """The first instant (aware UTC) of the brand-local ``period`` that ``text`` names.

    A day is its date (``2026-11-05``): it starts at the local midnight (or the first instant of the day
    where DST skips midnight). An hour is its local start, ``2026-11-05 14:00``, ``2026-11-05T14`` or with
    ``:00:00``; a repeated hour (a fall-back night) is its first occurrence unless an offset names the
    other one (``2026-11-01T01:00-05:00``); an hour that DST skips is an error.
    """
    raw = text.strip()
    if period == "day":
        if not _DAY.match(raw):
            raise TimestampError(f"a day's spent_at is its date in the brand's zone like 2026-11-05, not {raw!r}")
        try:
            day = datetime.fromisoformat(raw)
            return day.replace(tzinfo=tz).astimezone(UTC)
        except (ValueError, OverflowError):
            raise TimestampError(f"{raw!r} is not a real date") from None
    match = _HOUR.match(raw)
    if not match:
        raise TimestampError(
            f"an hour's spent_at is its start in the brand's zone like 2026-11-05 14:00 or 2026-11-05T14, not {raw!r}"
        )
    try:
        wall = datetime.fromisoformat(f"{match['day']}T{match['hour']}:00")
        instant = None
        if match["offset"]:
            instant = datetime.fromisoformat(f"{match['day']}T{match['hour']}:00{match['offset']}").astimezone(UTC)
            local = instant.astimezone(tz)
    except (ValueError, OverflowError):
        raise TimestampError(f"{raw!r} is not a real date and hour") from None
    if instant is None:
        return local_to_utc(wall, tz)
    if local.minute or local.second:
        raise TimestampError(f"{raw!r} is not the start of an hour in {tz.key}")
    return instant
