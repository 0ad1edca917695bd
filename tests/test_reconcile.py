"""The reconcile service: applies the rule to stored campaigns, logs each change once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.control import Window
from app.models import CampaignEvent
from app.services import reconcile as rec
from app.services.spend import new_spend, write_spend
from app.services.totals import spend_for_local_day, spend_for_local_month


def spend(session, campaign, minor, at):
    result = write_spend(session, [new_spend(campaign, minor, at, source="manual")])
    session.commit()
    return result


def event_count(session) -> int:
    return session.scalar(select(func.count()).select_from(CampaignEvent))


def test_first_reconcile_records_initial_state_then_nothing(session, make, now):
    brand = make.brand()
    campaign = make.campaign(brand)
    session.commit()

    changes = rec.reconcile_brands(session, now, actor="test")
    assert [(c.campaign, c.old_status, c.new_status) for c in changes] == [("Search", None, "active")]
    assert campaign.status == "active" and campaign.reasons == []
    assert rec.reconcile_brands(session, now, actor="test") == []
    assert event_count(session) == 1


def test_budget_hit_pauses_and_event_carries_the_facts(session, make, now):
    brand = make.brand(daily="50", monthly="1000", timezone="America/New_York")
    campaign = make.campaign(brand)
    session.commit()
    rec.reconcile_brands(session, now, actor="test")

    spend(session, campaign, 5000, now - timedelta(minutes=1))
    changes = rec.reconcile_brands(session, now, actor="enforce_budgets")
    assert len(changes) == 1 and changes[0].new_reasons == ("daily_budget",)
    event = session.scalars(select(CampaignEvent).order_by(CampaignEvent.id.desc())).first()
    assert (event.old_status, event.new_status, event.actor) == ("active", "paused", "enforce_budgets")
    assert event.facts["spend_today"] == "50.00" and event.facts["daily_budget"] == "50.00"
    assert event.facts["timezone"] == "America/New_York"
    assert event.facts["local_time"].startswith("2026-11-25T10:00")
    # Idempotent: a second run at the same now changes nothing and logs nothing.
    before = event_count(session)
    assert rec.sweep(session, now) == []
    assert event_count(session) == before


def test_the_sweep_never_activates_what_a_budget_pauses(session, make):
    # The original system's bug: the hourly dayparting job re-enabled budget-paused campaigns.
    brand = make.brand(daily="10")
    campaign = make.campaign(brand, windows=(Window(2, 9 * 60, 17 * 60),))  # Wednesday 09:00-17:00
    session.commit()
    before_window = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # a Wednesday
    spend(session, campaign, 1000, before_window)
    rec.reconcile_brands(session, before_window, actor="test")
    assert campaign.reasons == ["schedule", "daily_budget"]

    in_window = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    changes = rec.sweep(session, in_window)
    assert campaign.status == "paused" and campaign.reasons == ["daily_budget"]
    assert [c.new_reasons for c in changes] == [("daily_budget",)]


def test_reset_daily_resumes_at_local_midnight_and_catches_up(session, make):
    brand = make.brand(daily="10", timezone="Asia/Kolkata")  # midnight IST is 18:30 UTC
    campaign = make.campaign(brand)
    session.commit()
    evening = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    spend(session, campaign, 1000, evening)
    rec.reconcile_brands(session, evening, actor="test")
    assert campaign.reasons == ["daily_budget"]

    # The scheduler was down over midnight: the first run two hours later still resets.
    later = datetime(2026, 11, 25, 20, 30, tzinfo=UTC)
    changes = rec.reset_daily(session, later)
    assert [(c.new_status, c.actor) for c in changes] == [("active", "reset_daily")]
    assert brand.daily_reset_on.isoformat() == "2026-11-26"
    assert rec.reset_daily(session, later) == []
    assert rec.reset_daily(session, later + timedelta(hours=1)) == []


def test_reset_monthly_keys_on_the_local_month(session, make):
    brand = make.brand(daily="1000", monthly="10", timezone="Australia/Lord_Howe")
    campaign = make.campaign(brand)
    session.commit()
    end_of_month = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 21:00 local, 30 Nov
    spend(session, campaign, 1000, end_of_month)
    rec.reset_monthly(session, end_of_month)
    assert campaign.reasons == ["monthly_budget"]
    # 1 December 00:00 at Lord Howe (UTC+11 in summer) is 13:00 UTC on 30 November.
    assert rec.reset_monthly(session, datetime(2026, 11, 30, 12, 59, tzinfo=UTC)) == []
    changes = rec.reset_monthly(session, datetime(2026, 11, 30, 13, 0, tzinfo=UTC))
    assert [c.new_status for c in changes] == ["active"]
    assert brand.monthly_reset_on.isoformat() == "2026-12-01"


def test_dry_run_writes_nothing(session, make, now):
    brand = make.brand()
    make.campaign(brand)
    session.commit()
    assert len(rec.reconcile_brands(session, now, actor="cli", dry_run=True)) == 1
    assert event_count(session) == 0
    assert len(rec.reconcile_brands(session, now, actor="cli")) == 1


def test_day_and_month_totals_follow_the_brand_zone(session, make):
    brand = make.brand(timezone="America/New_York")
    campaign = make.campaign(brand)
    session.commit()
    # 03:30 UTC on 1 Dec is still 30 Nov in New York.
    spend(session, campaign, 700, datetime(2026, 12, 1, 3, 30, tzinfo=UTC))
    spend(session, campaign, 300, datetime(2026, 12, 1, 5, 30, tzinfo=UTC))
    nov30 = datetime(2026, 11, 30).date()
    dec1 = datetime(2026, 12, 1).date()
    assert spend_for_local_day(session, brand.id, nov30) == 700
    assert spend_for_local_day(session, brand.id, dec1) == 300
    assert spend_for_local_month(session, brand.id, nov30) == 700
    assert spend_for_local_month(session, brand.id, dec1) == 300


def test_a_reset_run_into_the_future_does_not_silence_todays_reset(session, make):
    brand = make.brand(daily="10")
    campaign = make.campaign(brand)
    session.commit()
    today = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    rec.reset_daily(session, today + timedelta(days=3))  # an operator trying `jobs run reset-daily --at` later
    assert brand.daily_reset_on.isoformat() == "2026-11-28"
    spend(session, campaign, 1000, today)
    rec.reconcile_brands(session, today, actor="test")
    assert campaign.reasons == ["daily_budget"]
    tomorrow = today + timedelta(days=1)
    changes = rec.reset_daily(session, tomorrow)
    assert [(c.new_status, c.actor) for c in changes] == [("active", "reset_daily")]
    assert brand.daily_reset_on.isoformat() == "2026-11-26"
