"""The activity log: every campaign event, filtered, newest first, for the page and the CSV export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, literal, or_, select
from sqlalchemy.orm import Session, joinedload

from app.control import Reason
from app.models import Brand, Campaign, CampaignEvent

REASONS = tuple(str(reason) for reason in Reason)
KINDS = ("automatic", "manual")
EXPORT_BATCH = 1000

EXPORT_HEADER = (
    "time_utc", "brand", "campaign", "old_status", "new_status", "reasons", "old_reasons",
    "actor", "automatic", "local_time", "timezone", "currency", "spend_today", "daily_budget",
    "spend_month", "monthly_budget", "window",
)  # fmt: skip


@dataclass(frozen=True)
class ActivityFilter:
    """What to show; every field is optional. Dates are calendar days in ``zone`` (the zone the page
    shows its times in, UTC by default), both inclusive."""

    brand_id: int | None = None
    campaign_id: int | None = None
    reason: str | None = None
    actor: str | None = None
    kind: str | None = None  # "automatic" | "manual"
    date_from: date | None = None
    date_to: date | None = None
    zone: str = "UTC"


def _midnight(day: date, zone: str) -> datetime | None:
    """The instant ``day`` starts in ``zone``, in UTC; None at the edge of the calendar (no bound there)."""
    try:
        return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    except OverflowError:
        return None


def _where(stmt: Select, flt: ActivityFilter) -> Select:
    if flt.brand_id is not None:
        stmt = stmt.where(CampaignEvent.brand_id == flt.brand_id)
    if flt.campaign_id is not None:
        stmt = stmt.where(CampaignEvent.campaign_id == flt.campaign_id)
    if flt.reason:
        # Reasons are stored comma-separated; wrapping both sides in commas matches whole names only.
        wrapped = literal(",").concat(CampaignEvent.new_reasons).concat(",")
        stmt = stmt.where(wrapped.contains(f",{flt.reason},", autoescape=True))
    if flt.actor:
        stmt = stmt.where(CampaignEvent.actor.icontains(flt.actor.strip(), autoescape=True))
    if flt.kind == "automatic":
        stmt = stmt.where(CampaignEvent.automatic.is_(True))
    elif flt.kind == "manual":
        stmt = stmt.where(CampaignEvent.automatic.is_(False))
    if flt.date_from is not None and (start := _midnight(flt.date_from, flt.zone)) is not None:
        stmt = stmt.where(CampaignEvent.at >= start)
    # The last representable day has no end bound.
    end = _midnight(flt.date_to + timedelta(days=1), flt.zone) if flt.date_to and flt.date_to < date.max else None
    if end is not None:
        stmt = stmt.where(CampaignEvent.at < end)
    return stmt


def events_query(flt: ActivityFilter) -> Select:
    """Events matching ``flt``, newest first, with their brand and campaign loaded (for paginating)."""
    stmt = select(CampaignEvent).options(joinedload(CampaignEvent.brand), joinedload(CampaignEvent.campaign))
    return _where(stmt, flt).order_by(CampaignEvent.at.desc(), CampaignEvent.id.desc())


@dataclass
class EventPage:
    """One page of the log, newest first, with what its pager needs (the names of Flask-SQLAlchemy's
    Pagination) and the cursors that page on by the ``(at, id)`` index: ``older`` names the last event
    shown, ``newer`` the first."""

    items: list[CampaignEvent]
    page: int
    per_page: int
    total: int
    has_prev: bool
    has_next: bool

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def prev_num(self) -> int:
        return max(1, self.page - 1)

    @property
    def next_num(self) -> int:
        return self.page + 1

    @property
    def newer(self) -> str | None:
        return cursor_text(self.items[0]) if self.items else None

    @property
    def older(self) -> str | None:
        return cursor_text(self.items[-1]) if self.items else None


def cursor_text(event: CampaignEvent) -> str:
    """A place in the log as a query argument: the event's instant (UTC, microseconds) and id."""
    return f"{event.at.astimezone(UTC).strftime('%Y%m%dT%H%M%S.%f')}_{event.id}"


def parse_cursor(text: str | None) -> tuple[datetime, int] | None:
    """The (instant, id) of :func:`cursor_text`; None for anything else (the page then starts from its number)."""
    at, _, event_id = (text or "").partition("_")
    if not event_id.isascii() or not event_id.isdigit() or len(event_id) > 18:
        return None
    try:
        return datetime.strptime(at, "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC), int(event_id)
    except ValueError:
        return None


def events_page(
    session: Session,
    flt: ActivityFilter,
    *,
    page: int,
    per_page: int,
    older_than: tuple[datetime, int] | None = None,
    newer_than: tuple[datetime, int] | None = None,
) -> EventPage:
    """Page ``page`` of the events matching ``flt``, newest first.

    With a cursor (the events just older than ``older_than``, or just newer than ``newer_than``) the page is
    read by seeking the ``(at, id)`` index, at the same cost on page 2 as on page 200,000; ``page`` is
    then only its number. Without one, page ``page`` is counted off from the newest (OFFSET), as for an
    address typed by hand. ``total`` is capped as :func:`count_events` caps it.
    """
    stmt = events_query(flt)
    at, event_id = CampaignEvent.at, CampaignEvent.id
    if newer_than is not None:
        # The range on ``at`` alone lets the index seek; the OR only sorts out the events of that very instant.
        stmt = stmt.where(at >= newer_than[0], or_(at > newer_than[0], event_id > newer_than[1]))
        stmt = stmt.order_by(None).order_by(at.asc(), event_id.asc()).limit(per_page + 1)
        rows = list(session.scalars(stmt).unique())
        more = len(rows) > per_page
        items = rows[:per_page][::-1]
        page = page if more else 1  # nothing newer: this is the first page
        has_prev, has_next = more, True
    else:
        if older_than is not None:
            stmt = stmt.where(
                at <= older_than[0], or_(at < older_than[0], and_(at == older_than[0], event_id < older_than[1]))
            )
        else:
            stmt = stmt.offset((page - 1) * per_page)
        rows = list(session.scalars(stmt.limit(per_page + 1)).unique())
        items, has_next = rows[:per_page], len(rows) > per_page
        has_prev = page > 1
    return EventPage(items, page, per_page, count_events(session, flt), has_prev, has_next)


# The activity log counts matching events up to this many: a count of millions would read them all on
# every page view; past it the page says "more than" and still pages through them by the (at, id) index.
COUNT_CAP = 100_000


def count_events(session: Session, flt: ActivityFilter, cap: int = COUNT_CAP) -> int:
    """How many events match ``flt``, or ``cap + 1`` when more than ``cap`` do (reads at most cap + 1)."""
    matching = _where(select(CampaignEvent.id), flt).limit(cap + 1).subquery()
    return int(session.scalar(select(func.count()).select_from(matching)) or 0)


def export_rows(session: Session, flt: ActivityFilter) -> Iterator[tuple]:
    """Rows for the CSV export in ``EXPORT_HEADER`` order, newest first, read in batches (never all at once).

    Times are UTC ISO 8601 with a Z; amounts are the decimal strings recorded with each event.
    """
    stmt = _where(
        select(
            CampaignEvent.at,
            Brand.name,
            Campaign.name,
            CampaignEvent.old_status,
            CampaignEvent.new_status,
            CampaignEvent.new_reasons,
            CampaignEvent.old_reasons,
            CampaignEvent.actor,
            CampaignEvent.automatic,
            CampaignEvent.facts_json,
        )
        .join(Brand, Brand.id == CampaignEvent.brand_id)
        .join(Campaign, Campaign.id == CampaignEvent.campaign_id),
        flt,
    ).order_by(CampaignEvent.at.desc(), CampaignEvent.id.desc())
    result = session.execute(stmt.execution_options(yield_per=EXPORT_BATCH))
    try:
        for (
            at,
            brand,
            campaign,
            old_status,
            new_status,
            new_reasons,
            old_reasons,
            actor,
            automatic,
            facts_json,
        ) in result:
            facts = _facts(facts_json)
            yield (
                at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                brand,
                campaign,
                old_status or "",
                new_status,
                new_reasons.replace(",", " "),
                old_reasons.replace(",", " "),
                actor,
                "yes" if automatic else "no",
                facts.get("local_time", ""),
                facts.get("timezone", ""),
                facts.get("currency", ""),
                facts.get("spend_today", ""),
                facts.get("daily_budget", ""),
                facts.get("spend_month", ""),
                facts.get("monthly_budget", ""),
                facts.get("window") or "",
            )
    finally:
        result.close()


def _facts(facts_json: str | None) -> dict:
    try:
        facts = json.loads(facts_json or "{}")
    except ValueError:
        return {}
    return facts if isinstance(facts, dict) else {}


def brand_choices(session: Session, *, limit: int | None = None) -> list[tuple[int, str, bool]]:
    """(id, name, archived) of every brand, archived ones too (their history stays), by name; the first
    ``limit`` of them when given."""
    rows = session.execute(select(Brand.id, Brand.name, Brand.archived_at).order_by(Brand.name, Brand.id).limit(limit))
    return [(brand_id, name, archived_at is not None) for brand_id, name, archived_at in rows]


def campaign_choices(session: Session, brand_id: int) -> list[tuple[int, str, bool]]:
    """(id, name, archived) of one brand's campaigns, by name."""
    rows = session.execute(
        select(Campaign.id, Campaign.name, Campaign.archived_at)
        .where(Campaign.brand_id == brand_id)
        .order_by(Campaign.name, Campaign.id)
    )
    return [(campaign_id, name, archived_at is not None) for campaign_id, name, archived_at in rows]
