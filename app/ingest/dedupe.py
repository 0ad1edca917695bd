"""Dedupe keys: what makes a spend record the same record when it comes in again.

One function per kind of key, used by every writer (import, API, form, CLI) and by the
simulator, so "already stored" means the same thing everywhere.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from app.ingest.csv_spend import SpendRow

# The width of spend_record.dedupe_key (a test holds the model to it).
DEDUPE_KEY_LENGTH = 80


def utc_text(instant: datetime) -> str:
    """An aware instant as naive UTC text with microseconds, the form SQLite stores (``2026-11-05 14:30:00.000000``)."""
    # Per row of an import: an instant already in UTC (every ``…Z`` time, every converted local one) skips the
    # conversion, which would return an equal instant.
    if instant.tzinfo is not UTC:
        instant = instant.astimezone(UTC)
    return instant.isoformat(" ", "microseconds")[:26]


def external_key(brand_id: int, external_id: str) -> str:
    """Dedupe key of a record with a platform id: unique within the brand.

    Readable (``e:12:px-9931``), so the keys of one brand sit together in the unique index and
    an import's inserts land on a few pages instead of at random; an id too long for the column
    is stored by its digest (``h:12:<40 hex>``).
    """
    key = f"e:{brand_id}:{external_id}"
    if len(key) <= DEDUPE_KEY_LENGTH:
        return key
    return f"h:{brand_id}:{hashlib.sha256(external_id.encode()).hexdigest()[:40]}"


def fingerprint_key(campaign_id: int, spent_at_utc: str, amount_minor: int, occurrence: int) -> str:
    """Dedupe key of a file row without an external id (``f:7:2026-11-05 14:30:00.000000:1250:1``).

    ``spent_at_utc`` is :func:`utc_text` of the instant. ``occurrence`` is 1 for the first row of
    a file with this campaign, instant and amount, 2 for the second, ...: re-importing the file
    adds nothing, yet two genuinely equal rows in one file both count.
    """
    return f"f:{campaign_id}:{spent_at_utc}:{amount_minor}:{occurrence}"


def period_key(campaign_id: int, period: str, start: datetime) -> str:
    """Dedupe key of a period row, a platform's figure for one campaign and one day or hour: (campaign, period).

    ``start`` is the period's first instant (brand-local midnight or the start of the local hour), named in
    UTC so the two 01:00 hours of a fall-back night are two periods (``p:7:hour:2026-11-01 05:00:00.000000``).
    """
    if period not in ("day", "hour"):
        raise ValueError(f"unknown spend period {period!r}")
    return f"p:{campaign_id}:{period}:{utc_text(start)}"


def unique_key() -> str:
    """Dedupe key of a one-off manual record: never a duplicate."""
    return f"m:{uuid.uuid4().hex}"


def row_dedupe_key(row: SpendRow, occurrences: dict[tuple, int], spent_at_utc: str) -> str:
    """The dedupe key of a file row; ``occurrences`` counts equal rows seen so far in the same file.

    ``spent_at_utc`` is ``utc_text(row.spent_at)``, which the caller has at hand.
    """
    ref = row.campaign
    if row.period is not None:
        return period_key(ref.campaign_id, row.period, row.spent_at)
    if row.external_id:
        return external_key(ref.brand_id, row.external_id)
    fact = (ref.campaign_id, spent_at_utc, row.amount_minor)
    occurrences[fact] = occurrence = occurrences.get(fact, 0) + 1
    return fingerprint_key(ref.campaign_id, spent_at_utc, row.amount_minor, occurrence)


def dedupe_keys_for_rows(rows: Iterable[SpendRow]) -> list[str]:
    """Dedupe keys of one file's (or one request's) good rows, in their order."""
    occurrences: dict[tuple, int] = {}
    return [row_dedupe_key(row, occurrences, utc_text(row.spent_at)) for row in rows]


def first_of_each_key(keyed: Iterable[tuple[SpendRow, str]], stored: set[str]) -> list[tuple[SpendRow, str]]:
    """The rows a write would insert: the first row of each key, in order, unless the key is ``stored``.

    This is exactly what ``INSERT … ON CONFLICT (dedupe_key) DO NOTHING`` in file order keeps,
    so the simulator counts what an import would store.
    """
    seen = set(stored)
    kept = []
    for row, key in keyed:
        if key not in seen:
            seen.add(key)
            kept.append((row, key))
    return kept
