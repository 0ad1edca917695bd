"""An import that met campaign names Pacer does not know, fixed from its result page in a real browser:
one name mapped to an existing campaign ("map to…", saved as an alias), one created, then the file imported
again by a real worker.py on a real Redis; and the template downloaded from the upload page."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.models import SpendRecord
from tests.browser.conftest import DESKTOP, PHONE, horizontal_overflow, login, seed_brand, shoot, unique
from tests.browser.test_spend_upload import IMPORT_TIMEOUT_MS, figure, upload

pytestmark = pytest.mark.browser


def test_unknown_names_are_mapped_and_created_on_the_result_page_then_imported(page, live, worker):
    seeded = seed_brand(live, unique("Alias Co"), campaigns=("Search", "Display"))
    brand = seeded.name
    content = (
        "brand,campaign,amount,spent_at\n"
        f"{brand},Search,1.00,2026-11-20 09:00\n"
        f"{brand},GAds 4471 Brand,2.00,2026-11-20 10:00\n"
        f"{brand},GAds 4471 Brand,3.00,2026-11-20 11:00\n"
        f"{brand},Spring Sale,4.00,2026-11-20 12:00\n"
    )
    login(page, "manager")
    upload(page, "export.csv", content, "All or nothing")
    unknown = page.get_by_role("region", name="Campaigns Pacer does not know")
    expect(unknown).to_be_visible(timeout=IMPORT_TIMEOUT_MS)
    rows = unknown.get_by_role("row")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("GAds 4471 Brand")
    expect(rows.nth(1).locator('td[data-label="Rows"]')).to_have_text("2")
    shoot(page, "import-unknown-campaigns")
    assert horizontal_overflow(page) == 0
    page.set_viewport_size(PHONE)
    page.reload()
    # On a phone each name's choices stack under it: every button fits the screen's width.
    fits = (
        "[...document.querySelectorAll('.unknown-table button')]"
        ".every(b => b.getBoundingClientRect().right <= innerWidth)"
    )
    assert horizontal_overflow(page) == 0 and page.evaluate(fits)
    page.set_viewport_size(DESKTOP)
    page.reload()

    unknown.get_by_label(f"Map GAds 4471 Brand to a campaign of {brand}").select_option(label="Search")
    rows.nth(1).get_by_role("button", name="Save alias").click()
    expect(page.get_by_text("Rows naming 'GAds 4471 Brand' now go to campaign 'Search'.")).to_be_visible()
    unknown = page.get_by_role("region", name="Campaigns Pacer does not know")
    unknown.get_by_role("button", name="Create campaign “Spring Sale”").click()
    expect(page.get_by_text(f"Campaign 'Spring Sale' created in {brand}.")).to_be_visible()
    expect(unknown.get_by_text("now goes to Search")).to_be_visible()
    expect(unknown.get_by_text("now goes to Spring Sale")).to_be_visible()

    unknown.get_by_role("button", name="Import the file again").click()
    counts = page.get_by_role("region", name="Result")
    expect(figure(counts, "Imported")).to_have_text("4", timeout=IMPORT_TIMEOUT_MS)
    expect(figure(counts, "Rejected")).to_have_text("0")

    def stored(session):
        return session.scalar(
            select(func.count()).select_from(SpendRecord).where(SpendRecord.brand_id == seeded.brand_id)
        )

    assert live.run(stored) == 4


def test_the_upload_page_downloads_a_template_for_a_brand(page, live):
    seeded = seed_brand(live, unique("Template Co"), campaigns=("Search",))
    login(page, "manager")
    page.goto("/spend/upload")
    page.get_by_label("Template for brand").fill(seeded.name)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download a template (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == "spend-template.csv"
    with open(download.path(), encoding="utf-8") as handle:
        header, row = list(csv.reader(io.StringIO(handle.read())))
    assert header == ["brand", "campaign", "amount", "spent_at", "external_id", "currency"]
    assert row[:3] == [seeded.name, "Search", "12.50"]

    page.get_by_label("Template for brand").fill("No such brand")
    page.get_by_role("button", name="Download a template (CSV)").click()
    expect(page.get_by_text("There is no brand named 'No such brand'")).to_be_visible()
    expect(page.get_by_label("Template for brand")).to_have_attribute("aria-invalid", "true")
