"""Apply the control rule to stored campaigns and record every change.

``reconcile_brand`` is the one place campaign state is written: it locks the
brand, reads the facts (day and month totals, flights, schedules), applies
:func:`app.control.decide` at ``now`` and, for each campaign whose status or
reasons differ from the stored ones, writes the new state and one
CampaignEvent carrying the facts that decided it, and one outbox event per change; then it
fires the brand's budget alerts from the totals it read (app.services.alerts). All in the
caller's transaction, so nothing leaves Pacer for a change that rolled back. Running it twice at
the same ``now`` changes nothing the second time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Date, or_, select
from sqlalchemy.orm import Session, selectinload

from app.control import (
    BudgetFacts,
    Decision,
    Window,
    decide,
    local_day,
    local_time,
    month_start,
    window_at,
)
from app.control.next_change import next_change_at, schedule_boundaries
from app.database import BrandLockTimeout, lock_brand
from app.models import Brand, Campaign, CampaignEvent, ScheduleWindow
from app.money import format_amount
from app.services.alerts import fire_alerts
from app.services.changes import brands_changed_since, record_sweep, sweep_watermark
from app.services.figures import refresh_brand_figures
from app.services.out_of_step import brands_out_of_step
from app.services.outbox import add_campaign_change, platform_ids
from app.services.totals import spend_today_and_month
from app.services.zones import per_zone, zones_in_use

# Seconds a reconcile waits for its brand's lock before giving up (the job is retried, the sweep moves on).
LOCK_TIMEOUT = 2.0


@dataclass(frozen=True)
class Change:
    at: datetime
    brand: str
    campaign: str
    campaign_id: int
    old_status: str | None
    new_status: str
    old_reasons: tuple[str, ...]
    new_reasons: tuple[str, ...]
    actor: str
    facts: dict = field(default_factory=dict, compare=False)

    def describe(self) -> str:
        reasons = ", ".join(self.new_reasons) or "all rules pass"
        return (
            f"{self.at.isoformat().replace('+00:00', 'Z')}  {self.brand} / {self.campaign}: "
            f"{self.old_status or 'new'} -> {self.new_status} ({reasons})  [{self.actor}]"
        )


def _campaigns(count: int) -> str:
    return f"{count} campaign{'s' if count != 1 else ''}"


def changes_in_words(changes: list[Change]) -> str:
    """What a reconcile did, for the person who made the change: status changes and changes of
    reasons alone are counted apart ("1 campaign now paused; 2 still paused, for other reasons.")."""
    if not changes:
        return "No campaign changed status."
    moved = [c for c in changes if c.old_status != c.new_status]
    paused = sum(1 for c in moved if c.new_status == "paused")
    parts = []
    if len(moved) - paused:
        parts.append(f"{_campaigns(len(moved) - paused)} now active")
    if paused:
        parts.append(f"{_campaigns(paused)} now paused")
    if reasons_only := len(changes) - len(moved):
        phrase = (
            f"{reasons_only} still paused, for other reasons"
            if parts
            else f"No campaign changed status; {_campaigns(reasons_only)} still paused, for other reasons"
        )
        parts.append(phrase)
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def brand_budget_facts(session: Session, brand: Brand, now: datetime) -> BudgetFacts:
    spend_today, spend_month = spend_today_and_month(session, brand, now)
    return BudgetFacts(
        daily_budget=brand.daily_budget_minor,
        monthly_budget=brand.monthly_budget_minor,
        spend_today=spend_today,
        spend_month=spend_month,
    )


def decision_facts(brand: Brand, campaign: Campaign, budget: BudgetFacts, now: datetime) -> dict:
    """What decided a campaign's state at ``now``, for the audit log (amounts as decimal strings)."""
    tz = ZoneInfo(brand.timezone)
    local = local_time(now, tz)
    windows = campaign.schedule()
    window = window_at(windows, local)
    money = lambda minor: format_amount(minor, brand.currency)  # noqa: E731
    return {
        "timezone": brand.timezone,
        "local_time": local.isoformat(timespec="minutes"),
        "currency": brand.currency,
        "spend_today": money(budget.spend_today),
        "daily_budget": money(budget.daily_budget),
        "spend_month": money(budget.spend_month),
        "monthly_budget": money(budget.monthly_budget),
        "enabled": campaign.enabled,
        "archived": campaign.archived_at is not None,
        "flight": [
            campaign.start_date.isoformat() if campaign.start_date else None,
            campaign.end_date.isoformat() if campaign.end_date else None,
        ],
        "window": window.label() if window else None,
        "windows": len(windows),
    }


def evaluate_brand(session: Session, brand: Brand, now: datetime) -> list[tuple[Campaign, Decision, BudgetFacts]]:
    """The rule's decision for each of the brand's campaigns at ``now``; reads only."""
    tz = ZoneInfo(brand.timezone)
    budget = brand_budget_facts(session, brand, now)
    campaigns = session.scalars(
        select(Campaign)
        .where(Campaign.brand_id == brand.id)
        .order_by(Campaign.name)
        .options(selectinload(Campaign.windows))
        .execution_options(populate_existing=True)
    ).all()
    return [(c, decide(c.facts(), budget, now, tz), budget) for c in campaigns]


def reconcile_brand(
    session: Session,
    brand_id: int,
    now: datetime,
    *,
    actor: str,
    automatic: bool = True,
    dry_run: bool = False,
) -> list[Change]:
    """Bring one brand's campaigns to the rule's state at ``now``; does not commit.

    Takes the brand's lock first, so concurrent runs serialise and the second sees
    the first's writes and changes nothing. Raises BrandLockTimeout if the lock is not
    had within LOCK_TIMEOUT seconds.
    """
    brand = lock_brand(session, brand_id, timeout=LOCK_TIMEOUT)
    if brand is None:
        return []
    changes = []
    written: list[tuple[Campaign, CampaignEvent]] = []
    evaluated = evaluate_brand(session, brand, now)
    for campaign, decision, budget in evaluated:
        new_reasons = tuple(str(r) for r in decision.reasons)
        old_reasons = tuple(campaign.reasons)
        unchanged = campaign.status == decision.status and old_reasons == new_reasons
        if unchanged and campaign.status_changed_at is not None:
            continue
        facts = decision_facts(brand, campaign, budget, now)
        old_status = campaign.status if campaign.status_changed_at is not None else None
        change = Change(
            at=now,
            brand=brand.name,
            campaign=campaign.name,
            campaign_id=campaign.id,
            old_status=old_status,
            new_status=str(decision.status),
            old_reasons=old_reasons,
            new_reasons=new_reasons,
            actor=actor,
            facts=facts,
        )
        changes.append(change)
        if dry_run:
            continue
        campaign.status = str(decision.status)
        campaign.reasons = decision.reasons
        campaign.status_changed_at = now
        audit = CampaignEvent(
            campaign_id=campaign.id,
            brand_id=brand.id,
            at=now,
            old_status=old_status,
            new_status=str(decision.status),
            old_reasons=",".join(old_reasons),
            new_reasons=",".join(new_reasons),
            actor=actor,
            automatic=automatic,
            facts_json=json.dumps(facts, sort_keys=True),
        )
        session.add(audit)
        written.append((campaign, audit))
    session.flush()
    if dry_run:
        return changes
    # The outbox rows of the changes and of the alerts the same totals call for, in this transaction.
    linked = platform_ids(session, [campaign.id for campaign, _ in written]) if written else {}
    for campaign, audit in written:
        add_campaign_change(session, brand, campaign, audit, linked.get(campaign.id, {}))
    fire_alerts(session, brand, evaluated[0][2] if evaluated else brand_budget_facts(session, brand, now), now)
    brand.next_change_at = brand_next_change_at(session, brand, now)
    refresh_brand_figures(session, brand, now)
    session.flush()
    return changes


def brand_next_change_at(session: Session, brand: Brand, now: datetime) -> datetime:
    """When the brand's campaigns can next change state without new spend (app.control.next_change).
    Every campaign's windows count, switched off or archived too: their reasons name the schedule."""
    windows = session.execute(
        select(ScheduleWindow.day_of_week, ScheduleWindow.start_minute, ScheduleWindow.end_minute)
        .join(Campaign, Campaign.id == ScheduleWindow.campaign_id)
        .where(Campaign.brand_id == brand.id)
    ).all()
    boundaries = schedule_boundaries(Window(day, start, end) for day, start, end in windows)
    return next_change_at(boundaries, ZoneInfo(brand.timezone), now)


def active_brand_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Brand.id).where(Brand.archived_at.is_(None)).order_by(Brand.id)))


def due_brand_ids(session: Session, now: datetime) -> list[int]:
    """Brands not archived whose next change instant has come (or is not yet known): an indexed read."""
    return list(
        session.scalars(
            select(Brand.id)
            .where(Brand.archived_at.is_(None), or_(Brand.next_change_at.is_(None), Brand.next_change_at <= now))
            .order_by(Brand.id)
        )
    )


def reconcile_brands(
    session: Session,
    now: datetime,
    *,
    actor: str,
    brand_ids: list[int] | None = None,
    automatic: bool = True,
    dry_run: bool = False,
) -> list[Change]:
    """Reconcile the given brands (default: every brand not archived), committing after each brand.

    A brand whose lock is not had in time is skipped so the others go on; BrandLockTimeout is raised
    at the end, so the job is retried (and a sweep does not move its watermark).
    With ``dry_run`` nothing is written: each brand's work is rolled back.
    """
    changes: list[Change] = []
    skipped: list[int] = []
    for brand_id in active_brand_ids(session) if brand_ids is None else brand_ids:
        try:
            changes += reconcile_brand(session, brand_id, now, actor=actor, automatic=automatic, dry_run=dry_run)
        except BrandLockTimeout:
            session.rollback()
            skipped.append(brand_id)
            continue
        session.rollback() if dry_run else session.commit()
    if skipped:
        raise BrandLockTimeout(f"brands {skipped} stayed locked; the others were reconciled")
    return changes


def _reset_brands(
    session: Session, now: datetime, *, actor: str, attribute: str, period_start, dry_run: bool
) -> list[Change]:
    """Reconcile each brand whose local period (day or month) has turned since its last reset.

    The period start is stored on the brand under its lock, so a rerun, an overlap or a
    second scheduler finds nothing to do; a missed midnight is caught up on the next run.
    Any other stored period counts as turned, so a `jobs run --at` into the future does not
    silence the real resets until that date.
    """
    changes: list[Change] = []
    # Only the brands whose stored period differs from their zone's current one, chosen in SQL (one CASE
    # over the zones in use), so a minute when no midnight passes reads no brand into Python.
    current_by_zone = per_zone(
        {zone: period_start(local_day(now, ZoneInfo(zone))) for zone in zones_in_use(session)}, Date()
    )
    column = getattr(Brand, attribute)
    turned = select(Brand).where(Brand.archived_at.is_(None), or_(column.is_(None), column != current_by_zone))
    for brand in session.scalars(turned.order_by(Brand.id)).all():
        current = period_start(local_day(now, ZoneInfo(brand.timezone)))
        locked = lock_brand(session, brand.id)
        stored = getattr(locked, attribute)
        if stored != current:
            changes += reconcile_brand(session, brand.id, now, actor=actor, dry_run=dry_run)
            setattr(locked, attribute, current)
        session.rollback() if dry_run else session.commit()
    return changes


def reset_daily(session: Session, now: datetime, *, dry_run: bool = False) -> list[Change]:
    """At (or after) each brand's local midnight, re-evaluate it so day-budget pauses lift."""
    return _reset_brands(
        session, now, actor="reset_daily", attribute="daily_reset_on", period_start=lambda d: d, dry_run=dry_run
    )


def reset_monthly(session: Session, now: datetime, *, dry_run: bool = False) -> list[Change]:
    """At (or after) each brand's local 1st of the month, re-evaluate it so month-budget pauses lift."""
    return _reset_brands(
        session, now, actor="reset_monthly", attribute="monthly_reset_on", period_start=month_start, dry_run=dry_run
    )


@dataclass(frozen=True)
class SweepPlan:
    """The brands one sweep visits, in order: first those changed since the last completed sweep
    (every brand when there was none), so what an outage deferred is enforced first, then the brands
    that are due (their next change instant has come), then, in a full sweep only, any other brand
    whose stored state differs from the rule's."""

    watermark: datetime | None
    catch_up: list[int]
    rest: list[int]

    @property
    def brand_ids(self) -> list[int]:
        return self.catch_up + self.rest


def plan_sweep(session: Session, now: datetime, *, full: bool = False) -> SweepPlan:
    """Read-only: which brands a sweep at ``now`` visits and why (see SweepPlan). Without ``full`` its
    cost follows the brands due or changed, not the number of brands."""
    watermark = sweep_watermark(session)
    changed = brands_changed_since(session, watermark, now)
    catch_up = active_brand_ids(session) if changed is None else changed
    seen = set(catch_up)
    rest = [brand_id for brand_id in due_brand_ids(session, now) if brand_id not in seen]
    if full:
        seen.update(rest)
        rest += [brand_id for brand_id in brands_out_of_step(session, now) if brand_id not in seen]
    return SweepPlan(watermark, catch_up, rest)


def sweep(
    session: Session, now: datetime, *, dry_run: bool = False, full: bool = False, actor: str = "sweep"
) -> list[Change]:
    """The periodic sweep: brands to the full rule at ``now`` (budgets, schedules, flights, switches
    together), one brand per transaction: those changed since the last completed sweep first, then
    those due (app.control.next_change); then it moves the watermark to ``now``. Idempotent.

    With ``full`` (hourly, and `jobs run reconcile`) it also checks every campaign of every brand in a
    few set-based queries (app.services.out_of_step) and reconciles any brand out of step: the safety
    net for whatever the due sweep missed.

    It replaces the two sweeps the original system ran (budgets, dayparting): with one rule
    they were the same pass, and a pass that applies the whole rule can never activate a
    campaign another rule pauses. Operators still call it by either old name (`jobs run`).
    """
    plan = plan_sweep(session, now, full=full)
    session.commit()  # end the read (nothing written), so each brand's transaction starts with its lock
    changes = reconcile_brands(session, now, actor=actor, brand_ids=plan.brand_ids, dry_run=dry_run)
    if not dry_run:
        record_sweep(session, now)
        session.commit()
    return changes


def full_sweep(session: Session, now: datetime, *, dry_run: bool = False, actor: str = "full_sweep") -> list[Change]:
    """The sweep with the check of every brand (see :func:`sweep`): hourly and `jobs run reconcile`."""
    return sweep(session, now, dry_run=dry_run, full=True, actor=actor)
