"""The one home of spend writes, and the per-brand day and month totals they keep.

Every write to ``spend_record`` and ``brand_day_spend`` is in this module: one or a few
records through :func:`write_spend` (form, CLI, API, demo), a whole file through
:class:`ImportWriter` (imports), a time zone change through :func:`rebuild_day_totals`.
Each inserts records skipping stored dedupe keys and adds exactly the inserted amounts
to the day totals in the same transaction. Nothing here commits, except an import on SQLite,
whose rows are committed in short unpublished batches (ImportWriter, discard_unpublished).

Period rows (a platform's figure for a brand-local day or hour, ``NewSpend.period``) are the one
exception to insert-or-skip, and every writer sends them through :func:`write_periods`: keyed by
(campaign, period), the latest figure replaces the stored one and the totals move by the difference.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
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
    text,
    true,
    tuple_,
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
from app.ingest.csv_spend import AliasRef, BrandRef, CampaignDirectory, CampaignRef, RowError, SpendRow
from app.ingest.dedupe import dedupe_keys_for_rows, external_key, first_of_each_key, period_key, unique_key
from app.ingest.spend_values import latest_spend
from app.models import (
    Brand,
    BrandDaySpend,
    BrandFigure,
    Campaign,
    CampaignAlias,
    PlatformConnection,
    SpendImport,
    SpendRecord,
    utcnow,
)
from app.services.enforcement import enforce_after_commit
from app.services.figures import add_spend_to_figures

SOURCES = ("csv", "api", "manual", "pull")


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
    # Period records (see write_periods), counted by record: a stored figure raised, lowered, or left as it was.
    replaced: int = 0
    corrected: int = 0
    unchanged: int = 0
    # Period records refused because their campaign's day is kept at the other granularity, with why.
    mixed: list[tuple[NewSpend, str]] = field(default_factory=list)
    # Each period record's outcome by dedupe key: new, replaced, corrected, unchanged or mixed.
    period_outcomes: dict[str, str] = field(default_factory=dict)

    def add_periods(self, other: WriteResult) -> None:
        self.inserted += other.inserted
        self.replaced += other.replaced
        self.corrected += other.corrected
        self.unchanged += other.unchanged
        self.mixed.extend(other.mixed)
        self.period_outcomes.update(other.period_outcomes)
        self.brand_ids |= other.brand_ids


def new_spend(
    campaign: Campaign,
    amount_minor: int,
    spent_at: datetime,
    *,
    source: str,
    external_id: str | None = None,
    dedupe_key: str | None = None,
    period: str | None = None,
) -> NewSpend:
    """Build one record for ``campaign``; the local date is computed in its brand's zone.

    With ``period`` ("day" or "hour") ``spent_at`` must be the period's first instant (see
    app.ingest.dedupe.period_key) and the record is keyed by (campaign, period)."""
    if source not in SOURCES:
        raise ValueError(f"unknown spend source {source!r}")
    if amount_minor < 0:
        raise ValueError("spend amount must not be negative")
    brand = campaign.brand
    if period is not None:
        dedupe_key = period_key(campaign.id, period, spent_at)
    elif dedupe_key is None:
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
        period=period,
    )


def write_spend(session: Session, records: list[NewSpend], *, with_keys: bool = False) -> WriteResult:
    """Insert ``records``, skipping stored dedupe keys, and add what was inserted to the day totals.

    With ``with_keys`` the result also names the dedupe keys that were inserted. Period records go
    through :func:`write_periods` as one figure registered now (the latest figure wins).

    Does not commit. Safe under concurrency: a key inserted by another transaction is
    skipped, and only amounts actually inserted reach the totals.
    """
    result = WriteResult()
    periods = [r for r in records if r.period is not None]
    if periods:
        records = [r for r in records if r.period is None]
        written, deltas = write_periods(session, periods, figure_at=utcnow())
        result.add_periods(written)
        if with_keys:
            result.inserted_keys.update(k for k, outcome in written.period_outcomes.items() if outcome == "new")
        add_to_day_totals(session, deltas)
    if not records:
        return result
    period_inserted = result.inserted
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
    result.duplicates = len(records) - (result.inserted - period_inserted)
    result.brand_ids |= {brand_id for brand_id, _ in deltas}
    add_to_day_totals(session, deltas)
    return result


# Period rows: the figure of a later registration replaces the stored one. ---------------------------


def write_periods(
    session: Session, records: list[NewSpend], *, figure_at: datetime, import_id: int | None = None
) -> tuple[WriteResult, dict[tuple[int, date], int]]:
    """Store period records (a platform's figure for a brand-local day or hour) as one export registered at
    ``figure_at`` (an import's registration time, or the write's time), and return the counts and the
    day-total deltas the caller must add (add_to_day_totals) in the same transaction. Does not commit.

    The rules, in one place for every writer:

    - Records of one period key in one call are one figure: their amounts are added (an export split
      by device or ad set).
    - A new period is inserted (``new``). A stored one is replaced unless the stored figure is later, by
      (``figure_at``, import id), than this one (an import registered earlier that finishes last; of a
      tie, the last write wins): raised (``replaced``) or lowered (``corrected``), the totals moving by
      the difference; an equal figure, or an older one arriving late, changes no amount (``unchanged``).
    - A campaign's brand-local day is kept either as one day figure or as hour figures, never both, so
      no money is counted twice: a record of the other granularity than the one stored for that day (or,
      for a day not yet stored, than this call's first record for it) is refused (``mixed``).

    Concurrency: writers of the same campaign and day are serialised (PostgreSQL: a transaction-level
    advisory lock on the (campaign, local date)'s slot, PERIOD_LOCK_SLOTS; SQLite: the database's write
    lock, taken first), so two
    exports of one day end with the later one's figure, whichever commits first.
    """
    if not records:
        return WriteResult(), {}
    plan = _plan_periods(session, records, order=(figure_at, import_id or 0))
    table = _RECORDS
    created = utcnow()
    if plan.inserts:
        inserted = session.execute(
            upsert_insert(session, table)
            .on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
            .returning(table.c.dedupe_key),
            [_period_values(f, figure_at, import_id) | {"created_at": created} for f in plan.inserts],
        ).all()
        if len(inserted) != len(plan.inserts):  # the lock makes this impossible; never count what was not stored
            raise RuntimeError("a period figure was stored by another writer meanwhile; nothing was written")
    if plan.updates:
        session.execute(
            update(table)
            .where(table.c.dedupe_key == bindparam("key"))
            .values(
                amount_minor=bindparam("amount_minor"),
                source=bindparam("source"),
                external_id=bindparam("external_id"),
                figure_at=bindparam("figure_at"),
                import_id=bindparam("import_id"),
            ),
            [{**_period_values(f, figure_at, import_id), "key": f.dedupe_key} for f in plan.updates],
        )
    deltas: dict[tuple[int, date], int] = defaultdict(int)
    for figure, change in plan.changes:
        deltas[(figure.brand_id, figure.local_date)] += change
    plan.result.brand_ids = {brand_id for brand_id, _ in deltas}
    return plan.result, dict(deltas)


def predict_periods(session: Session, records: list[NewSpend]) -> list[tuple[NewSpend, int]]:
    """What writing ``records`` now would change, by the rules of :func:`write_periods`: each figure whose
    stored amount would move, with the change (negative for a correction). Reads only (the simulator)."""
    if not records:
        return []
    return _plan_periods(session, records, order=(datetime.max.replace(tzinfo=UTC), 0), lock=False).changes


@dataclass
class _PeriodPlan:
    result: WriteResult = field(default_factory=WriteResult)
    inserts: list[NewSpend] = field(default_factory=list)
    updates: list[NewSpend] = field(default_factory=list)
    changes: list[tuple[NewSpend, int]] = field(default_factory=list)  # (figure, change of its stored amount)


def _plan_periods(session: Session, records: list[NewSpend], *, order: tuple, lock: bool = True) -> _PeriodPlan:
    """Decide each period figure's outcome against the stored ones (see write_periods), taking the
    writers' lock first unless ``lock`` is False."""
    plan = _PeriodPlan()
    figures: dict[str, NewSpend] = {}
    records_of: dict[str, list[NewSpend]] = defaultdict(list)
    for record in records:
        records_of[record.dedupe_key].append(record)
        held = figures.get(record.dedupe_key)
        figures[record.dedupe_key] = (
            record if held is None else replace(held, amount_minor=held.amount_minor + record.amount_minor)
        )
    families = sorted({(r.campaign_id, r.local_date) for r in figures.values()})
    if lock:
        _lock_period_families(session, families)
    stored = _stored_periods(session, families)
    kept: dict[tuple[int, date], str] = {(row.campaign_id, row.local_date): row.period for row in stored.values()}
    for figure in figures.values():  # in the order given: a new day's first figure decides its granularity
        kept.setdefault((figure.campaign_id, figure.local_date), figure.period)
    result = plan.result
    for key, figure in sorted(figures.items()):
        rows = len(records_of[key])
        family = (figure.campaign_id, figure.local_date)
        if kept[family] != figure.period:
            outcome = "mixed"
            why = (
                f"{figure.local_date} is kept as {'hour figures' if kept[family] == 'hour' else 'one day figure'} "
                f"for this campaign; {'an hour' if figure.period == 'hour' else 'a day'} figure for it would count "
                "that money twice"
            )
            result.mixed.extend((record, why) for record in records_of[key])
        elif (held := stored.get(key)) is None:
            outcome = "new"
            plan.inserts.append(figure)
            plan.changes.append((figure, figure.amount_minor))
            result.inserted += rows
        elif (_aware(held.figure_at), held.import_id or 0) > order:
            outcome = "unchanged"  # a later figure is stored already (of a tie, the write that comes last wins)
        else:
            change = figure.amount_minor - held.amount_minor
            outcome = "unchanged" if change == 0 else "replaced" if change > 0 else "corrected"
            plan.updates.append(figure)  # an equal figure too: its figure_at says a later one was seen
            if change:
                plan.changes.append((figure, change))
        result.period_outcomes[key] = outcome
        if outcome in ("replaced", "corrected", "unchanged"):
            setattr(result, outcome, getattr(result, outcome) + rows)
    return plan


def _stored_periods(session: Session, families: list[tuple[int, date]]) -> dict[str, Any]:
    """The stored period rows of these (campaign, local date) pairs, by dedupe key."""
    table = _RECORDS
    columns = (
        table.c.dedupe_key,
        table.c.campaign_id,
        table.c.local_date,
        table.c.period,
        table.c.amount_minor,
        table.c.figure_at,
        table.c.import_id,
    )
    stored = {}
    for i in range(0, len(families), 500):
        chunk = families[i : i + 500]
        query = select(*columns).where(
            table.c.period.is_not(None), tuple_(table.c.campaign_id, table.c.local_date).in_(chunk)
        )
        stored.update((row.dedupe_key, row) for row in session.execute(query))
    return stored


def _period_values(figure: NewSpend, figure_at: datetime, import_id: int | None) -> dict:
    return {
        "campaign_id": figure.campaign_id,
        "brand_id": figure.brand_id,
        "amount_minor": figure.amount_minor,
        "spent_at": figure.spent_at,
        "local_date": figure.local_date,
        "source": figure.source,
        "external_id": figure.external_id,
        "dedupe_key": figure.dedupe_key,
        "period": figure.period,
        "figure_at": figure_at,
        "import_id": import_id,
    }


def _aware(moment: datetime | None) -> datetime:
    """A stored figure_at (None never stored by write_periods: read as the oldest)."""
    return moment if moment is not None else datetime.min.replace(tzinfo=UTC)


# PostgreSQL's advisory locks held by one transaction live in its shared lock table (about 64 per connection by
# default): a report of many campaigns and days would run out of it with a lock each. Each (campaign, day) takes
# one of a fixed number of slots instead; two families in one slot are serialised too, which is only slower.
PERIOD_LOCK_CLASS = 0x50414345  # "PACE": the first key of the two-key advisory locks of period writers
PERIOD_LOCK_SLOTS = 64


def _lock_period_families(session: Session, families: list[tuple[int, date]]) -> None:
    """Serialise the period writers of these (campaign, local date) pairs until the transaction ends."""
    if is_postgres(session):
        # Sorted, so two writers of overlapping days take their locks in one order and never deadlock.
        slots = sorted(
            {(campaign_id * 1_000_003 + day.toordinal()) % PERIOD_LOCK_SLOTS for campaign_id, day in families}
        )
        for slot in slots:
            session.execute(
                text("SELECT pg_advisory_xact_lock(:family, :slot)"), {"family": PERIOD_LOCK_CLASS, "slot": slot}
            )
    else:
        # SQLite's one write lock, taken before anything is read (a no-op UPDATE as the first write).
        session.execute(text("UPDATE spend_record SET id = id WHERE id = -1"))


def add_to_day_totals(session: Session, deltas: dict[tuple[int, date], int]) -> None:
    """Add amounts to brands' day totals and overview figures; the brands whose current month moved are enforced
    after commit (app.services.enforcement)."""
    if not deltas:
        return
    enforce_after_commit(session, brands_to_enforce(deltas, utcnow()))
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


def brands_to_enforce(deltas: dict[tuple[int, date], int], now: datetime) -> set[int]:
    """The brands whose spend of their current local month (or later) moved: the control rule reads a brand's
    day and month only, so spend on earlier days (a backfill of last month's report) changes no state, and
    asking for its brands' reconciles would only queue them (ten thousand, for an agency's report) ahead of
    the ones real-time spend needs. No zone is more than 12 hours behind UTC, so every brand's current month
    starts on or after the first of the month of 14 hours ago (two hours to spare): the bound."""
    earliest = (now - timedelta(hours=14)).date().replace(day=1)
    return {brand_id for brand_id, day in deltas if day >= earliest}


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
    """Every live brand and campaign by name (and the campaigns' aliases), as plain data for the parsers (app.ingest).

    With ``lazy`` only the brands a file or request names are read, as they come (a query per
    distinct brand name, every brand once if a name is not found as written): a small file's cost
    does not grow with the number of brands. Never
    lazy for a directory a forked reader inherits: the child must not touch the database.
    """
    linked = (
        select(PlatformConnection.account_id, Brand.name)
        .join(Brand, Brand.id == PlatformConnection.brand_id)
        .where(Brand.archived_at.is_(None))
        .distinct()
    )
    if not lazy:
        brands, campaigns, aliases = _directory_entries(session, None)
        named: dict[str, set[str]] = defaultdict(set)
        for account_id, brand_name in session.execute(linked):
            named[account_id].add(brand_name)
        accounts = {account_id: names.pop() for account_id, names in named.items() if len(names) == 1}
        return CampaignDirectory(brands, campaigns, aliases=aliases, accounts=accounts)
    complete = False

    def account_lookup(account_id: str) -> str | None:
        names = session.execute(linked.where(PlatformConnection.account_id == account_id).limit(2)).all()
        return names[0][1] if len(names) == 1 else None

    def lookup(name: str) -> tuple[list[BrandRef], list[CampaignRef], list[AliasRef]]:
        # By exact name; a name written otherwise (another case, or unknown) reads every brand once, since
        # the databases' lower() do not fold as Python's casefold does.
        nonlocal complete
        if complete:
            return [], [], []
        found = _directory_entries(session, Brand.name == name)
        if found[0]:
            return found
        complete = True
        return _directory_entries(session, None)

    return CampaignDirectory([], [], lookup=lookup, account_lookup=account_lookup)


def _directory_entries(session: Session, which) -> tuple[list[BrandRef], list[CampaignRef], list[AliasRef]]:
    """The live brands matching ``which`` (all when None), their live campaigns and those campaigns' aliases."""
    brands: dict[int, BrandRef] = {}
    zones: dict[str, ZoneInfo] = {}
    live = select(Brand.id, Brand.name, Brand.timezone, Brand.currency).where(Brand.archived_at.is_(None))
    for brand_id, name, zone, currency in session.execute(live if which is None else live.where(which)):
        brands[brand_id] = BrandRef(brand_id, name, zones.setdefault(zone, ZoneInfo(zone)), currency)
    if not brands:
        return [], [], []
    named = select(Campaign.id, Campaign.brand_id, Campaign.name).where(Campaign.archived_at.is_(None))
    aliased = select(CampaignAlias.name, CampaignAlias.campaign_id)
    if which is not None:
        named = named.where(Campaign.brand_id.in_(list(brands)))
        aliased = aliased.where(CampaignAlias.brand_id.in_(list(brands)))
    campaigns = {
        campaign_id: CampaignRef(
            campaign_id, brand_id, brands[brand_id].name, name, brands[brand_id].timezone, brands[brand_id].currency
        )
        for campaign_id, brand_id, name in session.execute(named)
        if brand_id in brands
    }
    # An alias of an archived campaign (or one of an archived brand) leads nowhere, like the campaign's own name.
    aliases = [
        AliasRef(name, campaigns[campaign_id])
        for name, campaign_id in session.execute(aliased)
        if campaign_id in campaigns
    ]
    return list(brands.values()), list(campaigns.values()), aliases


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


def predicted_changes(session: Session, rows: list[SpendRow]) -> list[tuple[int, datetime, date, int]]:
    """(brand id, spent_at, local date, amount) of what writing ``rows`` now would add to the day totals: the
    instant rows an import would store (unstored_rows) and each period figure's change, negative for a
    correction (predict_periods, as if registered after every stored figure). Reads only (the simulator)."""
    instants = [row for row in rows if row.period is None]
    changes = [
        (row.campaign.brand_id, row.spent_at, row.local_date, row.amount_minor)
        for row, _ in unstored_rows(session, instants)
    ]
    periods = [row for row in rows if row.period is not None]
    records = [
        NewSpend(
            row.campaign.campaign_id,
            row.campaign.brand_id,
            row.amount_minor,
            row.spent_at,
            row.local_date,
            "csv",
            key,
            row.external_id,
            row.period,
        )
        for row, key in zip(periods, dedupe_keys_for_rows(periods), strict=True)
    ]
    changes.extend(
        (figure.brand_id, figure.spent_at, figure.local_date, change)
        for figure, change in predict_periods(session, records)
    )
    return changes


# --- the API --------------------------------------------------------------------------------------


@dataclass
class ApiSpendResult:
    results: list[dict] = field(default_factory=list)
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    brand_ids: set[int] = field(default_factory=set)
    # Period records by outcome: replaced, corrected, unchanged (new ones are in ``created``).
    periods: dict[str, int] = field(default_factory=lambda: defaultdict(int))


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
            row.period,
        )
        for row, key in zip(good, keys, strict=False)
    ]
    written = write_spend(session, new, with_keys=True)
    result.brand_ids = written.brand_ids
    refused = {record.dedupe_key: why for record, why in written.mixed}
    seen: set[str] = set()
    for row, key in zip(good, keys, strict=False):
        if row.period is not None:  # a period figure: its outcome, the same for each of its records
            outcome = written.period_outcomes[key]
            if outcome == "mixed":
                why = refused[key]
                result.results[row.line] = {
                    "index": row.line,
                    "status": "error",
                    "error": why[:1].upper() + why[1:] + ".",
                }
                result.rejected += 1
                continue
            result.results[row.line] = {"index": row.line, "status": "created" if outcome == "new" else outcome}
            result.created += outcome == "new"
            result.periods[outcome] += 1
            continue
        created = key in written.inserted_keys and key not in seen  # a repeated external id counts once
        seen.add(key)
        result.results[row.line] = {"index": row.line, "status": "created" if created else "duplicate"}
        result.created += created
        result.duplicates += not created
    return result


# --- a whole file, in batches -------------------------------------------------------------------

_RECORDS = SpendRecord.__table__
# SQLite: how long an import's transaction may hold the write lock, and the rows it writes in the first one; each
# next transaction's rows are sized from the last one's speed (see ImportWriter), within these bounds.
SQLITE_HOLD_SECONDS = 0.25
SQLITE_COMMIT_ROWS = 5_000
SQLITE_COMMIT_ROWS_MIN, SQLITE_COMMIT_ROWS_MAX = 500, 50_000
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

    SQLite, which has one writer at a time: the rows are committed in transactions of about
    SQLITE_HOLD_SECONDS each (the rows of the next one sized from the last one's speed: fewer on a
    loaded machine, more on an idle one, where each commit's fixed cost of rewriting the touched index
    pages is then paid less often), so the write lock is held briefly at a time and a reconcile gets it
    in between. The rows are stored but do not count (``SpendImport.unpublished_from_id`` is set, see
    :func:`counted_spend`) until the
    caller publishes them by committing ``finish``'s totals with the import's outcome, one short
    transaction; :func:`discard_unpublished` deletes them if the import fails or is rejected.
    When the insert count shows a batch had duplicates, the inserted rows are read back by id
    range (the batch holds the write lock, so every id above the one read at its start is its own).
    """

    def __init__(self, session: Session, import_id: int) -> None:
        self.session = session
        self.import_id = import_id
        # Period rows wait for finish (write_periods, in the publishing transaction): they rewrite stored
        # figures, which must not change before the import publishes. A platform's figures, a few per
        # campaign and day, so they are held in memory.
        self.periods: list[NewSpend] = []
        self.lines: list[int] = []
        self.mixed_lines: list[tuple[int, str]] = []  # (line, why) of period rows refused by finish
        self.figure_at = session.scalar(select(SpendImport.created_at).where(SpendImport.id == import_id))
        self.started = False
        self.postgres = is_postgres(session)
        self.result = WriteResult()
        self.deltas: dict[tuple[int, date], int] = defaultdict(int)
        self.commit_rows = SQLITE_COMMIT_ROWS
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

    def write(self, rows: list[tuple], totals: dict[tuple[int, str], int], periods: list[tuple] | None = None) -> None:
        """Store ``rows`` (values in STAGED_COLUMNS order) whose day totals are ``totals``, skipping stored keys.

        ``periods`` are period rows (PERIOD_COLUMNS order, app.ingest.batches), kept for ``finish``.
        On SQLite the batch is committed (unpublished); on PostgreSQL nothing is committed.
        """
        for line, campaign_id, brand_id, amount, spent_at, day, external_id, key, period in periods or ():
            self.lines.append(line)
            self.periods.append(
                NewSpend(
                    campaign_id,
                    brand_id,
                    amount,
                    datetime.fromisoformat(spent_at).replace(tzinfo=UTC),
                    date.fromisoformat(day),
                    "csv",
                    key,
                    external_id,
                    period,
                )
            )
        if not rows:
            return
        connection = self.session.connection()
        if not self.postgres:
            start = 0
            while start < len(rows):
                chunk = rows[start : start + self.commit_rows]
                start += len(chunk)
                began = time.perf_counter()
                inserted = self._write_sqlite_chunk(
                    self.session.connection(), chunk, totals if len(chunk) == len(rows) else None
                )
                self.session.connection().execute(_STAGING.delete())
                _commit_batch(self.session)  # ends this hold on the write lock; the rows stay unpublished
                self.commit_rows = next_commit_rows(self.commit_rows, len(chunk), time.perf_counter() - began)
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
        """Write the period rows, add the day totals and publish the rows, in the caller's transaction (not
        committed). The result's ``mixed`` names the refused period rows; ``mixed_lines`` their lines."""
        written, deltas = write_periods(self.session, self.periods, figure_at=self.figure_at, import_id=self.import_id)
        self.result.add_periods(written)
        line_of = {id(record): line for line, record in zip(self.lines, self.periods, strict=True)}
        self.mixed_lines = sorted((line_of[id(record)], why) for record, why in written.mixed)
        for day, amount in deltas.items():
            self.deltas[day] += amount
        add_to_day_totals(self.session, self.deltas)
        self.session.execute(
            update(SpendImport).where(SpendImport.id == self.import_id).values(unpublished_from_id=None)
        )
        return self.result


def next_commit_rows(planned: int, rows: int, seconds: float) -> int:
    """The rows of an import's next SQLite transaction, after one of ``rows`` rows (``planned`` were allowed)
    took ``seconds``: as many as fit in SQLITE_HOLD_SECONDS at that speed, at most twice ``planned``, within
    the bounds."""
    fitting = int(rows * SQLITE_HOLD_SECONDS / seconds) if seconds > 0 else SQLITE_COMMIT_ROWS_MAX
    return max(SQLITE_COMMIT_ROWS_MIN, min(fitting, 2 * planned, SQLITE_COMMIT_ROWS_MAX))


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
