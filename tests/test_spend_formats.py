"""Platform report formats and saved column mappings through the upload page, the import and the CLI.

Imports run in-process through run_import (the function the RQ job calls); Redis is unreachable so an
upload stays queued until the test runs it. The parsing itself is tested in test_report_formats.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import Campaign, SpendFormat, SpendImport, SpendImportError, SpendRecord
from app.services import spend_formats
from app.services.imports import run_import
from tests.conftest import NOW
from tests.helpers import add_filler_brands, add_user, sign_in

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
BOUNDARY = "pacer-formats-boundary"


def multipart(content: bytes, name: str, **fields: str) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
        for key, value in {"mode": "all", **fields}.items()
    ]
    head = (
        "".join(parts) + f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    )
    return head.encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def post_export(client, name: str, content: bytes | None = None, **fields: str):
    data = content if content is not None else (EXPORTS / name).read_bytes()
    return client.post(
        "/spend/upload", data=multipart(data, name, **fields), content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )


def import_id_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/spend/imports/(\d+)", response.headers["Location"]).group(1))


def stored(session) -> list[tuple[str, int, str]]:
    rows = session.execute(
        select(SpendRecord.campaign_id, SpendRecord.amount_minor, SpendRecord.local_date).order_by(SpendRecord.id)
    )
    return [(campaign_id, amount, str(day)) for campaign_id, amount, day in rows]


@pytest.fixture
def brands(session, make):
    acme = make.brand("Acme", timezone="America/New_York", daily="100000", monthly="1000000")
    for name in ("Search - Brand", "Display - Retargeting", "Spring Sale", "Retargeting, EU"):
        make.campaign(acme, name)
    euro = make.brand("Euro", timezone="Europe/Berlin", currency="EUR", daily="100000", monthly="1000000")
    make.campaign(euro, "Spring Sale")
    make.campaign(euro, "Retargeting")
    session.commit()
    return {"acme": acme, "euro": euro}


@pytest.fixture
def manager(session):
    return add_user(session, "mia@pacer.test", "manager")


@pytest.fixture
def as_manager(client, manager, uploads, redis_unreachable):
    sign_in(client, manager)
    return client


# --- built-in formats through the page -----------------------------------------------------------


def test_google_ads_report_uploaded_with_its_brand_is_recognised_and_imported(session, as_manager, brands):
    response = post_export(as_manager, "google_ads_campaign_day.csv", brand=str(brands["acme"].id))
    spend_import = session.get(SpendImport, import_id_of(response))
    assert (spend_import.format_name, spend_import.brand_id, spend_import.status) == (
        "google_ads",
        brands["acme"].id,
        "queued",
    )
    assert "format <code>google_ads</code>" in as_manager.get(f"/spend/imports/{spend_import.id}").get_data(
        as_text=True
    )
    layout = spend_formats.import_layout(session, spend_import)
    assert (layout.header_line, layout.header[1], layout.preamble) == (
        3,
        "Campaign",
        ["Campaign report", '"November 23, 2026 - November 24, 2026"'],
    )
    outcome = run_import(session, spend_import.id, now=NOW)
    assert (outcome.status, outcome.rows_read, outcome.imported, outcome.rejected) == ("done", 4, 4, 0)
    assert sorted(amount for _, amount, _ in stored(session)) == [0, 31207, 99810, 117245]


def test_rejected_rows_of_a_google_ads_report_come_back_in_its_own_layout(session, as_manager, brands):
    # The title and date-range lines and the header, then the rejected row as uploaded: the file can be fixed
    # and uploaded again as it is, and it is read with the same format and brand.
    content = (
        (EXPORTS / "google_ads_campaign_day.csv")
        .read_bytes()
        .replace(b"Search - Brand,2026-11-24", b"Serch,2026-11-24")
    )
    first = import_id_of(
        post_export(as_manager, "google_ads_campaign_day.csv", content, brand=str(brands["acme"].id), mode="skip")
    )
    outcome = run_import(session, first, now=NOW)
    assert (outcome.status, outcome.imported, outcome.rejected) == ("done", 3, 1)
    downloaded = as_manager.get(f"/spend/imports/{first}/rejected.csv").get_data(as_text=True)
    assert downloaded.splitlines() == [
        "Campaign report",
        '"November 23, 2026 - November 24, 2026"',
        "Campaign status,Campaign,Day,Currency code,Impr.,Clicks,Cost,Conversions",
        'Enabled,Serch,2026-11-24,USD,"10,980",835,998.10,19.00',
    ]
    fixed = downloaded.replace("Serch", "Search - Brand").encode()
    again = import_id_of(post_export(as_manager, "fixed.csv", fixed, brand=str(brands["acme"].id)))
    assert session.get(SpendImport, again).format_name == "google_ads"
    outcome = run_import(session, again, now=NOW)
    assert (outcome.status, outcome.imported, outcome.rejected) == ("done", 1, 0)


def test_meta_export_finds_its_brand_by_account_name(session, as_manager, brands):
    spend_import_id = import_id_of(post_export(as_manager, "meta_campaign_day.csv"))
    outcome = run_import(session, spend_import_id, now=NOW)
    assert (outcome.status, outcome.imported) == ("done", 3)
    assert [amount for _, amount, _ in stored(session)] == [17280, 17102, 13770]


def test_meta_export_finds_its_brand_by_the_account_id_a_connection_links(session, as_manager, brands):
    # No account name in the file, but its Account ID column is the ad account Euro's connection links.
    from app.services.platforms import new_key, save_connection

    save_connection(session, brands["euro"].id, "meta", "act_998877", {"access_token": "EAAB-token"}, key=new_key())
    session.commit()
    content = (
        b"Reporting starts,Reporting ends,Account ID,Campaign name,Day,Amount spent (EUR)\n"
        b"2026-11-23,2026-11-23,998877,Spring Sale,2026-11-23,12.50\n"
        b"2026-11-23,2026-11-23,111111,Spring Sale,2026-11-23,1.00\n"
    )
    spend_import_id = import_id_of(post_export(as_manager, "meta_by_id.csv", content, mode="skip"))
    outcome = run_import(session, spend_import_id, now=NOW)
    assert (outcome.status, outcome.imported, outcome.rejected) == ("done", 1, 1)
    assert [(campaign_id, amount) for campaign_id, amount, _ in stored(session)] == [
        (
            session.scalar(
                select(Campaign.id).where(Campaign.brand_id == brands["euro"].id, Campaign.name == "Spring Sale")
            ),
            1250,
        )
    ]
    assert outcome.errors[0].message == "No brand is linked to the ad account '111111'; choose the brand for the file."


def test_forced_format_and_hour_rows(session, as_manager, brands):
    response = post_export(as_manager, "meta_campaign_hour.csv", format="meta", brand=str(brands["acme"].id))
    outcome = run_import(session, import_id_of(response), now=NOW)
    assert (outcome.status, outcome.imported) == ("done", 3)


@pytest.mark.parametrize(
    ("name", "fields", "message"),
    [
        ("google_ads_campaign_day.csv", {}, "no brand, account name or account id column: choose its brand"),
        ("meta_campaign_hour.csv", {"brand": "euro"}, "amounts are in USD (its header says so) but brand"),
        ("google_ads_campaign_day.csv", {"format": "meta", "brand": "acme"}, "has no header of format"),
    ],
)
def test_a_file_that_cannot_be_read_as_chosen_is_refused_and_nothing_is_kept(
    session, as_manager, brands, uploads, name, fields, message
):
    fields = {k: str(brands[v].id) if k == "brand" else v for k, v in fields.items()}
    response = post_export(as_manager, name, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True).replace("&#39;", "'")
    assert session.scalar(select(func.count()).select_from(SpendImport)) == 0
    assert not list(uploads.glob("*"))


# --- an unknown layout: mapped once on the page, then recognised ----------------------------------


def map_columns(client, import_id: int, choices: list[str], **fields: str):
    data = {f"columns-{i}": choice for i, choice in enumerate(choices)}
    data.update({"number_format": "1.234,56", "date_format": "DD/MM/YYYY", "name": "Other network", **fields})
    return client.post(f"/spend/imports/{import_id}/mapping", data=data)


OTHER_COLUMNS = ["day", "campaign", "ignore", "amount", "ignore"]  # Date,Campaign Name,Network,Spend (EUR),Clicks


def test_unknown_layout_waits_for_its_mapping_which_is_saved_and_reused(session, as_manager, brands, uploads):
    response = post_export(as_manager, "other_network_eur.csv")
    assert "/mapping" in response.headers["Location"]
    import_id = int(re.search(r"/imports/(\d+)/mapping", response.headers["Location"]).group(1))
    waiting = session.get(SpendImport, import_id)
    assert (waiting.status, waiting.format_name) == ("mapping", None)
    assert Path(waiting.stored_path).is_file()

    shown = as_manager.get(f"/spend/imports/{import_id}").get_data(as_text=True)
    assert "Waiting for its columns to be mapped" in shown and "Needs mapping" in shown
    assert f"/spend/imports/{import_id}/mapping" in shown
    page = as_manager.get(f"/spend/imports/{import_id}/mapping").get_data(as_text=True)
    assert "Spend (EUR)" in page and "1.234,56" in page and "24/11/2026" in page

    # A mapping without the amount: a clear error, nothing saved, the upload still waits with its file.
    bad = map_columns(
        as_manager, import_id, ["day", "campaign", "ignore", "ignore", "ignore"], brand=str(brands["euro"].id)
    )
    assert bad.status_code == 400
    assert "No column is mapped to the amount" in bad.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(SpendFormat)) == 0
    session.expire_all()
    assert session.get(SpendImport, import_id).status == "mapping"
    assert Path(waiting.stored_path).is_file()

    good = map_columns(as_manager, import_id, OTHER_COLUMNS, brand=str(brands["euro"].id))
    assert good.status_code == 302 and good.headers["Location"].endswith(f"/spend/imports/{import_id}")
    session.expire_all()
    mapped = session.get(SpendImport, import_id)
    assert (mapped.status, mapped.format_name, mapped.brand_id) == ("queued", "Other network", brands["euro"].id)
    saved = session.scalar(select(SpendFormat))
    assert saved.mapping == {"day": "Date", "campaign": "Campaign Name", "amount": "Spend (EUR)"}
    assert saved.created_by == "user:mia@pacer.test"

    outcome = run_import(session, import_id, now=NOW)
    # "Retargeting" exists in Euro; all three rows are good.
    assert (outcome.status, outcome.imported, outcome.rejected) == ("done", 3, 0)
    assert sorted(amount for _, amount, _ in stored(session)) == [98710, 100000, 123456]

    # The next file with the same header is recognised by itself, and is listed on the upload page.
    again = post_export(as_manager, "other_network_eur.csv", brand=str(brands["euro"].id))
    second = session.get(SpendImport, import_id_of(again))
    assert (second.status, second.format_name) == ("queued", "Other network")
    assert "Other network (saved mapping)" in as_manager.get("/spend/upload").get_data(as_text=True)


def test_a_day_not_in_the_chosen_date_format_is_a_row_error(session, as_manager, brands):
    import_id = int(
        re.search(r"/imports/(\d+)/", post_export(as_manager, "other_network_eur.csv").headers["Location"]).group(1)
    )
    response = map_columns(as_manager, import_id, OTHER_COLUMNS, brand=str(brands["euro"].id), date_format="MM/DD/YYYY")
    assert response.status_code == 302
    outcome = run_import(session, import_id, now=NOW)
    assert outcome.status == "rejected" and outcome.imported == 0
    errors = session.scalars(select(SpendImportError).order_by(SpendImportError.line)).all()
    assert [(e.line, e.message) for e in errors][0] == (2, "The day '23/11/2026' is not a date written as MM/DD/YYYY.")
    assert errors[0].raw == '23/11/2026,Spring Sale,display,"1.234,56",120'


@pytest.fixture
def many_brands(session, brands):
    """More live brands than the brand select lists: the upload and mapping pages ask for a name instead."""
    add_filler_brands(session)
    return brands


def test_with_many_brands_the_upload_names_its_brand(session, as_manager, many_brands):
    page = as_manager.get("/spend/upload").get_data(as_text=True)
    assert 'name="brand_name"' in page and "Brand 150" not in page
    # An unknown name: the page again with the error, nothing stored.
    response = post_export(as_manager, "google_ads_campaign_day.csv", brand_name="Acmee")
    assert response.status_code == 400
    assert "No brand is named “Acmee”." in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(SpendImport)) == 0
    # Typed, case aside: the report is imported for that brand.
    import_id = import_id_of(post_export(as_manager, "google_ads_campaign_day.csv", brand_name=" acme "))
    session.expire_all()
    assert session.get(SpendImport, import_id).brand_id == many_brands["acme"].id


def test_with_many_brands_the_mapping_names_its_brand(session, as_manager, many_brands):
    response = post_export(as_manager, "other_network_eur.csv")
    import_id = int(re.search(r"/imports/(\d+)/mapping", response.headers["Location"]).group(1))
    page = as_manager.get(f"/spend/imports/{import_id}/mapping").get_data(as_text=True)
    assert 'name="brand_name"' in page and "Brand 150" not in page
    bad = map_columns(as_manager, import_id, OTHER_COLUMNS, brand_name="Brand 01")
    assert bad.status_code == 400
    assert "No brand is named “Brand 01”. Brands with it in their names: Brand 010, Brand 011, Brand 012." in (
        bad.get_data(as_text=True)
    )
    assert session.scalar(select(func.count()).select_from(SpendFormat)) == 0
    good = map_columns(as_manager, import_id, OTHER_COLUMNS, brand_name="EURO")
    assert good.status_code == 302
    session.expire_all()
    assert session.get(SpendImport, import_id).brand_id == many_brands["euro"].id


def test_mapping_a_column_twice_or_reusing_a_name_is_refused(session, as_manager, brands):
    import_id = int(
        re.search(r"/imports/(\d+)/", post_export(as_manager, "other_network_eur.csv").headers["Location"]).group(1)
    )
    twice = map_columns(
        as_manager, import_id, ["day", "campaign", "amount", "amount", "ignore"], brand=str(brands["euro"].id)
    )
    assert twice.status_code == 400 and "are mapped to the amount" in twice.get_data(as_text=True)
    builtin = map_columns(as_manager, import_id, OTHER_COLUMNS, brand=str(brands["euro"].id), name="meta")
    assert builtin.status_code == 400 and "is the name of a built-in format" in builtin.get_data(as_text=True)
    no_brand = map_columns(as_manager, import_id, OTHER_COLUMNS)
    assert no_brand.status_code == 400 and "choose its brand" in no_brand.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(SpendFormat)) == 0


# --- the formats pages: everyone reads, managers edit ---------------------------------------------


@pytest.fixture
def saved(session):
    row = spend_formats.save_format(
        session,
        name="Other network",
        mapping={"day": "Date", "campaign": "Campaign Name", "amount": "Spend"},
        number_format="1.234,56",
        date_format="DD/MM/YYYY",
        actor="user:mia@pacer.test",
        now=NOW,
    )
    session.commit()
    return row


def test_viewer_sees_the_formats_but_cannot_edit_them(session, client, saved):
    sign_in(client, add_user(session, "vic@pacer.test", "viewer"))
    page = client.get("/spend/formats")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Other network" in text and "google_ads" in text and "Edit" not in text
    assert client.get(f"/spend/formats/{saved.id}/edit").status_code == 403
    assert client.post(f"/spend/formats/{saved.id}/edit", data={"name": "x"}).status_code == 403


def test_manager_edits_a_saved_format(session, as_manager, saved):
    form = as_manager.get(f"/spend/formats/{saved.id}/edit").get_data(as_text=True)
    assert 'value="Campaign Name"' in form
    data = {
        "name": "Other network v2",
        "number_format": "1 234,56",
        "date_format": "DD.MM.YYYY",
        "column_campaign": "Kampagne",
        "column_amount": "Kosten",
        "column_day": "Tag",
    }
    assert as_manager.post(f"/spend/formats/{saved.id}/edit", data=data).status_code == 302
    session.expire_all()
    row = session.get(SpendFormat, saved.id)
    assert (row.name, row.number_format, row.date_format) == ("Other network v2", "1 234,56", "DD.MM.YYYY")
    assert row.mapping == {"campaign": "Kampagne", "amount": "Kosten", "day": "Tag"}
    missing = as_manager.post(f"/spend/formats/{saved.id}/edit", data={**data, "column_amount": ""})
    assert missing.status_code == 400 and "No column is mapped to the amount" in missing.get_data(as_text=True)


def test_formats_page_without_saved_formats_says_so(client, session):
    sign_in(client, add_user(session, "vic@pacer.test", "viewer"))
    assert "No saved formats yet" in client.get("/spend/formats").get_data(as_text=True)


# --- the CLI ----------------------------------------------------------------------------------------


@pytest.fixture
def redis_down(app):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions.pop("pacer_redis", None)


def test_cli_imports_a_google_ads_report_with_brand(runner, session, brands, redis_down):
    result = runner.invoke(args=["spend", "import", str(EXPORTS / "google_ads_campaign_day.csv"), "--brand", "acme"])
    assert result.exit_code == 0, result.output
    assert "4 rows read, 4 imported" in result.output
    assert session.scalar(select(SpendImport.format_name)) == "google_ads"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "nope"], "There is no spend format 'nope'; the formats are pacer, google_ads, meta"),
        (["--format", "meta", "--brand", "Acme"], "has no header of format 'meta'"),
        (["--brand", "Nobody"], "There is no brand named 'Nobody'."),
        ([], "no brand, account name or account id column"),
    ],
)
def test_cli_bad_format_or_brand_is_one_line_and_stores_nothing(runner, session, brands, redis_down, args, message):
    result = runner.invoke(args=["spend", "import", str(EXPORTS / "google_ads_campaign_day.csv"), *args])
    assert result.exit_code == 1
    assert message in result.output
    assert session.scalar(select(func.count()).select_from(SpendImport)) == 0


def test_cli_unknown_layout_says_how_to_map_it_and_reuses_a_saved_mapping(runner, session, brands, redis_down):
    path = str(EXPORTS / "other_network_eur.csv")
    unknown = runner.invoke(args=["spend", "import", path, "--brand", "Euro"])
    assert unknown.exit_code == 1 and "map its columns once on the upload page" in unknown.output
    spend_formats.save_format(
        session,
        name="other",
        mapping={"day": "Date", "campaign": "Campaign Name", "amount": "Spend (EUR)"},
        number_format="1.234,56",
        date_format="DD/MM/YYYY",
        actor="test",
        now=NOW,
    )
    session.commit()
    recognised = runner.invoke(args=["spend", "import", path, "--brand", "Euro"])
    assert recognised.exit_code == 0, recognised.output
    assert "3 imported" in recognised.output
    forced = runner.invoke(args=["spend", "import", path, "--brand", "Euro", "--format", "OTHER"])
    # The same day figures again: each period's figure is unchanged (day rows replace, they are never duplicates).
    assert forced.exit_code == 0 and "0 replaced, 0 corrected (lowered), 3 unchanged" in forced.output


def test_a_large_report_is_read_by_the_forked_reader(runner, session, brands, redis_down, tmp_path):
    from datetime import date, timedelta

    from app.services.imports import READER_PROCESS_MIN_BYTES

    names = ["Search - Brand", "Display - Retargeting", "Spring Sale", "Retargeting, EU"]
    lines = ["Campaign report", '"January 1, 2001 - November 24, 2026"', "Campaign,Day,Currency code,Cost,Impr."]
    day = date(2001, 1, 1)
    rows = 0
    while day <= date(2026, 11, 24):
        for name in names:
            lines.append(f'"{name}",{day.isoformat()},USD,"1,{rows % 1000:03d}.25","12,345"')
            rows += 1
        day += timedelta(days=1)
    lines.append(f'Total: Account,--,USD,"9,999.00","{rows}"')
    path = tmp_path / "google-large.csv"
    path.write_text("\r\n".join(lines) + "\r\n")
    assert path.stat().st_size > READER_PROCESS_MIN_BYTES
    result = runner.invoke(args=["spend", "import", str(path), "--brand", "Acme"])
    assert result.exit_code == 0, result.output
    assert f"{rows} rows read, {rows} imported, 0 duplicates, 0 rejected" in result.output


def test_mapping_page_of_an_upload_whose_file_is_gone_says_so(session, as_manager, brands):
    response = post_export(as_manager, "other_network_eur.csv")
    import_id = int(re.search(r"/imports/(\d+)/", response.headers["Location"]).group(1))
    Path(session.get(SpendImport, import_id).stored_path).unlink()
    page = as_manager.get(f"/spend/imports/{import_id}/mapping", follow_redirects=True)
    assert page.status_code == 200
    assert "The stored file of this upload is gone; upload it again." in page.get_data(as_text=True)


def test_save_format_refuses_nul_and_a_name_taken_in_another_case(session, saved):
    base = {"number_format": "1,234.56", "date_format": "YYYY-MM-DD", "actor": "test", "now": NOW}
    good = {"campaign": "C", "amount": "A", "day": "D"}
    with pytest.raises(spend_formats.FormatError, match="cannot hold a NUL"):
        spend_formats.save_format(session, name="bad\x00", mapping=good, **base)
    with pytest.raises(spend_formats.FormatError, match="A format named 'Other network' already exists"):
        spend_formats.save_format(session, name="OTHER  NETWORK", mapping=good, **base)
    with pytest.raises(spend_formats.FormatError, match="There is no spend format"):
        spend_formats.resolve_format(session, "x\x00")
