"""What a viewer sees (no way to edit) and what the server does when a form is forged anyway:
a viewer's POST with a valid token is refused with the 403 page, a POST without the token
with the CSRF page, and nothing changes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.models import Brand, Campaign
from tests.browser.conftest import login, seed_brand, unique

pytestmark = pytest.mark.browser


def forge_post(page, action: str, fields: dict[str, str], *, with_token: bool) -> None:
    """Build and submit a form in the page, as a user editing the HTML would; the token comes from the page."""
    page.evaluate(
        """([action, fields, withToken]) => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = action;
            const add = (name, value) => {
                const input = document.createElement("input");
                input.type = "hidden"; input.name = name; input.value = value;
                form.appendChild(input);
            };
            if (withToken) add("csrf_token", document.querySelector('meta[name="csrf-token"]').content);
            for (const [name, value] of Object.entries(fields)) add(name, value);
            document.body.appendChild(form);
            form.submit();
        }""",
        [action, fields, with_token],
    )
    page.wait_for_load_state()


def test_a_viewer_reads_every_page_without_a_way_to_edit(page, live):
    seeded = seed_brand(live, unique("Viewer Co"), campaigns=("Search", "Display"))
    campaign_id = seeded.campaign_ids["Search"]
    login(page, "viewer")

    expect(page.get_by_role("link", name=seeded.name)).to_be_visible()
    expect(page.get_by_role("button", name="Add brand")).to_have_count(0)
    expect(page.get_by_role("link", name="Users")).to_have_count(0)  # admins only

    page.get_by_role("link", name=seeded.name).click()
    expect(page.get_by_role("heading", name=seeded.name, level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Search")).to_be_visible()
    for name in ("Edit brand", "Add campaign"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_text("Archive this brand")).to_have_count(0)

    page.get_by_role("link", name="Search").click()
    expect(page.get_by_role("heading", name="Search", level=1)).to_be_visible()
    expect(page.get_by_text("You have read-only access.")).to_be_visible()
    expect(page.get_by_text("Read-only: your role cannot change the schedule.")).to_be_visible()
    expect(page.get_by_text("Your role cannot record spend.")).to_be_visible()
    for name in ("Save schedule and apply now", "Save and apply now", "Record spend"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    grid_cell = page.get_by_label("Monday 09:00–09:15", exact=True)
    expect(grid_cell).to_be_disabled()
    expect(page.get_by_label("Amount")).to_have_count(0)

    page.goto("/brands/new")
    expect(page.get_by_role("heading", name="403 · Not allowed")).to_be_visible()
    expect(page.get_by_text("Your role does not allow this.")).to_be_visible()

    # A viewer who forges the schedule form (with a valid token from the page) is refused.
    page.goto(f"/campaigns/{campaign_id}")
    forge_post(page, f"/campaigns/{campaign_id}/schedule", {"q": "0:540"}, with_token=True)
    expect(page.get_by_role("heading", name="403 · Not allowed")).to_be_visible()
    forge_post(
        page,
        "/brands/new",
        {"name": "Forged", "timezone": "UTC", "currency": "USD", "daily_budget": "1", "monthly_budget": "1"},
        with_token=True,
    )
    expect(page.get_by_role("heading", name="403 · Not allowed")).to_be_visible()

    def unchanged(session):
        return (session.get(Campaign, campaign_id).windows, session.query(Brand).filter_by(name="Forged").count())

    assert live.run(unchanged) == ([], 0)


def test_a_manager_form_without_its_csrf_token_is_refused(page, live):
    seeded = seed_brand(live, unique("Csrf Co"))
    campaign_id = seeded.campaign_ids["Search"]
    login(page, "manager")
    page.goto(f"/campaigns/{campaign_id}")

    forge_post(page, f"/campaigns/{campaign_id}/schedule", {"q": "0:540"}, with_token=False)
    expect(page.get_by_role("heading", name="400 · Bad request")).to_be_visible()
    expect(page.get_by_text("CSRF check failed")).to_be_visible()

    # The same form with the page's token goes through: the refusal was the token, not the role.
    page.goto(f"/campaigns/{campaign_id}")
    forge_post(page, f"/campaigns/{campaign_id}/schedule", {"q": "0:540"}, with_token=True)
    expect(page.get_by_role("status").filter(has_text="Schedule saved (Mon 09:00–09:15)")).to_be_visible()
    assert live.run(lambda session: len(session.get(Campaign, campaign_id).windows)) == 1
