"""Live pages in a real browser: a spend recorded on one page reaches the budget, and the overview and
the campaign page open in other tabs show the pause within seconds, without a reload, at laptop and phone
sizes. The pages poll with their ETag (static/js/live.js); the enforcement runs on a real worker.
Screenshots: tests/artifacts/live-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE, login, seed_brand, unique

# Marks a page's JavaScript world: a reload would lose it.
MARK = "window.__pacerNotReloaded = true"
STILL_MARKED = "window.__pacerNotReloaded === true"


def watch(new_page, viewport: dict, url: str):
    page = new_page(viewport=viewport)
    login(page, "viewer")
    page.goto(url)
    expect(page.locator("#live-status")).to_contain_text("Updated")  # the poller runs
    page.evaluate(MARK)
    return page


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_a_spend_that_reaches_the_budget_shows_on_other_open_pages_without_a_reload(new_page, live, worker, size):
    viewport = DESKTOP if size == "laptop" else PHONE
    seeded = seed_brand(live, unique("Live"), daily="100", monthly="3000")
    campaign_id = seeded.campaign_ids["Search"]

    overview = watch(new_page, viewport, f"/?q={seeded.name}")
    row = overview.locator("tr", has=overview.get_by_role("link", name=seeded.name))
    expect(row).to_contain_text("1 active")
    expect(row.locator(".count-paused")).not_to_have_class(re.compile("has-paused"))
    campaign = watch(new_page, viewport, f"/campaigns/{campaign_id}")
    expect(campaign.locator("#status .badge")).to_have_text("active")

    manager = new_page(viewport=DESKTOP)
    login(manager, "manager")
    manager.goto(f"/campaigns/{campaign_id}")
    manager.get_by_label("Amount").fill("100.00")
    manager.get_by_role("button", name="Record spend").click()
    expect(manager.get_by_role("status").filter(has_text="Recorded 100.00 USD for Search")).to_be_visible()

    # The worker pauses the campaign; both open pages follow within the bounded wait, unreloaded.
    expect(campaign.locator("#status .badge")).to_have_text("paused")
    expect(campaign.locator("#status")).to_contain_text("Daily budget reached")
    expect(campaign.locator("#decision")).to_contain_text("100.00 USD / 100.00 USD (100%)")
    expect(row).to_contain_text("0 active")
    expect(row).to_contain_text("1 daily budget")
    expect(row.locator(".count-paused")).to_have_class(re.compile("has-paused"))
    expect(overview.locator('[data-triage-count="budget"]')).not_to_have_text("0")
    assert overview.evaluate(STILL_MARKED) and campaign.evaluate(STILL_MARKED)
    expect(campaign.locator("#live-status")).to_contain_text(re.compile(r"Updated (just now|\d+ s ago)"))

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    overview.screenshot(path=str(ARTIFACTS / f"live-overview-{size}.png"), full_page=True)
    campaign.screenshot(path=str(ARTIFACTS / f"live-campaign-{size}.png"), full_page=True)


def test_without_javascript_a_live_page_offers_a_refresh_link(new_page, live):
    seeded = seed_brand(live, unique("Static"))
    page = new_page(java_script_enabled=False)
    login(page, "viewer")
    page.goto(f"/brands/{seeded.brand_id}")
    status = page.locator("#live-status")
    expect(status).to_contain_text(re.compile(r"Loaded at \d\d:\d\d:\d\d UTC"))
    status.get_by_role("link", name="Refresh").click()
    expect(page).to_have_url(re.compile(rf"/brands/{seeded.brand_id}$"))
    expect(page.get_by_role("heading", name=seeded.name)).to_be_visible()


def set_hidden(page, hidden: bool) -> None:
    """Make the tab hidden or shown, as switching tabs would (Playwright's pages are always visible)."""
    page.evaluate(
        "hidden => { Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});"
        " document.dispatchEvent(new Event('visibilitychange')); }",
        hidden,
    )


def test_polling_pauses_while_the_tab_is_hidden_and_checks_at_once_when_shown(new_page, live):
    seeded = seed_brand(live, unique("Hidden"))
    page = watch(new_page, DESKTOP, f"/brands/{seeded.brand_id}")
    polls = []
    page.on("request", lambda request: polls.append(request) if request.headers.get("x-pacer-live") else None)
    expect(page.locator("#live-status")).to_contain_text(re.compile(r"Updated (just now|[0-2] s ago)"))
    set_hidden(page, True)
    expect(page.locator("#live-status")).to_contain_text("paused while hidden")
    asked = len(polls)
    # Longer than a poll's interval (3 s) passes hidden, measured by the page's own counter: no poll.
    expect(page.locator("#live-status")).to_contain_text(re.compile(r"Updated ([5-9]|\d\d) s ago"))
    assert len(polls) == asked
    with page.expect_request(lambda request: bool(request.headers.get("x-pacer-live"))):
        set_hidden(page, False)
    expect(page.locator("#live-status")).to_contain_text(re.compile(r"Updated (just now|[0-2] s ago)"))
    expect(page.locator("#live-status")).not_to_contain_text("paused")
