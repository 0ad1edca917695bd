"""Every page works under the Content-Security-Policy: the browser reports no violation, the
brand chart draws and the schedule grid's script runs (issue 12)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, seed_brand, unique

pytestmark = pytest.mark.browser


def test_pages_raise_no_content_security_policy_violation(page, live):
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    seeded = seed_brand(live, unique("Policy"))
    login(page, "admin")
    for path in (
        "/",
        f"/brands/{seeded.brand_id}",
        f"/campaigns/{seeded.campaign_ids['Search']}",
        "/activity",
        "/spend/imports",
        "/spend/upload",
        "/users",
        "/me",
        "/no/such/page",
    ):
        page.goto(path)
        page.wait_for_load_state("load")
    page.goto(f"/brands/{seeded.brand_id}")
    expect(page.locator("canvas").first).to_be_visible()
    # The grid's script ran: it took all but one cell out of the tab order (roving tabindex).
    page.goto(f"/campaigns/{seeded.campaign_ids['Search']}")
    expect(page.locator(".schedule-grid input[tabindex='-1']")).to_have_count(7 * 96 - 1)
    assert violations == []
