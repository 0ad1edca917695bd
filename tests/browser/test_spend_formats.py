"""A report of unknown layout uploaded through the page: its columns mapped once on the page that shows its first
rows, saved as a named format, imported by a real worker; the next file chosen with that format from the upload
page's select."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import SpendRecord
from tests.browser.conftest import login, seed_brand, shoot, unique

pytestmark = pytest.mark.browser

IMPORT_TIMEOUT_MS = 30_000
BRAND = re.compile(r"^Brand")  # the label holds its help text too


def choose_file(page, name: str, content: str) -> None:
    page.goto("/spend/upload")
    page.get_by_label("Spend CSV file").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": content.encode()}
    )


def test_an_unknown_layout_is_mapped_once_and_reused_from_the_upload_page(page, live, worker):
    seeded = seed_brand(live, unique("Mapped Co"), campaigns=("Prospecting", "Retargeting"))
    format_name = unique("Network X")
    first = (
        "Date,Campaign Name,Network,Spend (USD),Clicks\n"
        '20/11/2026,Prospecting,display,"1,234.50",120\n'
        "21/11/2026,Retargeting,display,98.10,40\n"
    )
    login(page, "manager")

    choose_file(page, "network-x.csv", first)
    page.get_by_label(BRAND).select_option(label=seeded.name)
    page.get_by_role("button", name="Upload and import").click()

    # Not recognised: the file is kept and its first rows are shown with a choice per column.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Map the columns of “network-x.csv”")
    table = page.get_by_role("table")
    expect(table).to_contain_text("20/11/2026")
    expect(table).to_contain_text("1,234.50")
    page.get_by_label("Date", exact=True).select_option("day")
    page.get_by_label("Campaign Name").select_option("campaign")
    page.get_by_label("Spend (USD)").select_option("amount")
    page.get_by_label("Days are written as").select_option("DD/MM/YYYY")
    expect(page.get_by_label(BRAND)).to_have_value(str(seeded.brand_id))

    # Forgetting a column is a clear error, and nothing is lost: the page stays with the file's rows.
    page.get_by_label("Save this format as").fill(format_name)
    page.get_by_label("Spend (USD)").select_option("ignore")
    page.get_by_role("button", name="Save the format and import").click()
    expect(page.get_by_role("alert")).to_contain_text("No column is mapped to the amount.")
    expect(page.get_by_role("table")).to_contain_text("20/11/2026")
    shoot(page, "spend-mapping-error")

    page.get_by_label("Date", exact=True).select_option("day")
    page.get_by_label("Campaign Name").select_option("campaign")
    page.get_by_label("Spend (USD)").select_option("amount")
    page.get_by_label("Days are written as").select_option("DD/MM/YYYY")
    page.get_by_label("Save this format as").fill(format_name)
    page.get_by_role("button", name="Save the format and import").click()
    expect(page.get_by_role("status").filter(has_text=f"Saved the format “{format_name}”")).to_be_visible()
    result = page.get_by_role("region", name="Result")
    expect(result).to_contain_text("Imported", timeout=IMPORT_TIMEOUT_MS)
    expect(page.get_by_role("status").filter(has_text="Imported 2 new rows of 2 read.")).to_be_visible()

    # The next export, chosen with the saved format from the upload page's select.
    second = "Date,Campaign Name,Network,Spend (USD),Clicks\n22/11/2026,Prospecting,display,10.00,3\n"
    choose_file(page, "network-x-2.csv", second)
    page.get_by_label(re.compile(r"^Format")).select_option(label=f"{format_name} (saved mapping)")
    page.get_by_label(BRAND).select_option(label=seeded.name)
    page.get_by_role("button", name="Upload and import").click()
    expect(page.get_by_role("status").filter(has_text="Imported 1 new row of 1 read.")).to_be_visible(
        timeout=IMPORT_TIMEOUT_MS
    )

    amounts = live.run(
        lambda session: sorted(
            session.scalars(select(SpendRecord.amount_minor).where(SpendRecord.brand_id == seeded.brand_id))
        )
    )
    assert amounts == [1000, 9810, 123450]

    page.goto("/spend/formats")
    expect(page.get_by_role("table").filter(has_text=format_name)).to_be_visible()
    shoot(page, "spend-formats")
