"""A manager switches a campaign off, edits a brand's budget, and archives a campaign and then
the brand: each applies at once, says so, and archived things leave the lists but keep history."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, seed_brand, unique

pytestmark = pytest.mark.browser


def test_switching_off_editing_and_archiving(page, live):
    seeded = seed_brand(live, unique("Edit Me"), campaigns=("Search", "Display"))
    login(page, "manager")
    page.goto(f"/campaigns/{seeded.campaign_ids['Search']}")

    # The campaign's switch: off, saved, paused for that reason.
    settings = page.get_by_role("region", name="Settings")
    settings.get_by_role("switch").uncheck()
    settings.get_by_role("button", name="Save and apply now").click()
    expect(page.get_by_role("status").filter(has_text="Saved. Search is now paused (Switched off).")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("Switched off")
    expect(page.get_by_role("region", name="Next 7 days").get_by_text("Switched off").first).to_be_visible()

    # A flight that ends before it starts is refused inline and nothing changes.
    settings = page.get_by_role("region", name="Settings")
    settings.get_by_label("Flight starts").fill("2026-12-10")
    settings.get_by_label("Flight ends").fill("2026-12-01")
    settings.get_by_role("button", name="Save and apply now").click()
    expect(page.get_by_text("The flight must end on or after its start (2026-12-10).")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("Switched off")

    # The brand's budget, edited through its form.
    page.get_by_role("navigation", name="breadcrumb").get_by_role("link", name=seeded.name).click()
    page.get_by_role("button", name="Edit brand").click()
    expect(page.get_by_label("Daily budget")).to_have_value("100.00")
    page.get_by_label("Daily budget").fill("-5")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("A budget cannot be negative.")).to_be_visible()
    page.get_by_label("Daily budget").fill("250")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").filter(has_text=f"Saved “{seeded.name}”")).to_contain_text("daily")
    expect(page.get_by_text("Daily budget 250.00 USD")).to_be_visible()

    # Archive a campaign: it leaves the brand's list; the count of archived ones says where it went.
    page.get_by_role("region", name="Campaigns").get_by_role("link", name="Display").click()
    page.get_by_text("Archive Display…").click()
    page.get_by_role("button", name="Yes, archive Display").click()
    expect(page.get_by_role("status").filter(has_text="Archived Display")).to_be_visible()
    campaigns = page.get_by_role("region", name="Campaigns")
    expect(campaigns.get_by_role("link", name="Display")).to_have_count(0)
    expect(campaigns).to_contain_text("1 archived campaign not shown")

    # Archive the brand: gone from the overview, listed under archived brands with its history.
    page.get_by_text("Archive this brand…").click()
    page.get_by_role("button", name=f"Archive {seeded.name}").click()
    expect(page.get_by_role("status").filter(has_text=f"Archived “{seeded.name}”")).to_be_visible()
    expect(page.get_by_role("table").get_by_role("link", name=seeded.name)).to_have_count(0)
    page.get_by_role("link", name="Show archived brands").click()
    expect(page.get_by_role("table").get_by_role("link", name=seeded.name)).to_be_visible()
    page.get_by_role("table").get_by_role("link", name=seeded.name).click()
    expect(page.get_by_text("Archived on")).to_be_visible()
    expect(page.get_by_role("button", name="Edit brand")).to_have_count(0)
    expect(page.get_by_role("button", name="Add campaign")).to_have_count(0)
