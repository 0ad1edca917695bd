"""The one home of spend writes, and the per-brand day and month totals they keep.

Every write to ``spend_record`` and ``brand_day_spend`` is in this module: one or a few
records through :func:`write_spend` (form, CLI, API, demo), a whole file through
:class:`ImportWriter` (imports), a time zone change through :func:`rebuild_day_totals`.
Each inserts records skipping stored dedupe keys and adds exactly the inserted amounts
to the day totals in the same transaction. Nothing here commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Integer, MetaData, Table, bindparam, func, literal, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.control import local_day
from app.database import is_postgres, upsert_insert
from app.ingest.api_spend import parse_api_records
# Re-exported for the API view, which catches it from record_api_spend.
from app.ingest.api_spend import ApiSpendError as ApiSpendError
from app.ingest.batches import STAGED_COLUMNS
from app.ingest.csv_spend import BrandRef, CampaignDirectory, CampaignRef, RowError, SpendRow
from app.ingest.dedupe import dedupe_keys_for_rows, external_key, first_of_each_key, unique_key
from app.ingest.spend_values import latest_spend
from app.models import Brand, BrandDaySpend, BrandFigure, Campaign, SpendImport, SpendRecord, utcnow
from app.services.enforcement import enforce_after_commit
from app.services.figures import add_spend_to_figures

SOURCES = ("csv", "api", "manual")


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
    """Add amounts to brands' day totals and overview figures; the brands are enforced after commit
    (app.services.enforcement)."""
    if not deltas:
        return
    enforce_after_commit(session, {brand_id for brand_id, _ in deltas})
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
    add_spend_to_figures(session, deltas)


def rebuild_day_totals(session: Session, brand: Brand) -> None:
    """Recompute a brand's local dates and day totals from its records (after a time zone change)."""
    tz = ZoneInfo(brand.timezone)
    records = session.scalars(select(SpendRecord).where(SpendRecord.brand_id == brand.id))
    deltas: dict[tuple[int, date], int] = defaultdict(int)
    for record in records:
        record.local_date = local_day(record.spent_at, tz)
        deltas[(brand.id, record.local_date)] += record.amount_minor
    session.query(BrandDaySpend).filter_by(brand_id=brand.id).delete()
    # Every amount is added again below: drop the figures too (its reconcile computes them afresh).
    session.query(BrandFigure).filter_by(brand_id=brand.id).delete()
    session.flush()
    add_to_day_totals(session, deltas)


# --- where spend may go -------------------------------------------------------------------------


def campaign_directory(session: Session) -> CampaignDirectory:
    """Every live brand and campaign by name, as plain data for the parsers (app.ingest)."""
    brands: dict[int, BrandRef] = {}
    zones: dict[str, ZoneInfo] = {}
    for brand_id, name, zone, currency in session.execute(
        select(Brand.id, Brand.name, Brand.timezone, Brand.currency).where(Brand.archived_at.is_(None))
    ):
        brands[brand_id] = BrandRef(brand_id, name, zones.setdefault(zone, ZoneInfo(zone)), currency)
    campaigns = [
        CampaignRef(campaign_id, brand_id, brands[brand_id].name, name, brands[brand_id].timezone,
                    brands[brand_id].currency)
        for campaign_id, brand_id, name in session.execute(
            select(Campaign.id, Campaign.brand_id, Campaign.name).where(Campaign.archived_at.is_(None))
        )
        if brand_id in brands
    ]
    return CampaignDirectory(brands.values(), campaigns)


def stored_keys(session: Session, keys: list[str]) -> set[str]:
    """Which of ``keys`` are already stored."""
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        found.update(session.scalars(select(SpendRecord.dedupe_key).where(SpendRecord.dedupe_key.in_(chunk))))
    return found


def unstored_rows(session: Session, rows: list[SpendRow]) -> list[tuple[SpendRow, str]]:
    """The rows (with their dedupe keys) that writing ``rows`` in order would store: what the
    simulator replays, and exactly what an import of the same rows adds."""
    keys = dedupe_keys_for_rows(rows)
    return first_of_each_key(zip(rows, keys), stored_keys(session, keys))


# --- the API --------------------------------------------------------------------------------------


@dataclass
class ApiSpendResult:
    results: list[dict] = field(default_factory=list)
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    brand_ids: set[int] = field(default_factory=set)


def record_api_spend(session: Session, payload: Any, now: datetime) -> ApiSpendResult:
    """Validate every record of an API request and write the good ones; does not commit.

    A retried request adds nothing: records are deduped by ``external_id`` when given, else by
    campaign, instant, amount and occurrence within the request. Raises ApiSpendError (from
    app.ingest.api_spend) for a payload that is not a usable list.
    """
    parsed = parse_api_records(payload, campaign_directory(session), latest_spend(now))
    result = ApiSpendResult(results=[{} for _ in parsed])
    good = []
    for index, item in enumerate(parsed):
        if isinstance(item, RowError):
            result.results[index] = {"index": index, "status": "error", "error": item.message}
            result.rejected += 1
        else:
            good.append(item)
    if not good:
        return result
    keys = dedupe_keys_for_rows(good)
    new = [
        NewSpend(row.campaign.campaign_id, row.campaign.brand_id, row.amount_minor, row.spent_at, row.local_date,
                 "api", key, row.external_id)
        for row, key in zip(good, keys)
    ]
    written = write_spend(session, new, with_keys=True)
    result.brand_ids = written.brand_ids
    seen: set[str] = set()
    for row, key in zip(good, keys):
        created = key in written.inserted_keys and key not in seen  # a repeated external id counts once
        seen.add(key)
        result.results[row.line] = {"index": row.line, "status": "created" if created else "duplicate"}
        result.created += created
        result.duplicates += not created
    return result


# --- a whole file, in batches -------------------------------------------------------------------

_RECORDS = SpendRecord.__table__
# A temporary table of one import's batch: the stored columns' own types, no index, no constraint.
# ``position`` keeps the file's order, so of two rows with one key in a file the first is the one stored.
_STAGING = Table(
    "spend_staging", MetaData(),
    Column("position", Integer, primary_key=True),
    *(Column(name, _RECORDS.c[name].type) for name in STAGED_COLUMNS),
    prefixes=["TEMPORARY"], postgresql_on_commit="DROP",
)


def _move_staged(dialect_insert, import_id: int):
    """INSERT … SELECT of the staged batch into spend_record in file order, skipping stored keys."""
    staged = select(
        *(_STAGING.c[name] for name in STAGED_COLUMNS),
        literal("csv", _RECORDS.c.source.type),
        literal(import_id, _RECORDS.c.import_id.type),
        bindparam("created", utcnow(), type_=_RECORDS.c.created_at.type),
    ).where(true()).order_by(_STAGING.c.position)  # WHERE: SQLite's parser needs one before ON CONFLICT
    return dialect_insert(_RECORDS).from_select(
        [*STAGED_COLUMNS, "source", "import_id", "created_at"], staged
    ).on_conflict_do_nothing(index_elements=[_RECORDS.c.dedupe_key])


def _day_totals(source) -> Any:
    """(brand id, local date, amount, rows) of ``source``'s rows, grouped by brand and day."""
    return select(source.c.brand_id, source.c.local_date, func.sum(source.c.amount_minor), func.count()).group_by(
        source.c.brand_id, source.c.local_date)


class ImportWriter:
    """Writes an import's batches fast, with exact day totals; ``finish`` adds them. Never commits.

    Each batch is first staged (``executemany`` on SQLite, ``COPY`` on PostgreSQL: no index,
    no constraint, so this is the cheap part), then moved by one INSERT … SELECT … ON
    CONFLICT DO NOTHING. Only rows actually inserted reach the totals: PostgreSQL returns
    them; on SQLite, when the insert count shows a batch had duplicates, they are read back
    by id range (the transaction's first statement is a write, which holds SQLite's only
    write lock until commit, so every id above the one seen at the start is this import's).
    """

    def __init__(self, session: Session, import_id: int) -> None:
        self.session = session
        self.import_id = import_id
        self.started = False
        self.postgres = is_postgres(session)
        self.result = WriteResult()
        self.deltas: dict[tuple[int, date], int] = defaultdict(int)
        self.last_id = 0  # SQLite: the highest spend_record id before this import's rows
        if self.postgres:
            moved = _move_staged(postgresql.insert, import_id).returning(
                _RECORDS.c.brand_id, _RECORDS.c.local_date, _RECORDS.c.amount_minor).cte("inserted")
            self.move = _day_totals(moved)
        else:
            self.move = _move_staged(sqlite.insert, import_id)
        dialect = (postgresql if self.postgres else sqlite).dialect()
        self.stage = str(_STAGING.insert().compile(dialect=dialect, column_keys=list(STAGED_COLUMNS)))

    def write(self, rows: list[tuple], totals: dict[tuple[int, str], int]) -> None:
        """Store ``rows`` (values in STAGED_COLUMNS order) whose day totals are ``totals``, skipping stored keys."""
        if not rows:
            return
        connection = self.session.connection()
        if not self.started:
            self._start(connection)
            self.started = True
        if self.postgres:
            driver = connection.connection.driver_connection
            columns = ", ".join(STAGED_COLUMNS)
            with driver.cursor() as cursor, cursor.copy(f"COPY {_STAGING.name} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            inserted = self._add(connection.execute(self.move).all())
        else:
            connection.exec_driver_sql(self.stage, rows)
            inserted = connection.execute(self.move).rowcount
            if inserted == len(rows):
                for (brand_id, day), amount in totals.items():
                    self.deltas[(brand_id, date.fromisoformat(day))] += amount
                self.result.brand_ids.update(brand_id for brand_id, _ in totals)
            elif inserted:
                self._add(connection.execute(_day_totals(_RECORDS).where(_RECORDS.c.id > self.last_id)).all())
            if inserted:
                self.last_id = connection.execute(select(func.max(_RECORDS.c.id))).scalar()
        connection.execute(_STAGING.delete())
        self.result.inserted += inserted
        self.result.duplicates += len(rows) - inserted

    def _start(self, connection) -> None:
        if not self.postgres:
            # The index pages an import touches stay in memory: 64 MiB of page cache for this connection.
            connection.exec_driver_sql("PRAGMA cache_size = -65536")
            # The transaction's first statement a write: it takes SQLite's write lock before the id is read.
            connection.execute(update(SpendImport).where(SpendImport.id == self.import_id).values(id=SpendImport.id))
            self.last_id = connection.execute(select(func.coalesce(func.max(_RECORDS.c.id), 0))).scalar()
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{_STAGING.name}")
        _STAGING.create(connection)

    def _add(self, day_totals) -> int:
        """Add rows of (brand id, local date, amount, count) to the deltas; return the count."""
        inserted = 0
        for brand_id, day, amount, count in day_totals:
            self.deltas[(brand_id, day)] += int(amount)
            self.result.brand_ids.add(brand_id)
            inserted += count
        return inserted

    def finish(self) -> WriteResult:
        add_to_day_totals(self.session, self.deltas)
        return self.result
