"""The import result page's ways forward (issue 14 parts 4 and 5, issue 16 finding 9): campaign names an
import did not know, grouped with counts and mapped ("map to…", saved as an alias) or created inline; the
rejected rows downloaded in the file's own layout and uploaded again as they are; the template download;
and "Import again, skipping bad rows" after an all-or-nothing rejection. Imports run in-process through
run_import, the function the RQ job calls (the real worker is in test_import_job.py)."""

from __future__ import annotations

import csv
import io
import json
import os
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Campaign, CampaignAlias, CampaignEvent, SpendImport, SpendRecord
from app.services.imports import run_import
from tests.helpers import add_user, sign_in
from tests.test_web_spend import csv_bytes, flash_texts, post_file, text_of, upload

HEADER = "brand,campaign,amount,spent_at"


@pytest.fixture
def acme(session, make):
    brand = make.brand("Acme", daily="1000", monthly="30000")
    make.campaign(brand, "Search")
    make.campaign(brand, "Display")
    session.commit()
    return brand


@pytest.fixture
def manager(session):
    return add_user(session, "mia@pacer.test", "manager")


@pytest.fixture
def as_manager(client, manager):
    sign_in(client, manager)
    return client


def records() -> int:
    return db.session.scalar(select(func.count()).select_from(SpendRecord))


def import_of(response) -> SpendImport:
    assert response.status_code == 302, text_of(response)
    match = re.fullmatch(r".*/spend/imports/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return db.session.get(SpendImport, int(match.group(1)))


def finished(spend_import: SpendImport) -> SpendImport:
    run_import(db.session, spend_import.id)
    db.session.refresh(spend_import)
    return spend_import


def campaign_id(brand, name: str) -> int:
    return db.session.scalar(select(Campaign.id).where(Campaign.brand_id == brand.id, Campaign.name == name))


def unknown_groups(page: str) -> list[tuple[str, str]]:
    """(name in the file, rows) of each unknown-campaign group on the page."""
    return re.findall(
        r'<td data-label="Name in the file"><code>([^<]*)</code></td>\s*<td data-label="Rows">(\d+)', page
    )


EXPORT = csv_bytes(
    HEADER,
    "Acme,Search,1.00,2026-11-25T10:00:00Z",
    "Acme,AW Brand KW,2.00,2026-11-25T10:00:00Z",
    "Acme,AW Brand KW,3.00,2026-11-25T11:00:00Z",
    "Acme,Spring Sale,4.00,2026-11-25T10:00:00Z",
    "Acme,AW Brand KW,5.00,2026-11-25T12:00:00Z",
)


# --- unknown campaigns: map to…, create, import again -------------------------------------------


def test_unknown_names_are_grouped_mapped_created_and_the_whole_file_imported_again(
    as_manager, session, uploads, acme, redis_unreachable
):
    rejected = finished(upload(as_manager, EXPORT))  # all or nothing: nothing imported
    assert (rejected.status, rejected.rejected, records()) == ("rejected", 4, 0)
    page = text_of(as_manager.get(f"/spend/imports/{rejected.id}"))
    assert "Campaigns Pacer does not know" in page
    assert unknown_groups(page) == [("AW Brand KW", "3"), ("Spring Sale", "1")]  # most rows first
    assert f'<option value="{campaign_id(acme, "Display")}">Display</option>' in page
    assert "Create campaign “Spring Sale”" in page
    assert "Import the file again" in page

    response = as_manager.post(
        f"/spend/imports/{rejected.id}/alias",
        data={"brand_id": acme.id, "name": "AW Brand KW", "campaign_id": campaign_id(acme, "Search")},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#unknown-campaigns")
    response = as_manager.post(
        f"/spend/imports/{rejected.id}/campaign", data={"brand_id": acme.id, "name": "Spring Sale"}
    )
    assert response.status_code == 302
    page = text_of(as_manager.get(f"/spend/imports/{rejected.id}"))
    assert "Rows naming &#39;AW Brand KW&#39; now go to campaign &#39;Search&#39;." in " ".join(flash_texts(page))
    assert "Campaign &#39;Spring Sale&#39; created in Acme." in " ".join(flash_texts(page))
    assert "now goes to Search" in page and "now goes to Spring Sale" in page
    assert session.scalars(select(CampaignAlias.name)).all() == ["AW Brand KW"]
    manual = session.execute(
        select(Campaign.name, CampaignEvent.facts_json)
        .join(Campaign, Campaign.id == CampaignEvent.campaign_id)
        .where(CampaignEvent.automatic.is_(False), CampaignEvent.actor == "user:mia@pacer.test")
    ).all()
    assert ("Search", '{"alias_added": "AW Brand KW"}') in manual  # the alias, in the activity log
    assert "Spring Sale" in {name for name, _ in manual}  # the new campaign's first state

    again = finished(import_of(as_manager.post(f"/spend/imports/{rejected.id}/again", data={"what": "file"})))
    assert again.id != rejected.id and not again.skip_bad_rows and again.filename == rejected.filename
    assert (again.status, again.rows_read, again.imported, again.rejected) == ("done", 5, 5, 0)
    by_campaign = dict(
        session.execute(
            select(Campaign.name, func.sum(SpendRecord.amount_minor))
            .join(Campaign, Campaign.id == SpendRecord.campaign_id)
            .group_by(Campaign.name)
        ).all()
    )
    assert by_campaign == {"Search": 1100, "Spring Sale": 400}

    # The next export with the same names goes through untouched.
    nxt = finished(upload(as_manager, csv_bytes(HEADER, "Acme,AW Brand KW,7.00,2026-11-26T10:00:00Z")))
    assert (nxt.status, nxt.imported, nxt.rejected) == ("done", 1, 0)


def test_after_skipping_bad_rows_only_the_rejected_rows_are_imported_again(
    as_manager, session, uploads, acme, redis_unreachable
):
    done = finished(upload(as_manager, EXPORT, mode="skip"))
    assert (done.status, done.imported, done.rejected) == ("done", 1, 4)
    page = text_of(as_manager.get(f"/spend/imports/{done.id}"))
    assert "Import the rejected rows again" in page and "Import the file again" not in page
    as_manager.post(
        f"/spend/imports/{done.id}/alias",
        data={"brand_id": acme.id, "name": "AW Brand KW", "campaign_id": campaign_id(acme, "Display")},
    )
    again = finished(import_of(as_manager.post(f"/spend/imports/{done.id}/again", data={"what": "rejected"})))
    assert again.skip_bad_rows and again.filename == f"import-{done.id}-rejected.csv"
    # Only the four rejected rows were read; the three now mapped are imported, Spring Sale is still unknown.
    assert (again.rows_read, again.imported, again.duplicates, again.rejected) == (4, 3, 0, 1)
    assert records() == 4
    assert [e.line for e in again.errors] == [4]  # its line in the rejected-rows file
    assert unknown_groups(text_of(as_manager.get(f"/spend/imports/{again.id}"))) == [("Spring Sale", "1")]


def test_bad_map_and_create_requests_are_refused_with_a_reason(
    as_manager, session, make, uploads, acme, redis_unreachable
):
    other = make.campaign(make.brand("Other"), "Elsewhere")
    session.commit()
    rejected = finished(upload(as_manager, EXPORT))
    url = f"/spend/imports/{rejected.id}"

    def flashed(response) -> str:
        assert response.status_code == 302
        return " ".join(flash_texts(text_of(as_manager.get(url))))

    no_choice = as_manager.post(url + "/alias", data={"brand_id": acme.id, "name": "AW Brand KW", "campaign_id": ""})
    assert "Choose the campaign these rows are for." in flashed(no_choice)
    foreign = as_manager.post(
        url + "/alias", data={"brand_id": acme.id, "name": "AW Brand KW", "campaign_id": other.id}
    )
    assert f"Brand &#39;Acme&#39; has no campaign with id {other.id}: choose one of its campaigns." in flashed(foreign)
    taken = as_manager.post(url + "/campaign", data={"brand_id": acme.id, "name": "Search"})
    assert "The campaign was not created: Acme already has a campaign named &#39;Search&#39;." in flashed(taken)
    nobody = as_manager.post(url + "/campaign", data={"brand_id": 999999, "name": "X"})
    assert "There is no brand with id 999999." in flashed(nobody)
    assert as_manager.post(url + "/campaign", data={"name": "X"}).status_code == 400
    assert as_manager.post(url + "/again", data={"what": "everything"}).status_code == 400
    clean = finished(upload(as_manager, csv_bytes(HEADER, "Acme,Search,1,2026-11-25T09:00:00Z")))
    nothing = as_manager.post(f"/spend/imports/{clean.id}/again", data={"what": "rejected"}, follow_redirects=True)
    assert f"Import #{clean.id} has no rejected rows to import again." in " ".join(flash_texts(text_of(nothing)))
    assert session.scalar(select(func.count()).select_from(CampaignAlias)) == 0
    assert session.scalars(select(Campaign.name).order_by(Campaign.name)).all() == ["Display", "Elsewhere", "Search"]
    assert session.scalar(select(func.count()).select_from(SpendImport)) == 2  # no import was added


def test_import_again_is_refused_while_queued_and_when_the_file_is_gone(
    as_manager, session, uploads, acme, redis_unreachable
):
    queued = upload(as_manager, EXPORT)
    response = as_manager.post(f"/spend/imports/{queued.id}/again", data={"what": "skip"}, follow_redirects=True)
    assert f"Import #{queued.id} is still queued; wait for it to finish." in " ".join(flash_texts(text_of(response)))
    finished(queued)
    os.unlink(queued.stored_path)
    response = as_manager.post(f"/spend/imports/{queued.id}/again", data={"what": "skip"}, follow_redirects=True)
    assert f"The file of import #{queued.id} is no longer stored; upload it again." in " ".join(
        flash_texts(text_of(response))
    )
    response = as_manager.post(f"/spend/imports/{queued.id}/again", data={"what": "rejected"}, follow_redirects=True)
    assert (
        f"The header of the file of import #{queued.id} is no longer known, so its rejected rows cannot be "
        "imported again as they are: download them, add the header line, and upload that."
    ) in " ".join(flash_texts(text_of(response)))
    assert session.scalar(select(func.count()).select_from(SpendImport)) == 1
    # Once retention deleted a file, its header is kept: the rejected rows can still be imported again.
    queued.file_deleted_at, queued.file_header = queued.finished_at, json.dumps(HEADER.split(","))
    session.commit()
    response = as_manager.post(f"/spend/imports/{queued.id}/again", data={"what": "file"}, follow_redirects=True)
    assert f"The file of import #{queued.id} was deleted on" in " ".join(flash_texts(text_of(response)))
    again = finished(import_of(as_manager.post(f"/spend/imports/{queued.id}/again", data={"what": "rejected"})))
    assert (again.rows_read, again.rejected) == (4, 4)


def test_viewers_see_the_unknown_names_but_cannot_map_create_or_import_again(
    client, session, uploads, acme, redis_unreachable, manager
):
    sign_in(client, manager)
    rejected = finished(upload(client, EXPORT))
    client.post("/logout")
    sign_in(client, add_user(session, "vic@pacer.test", "viewer"))
    page = text_of(client.get(f"/spend/imports/{rejected.id}"))
    assert unknown_groups(page) == [("AW Brand KW", "3"), ("Spring Sale", "1")]
    assert "Save alias" not in page and "Create campaign" not in page and "Import again" not in page
    for action, data in (
        ("alias", {"brand_id": acme.id, "name": "AW Brand KW", "campaign_id": campaign_id(acme, "Search")}),
        ("campaign", {"brand_id": acme.id, "name": "Spring Sale"}),
        ("again", {"what": "skip"}),
    ):
        assert client.post(f"/spend/imports/{rejected.id}/{action}", data=data).status_code == 403
    assert session.scalar(select(func.count()).select_from(CampaignAlias)) == 0


# --- all or nothing, then skipping bad rows --------------------------------------------------------


def test_an_all_or_nothing_rejection_offers_import_again_skipping_bad_rows(
    as_manager, session, uploads, acme, redis_unreachable
):
    bad = csv_bytes(HEADER, "Acme,Search,1.00,2026-11-25T10:00:00Z", "Acme,Search,abc,2026-11-25T10:00:00Z")
    rejected = finished(upload(as_manager, bad))
    page = text_of(as_manager.get(f"/spend/imports/{rejected.id}"))
    assert "Fix them, or import again skipping bad rows." in page
    assert 'id="skip-bad-rows"' in page and "Import again, skipping bad rows" in page
    again = finished(import_of(as_manager.post(f"/spend/imports/{rejected.id}/again", data={"what": "skip"})))
    assert again.skip_bad_rows and again.sha256 == rejected.sha256
    assert (again.status, again.imported, again.rejected) == ("done", 1, 1)
    assert records() == 1
    # A skip-mode import, and the rejected import's own page once its file is gone, offer no such button.
    assert 'id="skip-bad-rows"' not in text_of(as_manager.get(f"/spend/imports/{again.id}"))
    rejected.file_deleted_at = rejected.finished_at
    session.commit()
    assert 'id="skip-bad-rows"' not in text_of(as_manager.get(f"/spend/imports/{rejected.id}"))


# --- the rejected rows in the file's own layout --------------------------------------------------


def test_rejected_rows_download_in_the_files_own_layout_and_upload_again_once_fixed(
    as_manager, session, uploads, acme, redis_unreachable
):
    original = csv_bytes(
        "Spent_At,Campaign,Brand,Amount,External_Id",
        "2026-11-25T10:00:00Z,Search,Acme,1.00,ok-1",
        "2026-11-25T10:00:00Z,Search,Acme,-5.00,neg-1",
        '2026-11-25T11:00:00Z,"Search, typo",Acme,2.50,"id, with comma"',
        "2026-11-25T12:00:00Z,=cmd(),Acme,1.00,x-3",
    )
    done = finished(upload(as_manager, original, mode="skip"))
    assert (done.imported, done.rejected) == (1, 3)
    response = as_manager.get(f"/spend/imports/{done.id}/rejected.csv")
    assert response.headers["Content-Disposition"] == f'attachment; filename="import-{done.id}-rejected.csv"'
    downloaded = text_of(response)
    assert list(csv.reader(io.StringIO(downloaded))) == [
        ["Spent_At", "Campaign", "Brand", "Amount", "External_Id"],
        ["2026-11-25T10:00:00Z", "Search", "Acme", "-5.00", "neg-1"],  # a plain number is not a formula
        ["2026-11-25T11:00:00Z", "Search, typo", "Acme", "2.50", "id, with comma"],
        ["2026-11-25T12:00:00Z", "'=cmd()", "Acme", "1.00", "x-3"],  # a formula is still neutralised
    ]
    # Uploaded again as it is, it is accepted and gives the same answers on the same rows.
    same = finished(import_of(post_file(as_manager, downloaded.encode(), name="rejected.csv", mode="skip")))
    assert (same.status, same.imported, same.rejected) == ("done", 0, 3)
    # Fixed in place (no column to delete), it imports its rows.
    fixed = downloaded.replace("-5.00", "5.00").replace('"Search, typo"', "Search").replace("'=cmd()", "Display")
    good = finished(import_of(post_file(as_manager, fixed.encode(), name="fixed.csv")))
    assert (good.status, good.rows_read, good.imported, good.rejected) == ("done", 3, 3, 0)
    assert records() == 4


def test_the_explanations_download_separately(as_manager, uploads, acme, redis_unreachable):
    done = finished(upload(as_manager, csv_bytes(HEADER, "Acme,Nope,1.00,2026-11-25T10:00:00Z"), mode="skip"))
    page = text_of(as_manager.get(f"/spend/imports/{done.id}"))
    assert f"/spend/imports/{done.id}/rejected.csv" in page and f"/spend/imports/{done.id}/rejected-errors.csv" in page
    rows = list(csv.reader(io.StringIO(text_of(as_manager.get(f"/spend/imports/{done.id}/rejected-errors.csv")))))
    assert rows == [
        ["line", "error", "brand", "campaign", "amount", "spent_at"],
        ["2", "Brand 'Acme' has no campaign 'Nope'.", "Acme", "Nope", "1.00", "2026-11-25T10:00:00Z"],
    ]


# --- the template --------------------------------------------------------------------------------


def test_the_template_has_every_column_and_an_example_row_that_imports(
    as_manager, session, make, uploads, redis_unreachable
):
    brand = make.brand("Nihon", timezone="Asia/Tokyo", currency="JPY", daily="100000", monthly="3000000")
    make.campaign(brand, "Display")
    make.campaign(brand, "Brand")
    session.commit()
    page = text_of(as_manager.get("/spend/upload"))
    assert 'action="/spend/template.csv"' in page and "Download a template (CSV)" in page

    demo = as_manager.get("/spend/template.csv")
    assert demo.headers["Content-Disposition"] == 'attachment; filename="spend-template.csv"'
    header, row = list(csv.reader(io.StringIO(text_of(demo))))
    assert header == ["brand", "campaign", "amount", "spent_at", "external_id", "currency"]
    assert row[:3] == ["Acme Outdoor", "Search - Brand", "12.50"] and row[4:] == ["example-1", "USD"]

    template = text_of(as_manager.get("/spend/template.csv?brand=nihon"))
    header, row = list(csv.reader(io.StringIO(template)))
    assert row[:3] == ["Nihon", "Brand", "12"] and row[4:] == ["example-1", "JPY"]  # JPY has no decimals
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:00", row[3])
    imported = finished(import_of(post_file(as_manager, template.encode(), name="spend-template.csv")))
    assert (imported.status, imported.imported, imported.rejected) == ("done", 1, 0)


def test_a_template_for_an_unknown_brand_says_so_on_the_upload_page(as_manager, acme):
    response = as_manager.get("/spend/template.csv?brand=Nobody")
    assert response.status_code == 400
    page = text_of(response)
    assert "There is no brand named &#39;Nobody&#39;: leave the name empty for an example with the demo names." in page
    assert 'value="Nobody"' in page and 'aria-invalid="true"' in page


# --- the brand page lists the aliases; a manager removes one --------------------------------------


def test_the_brand_page_lists_aliases_and_a_manager_removes_one(as_manager, session, make, acme, now):
    from app.services.aliases import add_alias

    alias = add_alias(session, acme.id, name="GAds 9", campaign_id=campaign_id(acme, "Search"), now=now, actor="t")
    other = make.brand("Other")
    session.commit()
    page = text_of(as_manager.get(f"/brands/{acme.id}"))
    assert "Campaign aliases" in page and "<code>GAds 9</code>" in page
    assert "Campaign aliases" not in text_of(as_manager.get(f"/brands/{other.id}"))  # none: no section

    wrong = as_manager.post(f"/brands/{other.id}/aliases/{alias.id}/remove", follow_redirects=True)
    assert f"“Other” has no alias with id {alias.id}; it may have been removed already." in " ".join(
        flash_texts(text_of(wrong))
    )
    done = as_manager.post(f"/brands/{acme.id}/aliases/{alias.id}/remove", follow_redirects=True)
    assert "Removed the alias “GAds 9”: rows naming it are unknown campaigns again." in " ".join(
        flash_texts(text_of(done))
    )
    assert session.scalar(select(func.count()).select_from(CampaignAlias)) == 0
    activity = text_of(as_manager.get("/activity"))
    assert "Alias “GAds 9” added" in activity and "Alias “GAds 9” removed" in activity
    removed = session.scalar(select(CampaignEvent).order_by(CampaignEvent.id.desc()).limit(1))
    assert (removed.actor, removed.facts) == ("user:mia@pacer.test", {"alias_removed": "GAds 9"})
    again = as_manager.post(f"/brands/{acme.id}/aliases/{alias.id}/remove", follow_redirects=True)
    assert f"“Acme” has no alias with id {alias.id}; it may have been removed already." in " ".join(
        flash_texts(text_of(again))
    )


def test_a_name_is_counted_in_every_row_that_names_it_whatever_else_is_wrong(
    as_manager, uploads, acme, redis_unreachable
):
    content = csv_bytes(
        HEADER + ",currency",
        "Acme,X 1,1.00,2026-11-25T10:00:00Z,",
        "Acme,X 1,2.00,2026-11-25T11:00:00Z,",
        "Acme,X 1,abc,2026-11-25T12:00:00Z,",  # also a bad amount: another message, the same name
        "Acme,X 1,1.00,2026-11-25T13:00:00Z,EUR",
        "Acme,'quoted' \"name\",1.00,2026-11-25T13:00:00Z,",
        "Nobody,X 1,1.00,2026-11-25T13:00:00Z,",  # an unknown brand: nothing to map it in
    )
    rejected = finished(upload(as_manager, content))
    page = text_of(as_manager.get(f"/spend/imports/{rejected.id}"))
    assert unknown_groups(page) == [("X 1", "4"), ("&#39;quoted&#39; &#34;name&#34;", "1")]
