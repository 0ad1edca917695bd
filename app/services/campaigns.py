"""A person's changes to one campaign: create, edit, schedule, archive, record a spend.

Each function validates, writes, and (for changes to the campaign itself)
reconciles the brand at ``now`` with the person as actor, so the change takes
effect at once and is logged as a manual event (``reconcile=False`` leaves that to a caller
that makes several changes, such as ``fixtures load``). None of them commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.control import Window, local_time
from app.control.schedule import merge_windows
from app.database import IdBlock, insert_rows, lock_brand
from app.ingest.spend_values import external_id_problem, latest_spend, spent_at_problem
from app.ingest.timestamps import TimestampError, parse_instant, parse_period_start
from app.models import Brand, Campaign, ScheduleWindow
from app.money import MoneyError, parse_amount
from app.services.brands import too_long_message
from app.services.enforcement import enforce_after_commit
from app.services.reconcile import Change, reconcile_brand
from app.services.spend import new_spend, write_spend

NAME_MAX = 200
CAMPAIGN_FIELDS = ("name", "enabled", "start_date", "end_date")


class CampaignError(ValueError):
    """Invalid input; ``errors`` maps a field name (or "" for the whole form) to its sentences."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(message for messages in errors.values() for message in messages))
        self.errors = errors


class CampaignLocked(ValueError):
    """The campaign (or its brand) is archived, so it can no longer be changed."""


@dataclass
class Outcome:
    """The campaign after a change and what reconciling its brand did to it."""

    campaign: Campaign
    changes: list[Change] = field(default_factory=list)
    changed: bool = True

    @property
    def status_changed(self) -> bool:
        return any(change.campaign_id == self.campaign.id for change in self.changes)


@dataclass
class SpendOutcome:
    inserted: bool
    amount_minor: int
    spent_at: datetime
    brand_ids: set[int]
    # For a period figure: new, replaced, corrected or unchanged (app.services.spend.write_periods).
    period_outcome: str | None = None


def _check_open(campaign: Campaign) -> None:
    if campaign.archived_at is not None:
        raise CampaignLocked(f"campaign {campaign.name!r} is archived, so it cannot be changed")
    if campaign.brand.archived_at is not None:
        raise CampaignLocked(f"brand {campaign.brand.name!r} is archived, so its campaigns cannot be changed")


def validate_campaign(
    session: Session,
    brand: Brand | None,
    *,
    name: str,
    start_date: date | None,
    end_date: date | None,
    campaign_id: int | None = None,
    siblings: dict[str, Any] | None = None,
) -> str:
    """Check a campaign's name (required, at most NAME_MAX, unique within ``brand`` as typed) and flight.

    Returns the stripped name; raises CampaignError with every problem. ``brand`` is None for a
    brand not stored yet, which has no campaigns to clash with. ``siblings``, when the caller holds
    every campaign of the brand by name (fixtures), answers the clash instead of a query.
    """
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors.setdefault("name", []).append("A name is required.")
    elif len(name) > NAME_MAX:
        errors.setdefault("name", []).append(too_long_message(name, NAME_MAX))
    elif brand is not None:
        if siblings is not None:
            clash = siblings.get(name)
            clash = clash if clash is not None and (campaign_id is None or clash.id != campaign_id) else None
        else:
            clash = session.scalar(
                select(Campaign).where(Campaign.brand_id == brand.id, Campaign.name == name, Campaign.id != campaign_id)
            )
        if clash is not None:
            archived = " (archived)" if clash.archived_at is not None else ""
            errors.setdefault("name", []).append(f"{brand.name} already has a campaign{archived} named {name!r}.")
    if start_date is not None and end_date is not None and start_date > end_date:
        errors.setdefault("end_date", []).append(
            f"The flight must end on or after its start ({start_date.isoformat()})."
        )
    if errors:
        raise CampaignError(errors)
    return name


def _reconcile(session: Session, campaign: Campaign, now: datetime, actor: str, reconcile: bool = True) -> list[Change]:
    brand_id = campaign.brand.id
    enforce_after_commit(session, [brand_id])
    if not reconcile:
        return []  # the caller's next flush or commit writes it: many entries then go in one flush
    session.flush()
    return reconcile_brand(session, brand_id, now, actor=actor, automatic=False)


def create_campaign(
    session: Session,
    brand: Brand,
    *,
    name: str,
    enabled: bool,
    start_date: date | None,
    end_date: date | None,
    now: datetime,
    actor: str,
    reconcile: bool = True,
    siblings: dict[str, Campaign] | None = None,
    ids: IdBlock | None = None,
) -> Outcome:
    """Add a campaign to ``brand`` (no schedule: it runs at any hour) and reconcile the brand.

    Raises CampaignError for a missing, too long or taken name or a flight that ends
    before it starts; CampaignLocked for an archived brand. With ``reconcile=False`` the
    caller reconciles the brand once it has made all its changes (and the campaign is written
    at the caller's next flush). ``siblings``: the brand's campaigns by name, held by a caller
    that has the brand's lock for the whole transaction (fixtures); the new campaign is added to it.
    ``ids``: the block its id comes from, when the transaction takes the table's new ids from one.
    """
    if siblings is None:
        # The brand's lock first: two people adding the same name queue here, and the second is told it is taken.
        brand = lock_brand(session, brand.id) or brand
    if brand.archived_at is not None:
        raise CampaignLocked(f"brand {brand.name!r} is archived, so it cannot get new campaigns")
    name = validate_campaign(session, brand, name=name, start_date=start_date, end_date=end_date, siblings=siblings)
    new_id = {"id": ids.take()} if ids is not None else {}  # first: taking one may flush
    campaign = Campaign(brand=brand, name=name, enabled=enabled, start_date=start_date, end_date=end_date, **new_id)
    session.add(campaign)
    if siblings is not None:
        siblings[name] = campaign
    return Outcome(campaign, _reconcile(session, campaign, now, actor, reconcile))


def update_campaign(
    session: Session,
    campaign: Campaign,
    *,
    now: datetime,
    actor: str,
    reconcile: bool = True,
    siblings: dict[str, Campaign] | None = None,
    **fields,
) -> Outcome:
    """Change the fields given (any of name, enabled, start_date, end_date), then reconcile its brand.

    The fields not given keep their stored values. ``siblings`` as for :func:`create_campaign`.
    """
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise TypeError(f"update_campaign() got unknown fields: {', '.join(sorted(unknown))}")
    if siblings is None:
        lock_brand(session, campaign.brand_id)
    _check_open(campaign)
    values = {field: getattr(campaign, field) for field in CAMPAIGN_FIELDS} | fields
    values["name"] = validate_campaign(
        session,
        campaign.brand,
        name=values["name"],
        start_date=values["start_date"],
        end_date=values["end_date"],
        campaign_id=campaign.id,
        siblings=siblings,
    )
    changed = any(getattr(campaign, field) != value for field, value in values.items())
    if siblings is not None and values["name"] != campaign.name:
        siblings[values["name"]] = siblings.pop(campaign.name, campaign)
    for name, value in values.items():
        setattr(campaign, name, value)
    return Outcome(campaign, _reconcile(session, campaign, now, actor, reconcile), changed)


@dataclass(frozen=True)
class NewCampaignRef:
    """A campaign of :class:`NewCampaigns`, as ``validate_campaign``'s ``siblings`` reads one."""

    id: int
    archived_at: None = None


class NewCampaigns:
    """Campaigns of brands created in this transaction, with their schedules, gathered and written in
    multi-row inserts (``fixtures load`` of 100,000 campaigns): no ORM object per row.

    The rules are :func:`create_campaign`'s and :func:`set_schedule`'s: the same validation
    (:func:`validate_campaign`, against the brand's other new campaigns) and merged windows. A new
    brand is not archived and has no other campaigns, so there is nothing else to check. Call
    :meth:`write` once the brands are flushed; the brands were named for enforcement when created.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.campaign_ids = IdBlock(session, Campaign)
        # For the schedules set_schedule writes through the ORM in the same load (stored campaigns); the
        # new campaigns' schedule rows take the table's own ids, as nothing refers to them.
        self.window_ids = IdBlock(session, ScheduleWindow, block=5000)
        self.campaigns: list[dict] = []
        self.windows: list[dict] = []

    def add(
        self,
        brand: Brand,
        *,
        name: str,
        enabled: bool,
        start_date: date | None,
        end_date: date | None,
        windows: list[Window],
        siblings: dict[str, Any],
    ) -> int:
        """Validate and gather one campaign of the new ``brand`` (``siblings``: its campaigns gathered so
        far, by name; this one is added); returns its id. Raises CampaignError as create_campaign does."""
        name = validate_campaign(
            self.session, brand, name=name, start_date=start_date, end_date=end_date, siblings=siblings
        )
        campaign_id = self.campaign_ids.take()
        siblings[name] = NewCampaignRef(campaign_id)
        self.campaigns.append(
            {
                "id": campaign_id,
                "brand_id": brand.id,
                "name": name,
                "enabled": enabled,
                "start_date": start_date,
                "end_date": end_date,
            }
        )
        self.windows.extend(
            {
                "campaign_id": campaign_id,
                "day_of_week": w.day,
                "start_minute": w.start,
                "end_minute": w.end,
            }
            for w in merge_windows(windows)
        )
        return campaign_id

    def write(self) -> None:
        """Insert what was gathered (the columns' defaults fill the rest: paused, never evaluated)."""
        # The brands first, and every schedule row that took its id from window_ids: on SQLite the rows
        # below, given no id, then count on from those (see IdBlock).
        self.session.flush()
        for table, rows in ((Campaign.__table__, self.campaigns), (ScheduleWindow.__table__, self.windows)):
            for i in range(0, len(rows), 10_000):
                insert_rows(self.session, table, rows[i : i + 10_000])
        self.campaigns, self.windows = [], []


def set_windows(session: Session, campaign: Campaign, windows: list[Window], ids: IdBlock | None = None) -> bool:
    """Replace a campaign's schedule rows with ``windows`` (merged); returns whether it changed.
    ``ids`` as for :func:`create_campaign`."""
    new = merge_windows(windows)
    if list(campaign.schedule()) == new:
        return False
    if campaign.windows:
        campaign.windows.clear()
        session.flush()
    new_ids = [{"id": ids.take()} if ids is not None else {} for _ in new]
    campaign.windows.extend(
        ScheduleWindow(day_of_week=w.day, start_minute=w.start, end_minute=w.end, **new_id)
        for w, new_id in zip(new, new_ids, strict=True)
    )
    return True


def set_schedule(
    session: Session,
    campaign: Campaign,
    windows: list[Window],
    *,
    now: datetime,
    actor: str,
    reconcile: bool = True,
    brand_locked: bool = False,
    ids: IdBlock | None = None,
) -> Outcome:
    """Replace the campaign's dayparting with ``windows`` (merged), then reconcile its brand.

    An empty list means the campaign runs at any hour. ``brand_locked``: the caller holds the
    brand's lock for the whole transaction (fixtures). ``ids``: as for :func:`set_windows`.
    """
    if not brand_locked:
        lock_brand(session, campaign.brand_id)  # two saves of one grid queue instead of interleaving
    _check_open(campaign)
    changed = set_windows(session, campaign, windows, ids)
    return Outcome(campaign, _reconcile(session, campaign, now, actor, reconcile), changed)


def archive_campaign(session: Session, campaign: Campaign, *, now: datetime, actor: str) -> Outcome:
    """Archive the campaign at ``now``: it reads as switched off from then on; its history stays."""
    lock_brand(session, campaign.brand_id)
    if campaign.archived_at is not None:
        return Outcome(campaign, [], changed=False)
    campaign.archived_at = now
    return Outcome(campaign, _reconcile(session, campaign, now, actor))


def record_manual_spend(
    session: Session,
    campaign: Campaign,
    *,
    amount: str,
    spent_at: str = "",
    external_id: str = "",
    now: datetime,
    period: str = "",
) -> SpendOutcome:
    """Record one spend for the campaign by hand (the form and the CLI); does not commit.

    The spend rule of every entry point (app.ingest.spend_values): ``amount`` a plain decimal,
    zero or more, in the brand's currency; ``spent_at`` ISO 8601, brand-local when it has no
    offset, defaulting to ``now``, between 2000-01-01 and five minutes after ``now``.
    Re-recording an ``external_id`` adds nothing (``inserted`` is False). With ``period`` ("day" or
    "hour") the amount is the platform's figure for the brand-local day containing ``spent_at`` or the
    hour starting at it, and replaces the one stored (see write_periods). Raises CampaignError
    keyed by field (amount, spent_at, external_id, period), CampaignLocked for an archived campaign.
    """
    _check_open(campaign)
    brand = campaign.brand
    errors: dict[str, list[str]] = {}
    amount_minor = 0
    try:
        amount_minor = parse_amount(amount or "", brand.currency)
    except MoneyError as exc:
        errors["amount"] = [_sentence(str(exc))]
    instant = now
    period = (period or "").strip() or None
    if period is not None and period not in ("day", "hour"):
        errors["period"] = ["Choose a spend at a time, a day's figure or an hour's figure."]
    elif period is not None:
        tz = ZoneInfo(brand.timezone)
        text = (spent_at or "").strip() or local_time(now, tz).strftime("%Y-%m-%dT%H:00")
        try:
            # The form's date-and-time input: any time of a day names that day.
            instant = parse_period_start(text[:10] if period == "day" else text, period, tz)
        except TimestampError as exc:
            errors["spent_at"] = [_sentence(str(exc))]
    elif (spent_at or "").strip():
        try:
            instant = parse_instant(spent_at, ZoneInfo(brand.timezone))
        except TimestampError as exc:
            errors["spent_at"] = [_sentence(str(exc))]
    if "spent_at" not in errors and (problem := spent_at_problem(instant, latest_spend(now))):
        errors["spent_at"] = [_sentence(problem)]
    external = (external_id or "").strip() or None
    if external is not None and (problem := external_id_problem(external)):
        errors["external_id"] = [_sentence(problem)]
    if errors:
        raise CampaignError(errors)
    record = new_spend(campaign, amount_minor, instant, source="manual", external_id=external, period=period)
    result = write_spend(session, [record])
    if result.mixed:
        raise CampaignError({"period": [_sentence(result.mixed[0][1])]})
    outcome = result.period_outcomes.get(record.dedupe_key)
    return SpendOutcome(bool(result.inserted), amount_minor, instant, result.brand_ids, outcome)


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."
