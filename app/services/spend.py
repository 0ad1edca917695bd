"""The one home of spend writes, and the per-brand day and month totals they keep.

Every write to ``spend_record`` and ``brand_day_spend`` is in this module: one or a few
records through :func:`write_spend` (form, CLI, API, demo), a whole file through
:class:`ImportWriter` (imports), a time zone change through :func:`rebuild_day_totals`.
Each inserts records skipping stored dedupe keys and adds exactly the inserted amounts
to the day totals in the same transaction. Nothing here commits, except an import on SQLite,
whose rows are committed in short unpublished batches (ImportWriter, discard_unpublished).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    Date,
    Integer,
    Interval,
    MetaData,
    Table,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, scoped_session

from app.control import local_day, utc_offset_spans
from app.database import is_postgres, upsert_insert

# Re-exported for the API's view and its OpenAPI document: the error record_api_spend raises, and its limit.
from app.ingest.api_spend import MAX_RECORDS as MAX_RECORDS
from app.ingest.api_spend import ApiSpendError as ApiSpendError
from app.ingest.api_spend import parse_api_records
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
    period: str | None = None  # see app.ingest.csv_spend.SpendRow.period


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


_SPANNED = (datetime(2, 1, 1, tzinfo=UTC), datetime(9998, 12, 31, tzinfo=UTC))  # where every offset is a date


def rebuild_day_totals(session: Session, brand: Brand) -> None:
    """Recompute a brand's local dates and day totals from its records (after a time zone change).

    Set-based at any number of records: one UPDATE per span of constant UTC offset in the zone over the
    records' instants (two a year with daylight saving time), then the totals regrouped in one INSERT.
    """
    first, last = session.execute(
        select(func.min(SpendRecord.spent_at), func.max(SpendRecord.spent_at)).where(SpendRecord.brand_id == brand.id)
    ).one()
    postgres = is_postgres(session)
    records = SpendRecord.__table__
    tz = ZoneInfo(brand.timezone)
    spans = []
    if first is not None and first <= _SPANNED[1] and last >= _SPANNED[0]:
        spans = utc_offset_spans(tz, max(first, _SPANNED[0]), min(last, _SPANNED[1]))
    for start, end, offset in spans:
        if postgres:
            local = cast(records.c.spent_at + literal(offset, Interval()), Date())
        else:
            local = func.date(records.c.spent_at, f"{int(offset.total_seconds()):+d} seconds", type_=Date())
        session.execute(
            update(records)
            .where(records.c.brand_id == brand.id, records.c.spent_at >= start, records.c.spent_at < end)
            .values(local_date=local)
        )
    # Instants at the ends of the calendar (stored before the spend rule existed) one by one, as local_day clamps them.
    outside = select(records.c.id, records.c.spent_at).where(records.c.brand_id == brand.id)
    if spans:
        outside = outside.where(or_(records.c.spent_at < spans[0][0], records.c.spent_at >= spans[-1][1]))
    moved = [{"record_id": i, "day": local_day(at, tz)} for i, at in session.execute(outside)] if first else []
    if moved:
        session.execute(
            update(records).where(records.c.id == bindparam("record_id")).values(local_date=bindparam("day")), moved
        )
    for record in [obj for obj in session.identity_map.values() if isinstance(obj, SpendRecord)]:
        if record.brand_id == brand.id:
            session.expire(record, ["local_date"])
    session.execute(delete(BrandDaySpend).where(BrandDaySpend.brand_id == brand.id))
    # Every amount is added again below: drop the figures too (its reconcile computes them afresh).
    session.execute(delete(BrandFigure).where(BrandFigure.brand_id == brand.id))
    # An import still being written adds its own rows when it publishes (counted_spend).
    totals = (
        select(records.c.brand_id, records.c.local_date, func.sum(records.c.amount_minor))
        .where(records.c.brand_id == brand.id, counted_spend())
        .group_by(records.c.brand_id, records.c.local_date)
    )
    session.execute(insert(BrandDaySpend.__table__).from_select(["brand_id", "local_date", "amount_minor"], totals))
    enforce_after_commit(session, [brand.id])


# --- where spend may go -------------------------------------------------------------------------


def campaign_directory(session: Session, *, lazy: bool = False) -> CampaignDirectory:
    """Every live brand and campaign by name, as plain data for the parsers (app.ingest).

    With ``lazy`` only the brands a file or request names are read, as they come (a query per
    distinct brand name, every brand once if a name is not found as written): a small file's cost
    does not grow with the number of brands. Never
    lazy for a directory a forked reader inherits: the child must not touch the database.
    """
    if not lazy:
        return CampaignDirectory(*_directory_entries(session, None))
    complete = False

    def lookup(name: str) -> tuple[list[BrandRef], list[CampaignRef]]:
        # By exact name; a name written otherwise (another case, or unknown) reads every brand once, since
        # the databases' lower() do not fold as Python's casefold does.
        nonlocal complete
        if complete:
            return [], []
        found = _directory_entries(session, Brand.name == name)
        if found[0]:
            return found
        complete = True
        return _directory_entries(session, None)

    return CampaignDirectory([], [], lookup=lookup)


def _directory_entries(session: Session, which) -> tuple[list[BrandRef], list[CampaignRef]]:
    """The live brands matching ``which`` (all when None) and their live campaigns."""
    brands: dict[int, BrandRef] = {}
    zones: dict[str, ZoneInfo] = {}
    live = select(Brand.id, Brand.name, Brand.timezone, Brand.currency).where(Brand.archived_at.is_(None))
    for brand_id, name, zone, currency in session.execute(live if which is None else live.where(which)):
        brands[brand_id] = BrandRef(brand_id, name, zones.setdefault(zone, ZoneInfo(zone)), currency)
    if not brands:
        return [], []
    named = select(Campaign.id, Campaign.brand_id, Campaign.name).where(Campaign.archived_at.is_(None))
    if which is not None:
        named = named.where(Campaign.brand_id.in_(list(brands)))
    campaigns = [
        CampaignRef(
            campaign_id, brand_id, brands[brand_id].name, name, brands[brand_id].timezone, brands[brand_id].currency
        )
        for campaign_id, brand_id, name in session.execute(named)
        if brand_id in brands
    ]
    return list(brands.values()), campaigns


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
    return first_of_each_key(zip(rows, keys, strict=False), stored_keys(session, keys))


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
    parsed = parse_api_records(payload, campaign_directory(session, lazy=True), latest_spend(now))
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
        NewSpend(
            row.campaign.campaign_id,
            row.campaign.brand_id,
            row.amount_minor,
            row.spent_at,
            row.local_date,
            "api",
            key,
            row.external_id,
        )
        for row, key in zip(good, keys, strict=False)
    ]
    written = write_spend(session, new, with_keys=True)
    result.brand_ids = written.brand_ids
    seen: set[str] = set()
    for row, key in zip(good, keys, strict=False):
        created = key in written.inserted_keys and key not in seen  # a repeated external id counts once
        seen.add(key)
        result.results[row.line] = {"index": row.line, "status": "created" if created else "duplicate"}
        result.created += created
        result.duplicates += not created
    return result


# --- a whole file, in batches -------------------------------------------------------------------

_RECORDS = SpendRecord.__table__
SQLITE_COMMIT_ROWS = 5_000  # rows an import writes per SQLite transaction (see ImportWriter)
# A temporary table of one import's batch: the stored columns' own types, no index, no constraint.
# ``position`` keeps the file's order, so of two rows with one key in a file the first is the one stored.
_STAGING = Table(
    "spend_staging",
    MetaData(),
    Column("position", Integer, primary_key=True),
    *(Column(name, _RECORDS.c[name].type) for name in STAGED_COLUMNS),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


def _move_staged(dialect_insert, import_id: int):
    """INSERT … SELECT of the staged batch into spend_record in file order, skipping stored keys."""
    staged = (
        select(
            *(_STAGING.c[name] for name in STAGED_COLUMNS),
            literal("csv", _RECORDS.c.source.type),
            literal(import_id, _RECORDS.c.import_id.type),
            bindparam("created", utcnow(), type_=_RECORDS.c.created_at.type),
        )
        .where(true())
        .order_by(_STAGING.c.position)
    )  # WHERE: SQLite's parser needs one before ON CONFLICT
    return (
        dialect_insert(_RECORDS)
        .from_select([*STAGED_COLUMNS, "source", "import_id", "created_at"], staged)
        .on_conflict_do_nothing(index_elements=[_RECORDS.c.dedupe_key])
    )


def _day_totals(source) -> Any:
    """(brand id, local date, amount, rows) of ``source``'s rows, grouped by brand and day."""
    return select(source.c.brand_id, source.c.local_date, func.sum(source.c.amount_minor), func.count()).group_by(
        source.c.brand_id, source.c.local_date
    )


class ImportWriter:
    """Writes an import's batches fast, with exact day totals; ``finish`` adds them.

    Each batch is first staged (``executemany`` on SQLite, ``COPY`` on PostgreSQL: no index,
    no constraint, so this is the cheap part), then moved by one INSERT … SELECT … ON
    CONFLICT DO NOTHING. Only rows actually inserted reach the totals.

    PostgreSQL: one transaction for the whole file, never committed here; the inserted rows are
    returned. Its locks (key-share on the brand rows) do not conflict with the brand lock.

    SQLite, which has one writer at a time: every SQLITE_COMMIT_ROWS rows are committed, so the write
    lock is held briefly at a time and a reconcile gets it in between. The rows are stored but do not
    count (``SpendImport.unpublished_from_id`` is set, see :func:`counted_spend`) until the
    caller publishes them by committing ``finish``'s totals with the import's outcome, one short
    transaction; :func:`discard_unpublished` deletes them if the import fails or is rejected.
    When the insert count shows a batch had duplicates, the inserted rows are read back by id
    range (the batch holds the write lock, so every id above the one read at its start is its own).
    """

    def __init__(self, session: Session, import_id: int) -> None:
        self.session = session
        self.import_id = import_id
        self.started = False
        self.postgres = is_postgres(session)
        self.result = WriteResult()
        self.deltas: dict[tuple[int, date], int] = defaultdict(int)
        if self.postgres:
            moved = (
                _move_staged(postgresql.insert, import_id)
                .returning(_RECORDS.c.brand_id, _RECORDS.c.local_date, _RECORDS.c.amount_minor)
                .cte("inserted")
            )
            self.move = _day_totals(moved)
        else:
            self.move = _move_staged(sqlite.insert, import_id)
        dialect = (postgresql if self.postgres else sqlite).dialect()
        self.stage = str(_STAGING.insert().compile(dialect=dialect, column_keys=list(STAGED_COLUMNS)))

    def write(self, rows: list[tuple], totals: dict[tuple[int, str], int]) -> None:
        """Store ``rows`` (values in STAGED_COLUMNS order) whose day totals are ``totals``, skipping stored keys.

        On SQLite the batch is committed (unpublished); on PostgreSQL nothing is committed.
        """
        if not rows:
            return
        connection = self.session.connection()
        if not self.postgres:
            # A few thousand rows per transaction: SQLite's write lock is held a few hundredths of a second at a time.
            for start in range(0, len(rows), SQLITE_COMMIT_ROWS):
                chunk = rows[start : start + SQLITE_COMMIT_ROWS]
                inserted = self._write_sqlite_chunk(
                    self.session.connection(), chunk, totals if len(chunk) == len(rows) else None
                )
                self.session.connection().execute(_STAGING.delete())
                _commit_batch(self.session)  # ends this hold on the write lock; the rows stay unpublished
                self.result.inserted += inserted
                self.result.duplicates += len(chunk) - inserted
            return
        connection = self.session.connection()
        if not self.started:
            _STAGING.create(connection)
            self.started = True
        driver = connection.connection.driver_connection
        columns = ", ".join(STAGED_COLUMNS)
        with driver.cursor() as cursor, cursor.copy(f"COPY {_STAGING.name} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        inserted = self._add(connection.execute(self.move).all())
        connection.execute(_STAGING.delete())
        self.result.inserted += inserted
        self.result.duplicates += len(rows) - inserted

    def _write_sqlite_chunk(self, connection, rows: list[tuple], totals: dict[tuple[int, str], int] | None) -> int:
        """Stage and move ``rows`` in one transaction (not committed here); ``totals`` are theirs, or None to
        sum them."""
        # The index pages an import touches stay in memory: 64 MiB of page cache for this connection.
        connection.exec_driver_sql("PRAGMA cache_size = -65536")
        _STAGING.create(connection, checkfirst=True)  # a temporary table: the pool may hand over another connection
        connection.exec_driver_sql(self.stage, rows)  # the temp database: SQLite's write lock is not taken yet
        # The first write to the main database takes the write lock, before the highest id is read;
        # the first batch also marks where the import's unpublished rows begin.
        last_id = select(func.coalesce(func.max(_RECORDS.c.id), 0)).scalar_subquery()
        connection.execute(
            update(SpendImport)
            .where(SpendImport.id == self.import_id)
            .values(unpublished_from_id=func.coalesce(SpendImport.unpublished_from_id, last_id + 1))
        )
        last_id = connection.execute(select(func.coalesce(func.max(_RECORDS.c.id), 0))).scalar()
        inserted = connection.execute(self.move).rowcount
        if inserted == len(rows):
            if totals is None:
                totals = defaultdict(int)
                for row in rows:  # STAGED_COLUMNS: brand_id, amount_minor and local_date are 1, 2 and 4
                    totals[(row[1], row[4])] += row[2]
            for (brand_id, day), amount in totals.items():
                self.deltas[(brand_id, date.fromisoformat(day))] += amount
            self.result.brand_ids.update(brand_id for brand_id, _ in totals)
        elif inserted:
            self._add(connection.execute(_day_totals(_RECORDS).where(_RECORDS.c.id > last_id)).all())
        return inserted

    def _add(self, day_totals) -> int:
        """Add rows of (brand id, local date, amount, count) to the deltas; return the count."""
        inserted = 0
        for brand_id, day, amount, count in day_totals:
            self.deltas[(brand_id, day)] += int(amount)
            self.result.brand_ids.add(brand_id)
            inserted += count
        return inserted

    def finish(self) -> WriteResult:
        """Add the inserted rows' day totals and publish the rows, in the caller's transaction (not committed)."""
        add_to_day_totals(self.session, self.deltas)
        self.session.execute(
            update(SpendImport).where(SpendImport.id == self.import_id).values(unpublished_from_id=None)
        )
        return self.result


def _commit_batch(session) -> None:
    """Commit without expiring the caller's loaded objects: a batch changes none of them."""
    real = session.registry() if isinstance(session, scoped_session) else session
    previous, real.expire_on_commit = real.expire_on_commit, False
    try:
        real.commit()
    finally:
        real.expire_on_commit = previous


DISCARD_ROWS = 5_000  # rows deleted per transaction, so SQLite's write lock is held briefly


def discard_unpublished(session: Session, import_id: int, *, statuses: tuple[str, ...]) -> int:
    """Delete the unpublished rows of an import (see ImportWriter), a batch per transaction; commits.

    Each batch deletes only while the import's status is one of ``statuses``, so rows of a retry
    that claimed the import meanwhile are never touched. Returns the rows deleted.
    """
    deleted = 0
    while True:
        first = session.scalar(
            select(SpendImport.unpublished_from_id).where(SpendImport.id == import_id, SpendImport.status.in_(statuses))
        )
        if first is None:
            session.commit()
            return deleted
        # The no-op update takes SQLite's write lock before the status is checked again, in this transaction.
        still = session.execute(
            update(SpendImport)
            .where(
                SpendImport.id == import_id,
                SpendImport.status.in_(statuses),
                SpendImport.unpublished_from_id.is_not(None),
            )
            .values(id=SpendImport.id)
        ).rowcount
        if not still:
            session.commit()
            return deleted
        ids = select(_RECORDS.c.id).where(_RECORDS.c.id >= first, _RECORDS.c.import_id == import_id).limit(DISCARD_ROWS)
        count = session.execute(_RECORDS.delete().where(_RECORDS.c.id.in_(ids))).rowcount
        deleted += count
        if count < DISCARD_ROWS:
            session.execute(update(SpendImport).where(SpendImport.id == import_id).values(unpublished_from_id=None))
        session.commit()
        if count < DISCARD_ROWS:
            return deleted


def counted_spend(records=_RECORDS):
    """The condition a spend_record row counts under: not an unpublished row of an import still being written."""
    return or_(
        records.c.import_id.is_(None),
        ~exists().where(SpendImport.id == records.c.import_id, SpendImport.unpublished_from_id.is_not(None)),
    )
