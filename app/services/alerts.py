"""Budget alerts: a brand's spend reaching a share of its daily or monthly budget, and a month-end
forecast above the monthly budget.

Evaluated by reconcile, under the brand's lock, from the totals it has just read. Each alert fires
once per brand, kind, percentage and brand-local period (day or month): the unique key in the
database says so, whatever runs twice. A fired alert and its ``alert.fired`` outbox event are
written in the caller's transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app.control import BudgetFacts, local_time
from app.control.pacing import pace
from app.database import upsert_insert
from app.models import Alert, Brand
from app.money import display_amount, format_amount
from app.services.outbox import ALERT_FIRED, add_event, brand_ref, iso

DEFAULT_PERCENTS = (80, 100)
MAX_PERCENTS = 5
KINDS = ("daily", "monthly", "forecast")
FORECAST_PERCENT = 100  # the forecast alert has one threshold: the monthly budget itself
BADGE_WINDOW = timedelta(hours=24)  # the header badge counts the alerts fired this long ago or less


def parse_percents(text: str) -> tuple[int, ...]:
    """Alert thresholds as typed ("80, 100"): whole percentages from 1 to 1000, at most five,
    sorted and without repeats. Raises ValueError with a sentence."""
    values = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip().rstrip("%").strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 1000:
            raise ValueError(f"“{part}” is not a whole percentage from 1 to 1000.")
        values.append(int(part))
    chosen = tuple(sorted(set(values)))
    if len(chosen) > MAX_PERCENTS:
        raise ValueError(f"Use at most {MAX_PERCENTS} thresholds.")
    return chosen


def set_alert_percents(session: Session, brand_id: int, text: str) -> tuple[int, ...]:
    """Store the brand's thresholds as typed (see parse_percents); an empty text restores the defaults.
    Raises ValueError with a sentence, LookupError for an unknown brand. Does not commit."""
    brand = session.get(Brand, brand_id)
    if brand is None:
        raise LookupError(brand_id)
    percents = parse_percents(text) or DEFAULT_PERCENTS
    brand.alert_percents = ",".join(map(str, percents))
    return percents


def brand_percents(brand: Brand) -> tuple[int, ...]:
    try:
        return parse_percents(brand.alert_percents)
    except ValueError:  # a hand-edited row: fall back to the defaults rather than stop enforcement
        return DEFAULT_PERCENTS


@dataclass(frozen=True)
class Candidate:
    kind: str
    percent: int
    period: str
    facts: dict


def candidates(brand: Brand, budget: BudgetFacts, now: datetime) -> list[Candidate]:
    """The alerts the brand's figures call for at ``now`` (fired or not yet); reads nothing."""
    tz = ZoneInfo(brand.timezone)
    local = local_time(now, tz)
    day, month = local.date().isoformat(), local.strftime("%Y-%m")
    money = lambda minor: format_amount(minor, brand.currency)  # noqa: E731
    common = {"currency": brand.currency, "timezone": brand.timezone, "local_time": local.isoformat(timespec="minutes")}
    found = []
    for percent in brand_percents(brand):
        if budget.daily_budget and budget.spend_today * 100 >= budget.daily_budget * percent:
            found.append(
                Candidate(
                    "daily",
                    percent,
                    day,
                    common | {"spend": money(budget.spend_today), "budget": money(budget.daily_budget)},
                )
            )
        if budget.monthly_budget and budget.spend_month * 100 >= budget.monthly_budget * percent:
            found.append(
                Candidate(
                    "monthly",
                    percent,
                    month,
                    common | {"spend": money(budget.spend_month), "budget": money(budget.monthly_budget)},
                )
            )
    pacing = pace(budget, local)
    if pacing.state.is_forecast and pacing.projected > budget.monthly_budget:
        found.append(
            Candidate(
                "forecast",
                FORECAST_PERCENT,
                month,
                common
                | {
                    "spend": money(budget.spend_month),
                    "budget": money(budget.monthly_budget),
                    "projected": money(pacing.projected),
                },
            )
        )
    return found


def fire_alerts(session: Session, brand: Brand, budget: BudgetFacts, now: datetime) -> list[Alert]:
    """Write each alert the figures call for that has not fired in its period yet, with its
    ``alert.fired`` event; returns the new ones. Does not commit."""
    if brand.archived_at is not None:
        return []
    found = candidates(brand, budget, now)
    if not found:
        return []
    table = Alert.__table__
    rows = [
        {
            "brand_id": brand.id,
            "kind": c.kind,
            "percent": c.percent,
            "period": c.period,
            "fired_at": now,
            "facts": json.dumps(c.facts, sort_keys=True),
        }
        for c in found
    ]
    inserted = (
        session.execute(
            upsert_insert(session, table)
            .on_conflict_do_nothing(index_elements=["brand_id", "kind", "percent", "period"])
            .returning(table.c.id),
            rows,
        )
        .scalars()
        .all()
    )
    alerts = session.scalars(select(Alert).where(Alert.id.in_(inserted)).order_by(Alert.id)).all() if inserted else []
    for alert in alerts:
        add_event(
            session,
            type=ALERT_FIRED,
            occurred_at=now,
            brand_id=brand.id,
            ordering_key=f"alerts:{brand.id}",
            data={
                "brand": brand_ref(brand),
                "alert": {
                    "id": alert.id,
                    "kind": alert.kind,
                    "percent": alert.percent,
                    "period": alert.period,
                    "fired_at": iso(alert.fired_at),
                },
                "facts": alert.facts,
            },
        )
    return list(alerts)


def alerts_select(brand_id: int | None = None):
    """Fired alerts, newest first, with their brands; for ``db.paginate``."""
    stmt = select(Alert).options(joinedload(Alert.brand)).order_by(Alert.fired_at.desc(), Alert.id.desc())
    return stmt if brand_id is None else stmt.where(Alert.brand_id == brand_id)


def recent_count(session: Session, now: datetime) -> int:
    """How many alerts fired in the last day: the header's badge."""
    return int(session.scalar(select(func.count()).select_from(Alert).where(Alert.fired_at > now - BADGE_WINDOW)) or 0)


def describe(alert: Alert) -> str:
    """One sentence for people."""
    facts = alert.facts
    if alert.kind == "forecast":
        return (
            f"Projected month-end spend {display_amount(facts.get('projected'))} is above the monthly budget "
            f"{display_amount(facts.get('budget'))} {facts.get('currency')}."
        )
    period = "today" if alert.kind == "daily" else "this month"
    return (
        f"Spend {period} reached {alert.percent}% of the {alert.kind} budget: {display_amount(facts.get('spend'))} of "
        f"{display_amount(facts.get('budget'))} {facts.get('currency')}."
    )
