"""The activity log, filtered by brand in the browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.models import utcnow
from app.services.reconcile import reconcile_brands
from app.services.spend import new_spend, write_spend
from tests.browser.conftest import login, seed_brand, shoot, unique

pytestmark = pytest.mark.browser


def test_filtering_the_activity_by_brand_shows_only_that_brands_events(page, live):
    north = seed_brand(live, unique("North Wind"), campaigns=("Search", "Video"), daily="10")
    south = seed_brand(live, unique("South Sea"), campaigns=("Social",))

    def overspend(session):
        from app.models import Campaign

        campaign = session.get(Campaign, north.campaign_ids["Video"])
        write_spend(session, [new_spend(campaign, 1200, utcnow(), source="api")])

    live.run(overspend)
    live.run(reconcile_brands, utcnow(), actor="enforce_budgets", brand_ids=[north.brand_id])

    login(page, "viewer")
    page.get_by_role("banner").get_by_role("link", name="Activity", exact=True).click()
    table = page.get_by_role("table")
    expect(table).to_contain_text(north.name)
    expect(table).to_contain_text(south.name)

    page.get_by_label(re.compile(r"^Brand")).select_option(label=north.name)
    page.get_by_role("button", name="Filter").click()

    expect(page).to_have_url(re.compile(rf"/activity\?brand={north.brand_id}&"))
    expect(page.get_by_label(re.compile(r"^Brand"))).to_have_value(str(north.brand_id))
    expect(page.get_by_text("4 events match these filters.")).to_be_visible()
    rows = table.get_by_role("row")
    expect(rows).to_have_count(5)  # the header and four events
    for index in range(1, 5):
        expect(rows.nth(index).locator("td").nth(1)).to_have_text(north.name)
    expect(table).not_to_contain_text(south.name)
    paused = rows.filter(has_text="enforce_budgets")
    expect(paused).to_have_count(2)
    for row in (paused.nth(0), paused.nth(1)):
        expect(row).to_contain_text("Daily budget reached")
        expect(row).to_contain_text("automatic")
        expect(row).to_contain_text("Today 12.00 / 10.00 USD")
    expect(rows.filter(has_text="manager@browser.test")).to_have_count(2)  # the two campaigns being added

    # The brand now lists its campaigns in the next filter, and the CSV link carries the filter.
    campaign_filter = page.get_by_label(re.compile(r"^Campaign"))
    expect(campaign_filter).to_be_enabled()
    expect(campaign_filter.get_by_role("option")).to_have_text(["All campaigns", "Search", "Video"])
    expect(page.get_by_role("button", name="Download CSV")).to_have_attribute(
        "href", f"/activity.csv?brand={north.brand_id}"
    )
    shoot(page, "activity-filtered")
