"""A manager's whole path through the pages: add a brand (fixing a bad budget), add a campaign,
paint its schedule with the mouse and the keyboard, save, and watch the status and reasons
change; then record a spend that reaches the daily budget."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import Campaign, SpendRecord
from tests.browser.conftest import login, shoot, unique

pytestmark = pytest.mark.browser

ZONE = "Asia/Tokyo"
DAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def cell(page, day: int, clock: str, end: str):
    """The grid's checkbox for one quarter-hour, found by its accessible name."""
    return page.get_by_label(f"{DAY_LABELS[day]} {clock}–{end}", exact=True)


def drag(page, start, finish) -> None:
    """Press on ``start``, sweep the mouse to ``finish`` in small steps, release."""
    start.scroll_into_view_if_needed()
    a, b = start.bounding_box(), finish.bounding_box()
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=12)
    page.mouse.up()


def test_manager_adds_a_brand_and_campaign_paints_a_schedule_and_sees_the_campaign_paused(page, live):
    brand_name = unique("Tokyo Tea")
    login(page, "manager")

    # --- the brand form: a bad budget first, shown inline, then fixed -------------------------
    page.get_by_role("button", name="Add brand").click()
    expect(page.get_by_role("heading", name="Add a brand")).to_be_visible()
    page.get_by_label("Name", exact=True).fill(brand_name)
    page.get_by_label("Time zone").fill(ZONE)
    page.get_by_label("Daily budget").fill("50.125")
    page.get_by_label("Monthly budget").fill("1500")
    page.get_by_role("button", name="Add brand").click()

    expect(page.get_by_role("alert").filter(has_text="nothing was saved")).to_be_visible()
    daily = page.get_by_label("Daily budget")
    expect(daily).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#" + daily.get_attribute("aria-describedby"))).to_have_text(
        "USD amounts have at most 2 decimals."
    )
    expect(page.get_by_label("Name", exact=True)).to_have_value(brand_name)  # the rest is kept
    expect(page.get_by_label("Time zone")).to_have_value(ZONE)
    expect(page.get_by_label("Monthly budget")).not_to_have_attribute("aria-invalid", "true")

    daily.fill("50")
    page.get_by_role("button", name="Add brand").click()

    expect(page.get_by_role("status").filter(has_text=f"Added brand “{brand_name}”")).to_be_visible()
    expect(page.get_by_role("heading", name=brand_name, level=1)).to_be_visible()
    expect(page.get_by_text(f"{ZONE} · local time")).to_be_visible()
    expect(page.get_by_text("Daily budget 50.00 USD")).to_be_visible()
    expect(page.get_by_text("No campaigns yet")).to_be_visible()

    # --- a campaign, then its page from the brand's list ----------------------------------------
    page.get_by_role("button", name="Add campaign").click()
    page.get_by_label("Name", exact=True).fill("Search")
    page.get_by_role("button", name="Add campaign").click()
    expect(page.get_by_role("status").filter(has_text="Added Search: it is active.")).to_be_visible()

    page.get_by_role("navigation", name="breadcrumb").get_by_role("link", name=brand_name).click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Search"))
    expect(row).to_contain_text("active")
    row.get_by_role("link", name="Search").click()
    expect(page.get_by_role("heading", name="Search", level=1)).to_be_visible()
    status = page.locator("#status")
    expect(status).to_contain_text("active")
    campaign_id = int(re.search(r"/campaigns/(\d+)$", page.url).group(1))
    expect(page.get_by_text("No hours selected: this campaign runs at any hour")).to_be_visible()

    # --- paint: two drags over several hours on two days that are neither today nor tomorrow
    # in the brand's zone (so the test cannot straddle a local midnight into a painted day) ----
    today = datetime.now(ZoneInfo(ZONE)).weekday()
    first, second = (today + 2) % 7, (today + 4) % 7
    drag(page, cell(page, first, "09:00", "09:15"), cell(page, first, "11:45", "12:00"))
    drag(page, cell(page, second, "14:00", "14:15"), cell(page, second, "16:45", "17:00"))

    for day, clock, end in [
        (first, "09:00", "09:15"),
        (first, "10:30", "10:45"),
        (first, "11:45", "12:00"),
        (second, "14:00", "14:15"),
        (second, "16:45", "17:00"),
    ]:
        expect(cell(page, day, clock, end)).to_be_checked()
    for day, clock, end in [
        (first, "08:45", "09:00"),
        (first, "12:00", "12:15"),
        (second, "17:00", "17:15"),
        (today, "10:00", "10:15"),
    ]:
        expect(cell(page, day, clock, end)).not_to_be_checked()

    # --- the keyboard: from the last painted cell, one step right, Space ticks it ---------------
    cell(page, first, "11:45", "12:00").focus()
    page.keyboard.press("ArrowRight")
    expect(cell(page, first, "12:00", "12:15")).to_be_focused()
    page.keyboard.press("Space")
    expect(cell(page, first, "12:00", "12:15")).to_be_checked()
    page.keyboard.press("ArrowDown")
    expect(cell(page, min(first + 1, 6), "12:00", "12:15")).to_be_focused()

    short = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    windows = sorted([(first, f"{short[first]} 09:00–12:15"), (second, f"{short[second]} 14:00–17:00")])
    expected = "; ".join(text for _, text in windows)
    summary = page.locator("#schedule-summary")
    expect(summary).to_have_text(f"Not saved yet: will run only in {expected}.")

    # --- save: applied at once, with the user as actor -------------------------------------------
    page.get_by_role("button", name="Save schedule and apply now").click()
    expect(page.get_by_role("status").filter(has_text=f"Schedule saved ({expected})")).to_contain_text(
        "Search is now paused (Outside its dayparting hours)."
    )
    expect(summary).to_have_text(f"Runs only in these hours: {expected}.")
    expect(status).to_contain_text("paused")
    expect(status).to_contain_text("Outside its dayparting hours")
    expect(cell(page, first, "12:00", "12:15")).to_be_checked()  # the saved grid comes back ticked
    expect(page.locator("#upcoming").get_by_role("listitem").first).to_contain_text("No more scheduled hours today")
    history = page.locator("#history").get_by_role("row")
    expect(history.nth(1)).to_contain_text("manager@browser.test")
    expect(history.nth(1)).to_contain_text("Outside its dayparting hours")
    shoot(page, "campaign-after-schedule")

    # --- a spend that reaches the daily budget: no Redis here, so it is enforced in the request itself --
    page.get_by_label("Amount").fill("50.00")
    page.get_by_role("button", name="Record spend").click()
    expect(page.get_by_role("status").filter(has_text="Recorded 50.00 USD for Search")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="Enforced at once in this process")).to_contain_text(
        "1 campaign change"
    )
    expect(page.get_by_label("Spend today")).to_have_attribute("aria-label", "Spend today: 50.00 USD of 50.00 USD")
    expect(status).to_contain_text("paused")
    expect(status).to_contain_text("Outside its dayparting hours")
    expect(status).to_contain_text("Daily budget reached")
    latest = page.locator("#history").get_by_role("row").nth(1)
    expect(latest).to_contain_text("manager@browser.test")
    expect(latest).to_contain_text("Daily budget reached")

    # The brand's page shows the same: the campaign with both reasons, the spend in its records.
    page.get_by_role("navigation", name="breadcrumb").get_by_role("link", name=brand_name).click()
    row = (
        page.get_by_role("region", name="Campaigns")
        .get_by_role("row")
        .filter(has=page.get_by_role("link", name="Search"))
    )
    expect(row).to_contain_text("Outside its dayparting hours")
    expect(row).to_contain_text("Daily budget reached")
    records = page.get_by_role("region", name="Spend records")
    expect(records).to_contain_text("50.00 USD")
    expect(records).to_contain_text("manual")
    shoot(page, "brand-after-spend")

    def stored(session):
        campaign = session.get(Campaign, campaign_id)
        spends = session.scalars(select(SpendRecord.amount_minor).where(SpendRecord.campaign_id == campaign_id))
        return campaign.status, sorted(campaign.reasons), list(spends)

    assert live.run(stored) == ("paused", ["daily_budget", "schedule"], [5000])
