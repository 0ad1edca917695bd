"""The activity log: every campaign event, filtered, newest first, for the page and the CSV export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, literal, select
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


def brand_choices(session: Session) -> list[tuple[int, str, bool]]:
    """(id, name, archived) of every brand, archived ones too (their history stays), by name."""
    rows = session.execute(select(Brand.id, Brand.name, Brand.archived_at).order_by(Brand.name, Brand.id))
    return [(brand_id, name, archived_at is not None) for brand_id, name, archived_at in rows]


def campaign_choices(session: Session, brand_id: int) -> list[tuple[int, str, bool]]:
    """(id, name, archived) of one brand's campaigns, by name."""
    rows = session.execute(
        select(Campaign.id, Campaign.name, Campaign.archived_at)
        .where(Campaign.brand_id == brand_id)
        .order_by(Campaign.name, Campaign.id)
    )
    return [(campaign_id, name, archived_at is not None) for campaign_id, name, archived_at in rows]
