"""The campaign page's view model: one service call with every fact the page shows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.control import Window
from app.services.campaign_page import HISTORY_PER_PAGE, campaign_page, duration_text
from app.services.reconcile import reconcile_brand
from app.services.spend import new_spend, write_spend

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday; 10:00 in New York


@pytest.fixture
def campaign(make, session):
    brand = make.brand("Acme", timezone="America/New_York", currency="JPY", daily="10000", monthly="200000")
    campaign = make.campaign(brand, "Search", windows=(Window(2, 9 * 60, 17 * 60 + 30),), end=date(2026, 11, 27))
    session.commit()
    return campaign


def test_the_facts_of_the_page_at_now(session, campaign):
    write_spend(
        session,
        [
            new_spend(campaign, 1500, NOW - timedelta(hours=1), source="manual"),
            new_spend(campaign, 700, datetime(2026, 11, 2, 12, tzinfo=UTC), source="manual"),
        ],
    )
    reconcile_brand(session, campaign.brand_id, NOW, actor="enforce_budgets")
    session.commit()

    page = campaign_page(session, campaign.id, NOW, history_page=1, can_edit=True)
    assert (page.campaign, page.brand) == (campaign, campaign.brand)
    assert page.local_now.isoformat() == "2026-11-25T10:00:00-05:00"
    assert (page.spend_today, page.spend_month) == (1500, 2200)
    assert page.windows == (Window(2, 540, 1050),) and page.has_windows
    assert page.window_lines == ("Wed 09:00–17:30",)
    assert page.amount_placeholder == "12"  # JPY has no decimals
    assert page.editable is True
    assert page.latest is not None and page.latest.actor == "enforce_budgets"
    # Today runs from now to 17:30, no schedule Thursday, flight over from Saturday.
    today, thursday, friday, saturday = page.strip[:4]
    assert today.label.startswith("Today · Wed") and [b.text for b in today.bars] == ["10:00–17:30"]
    assert today.total == "7 h 30 min" and today.now == round(600 * 100 / 1440, 3)
    assert (thursday.label.startswith("Tomorrow · "), thursday.empty) == (True, "No scheduled hours")
    assert friday.empty == "No scheduled hours" and saturday.empty == "Outside its flight dates"
    assert len(page.strip) == 7


def test_switched_off_archived_and_read_only(session, campaign):
    campaign.enabled = False
    session.commit()
    page = campaign_page(session, campaign.id, NOW, history_page=1, can_edit=True)
    assert {row.empty for row in page.strip} == {"Switched off"} and page.editable is True
    assert campaign_page(session, campaign.id, NOW, history_page=1, can_edit=False).editable is False
    campaign.brand.archived_at = NOW
    session.commit()
    assert campaign_page(session, campaign.id, NOW, history_page=1, can_edit=True).editable is False
    campaign.archived_at = NOW
    session.commit()
    assert {row.empty for row in campaign_page(session, campaign.id, NOW, history_page=1, can_edit=True).strip} == {
        "Archived"
    }


def test_history_is_paginated_newest_first_and_the_latest_event_is_on_every_page(session, campaign):
    assert campaign_page(session, campaign.id, NOW, history_page=1, can_edit=True).history.total == 0
    for i in range(HISTORY_PER_PAGE + 3):
        # Alternate the switch so each reconcile records one event.
        campaign.enabled = i % 2 == 1
        session.flush()
        reconcile_brand(session, campaign.brand_id, NOW - timedelta(minutes=60 - i), actor=f"job-{i}")
    session.commit()

    first = campaign_page(session, campaign.id, NOW, history_page=1, can_edit=True).history
    assert (first.total, first.pages, len(first.items), first.has_prev, first.next_num) == (23, 2, 20, False, 2)
    assert [e.actor for e in first.items[:2]] == ["job-22", "job-21"]
    second = campaign_page(session, campaign.id, NOW, history_page=2, can_edit=True)
    assert [e.actor for e in second.history.items] == ["job-2", "job-1", "job-0"]
    assert (second.history.prev_num, second.history.has_next) == (1, False)
    assert second.latest.actor == "job-22"
    assert campaign_page(session, campaign.id, NOW, history_page=0, can_edit=True).history.page == 1
    past_the_end = campaign_page(session, campaign.id, NOW, history_page=9, can_edit=True).history
    assert (past_the_end.items, past_the_end.total) == ((), 23)


def test_unknown_campaign(session):
    with pytest.raises(LookupError):
        campaign_page(session, 404, NOW, history_page=1, can_edit=True)


@pytest.mark.parametrize(("minutes", "words"), [(45, "45 min"), (180, "3 h"), (150, "2 h 30 min"), (0, "0 min")])
def test_duration_text(minutes, words):
    assert duration_text(timedelta(minutes=minutes)) == words
