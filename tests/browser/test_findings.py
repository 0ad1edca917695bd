"""Issue 16's page findings, re-tried in a real browser at laptop and phone sizes (screenshots under
tests/artifacts/): spend errors at the form (3), "What decides it" after a schedule save (2), an
emptied schedule (8), the time-zone picker (7), activity in one zone (6), the way back from /rq (12)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE, horizontal_overflow, login, seed_brand, shoot, unique

pytestmark = pytest.mark.browser


def snap(page, name: str) -> None:
    """A screenshot of the page as it is now (no reload: a form's state stays), named by its viewport."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.screenshot(path=str(ARTIFACTS / f"{name}-{size['width']}x{size['height']}.png"))


def test_a_bad_spend_is_shown_at_the_form_and_a_reload_is_harmless(page, live):
    seeded = seed_brand(live, unique("Spend Errors"))
    campaign_id = seeded.campaign_ids["Search"]
    login(page, "manager")
    page.goto(f"/campaigns/{campaign_id}")
    spend = page.get_by_role("region", name="Record a spend")
    spend.get_by_label("Amount").fill("12.345")
    spend.get_by_role("button", name="Record spend").click()

    expect(page).to_have_url(re.compile(rf"/campaigns/{campaign_id}$"))
    error = page.locator("#amount-error")
    expect(error).to_have_text(re.compile("USD allows at most 2 decimals"))
    expect(error).to_be_in_viewport()
    expect(page.get_by_label("Amount")).to_be_focused()
    expect(page.get_by_label("Amount")).to_have_value("12.345")
    snap(page, "finding3-spend-error")  # the viewport only: what the person sees after the redirect

    # On a phone too, the error is where the person is.
    page.set_viewport_size(PHONE)
    spend.get_by_label("Amount").fill("-5")
    spend.get_by_role("button", name="Record spend").click()
    expect(page.locator("#amount-error")).to_have_text(re.compile("negative"))
    expect(page.locator("#amount-error")).to_be_in_viewport()
    snap(page, "finding3-spend-error")
    page.set_viewport_size(DESKTOP)

    page.reload()  # a GET: the page, not a 405
    expect(page.get_by_role("heading", name=seeded.name)).to_have_count(0)
    expect(page.get_by_role("heading", name="Search", exact=True)).to_be_visible()
    expect(page.locator("#amount-error")).to_have_count(0)
    page.goto(f"/campaigns/{campaign_id}/spend")
    expect(page).to_have_url(re.compile(rf"/campaigns/{campaign_id}#spend$"))


def test_what_decides_it_follows_a_schedule_save_and_an_emptied_grid_asks(page, live):
    seeded = seed_brand(live, unique("Schedule Words"))
    campaign_id = seeded.campaign_ids["Search"]
    login(page, "manager")
    page.goto(f"/campaigns/{campaign_id}")
    facts = page.locator("#decision-facts")
    expect(facts).to_contain_text("no schedule: any hour")

    schedule = page.get_by_role("region", name=re.compile("^Schedule"))
    schedule.get_by_role("button", name="All day every day").click()
    schedule.get_by_role("button", name="Save schedule and apply now").click()
    expect(page.get_by_role("status").filter(has_text="Search is still active")).to_be_visible()
    expect(page.locator("#decision-facts")).to_contain_text(re.compile(r"inside \w{3} 00:00–24:00"))
    expect(page.locator("#decision-facts")).not_to_contain_text("no schedule")

    # Every cell cleared: nothing is saved until the person says which they meant.
    schedule = page.get_by_role("region", name=re.compile("^Schedule"))
    schedule.get_by_role("button", name="Clear").click()
    schedule.get_by_role("button", name="Save schedule and apply now").click()
    expect(page.get_by_role("alert").filter(has_text="No hour is checked, and nothing was saved.")).to_be_visible()
    page.locator("#empty-choice").scroll_into_view_if_needed()
    snap(page, "finding8-empty-schedule")
    page.set_viewport_size(PHONE)
    page.locator("#empty-choice").scroll_into_view_if_needed()
    snap(page, "finding8-empty-schedule")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Never run: switch Search off").click()
    expect(page.get_by_role("status").filter(has_text="Switched off, so it never runs")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("Switched off")
    expect(page.locator("#schedule-summary")).to_contain_text("Runs only in these hours")


def test_the_time_zone_picker_searches_canonical_names_and_stores_aliases_canonically(page, live):
    login(page, "manager")
    page.goto("/brands/new")
    options = page.locator("#timezone-list option")
    assert 350 < options.count() < 500
    expect(page.locator('#timezone-list option[value="Asia/Kolkata"]')).to_have_attribute(
        "label", "Asia/Kolkata · UTC+05:30 · India"
    )
    expect(page.locator('#timezone-list option[value="Africa/Asmera"]')).to_have_count(0)
    name = unique("Asmara Roasters")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Time zone").fill("Africa/Asmera")
    page.get_by_label("Daily budget").fill("100")
    page.get_by_label("Monthly budget").fill("2000")
    page.get_by_label("Time zone").fill("Kolk")
    page.get_by_label("Time zone").focus()
    snap(page, "finding7-zone-picker")
    page.set_viewport_size(PHONE)
    snap(page, "finding7-zone-picker")
    page.set_viewport_size(DESKTOP)
    page.get_by_label("Time zone").fill("Africa/Asmera")
    page.get_by_role("button", name="Add brand").click()
    expect(page.get_by_role("status").filter(has_text=f"Added brand “{name}”")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Africa/Asmara")
    expect(page.locator("main")).not_to_contain_text("Africa/Asmera")
    shoot(page, "finding7-brand-page")


def test_activity_reads_in_one_zone_filters_on_change_and_folds_on_a_phone(page, live):
    tokyo = seed_brand(live, unique("Tokyo Tea"), campaigns=("Search", "Video"), timezone="Asia/Tokyo")
    seed_brand(live, unique("Gotham Gum"), timezone="America/New_York")
    login(page, "viewer")
    page.goto("/activity")
    table = page.get_by_role("table")
    expect(table.get_by_role("columnheader", name="Time (UTC)")).to_be_visible()
    times = table.locator("td[data-label=Time] time")
    expect(times.first).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$"))
    expect(table.locator("td[data-label=Time] .zone").first).to_have_text("UTC")

    # The brand filter applies on change, then the campaign filter does too; no Filter click.
    page.get_by_label(re.compile(r"^Brand")).select_option(label=tokyo.name)
    expect(page).to_have_url(re.compile(rf"brand={tokyo.brand_id}"))
    page.get_by_label(re.compile(r"^Campaign")).select_option(label="Video")
    expect(page).to_have_url(re.compile(rf"campaign={tokyo.campaign_ids['Video']}"))
    expect(page.get_by_text("1 event match these filters.")).to_be_visible()

    # Another zone: every time and the date filters follow; the choice is kept.
    page.get_by_label("Times in").fill("Asia/Tokyo")
    page.get_by_role("button", name="Filter").click()
    expect(table.get_by_role("columnheader", name="Time (Asia/Tokyo)")).to_be_visible()
    expect(page.get_by_label("From (Asia/Tokyo)")).to_be_visible()
    expect(table.locator("td[data-label=Time] .zone").first).to_have_text("JST")
    page.goto("/activity")
    expect(page.get_by_role("table").get_by_role("columnheader", name="Time (Asia/Tokyo)")).to_be_visible()

    # The actor is one line on a laptop: no break inside a word.
    actor = page.locator(".actor").filter(has_text="manager@browser.test").first
    lines = actor.evaluate("el => new Set([...el.getClientRects()].map(r => Math.round(r.top))).size")
    assert lines == 1, actor.evaluate(
        "el => [el.outerHTML, getComputedStyle(el).whiteSpace, JSON.stringify([...el.getClientRects()])]"
    )
    shoot(page, "finding6-activity")

    page.set_viewport_size(PHONE)
    page.reload()
    assert page.evaluate("document.querySelector('details.filters-box').open") is False
    expect(page.get_by_text(re.compile(r"^Filters · times in Asia/Tokyo"))).to_be_visible()
    expect(page.get_by_role("table").locator("tr").nth(1)).to_be_in_viewport()
    page.get_by_text(re.compile(r"^Filters · ")).click()
    expect(page.get_by_label(re.compile(r"^Brand"))).to_be_visible()
    page.get_by_role("link", name="Show in UTC").click()
    expect(page.get_by_text(re.compile(r"^Filters · times in UTC"))).to_be_visible()


def test_the_job_dashboard_leads_back_to_pacer_and_scrolls_on_a_phone(page, jobs):
    login(page, "admin")
    page.goto("/rq/")
    expect(page.get_by_role("heading", name="Queues")).to_be_visible()
    shoot(page, "finding12-rq")
    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.get_by_role("heading", name="Queues")).to_be_visible()
    assert horizontal_overflow(page) == 0  # the table scrolls inside its box; the page does not
    table_box = page.locator("#queues").evaluate("el => [el.parentElement.scrollWidth, el.parentElement.clientWidth]")
    assert table_box[0] >= table_box[1]
    page.get_by_role("link", name="← Back to Pacer").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Brands", exact=True)).to_be_visible()


def test_the_pacing_chart_writes_money_as_the_pages_do(page, live):
    # Item 5: one formatter; the chart's axis and tooltips read "1,234,567.50 USD", not the browser's locale.
    seeded = seed_brand(live, unique("Chart Money"))
    login(page, "viewer")
    page.goto(f"/brands/{seeded.brand_id}")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('pacing-chart'))")
    label = page.evaluate(
        "() => Chart.getChart(document.getElementById('pacing-chart')).options.scales.y.ticks.callback(1234567.5)"
    )
    assert label == "1,234,567.50 USD"
    expect(page.locator("main")).to_contain_text("2,000.00 USD")
