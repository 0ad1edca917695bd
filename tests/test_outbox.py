"""The outbox (issue 13): written in the change's transaction, and the alerts that go out through it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import Alert, Campaign, CampaignEvent, OutboxEvent
from app.services import reconcile as rec
from app.services.alerts import candidates, parse_percents
from app.services.outbox import ALERT_FIRED, CAMPAIGN_PAUSED, CAMPAIGN_RESUMED
from app.services.spend import new_spend, write_spend


def events(session, type_=None) -> list[OutboxEvent]:
    stmt = select(OutboxEvent).order_by(OutboxEvent.id)
    return list(session.scalars(stmt if type_ is None else stmt.where(OutboxEvent.type == type_)))


def spend(session, campaign, amount_minor: int, at: datetime) -> None:
    write_spend(session, [new_spend(campaign, amount_minor, at, source="api")])
    session.commit()


def test_each_campaign_change_commits_with_its_outbox_event(session, make, now):
    brand = make.brand("Acme", daily="100", monthly="2000")
    search = make.campaign(brand, "Search")
    session.commit()
    rec.reconcile_brands(session, now, actor="test")
    spend(session, search, 10_000, now)

    rec.reconcile_brands(session, now + timedelta(minutes=1), actor="reconcile_brand")

    audit = session.scalars(select(CampaignEvent).order_by(CampaignEvent.id)).all()
    changes = [e for e in events(session) if e.type in (CAMPAIGN_PAUSED, CAMPAIGN_RESUMED)]
    assert [(e.type, e.campaign_id) for e in changes] == [(CAMPAIGN_RESUMED, search.id), (CAMPAIGN_PAUSED, search.id)]
    assert [c.payload["data"]["audit_event_id"] for c in changes] == [a.id for a in audit]
    paused = changes[1].payload
    assert paused["id"] == changes[1].event_id and paused["type"] == "campaign.paused"
    assert paused["timestamp"] == "2026-11-25T15:01:00Z"
    data = paused["data"]
    assert data["brand"] == {"id": brand.id, "name": "Acme", "timezone": "UTC", "currency": "USD"}
    assert data["campaign"] == {"id": search.id, "name": "Search", "enabled": True, "platform_ids": {}}
    assert data["previous"] == {"status": "active", "reasons": []}
    assert data["current"] == {"status": "paused", "reasons": ["daily_budget"]}
    assert data["facts"]["spend_today"] == "100.00" and data["facts"]["daily_budget"] == "100.00"
    assert data["actor"] == "reconcile_brand" and data["automatic"] is True


def test_a_change_that_rolls_back_leaves_no_outbox_event(session, make, now):
    brand = make.brand("Acme")
    make.campaign(brand, "Search")
    session.commit()

    changes = rec.reconcile_brand(session, brand.id, now, actor="test")
    assert len(changes) == 1 and len(events(session)) == 1  # written, in the open transaction
    session.rollback()

    assert events(session) == [] and session.scalars(select(CampaignEvent)).all() == []
    assert session.get(Campaign, changes[0].campaign_id).status_changed_at is None


def test_a_dry_run_writes_no_outbox_event_nor_alert(session, make, now):
    brand = make.brand("Acme", daily="100")
    search = make.campaign(brand, "Search")
    spend(session, search, 10_000, now)
    rec.reconcile_brands(session, now, actor="test", dry_run=True)
    assert events(session) == [] and session.scalars(select(Alert)).all() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("80,100", (80, 100)),
        (" 100 , 80 ", (80, 100)),
        ("50%; 75%", (50, 75)),
        ("", ()),
        ("100,100", (100,)),
    ],
)
def test_parse_percents(text, expected):
    assert parse_percents(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("eighty", "not a whole percentage"),
        ("0", "not a whole percentage"),
        ("80.5", "not a whole percentage"),
        ("1001", "not a whole percentage"),
        ("10,20,30,40,50,60", "at most 5"),
    ],
)
def test_parse_percents_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        parse_percents(text)


def test_alerts_fire_once_per_threshold_per_period_across_a_month_and_again_the_next(session, make):
    # 30 a day against a 100 daily and a 600 monthly budget: 80 % of the month on the 16th, 100 % on
    # the 20th; each day reaches 80 % and 100 % of its own budget with its last spends.
    brand = make.brand("Acme", daily="100", monthly="600")
    search = make.campaign(brand, "Search")
    session.commit()
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for day in range(45):
        for hour in (9, 12, 15, 18):  # 25.00 each: 100 a day, the daily budget, at 18:00
            at = start + timedelta(days=day, hours=hour)
            spend(session, search, 2_500 if day < 5 or day >= 30 else 500, at)
            rec.reconcile_brands(session, at + timedelta(minutes=1), actor="reconcile_brand")
            rec.reconcile_brands(session, at + timedelta(minutes=2), actor="sweep")  # a rerun fires nothing

    fired = session.scalars(select(Alert).order_by(Alert.id)).all()
    keys = [(a.kind, a.percent, a.period) for a in fired]
    assert len(keys) == len(set(keys))
    daily = [k for k in keys if k[0] == "daily"]
    # November 1-5 and December 1-15 spent 100 a day (80 % at 15:00, 100 % at 18:00); the other days 20.
    full_days = [f"2026-11-0{d}" for d in range(1, 6)] + [f"2026-12-{d:02d}" for d in range(1, 16)]
    assert daily == [(kind, pct, day) for day in full_days for kind, pct in (("daily", 80), ("daily", 100))]
    monthly = [k for k in keys if k[0] == "monthly"]
    # November: 500 by the 5th, then 20 a day: 480 (80 %) on the 5th at 15:00... 600 (100 %) on the 10th.
    assert monthly == [
        ("monthly", 80, "2026-11"),
        ("monthly", 100, "2026-11"),
        ("monthly", 80, "2026-12"),
        ("monthly", 100, "2026-12"),
    ]
    forecasts = [k for k in keys if k[0] == "forecast"]
    assert forecasts == [("forecast", 100, "2026-11"), ("forecast", 100, "2026-12")]
    # Every alert went out once as alert.fired, with its key.
    out = events(session, ALERT_FIRED)
    assert [
        (
            e.payload["data"]["alert"]["kind"],
            e.payload["data"]["alert"]["percent"],
            e.payload["data"]["alert"]["period"],
        )
        for e in out
    ] == keys
    assert all(e.ordering_key == f"alerts:{brand.id}" for e in out)


def test_no_alert_for_a_zero_budget_and_no_forecast_too_early(make, session):
    brand = make.brand("Zero", daily="0", monthly="0")
    from app.control import BudgetFacts

    assert candidates(brand, BudgetFacts(0, 0, 500, 500), datetime(2026, 11, 20, tzinfo=UTC)) == []
    other = make.brand("Early", daily="1000", monthly="1000")
    # An hour into the month, 10.00 projects far above the budget, but a rate that early means nothing.
    early = candidates(other, BudgetFacts(100_000, 100_000, 1_000, 1_000), datetime(2026, 12, 1, 1, tzinfo=UTC))
    assert early == []


def test_alert_facts_are_in_the_payload(session, make, now):
    brand = make.brand("Acme", daily="100", monthly="100000")
    search = make.campaign(brand, "Search")
    spend(session, search, 8_000, now)
    rec.reconcile_brands(session, now, actor="reconcile_brand")
    [event] = events(session, ALERT_FIRED)
    data = event.payload["data"]
    assert data["alert"]["kind"] == "daily" and data["alert"]["percent"] == 80
    assert data["alert"]["period"] == "2026-11-25"
    assert data["facts"] == {
        "budget": "100.00",
        "currency": "USD",
        "local_time": "2026-11-25T15:00+00:00",
        "spend": "80.00",
        "timezone": "UTC",
    }
    assert json.loads(event.payload_json)["type"] == "alert.fired"
