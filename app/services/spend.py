"""Writing spend and reading the per-brand day and month totals.

Every spend write goes through :func:`write_spend`, which inserts the records
(skipping any whose dedupe key is already stored) and adds exactly the
inserted amounts to ``brand_day_spend`` in the same transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.control import local_day, month_bounds
from app.database import upsert_insert
from app.models import Brand, BrandDaySpend, Campaign, SpendRecord, utcnow

SOURCES = ("csv", "api", "manual")
DEDUPE_KEY_LENGTH = SpendRecord.__table__.c.dedupe_key.type.length


@dataclass(frozen=True, slots=True)
class NewSpend:
    campaign_id: int
    brand_id: int
    amount_minor: int
    spent_at: datetime
    local_date: date
    source: str
    dedupe_key: str
    external_id: str | None = None


@dataclass
class WriteResult:
    inserted: int = 0
    duplicates: int = 0
    brand_ids: set[int] = field(default_factory=set)
    # Filled only when asked for (write_spend(..., with_keys=True)): which records were new.
    inserted_keys: set[str] = field(default_factory=set)


def utc_text(instant: datetime) -> str:
    """An aware instant as naive UTC text with microseconds, the form SQLite stores (``2026-11-05 14:30:00.000000``)."""
    return instant.astimezone(UTC).isoformat(" ", "microseconds")[:26]


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


def unique_key() -> str:
    """Dedupe key of a one-off manual record: never a duplicate."""
    return f"m:{uuid.uuid4().hex}"


def new_spend(
    campaign: Campaign,
    amount_minor: int,
    spent_at: datetime,
    *,
    source: str,
    external_id: str | None = None,
    dedupe_key: str | None = None,
) -> NewSpend:
    """Build one record for ``campaign``; the local date is computed in its brand's zone."""
    if source not in SOURCES:
        raise ValueError(f"unknown spend source {source!r}")
    if amount_minor < 0:
        raise ValueError("spend amount must not be negative")
    brand = campaign.brand
    if dedupe_key is None:
        dedupe_key = external_key(brand.id, external_id) if external_id else unique_key()
    return NewSpend(
        campaign_id=campaign.id,
        brand_id=brand.id,
        amount_minor=amount_minor,
        spent_at=spent_at,
        local_date=local_day(spent_at, ZoneInfo(brand.timezone)),
        source=source,
        dedupe_key=dedupe_key,
        external_id=external_id,
    )


def write_spend(session: Session, records: list[NewSpend], *, with_keys: bool = False) -> WriteResult:
    """Insert ``records``, skipping stored dedupe keys, and add what was inserted to the day totals.

    With ``with_keys`` the result also names the dedupe keys that were inserted.

    Does not commit. Safe under concurrency: a key inserted by another transaction is
    skipped, and only amounts actually inserted reach the totals.
    """
    result = WriteResult()
    if not records:
        return result
    table = SpendRecord.__table__
    created = utcnow()
    stmt = (
        upsert_insert(session, table)
        .on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
        .returning(table.c.brand_id, table.c.local_date, table.c.amount_minor, table.c.dedupe_key)
    )
    rows = [
        {
            "campaign_id": r.campaign_id,
            "brand_id": r.brand_id,
            "amount_minor": r.amount_minor,
            "spent_at": r.spent_at,
            "local_date": r.local_date,
            "source": r.source,
            "external_id": r.external_id,
            "dedupe_key": r.dedupe_key,
            "created_at": created,
        }
        for r in records
    ]
    deltas: dict[tuple[int, date], int] = defaultdict(int)
    for brand_id, day, amount, key in session.execute(stmt, rows).all():
        deltas[(brand_id, day)] += amount
        result.inserted += 1
        if with_keys:
            result.inserted_keys.add(key)
    result.duplicates = len(records) - result.inserted
    result.brand_ids = {brand_id for brand_id, _ in deltas}
    add_to_day_totals(session, deltas)
    return result


def add_to_day_totals(session: Session, deltas: dict[tuple[int, date], int]) -> None:
    if not deltas:
        return
    table = BrandDaySpend.__table__
    stmt = upsert_insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.brand_id, table.c.local_date],
        set_={"amount_minor": table.c.amount_minor + stmt.excluded.amount_minor},
    )
    session.execute(
        stmt,
        [
            {"brand_id": brand_id, "local_date": day, "amount_minor": amount}
            for (brand_id, day), amount in sorted(deltas.items())
        ],
    )


def rebuild_day_totals(session: Session, brand: Brand) -> None:
    """Recompute a brand's local dates and day totals from its records (after a time zone change)."""
    tz = ZoneInfo(brand.timezone)
    records = session.scalars(select(SpendRecord).where(SpendRecord.brand_id == brand.id))
    deltas: dict[tuple[int, date], int] = defaultdict(int)
    for record in records:
        record.local_date = local_day(record.spent_at, tz)
        deltas[(brand.id, record.local_date)] += record.amount_minor
    session.query(BrandDaySpend).filter_by(brand_id=brand.id).delete()
    session.flush()
    add_to_day_totals(session, deltas)


def spend_between(session: Session, brand_id: int, first: date, last: date) -> int:
    """The brand's spend over brand-local dates first..last inclusive, in minor units."""
    total = session.scalar(
        select(func.coalesce(func.sum(BrandDaySpend.amount_minor), 0)).where(
            BrandDaySpend.brand_id == brand_id,
            BrandDaySpend.local_date >= first,
            BrandDaySpend.local_date <= last,
        )
    )
    return int(total)


def spend_for_local_day(session: Session, brand_id: int, day: date) -> int:
    return spend_between(session, brand_id, day, day)


def spend_for_local_month(session: Session, brand_id: int, day: date) -> int:
    """The brand's spend in the brand-local calendar month containing ``day``."""
    first, last = month_bounds(day)
    return spend_between(session, brand_id, first, last)


def spend_today_and_month(session: Session, brand: Brand, now: datetime) -> tuple[int, int]:
    """Spend of the brand-local day and month containing ``now``, in minor units."""
    today = local_day(now, ZoneInfo(brand.timezone))
    first, last = month_bounds(today)
    rows = session.execute(
        select(BrandDaySpend.local_date, BrandDaySpend.amount_minor).where(
            BrandDaySpend.brand_id == brand.id,
            BrandDaySpend.local_date >= first,
            BrandDaySpend.local_date <= last,
        )
    ).all()
    return (
        sum(amount for day, amount in rows if day == today),
        sum(amount for _, amount in rows),
    )
