"""The report-format engine (app.ingest.formats) on the platform fixture files: no database."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.ingest.csv_spend import BrandRef, CampaignDirectory, CampaignRef, RowError, SpendFileError, SpendRow
from app.ingest.formats import (
    GOOGLE_ADS,
    META,
    ReportFormat,
    find_layout,
    format_problems,
    parse_hour,
    parse_report_amount,
    preview,
    read_report_csv,
)
from app.money import MoneyError

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
NEW_YORK = ZoneInfo("America/New_York")
ACME = BrandRef(1, "Acme", NEW_YORK, "USD")
EURO = BrandRef(2, "Euro", ZoneInfo("Europe/Berlin"), "EUR")
NAMES = ["Search - Brand", "Display - Retargeting", "Spring Sale", "Retargeting, EU"]
CAMPAIGNS = [CampaignRef(i, 1, "Acme", name, NEW_YORK, "USD") for i, name in enumerate(NAMES, 1)]
DIRECTORY = CampaignDirectory(
    [ACME, EURO], [*CAMPAIGNS, CampaignRef(9, 2, "Euro", "Spring Sale", EURO.timezone, "EUR")]
)
ALL = [None, GOOGLE_ADS, META]


def read(name_or_bytes, fmt, brand=ACME, latest=None):
    data = name_or_bytes if isinstance(name_or_bytes, bytes) else (EXPORTS / name_or_bytes).read_bytes()
    return list(read_report_csv(io.BytesIO(data), fmt, DIRECTORY, latest, brand=brand))


def figures(rows):
    return [(r.line, r.campaign.campaign_name, r.amount_minor, r.local_date.isoformat(), r.period) for r in rows]


def test_google_ads_day_report_skips_title_date_range_and_totals():
    rows = read("google_ads_campaign_day.csv", GOOGLE_ADS)
    assert all(type(r) is SpendRow for r in rows)
    assert figures(rows) == [
        (4, "Search - Brand", 117245, "2026-11-23", "day"),
        (5, "Search - Brand", 99810, "2026-11-24", "day"),
        (6, "Display - Retargeting", 31207, "2026-11-23", "day"),
        (7, "Display - Retargeting", 0, "2026-11-24", "day"),  # "--": nothing spent
    ]
    # A day row starts at brand-local midnight.
    assert rows[0].spent_at == datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


def test_google_ads_hour_report_gives_hour_rows():
    rows = read("google_ads_campaign_hour.csv", GOOGLE_ADS)
    assert figures(rows) == [
        (4, "Search - Brand", 1420, "2026-11-24", "hour"),
        (5, "Search - Brand", 101105, "2026-11-24", "hour"),
        (6, "Search - Brand", 6000, "2026-11-24", "hour"),
    ]
    assert [r.spent_at.hour for r in rows] == [5, 6, 18]  # 00:00, 01:00 and 13:00 in New York


def test_meta_day_export_skips_the_summary_row_and_finds_the_brand_by_account_name():
    rows = read("meta_campaign_day.csv", META, brand=None)
    assert figures(rows) == [
        (3, "Spring Sale", 17280, "2026-11-23", "day"),
        (4, "Spring Sale", 17102, "2026-11-24", "day"),
        (5, "Retargeting, EU", 13770, "2026-11-24", "day"),
    ]


def test_meta_hour_export_reads_meta_hour_ranges():
    rows = read("meta_campaign_hour.csv", META)
    assert figures(rows) == [
        (3, "Spring Sale", 1240, "2026-11-24", "hour"),
        (4, "Spring Sale", 905, "2026-11-24", "hour"),
        (5, "Spring Sale", 1250, "2026-11-24", "hour"),
    ]


@pytest.mark.parametrize(
    ("name", "expected", "line"),
    [
        ("google_ads_campaign_day.csv", "google_ads", 3),
        ("google_ads_campaign_hour.csv", "google_ads", 3),
        ("meta_campaign_day.csv", "meta", 1),
        ("meta_campaign_hour.csv", "meta", 1),
        ("other_network_eur.csv", None, None),
    ],
)
def test_layout_is_recognised_from_the_header(name, expected, line):
    with open(EXPORTS / name, "rb") as handle:
        layout = find_layout(handle, ALL)
    if expected is None:
        assert layout is None
        return
    assert (layout.format_name, layout.header_line) == (expected, line)
    if expected == "google_ads":
        assert layout.preamble[0] == "Campaign report" and len(layout.preamble) == 2


def test_pacer_header_is_recognised_and_a_wrong_one_keeps_its_message():
    layout = find_layout(io.BytesIO(b"brand,campaign,amount,spent_at\nAcme,Search,1,2026-11-25 09:00\n"), ALL)
    assert layout.format_name == "pacer" and layout.header_line == 1
    with pytest.raises(SpendFileError, match="Unknown column 'cost' in the header"):
        find_layout(io.BytesIO(b"brand,campaign,cost,spent_at\n"), ALL)


def test_header_currency_must_be_the_brand_currency():
    with pytest.raises(SpendFileError, match=r"in USD \(its header says so\) but brand 'Euro' is in EUR"):
        read("meta_campaign_hour.csv", META, brand=EURO)


def test_a_report_without_brand_column_needs_a_chosen_brand():
    with pytest.raises(SpendFileError, match="no brand, account name or account id column: choose its brand"):
        read("google_ads_campaign_day.csv", GOOGLE_ADS, brand=None)


def test_forcing_a_format_the_file_does_not_have_is_a_file_error():
    with pytest.raises(SpendFileError, match="No Meta Ads Manager export"):
        read("google_ads_campaign_day.csv", META)


def test_bad_rows_get_clear_messages_and_keep_their_raw_text():
    data = (
        b"Campaign report\n"
        b"Campaign,Day,Hour of the day,Currency code,Cost\n"
        b"Search - Brand,2026-11-31,3,USD,1.00\n"
        b"Search - Brand,2026-11-24,24,USD,1.00\n"
        b"Search - Brand,2026-11-24,3,EUR,1.00\n"
        b"Search - Brand,2026-11-24,3,USD,abc\n"
        b"Nope,2026-11-24,3,USD,1.00\n"
        b"Search - Brand,2026-03-08,2,USD,1.00\n"
        b"Search - Brand,2026-11-24,3,USD,1.00\n"
    )
    rows = read(data, GOOGLE_ADS)
    errors = [r for r in rows if type(r) is RowError]
    assert [(e.line, e.message) for e in errors] == [
        (3, "The day '2026-11-31' is not a date written as YYYY-MM-DD."),
        (4, "The hour '24' is not an hour of the day (0 to 23, or 07:00:00 - 07:59:59)."),
        (5, "Currency EUR is not the currency of brand 'Acme' (USD)."),
        (6, "Amount 'abc' is not a number written as 1,234.56."),
        (7, "Brand 'Acme' has no campaign 'Nope'."),
        (8, "Hour 2 of 2026-03-08 does not exist in America/New_York: the clocks skip it."),
    ]
    assert errors[0].raw == "Search - Brand,2026-11-31,3,USD,1.00"
    assert type(rows[-1]) is SpendRow and rows[-1].line == 9


def test_meta_row_covering_several_days_is_an_error_not_a_day():
    data = (
        b"Reporting starts,Reporting ends,Campaign name,Amount spent (USD)\n"
        b"2026-11-01,2026-11-24,Spring Sale,100.00\n"
        b"2026-11-01,2026-11-24,Spring Sale,50.00\n"
    )
    rows = read(data, META)
    assert [type(r) for r in rows] == [RowError, RowError]
    assert "covers 2026-11-01 to 2026-11-24, not one day" in rows[0].message


def test_future_day_is_refused_by_the_one_spend_rule():
    data = b"Campaign,Day,Cost\nSearch - Brand,2026-12-24,1.00\n"
    (row,) = read(data, GOOGLE_ADS, latest=datetime(2026, 11, 25, 15, 5, tzinfo=UTC))
    assert type(row) is RowError and "is in the future" in row.message


def test_saved_style_format_with_european_numbers_and_dates():
    fmt = ReportFormat(
        name="other",
        label="other",
        columns={"campaign": ("Campaign Name",), "amount": ("Spend",), "day": ("Date",)},
        number_format="1.234,56",
        date_format="DD/MM/YYYY",
    )
    rows = read("other_network_eur.csv", fmt, brand=EURO)
    assert [type(r) for r in rows] == [SpendRow, SpendRow, RowError]
    assert (rows[0].amount_minor, rows[0].local_date) == (123456, date(2026, 11, 23))
    assert rows[1].amount_minor == 98710
    assert rows[2].message == "Brand 'Euro' has no campaign 'Retargeting'."
    with pytest.raises(SpendFileError, match="amounts are in EUR"):
        read("other_network_eur.csv", fmt, brand=ACME)
    us_dates = ReportFormat("us", "us", fmt.columns, number_format="1.234,56", date_format="MM/DD/YYYY")
    bad = read("other_network_eur.csv", us_dates, brand=EURO)
    assert bad[0].message == "The day '23/11/2026' is not a date written as MM/DD/YYYY."


@pytest.mark.parametrize(
    ("text", "number_format", "currency", "minor"),
    [
        ("$1,234.56", "1,234.56", "USD", 123456),
        ("USD 1,234.56", "1,234.56", "USD", 123456),
        ("1.234,56 €", "1.234,56", "EUR", 123456),
        ("1 234,56", "1 234,56", "EUR", 123456),
        ("1\u00a0234,5", "1 234,56", "EUR", 123450),
        ("--", "1,234.56", "USD", 0),
        ("12", "1,234.56", "JPY", 12),
    ],
)
def test_amounts_with_separators_and_symbols(text, number_format, currency, minor):
    assert parse_report_amount(text, number_format, currency) == minor


@pytest.mark.parametrize(
    ("text", "number_format", "words"),
    [
        ("1.234,56", "1,234.56", "not a number written as"),
        ("1.23456", "1,234.56", "decimals"),
        ("1,234.56", "1.234,56", "not a number written as"),
        ("-5", "1,234.56", "negative"),
    ],
)
def test_amounts_in_the_wrong_number_format_are_refused(text, number_format, words):
    with pytest.raises(MoneyError, match=words):
        parse_report_amount(text, number_format, "USD")


@pytest.mark.parametrize(
    ("text", "hour"), [("0", 0), ("07", 7), ("23", 23), ("13:00", 13), ("05:00:00 - 05:59:59", 5), ("24", None)]
)
def test_hours(text, hour):
    assert parse_hour(text) == hour


def test_format_problems_name_what_is_missing():
    assert format_problems({"campaign": ("C",)}, "1,234.56", "YYYY-MM-DD") == [
        "no column is mapped to the amount",
        "no column is mapped to the day or the timestamp",
    ]
    assert "an hour column needs a day column" in format_problems(
        {"campaign": ("C",), "amount": ("A",), "timestamp": ("T",), "hour": ("H",)}, "1,234.56", "YYYY-MM-DD"
    )
    assert (
        "unknown date format 'YY'"
        in format_problems({"campaign": ("C",), "amount": ("A",), "day": ("D",)}, "1,234.56", "YY")[0]
    )


def test_preview_takes_the_widest_row_for_the_header():
    with open(EXPORTS / "google_ads_campaign_day.csv", "rb") as handle:
        index, rows = preview(handle, 2)
    assert rows[index][:3] == ["Campaign status", "Campaign", "Day"]
    assert rows[0] == ["Campaign report"]
    assert len(rows) == index + 3


def test_only_total_rows_are_skipped_not_campaigns_whose_name_starts_so():
    directory = CampaignDirectory([ACME], [CampaignRef(7, 1, "Acme", "Totally New", NEW_YORK, "USD")])
    data = b"Campaign,Day,Cost\nTotally New,2026-11-24,5.00\nTotal,--,5.00\nTotal: Campaigns,--,5.00\n"
    rows = list(read_report_csv(io.BytesIO(data), GOOGLE_ADS, directory, None, brand=ACME))
    assert [(type(r), r.line) for r in rows] == [(SpendRow, 2)]


def test_a_row_without_campaign_is_an_error_unless_it_is_the_summary_row():
    data = (
        b"Reporting starts,Reporting ends,Campaign name,Day,Amount spent (USD)\n"
        b"2026-11-23,2026-11-24,,,30.00\n"
        b"2026-11-24,2026-11-24,Spring Sale,2026-11-24,10.00\n"
        b"2026-11-24,2026-11-24,,2026-11-24,20.00\n"
    )
    rows = read(data, META)
    assert [(type(r), r.line) for r in rows] == [(SpendRow, 3), (RowError, 4)]
    assert rows[1].message == "Campaign is empty."
