"""Uploading spend CSVs through the page, imported by a real worker.py on a real Redis, with the
page following the import live and then showing the result and the bad rows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.models import SpendImport, SpendRecord
from app.services.imports import queue_import
from tests.browser.conftest import login, seed_brand, shoot, unique

pytestmark = pytest.mark.browser

IMPORT_TIMEOUT_MS = 30_000  # the worker picks the job up and the page reloads itself when it is done


def figure(counts, term: str):
    """The number shown for ``term`` (e.g. "Imported") in an import's result."""
    term_locator = counts.page.get_by_role("term").filter(has_text=term)
    return counts.locator("div").filter(has=term_locator).get_by_role("definition")


def upload(page, name: str, content: str, mode: str) -> None:
    page.goto("/spend/imports")
    page.get_by_role("button", name="Upload a spend file").click()
    page.get_by_label("Spend CSV file").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": content.encode()}
    )
    page.get_by_label(mode).check()
    page.get_by_role("button", name="Upload and import").click()


def test_an_all_or_nothing_upload_with_bad_rows_imports_nothing_and_lists_them_by_line(page, live, worker):
    seeded = seed_brand(live, unique("Upload Co"), campaigns=("Search", "Display"))
    brand = seeded.name
    content = (
        "brand,campaign,amount,spent_at,external_id\n"
        f"{brand},Search,12.50,2026-11-20 09:30,u-1\n"
        f"{brand},Nope,3.00,2026-11-20 10:00,u-2\n"
        f"{brand},Display,3.05,2026-11-20T14:00:00Z,u-3\n"
        f"{brand},Search,twelve,2026-11-21 09:00,u-4\n"
        f"{brand},Display,1.00,2026-11-21 11:00,u-5\n"
    )
    login(page, "manager")

    upload(page, "dirty.csv", content, "All or nothing")
    expect(page.get_by_role("status").filter(has_text="of “dirty.csv” is queued")).to_be_visible()
    bad_rows = page.get_by_role("region", name="Bad rows")
    expect(bad_rows).to_be_visible(timeout=IMPORT_TIMEOUT_MS)

    expect(page.get_by_role("heading", level=1)).to_contain_text("dirty.csv")
    expect(page.get_by_text("Rejected", exact=True).first).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("2 bad rows: nothing was imported (all or nothing).")
    counts = page.get_by_role("region", name="Result")
    expect(figure(counts, "Rows read")).to_have_text("5")
    expect(figure(counts, "Imported")).to_have_text("0")
    expect(figure(counts, "Rejected")).to_have_text("2")
    lines = bad_rows.get_by_role("row")
    expect(lines).to_have_count(3)
    expect(lines.nth(1).locator("td").first).to_have_text("3")
    expect(lines.nth(1)).to_contain_text("Nope")
    expect(lines.nth(2).locator("td").first).to_have_text("5")
    expect(lines.nth(2)).to_contain_text("twelve")
    expect(bad_rows.get_by_role("button", name="Download the rejected rows (CSV)")).to_be_visible()
    shoot(page, "upload-rejected")

    def stored(session):
        return session.scalar(
            select(func.count()).select_from(SpendRecord).where(SpendRecord.brand_id == seeded.brand_id)
        )

    assert live.run(stored) == 0

    # The same file, skipping bad rows: the three good ones are imported and the bad ones listed.
    upload(page, "dirty.csv", content, "Skip bad rows")
    counts = page.get_by_role("region", name="Result")
    expect(figure(counts, "Imported")).to_have_text("3", timeout=IMPORT_TIMEOUT_MS)
    expect(figure(counts, "Rejected")).to_have_text("2")
    expect(page.get_by_role("status").filter(has_text="Imported 3 new rows of 5 read.")).to_be_visible()
    expect(page.get_by_role("region", name="Bad rows").get_by_role("row")).to_have_count(3)
    assert live.run(stored) == 3

    # Once more: recognised as already imported, nothing added twice.
    upload(page, "dirty.csv", content, "Skip bad rows")
    expect(page.get_by_text("This file was already imported").first).to_be_visible()
    counts = page.get_by_role("region", name="Result")
    expect(figure(counts, "Duplicates")).to_have_text("3", timeout=IMPORT_TIMEOUT_MS)
    expect(figure(counts, "Imported")).to_have_text("0")
    expect(page.get_by_text("Every row was already imported: nothing new was added.")).to_be_visible()
    assert live.run(stored) == 3

    page.goto("/spend/imports")
    history = page.get_by_role("table")
    expect(history.get_by_role("row").filter(has_text="dirty.csv")).to_have_count(3)
    shoot(page, "spend-imports")


def test_an_unreadable_file_is_refused_on_the_upload_page(page, live):
    login(page, "manager")
    upload(page, "empty.csv", "", "All or nothing")
    expect(page.get_by_role("heading", name="Upload spend")).to_be_visible()
    file_input = page.get_by_label("Spend CSV file")
    expect(file_input).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("The file is empty")).to_be_visible()
    shoot(page, "upload-form-error")


def test_the_import_page_waits_for_the_worker_and_shows_the_result_by_itself(page, live, jobs):
    seeded = seed_brand(live, unique("Waiting Co"))
    content = f"brand,campaign,amount,spent_at\n{seeded.name},Search,7.25,2026-11-20 09:30\n"
    login(page, "manager")

    upload(page, "clean.csv", content, "All or nothing")  # queued on Redis; no worker runs yet
    progress = page.get_by_role("region", name="Progress")
    expect(progress).to_be_visible()
    expect(progress).to_contain_text("Waiting for a worker to pick it up…")
    expect(progress.get_by_label("Import progress")).to_be_visible()
    expect(page.get_by_text("Queued", exact=True).first).to_be_visible()
    shoot(page, "upload-queued")

    # Retry is not offered while it waits for a worker (issue 16). A second job for the same import
    # (RQ is at-least-once) must still not import twice.
    expect(page.get_by_role("button", name=re.compile(r"^Retry import #"))).to_have_count(0)
    import_id = int(re.search(r"/spend/imports/(\d+)", page.url).group(1))
    live.run(lambda session: queue_import(session, session.get(SpendImport, import_id)))

    jobs.start_worker()
    # No reload by the test: the page polls its progress and shows the result when the import ends.
    counts = page.get_by_role("region", name="Result")
    expect(figure(counts, "Imported")).to_have_text("1", timeout=IMPORT_TIMEOUT_MS)
    expect(progress).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="Imported 1 new row of 1 read.")).to_be_visible()
    expect(figure(counts, "Brands affected")).to_have_text("1")
    assert (
        live.run(
            lambda session: session.scalar(
                select(func.count()).select_from(SpendRecord).where(SpendRecord.brand_id == seeded.brand_id)
            )
        )
        == 1
    )
