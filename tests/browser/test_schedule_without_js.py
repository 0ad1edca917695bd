"""The schedule grid is a plain checkbox form: with JavaScript off it still saves."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.models import Campaign
from tests.browser.conftest import login, seed_brand, unique

pytestmark = pytest.mark.browser


def test_the_grid_saves_as_a_plain_checkbox_form_without_javascript(new_page, live):
    seeded = seed_brand(live, unique("No Script"))
    campaign_id = seeded.campaign_ids["Search"]
    page = new_page(java_script_enabled=False)
    login(page, "manager")
    page.goto(f"/campaigns/{campaign_id}")

    # The scripted extras stay hidden; the boxes and the save button are there.
    expect(page.get_by_role("button", name="Weekdays 9–17")).to_be_hidden()
    expect(page.get_by_text("Click a cell to toggle it")).to_be_hidden()
    expect(page.get_by_text("Tick the quarter-hours the campaign may run and save")).to_be_visible()

    for clock in ("09:00–09:15", "09:15–09:30", "09:30–09:45"):
        page.get_by_label(f"Tuesday {clock}", exact=True).check()
    page.get_by_label("Saturday 23:45–24:00", exact=True).check()
    page.get_by_role("button", name="Save schedule and apply now").click()

    expect(
        page.get_by_role("status").filter(has_text="Schedule saved (Tue 09:00–09:45; Sat 23:45–24:00)")
    ).to_be_visible()
    expect(page.locator("#schedule-summary")).to_have_text(
        "Runs only in these hours: Tue 09:00–09:45; Sat 23:45–24:00."
    )
    expect(page.get_by_label("Tuesday 09:30–09:45", exact=True)).to_be_checked()
    expect(page.get_by_label("Tuesday 09:45–10:00", exact=True)).not_to_be_checked()

    page.get_by_label("Tuesday 09:30–09:45", exact=True).uncheck()
    page.get_by_label("Saturday 23:45–24:00", exact=True).uncheck()
    page.get_by_role("button", name="Save schedule and apply now").click()
    expect(page.get_by_role("status").filter(has_text="Schedule saved (Tue 09:00–09:30)")).to_be_visible()

    def windows(session):
        return [(w.day_of_week, w.start_minute, w.end_minute) for w in session.get(Campaign, campaign_id).windows]

    assert live.run(windows) == [(1, 540, 570)]

    for clock in ("09:00–09:15", "09:15–09:30"):
        page.get_by_label(f"Tuesday {clock}", exact=True).uncheck()
    page.get_by_role("button", name="Save schedule and apply now").click()
    # Every box empty: nothing is saved until the person says which they meant (issue 16, finding 8).
    expect(page.get_by_role("alert").filter(has_text="No hour is checked, and nothing was saved.")).to_be_visible()
    assert live.run(windows) == [(1, 540, 570)]
    page.get_by_role("button", name="No schedule: run at any hour").click()
    expect(
        page.get_by_role("status").filter(has_text="Schedule cleared: the campaign may run at any hour.")
    ).to_be_visible()
    expect(page.get_by_text("No hours selected: this campaign runs at any hour")).to_be_visible()
    assert live.run(windows) == []
