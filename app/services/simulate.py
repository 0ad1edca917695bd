"""Replay the control rule over a span of time without touching stored data.

Starts from the stored brands, campaigns, schedules and spend, adds the rows
of an optional spend file (rows already stored are not counted twice), and
walks from ``start`` to ``end``. The state is evaluated at ``start``, at every
step boundary (``start + k * step``), at the instant of every spend (a spend at
t counts from t on), and at every quarter hour, which is every instant the
rule's other inputs can change: schedule windows and local days start on local
quarter hours, and every zone in use today is offset from UTC by a whole number
of quarter hours. So the transitions reported are exact, whatever the step.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.control import BudgetFacts, decide, local_day, local_time, month_start, window_at
from app.ingest.csv_spend import RowError, SpendFileError, read_spend_csv
from app.models import Brand, SpendRecord
from app.services.reconcile import brand_budget_facts
from app.services.spend import campaign_directory, counted_spend, predicted_changes

QUARTER = timedelta(minutes=15)
MAX_SPAN = timedelta(days=366)
_STEP = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class SimulationError(ValueError):
    pass


@dataclass(frozen=True)
class StateChange:
    at: datetime
    brand: str
    campaign: str
    status: str
    reasons: tuple[str, ...]

    def as_json(self) -> dict:
        return {
            "at": self.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "brand": self.brand,
            "campaign": self.campaign,
            "status": self.status,
            "reasons": list(self.reasons),
        }


def parse_step(text: str) -> timedelta:
    """'15m' -> 15 minutes; units s, m, h, d."""
    match = _STEP.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise SimulationError(f"step {text!r} is not a positive duration like 15m, 1h or 30s")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@dataclass
class BrandLedger:
    """Spend of one brand by local day and month, advanced through its sorted spend instants."""

    brand: Brand
    tz: ZoneInfo
    pending: list[tuple[datetime, date, int]]
    by_day: dict[date, int]
    by_month: dict[date, int]
    cursor: int = 0

    def advance(self, t: datetime) -> None:
        while self.cursor < len(self.pending) and self.pending[self.cursor][0] <= t:
            _, day, amount = self.pending[self.cursor]
            self.by_day[day] += amount
            self.by_month[month_start(day)] += amount
            self.cursor += 1

    def budget(self, t: datetime) -> BudgetFacts:
        today = local_day(t, self.tz)
        return BudgetFacts(
            daily_budget=self.brand.daily_budget_minor,
            monthly_budget=self.brand.monthly_budget_minor,
            spend_today=self.by_day.get(today, 0),
            spend_month=self.by_month.get(month_start(today), 0),
        )


def _file_spend(
    session: Session, spend_file: BinaryIO
) -> tuple[dict[int, list[tuple[datetime, date, int]]], list[RowError]]:
    """The file's rows that an import would store, per brand, and its bad rows.

    The spend rule of every entry point applies, except that future rows are allowed: nothing is stored.
    """
    rows, errors = [], []
    try:
        for item in read_spend_csv(spend_file, campaign_directory(session), latest=None):
            (errors if isinstance(item, RowError) else rows).append(item)
    except SpendFileError as exc:
        raise SimulationError(str(exc)) from None
    spend: dict[int, list[tuple[datetime, date, int]]] = defaultdict(list)
    for brand_id, spent_at, day, amount in predicted_changes(session, rows):
        spend[brand_id].append((spent_at, day, amount))
    return spend, errors


def simulate(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    step: timedelta = QUARTER,
    spend_file: BinaryIO | None = None,
) -> Iterator[StateChange]:
    """Yield every campaign's state at ``start``, then each change of status or reasons up to ``end``.

    Raises SimulationError for a bad span or a spend file with bad rows (all listed).
    """
    if end <= start:
        raise SimulationError("--to must be after --from")
    if end - start > MAX_SPAN:
        raise SimulationError("the span from --from to --to may be at most 366 days")
    ledgers = brand_ledgers(session, start, end, spend_file)

    instants = _instants(start, end, step, ledgers)
    last: dict[int, tuple[str, tuple[str, ...]]] = {}
    # The facts are read once: building them from the ORM rows at every instant was most of the cost.
    facts = {
        ledger.brand.id: [(c, c.facts()) for c in ledger.brand.campaigns if c.archived_at is None] for ledger in ledgers
    }
    for t in instants:
        for ledger in ledgers:
            ledger.advance(t)
            budget = ledger.budget(t)
            for campaign, campaign_facts in facts[ledger.brand.id]:
                decision = decide(campaign_facts, budget, t, ledger.tz)
                state = (str(decision.status), tuple(str(r) for r in decision.reasons))
                if last.get(campaign.id) != state:
                    last[campaign.id] = state
                    yield StateChange(t, ledger.brand.name, campaign.name, *state)


def brand_ledgers(session: Session, start: datetime, end: datetime, spend_file: BinaryIO | None) -> list[BrandLedger]:
    """Each live brand's spend from the start of its local month at ``start`` up to ``end``: stored spend
    plus the file's rows that an import would store. Raises SimulationError for a file with bad rows."""
    file_spend: dict[int, list] = {}
    if spend_file is not None:
        file_spend, errors = _file_spend(session, spend_file)
        if errors:
            raise SimulationError(
                "the spend file has bad rows:\n" + "\n".join(f"  line {e.line}: {e.message}" for e in errors)
            )
    brands = session.scalars(
        select(Brand).where(Brand.archived_at.is_(None)).options(selectinload(Brand.campaigns)).order_by(Brand.name)
    ).all()
    return [_ledger(session, brand, start, end, file_spend.get(brand.id, [])) for brand in brands]


def _ledger(session: Session, brand: Brand, start: datetime, end: datetime, extra: list) -> BrandLedger:
    tz = ZoneInfo(brand.timezone)
    first_day = month_start(local_day(start, tz))
    # A day before the local month's first midnight in UTC: a bound on spent_at the (brand_id, spent_at) index can use.
    earliest = datetime.combine(first_day, time(), tzinfo=UTC) - timedelta(days=1)
    stored = session.execute(
        select(SpendRecord.spent_at, SpendRecord.local_date, func.sum(SpendRecord.amount_minor))
        .where(
            SpendRecord.brand_id == brand.id,
            SpendRecord.spent_at >= earliest,
            SpendRecord.spent_at <= end,
            SpendRecord.local_date >= first_day,
            counted_spend(),
        )
        .group_by(SpendRecord.spent_at, SpendRecord.local_date)
    ).all()
    pending = sorted([(at, day, int(amount)) for at, day, amount in stored] + list(extra))
    ledger = BrandLedger(brand, tz, pending, defaultdict(int), defaultdict(int))
    ledger.advance(start)
    return ledger


def _instants(start: datetime, end: datetime, step: timedelta, ledgers: list[BrandLedger]) -> list[datetime]:
    points = {start, end}
    # A step finer than a quarter hour adds nothing (the state cannot change between the quarter
    # hours and spend instants below), and a 1s step over a year would be 31 million instants.
    t = start + step
    while step >= QUARTER and t < end:
        points.add(t)
        t += step
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    q = epoch + ((start - epoch) // QUARTER + 1) * QUARTER
    while q < end:
        points.add(q)
        q += QUARTER
    for ledger in ledgers:
        points.update(at for at, _, _ in ledger.pending[ledger.cursor :] if at <= end)
    return sorted(points)


# --- what dayparting would do at a local hour and weekday ---------------------------------------


@dataclass(frozen=True)
class DaypartingCheck:
    """One campaign's state now and what the rule decides at ``at`` (its brand's local ``local``)."""

    brand: str
    campaign: str
    at: datetime
    local: datetime
    timezone: str
    status_now: str
    reasons_now: tuple[str, ...]
    status: str
    reasons: tuple[str, ...]
    window: str | None

    @property
    def changes(self) -> bool:
        return (self.status, self.reasons) != (self.status_now, self.reasons_now)


def next_local(now: datetime, tz: ZoneInfo, weekday: int, hour: int) -> datetime:
    """The first instant at or after ``now`` that is ``hour``:00 on ``weekday`` (0=Monday) in ``tz``. A wall
    time that daylight saving skips is the instant the clocks jump at; a repeated one, its first occurrence."""
    today = local_day(now, tz)
    day = today + timedelta(days=(weekday - today.weekday()) % 7)
    instant = datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)
    if instant < now:  # that hour has passed today: next week's
        instant = datetime.combine(day + timedelta(weeks=1), time(hour), tzinfo=tz).astimezone(UTC)
    return instant


def dayparting_at(session: Session, now: datetime, *, weekday: int, hour: int) -> list[DaypartingCheck]:
    """Dry run: for every campaign of every brand not archived, the rule at the next ``hour``:00 on
    ``weekday`` in its brand's zone, with the brand's spend as it stands at ``now`` (so only the clock
    moves: schedules and flights decide, budgets as today). Reads only."""
    checks = []
    brands = session.scalars(select(Brand).where(Brand.archived_at.is_(None)).order_by(Brand.name)).all()
    for brand in brands:
        tz = ZoneInfo(brand.timezone)
        at = next_local(now, tz, weekday, hour)
        budget = brand_budget_facts(session, brand, now)
        for campaign in brand.campaigns:
            if campaign.archived_at is not None:
                continue
            decision = decide(campaign.facts(), budget, at, tz)
            window = window_at(campaign.schedule(), local_time(at, tz))
            checks.append(
                DaypartingCheck(
                    brand.name,
                    campaign.name,
                    at,
                    local_time(at, tz),
                    brand.timezone,
                    campaign.status,
                    tuple(campaign.reasons),
                    str(decision.status),
                    tuple(str(r) for r in decision.reasons),
                    window.label() if window else None,
                )
            )
    return checks
