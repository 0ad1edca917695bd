"""Screenshots of the main pages with realistic data, at laptop (1280x800) and phone (390x844)
size, saved under tests/artifacts/ for people to look at; the tests also check what a person
relies on at each size (the chart drawn, the grid reachable, nothing pushing the page sideways)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.control import Window
from app.models import Campaign, utcnow
from app.services.campaigns import set_schedule
from app.services.reconcile import reconcile_brands
from app.services.spend import new_spend, write_spend
from tests.browser.conftest import PHONE, horizontal_overflow, login, seed_brand, shoot, unique

pytestmark = pytest.mark.browser

WEEKDAYS_9_TO_17 = [Window(day, 9 * 60, 17 * 60) for day in range(5)]


@pytest.fixture(scope="module")
def agency(live):
    """Three brands in three zones: one spending steadily with a schedule, one over its daily budget, one new."""
    steady = seed_brand(
        live,
        unique("Harbour Coffee Roasters"),
        campaigns=("Brand search", "Shopping", "Retargeting"),
        timezone="Europe/London",
        daily="400",
        monthly="9000",
    )
    capped = seed_brand(
        live,
        unique("Kiwi Outdoor"),
        campaigns=("Prospecting",),
        timezone="Pacific/Auckland",
        daily="50",
        monthly="1200",
    )
    seed_brand(live, unique("Quiet Co"), campaigns=(), timezone="America/New_York")

    def spend_and_schedule(session):
        now = utcnow()
        search = session.get(Campaign, steady.campaign_ids["Brand search"])
        shopping = session.get(Campaign, steady.campaign_ids["Shopping"])
        records = []
        for days_ago in range(1, 12):
            records.append(
                new_spend(search, 15_000 + 1_700 * (days_ago % 5), now - timedelta(days=days_ago), source="csv")
            )
            records.append(
                new_spend(shopping, 9_000 + 2_300 * (days_ago % 3), now - timedelta(days=days_ago), source="api")
            )
        records.append(new_spend(search, 4_200, now - timedelta(minutes=30), source="manual"))
        prospecting = session.get(Campaign, capped.campaign_ids["Prospecting"])
        records.append(new_spend(prospecting, 6_150, now, source="api", external_id="meta-889123"))
        write_spend(session, records)
        set_schedule(session, shopping, WEEKDAYS_9_TO_17, now=now, actor="user:manager@browser.test")

    live.run(spend_and_schedule)
    live.run(reconcile_brands, utcnow(), actor="enforce_budgets", brand_ids=[steady.brand_id, capped.brand_id])
    return steady, capped


def test_screenshots_of_the_overview_brand_and_campaign_pages(page, live, agency):
    steady, capped = agency
    login(page, "manager")

    brands = page.get_by_role("table")
    expect(brands.get_by_role("link", name=steady.name)).to_be_visible()
    capped_row = brands.get_by_role("row").filter(has=page.get_by_role("link", name=capped.name))
    expect(capped_row).to_contain_text("1 paused")
    actions = page.get_by_role("region", name="Latest automatic actions")
    expect(actions.get_by_role("listitem").filter(has_text=capped.name)).to_contain_text("Daily budget reached")
    shoot(page, "overview")

    brands.get_by_role("link", name=steady.name).click()
    expect(page.get_by_role("heading", name=steady.name, level=1)).to_be_visible()
    chart = page.locator("canvas#pacing-chart")
    expect(chart).to_be_visible()
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('pacing-chart'))")
    shoot(page, "brand")

    page.get_by_role("region", name="Campaigns").get_by_role("link", name="Shopping").click()
    expect(page.get_by_role("heading", name="Shopping", level=1)).to_be_visible()
    expect(page.locator("#schedule-summary")).to_have_text("Runs only in these hours: Mon–Fri 09:00–17:00.")
    shoot(page, "campaign")

    page.goto("/")
    page.get_by_role("table").get_by_role("link", name=capped.name).click()
    page.get_by_role("region", name="Campaigns").get_by_role("link", name="Prospecting").click()
    expect(page.locator("#status")).to_contain_text("Daily budget reached")
    shoot(page, "campaign-capped")


def test_no_page_is_wider_than_a_phone(new_page, live, agency):
    steady, _ = agency
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    login(page, "manager")
    paths = [
        "/",
        f"/brands/{steady.brand_id}",
        f"/campaigns/{steady.campaign_ids['Shopping']}",
        "/activity",
        "/spend/imports",
        "/spend/upload",
        f"/brands/{steady.brand_id}/edit",
        f"/brands/{steady.brand_id}/campaigns/new",
        "/me",
    ]
    too_wide = {}
    for path in paths:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        if overflow := horizontal_overflow(page):
            too_wide[path] = overflow
    assert too_wide == {}, f"pages wider than a {PHONE['width']} px phone (extra CSS px): {too_wide}"
