"""The spend CSV parser and validator (app.ingest.csv_spend): every class of bad file and bad row.

Files are real files under tmp_path, read the way the importer reads them (binary,
streamed); brands and campaigns are real rows in the test database. Every bad row is
checked for its exact physical line number and its exact message.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.ingest.csv_spend import RowError, SpendFileError, SpendRow, read_spend_csv
from app.ingest.spend_values import latest_spend
from app.models import utcnow
from app.services.spend import campaign_directory

HEADER = "brand,campaign,amount,spent_at"
FORMAT = "brand,campaign,amount,spent_at[,external_id][,currency][,period]"
ISO_HINT = "is not ISO 8601 like 2026-03-08T14:30:00Z, 2026-03-08T09:30:00-05:00 or 2026-03-08 09:30"
BOM = b"\xef\xbb\xbf"


@pytest.fixture
def brands(session, make):
    acme = make.brand("Acme", timezone="America/New_York", currency="USD")
    make.campaign(acme, "Search")
    make.campaign(acme, "Social")
    make.campaign(acme, "Search, Brand")
    nihon = make.brand("Nihon", timezone="Asia/Tokyo", currency="JPY", daily="10000", monthly="300000")
    make.campaign(nihon, "Display")
    gulf = make.brand("Gulf", timezone="Asia/Kuwait", currency="KWD")
    make.campaign(gulf, "Search")
    session.commit()
    return SimpleNamespace(acme=acme, nihon=nihon, gulf=gulf)


def write(tmp_path: Path, body: str | bytes, name: str = "spend.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(body.encode("utf-8") if isinstance(body, str) else body)
    return path


def parse_file(session, path: Path) -> list[SpendRow | RowError]:
    with open(path, "rb") as handle:
        return list(read_spend_csv(handle, campaign_directory(session), latest_spend(utcnow())))


def parse(session, tmp_path: Path, body: str | bytes) -> list[SpendRow | RowError]:
    return parse_file(session, write(tmp_path, body))


def file_error(session, tmp_path: Path, body: str | bytes) -> str:
    with pytest.raises(SpendFileError) as raised:
        parse(session, tmp_path, body)
    return str(raised.value)


def row_errors(items) -> list[tuple[int, str]]:
    return [(item.line, item.message) for item in items if isinstance(item, RowError)]


def one_error(session, tmp_path: Path, row: str, header: str = HEADER) -> RowError:
    items = parse(session, tmp_path, f"{header}\n{row}\n")
    assert len(items) == 1 and isinstance(items[0], RowError), items
    assert items[0].line == 2
    return items[0]


def one_row(session, tmp_path: Path, row: str, header: str = HEADER) -> SpendRow:
    items = parse(session, tmp_path, f"{header}\n{row}\n")
    assert len(items) == 1 and isinstance(items[0], SpendRow), items
    return items[0]


def good_rows(count: int, first_minute: int = 0) -> list[str]:
    """Distinct valid Acme rows, about 36 bytes each."""
    return [f"Acme,Search,{i % 97}.{i % 100:02d},2026-07-01 09:{(first_minute + i) % 60:02d}" for i in range(count)]


# --- Whole-file problems -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"", b"   \n\r\n\t\n  ", BOM, BOM + b"\n\n", b"\n" * 10_000],
    ids=["empty", "whitespace", "bom-only", "bom-and-blank-lines", "blank-lines-beyond-8KiB"],
)
def test_empty_or_whitespace_file(session, brands, tmp_path, body):
    assert file_error(session, tmp_path, body) == f"The file is empty: expected a header line {FORMAT}."


def test_binary_file(session, brands, tmp_path):
    body = b"brand,campaign\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"
    assert file_error(session, tmp_path, body) == "This is a binary file, not a CSV text file (a NUL byte on line 4)."


def test_nul_byte_beyond_the_first_8kib_is_a_file_error(session, brands, tmp_path):
    rows = good_rows(400)  # > 8 KiB, so the NUL is not in the bytes sniffed up front
    body = "\n".join([HEADER, *rows, "Acme,Search,1.00,2026-07-01 10:00", "Acme,Se\x00arch,1.00,2026-07-01 10:00"])
    assert len(body.split("\x00")[0].encode()) > 8192
    assert file_error(session, tmp_path, body) == "This is a binary file, not a CSV text file (a NUL byte on line 403)."


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_file_is_named_and_the_fix_given(session, brands, tmp_path, encoding):
    body = (HEADER + "\nAcme,Search,1.00,2026-07-01 09:00\n").encode(encoding)
    assert file_error(session, tmp_path, body).startswith("This file is UTF-16 text, not UTF-8: save it again as")


def test_latin1_in_the_header(session, brands, tmp_path):
    body = "brand,campaign,amount,spent_at,d\xe9tail\n".encode("latin-1")
    assert file_error(session, tmp_path, body) == (
        "The file is not UTF-8 text (invalid byte 0xe9 on line 1); save it as UTF-8 CSV."
    )


@pytest.mark.parametrize("bom", [b"", BOM], ids=["no-bom", "bom"])
def test_latin1_near_the_start_names_its_byte_and_line(session, brands, tmp_path, bom):
    # With a BOM the decoder reports offsets past the stripped BOM: the line and byte must still be right.
    body = bom + (HEADER + "\nCaf\xe9,Search,1.00,2026-07-01 09:00\n").encode("latin-1")
    assert file_error(session, tmp_path, body) == (
        "The file is not UTF-8 text (invalid byte 0xe9 on line 2); save it as UTF-8 CSV."
    )


@pytest.mark.parametrize("good", [230, 231, 232, 400, 455, 1000, 3000])
@pytest.mark.parametrize("where", ["start", "end"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_latin1_far_into_the_file_reports_its_exact_line(session, brands, tmp_path, good, where, newline):
    bad = "Acme,Search,1.00,2026-07-01 10:00,Caf\xe9" if where == "end" else "\xe9Acme,Search,1.00,2026-07-01 10:00,x"
    body = newline.join(
        [HEADER + ",external_id", *(r + ",x" for r in good_rows(good)), bad, "Acme,Search,1,2026-07-01 11:00,y"]
    )
    data = body.encode("latin-1")
    assert data.index(b"\xe9") > 8192
    assert file_error(session, tmp_path, data) == (
        f"The file is not UTF-8 text (invalid byte 0xe9 on line {good + 2}); save it as UTF-8 CSV."
    )


def test_latin1_inside_a_multiline_field_far_into_the_file(session, brands, tmp_path):
    body = "\n".join(
        [
            HEADER + ",external_id",
            *(r + ",x" for r in good_rows(500)),
            'Acme,Search,1.00,2026-07-01 10:00,"first line',
            "second line",
            'third \xe9 line"',
        ]
    )
    assert file_error(session, tmp_path, body.encode("latin-1")) == (
        "The file is not UTF-8 text (invalid byte 0xe9 on line 504); save it as UTF-8 CSV."
    )


def test_truncated_utf8_at_the_very_end(session, brands, tmp_path):
    body = (HEADER + "\nAcme,Search,1.00,2026-07-01 09:00\nCaf").encode() + b"\xc3"
    assert file_error(session, tmp_path, body) == (
        "The file is not UTF-8 text (invalid byte 0xc3 on line 3); save it as UTF-8 CSV."
    )


def test_missing_required_column(session, brands, tmp_path):
    assert file_error(session, tmp_path, "brand,campaign,amount\nAcme,Search,1\n") == (
        f"Missing column spent_at in the header (line 1); the columns are {FORMAT}."
    )
    assert file_error(session, tmp_path, "campaign,spent_at\n") == (
        f"Missing column brand, amount in the header (line 1); the columns are {FORMAT}."
    )


def test_unknown_column(session, brands, tmp_path):
    assert file_error(session, tmp_path, HEADER + ",notes,Cost\n") == (
        f"Unknown column 'notes', 'cost' in the header (line 1); the columns are {FORMAT}."
    )


def test_duplicate_column(session, brands, tmp_path):
    assert file_error(session, tmp_path, HEADER + ", Amount\nAcme,Search,1,2026-07-01 09:00,2\n") == (
        "Column amount appears twice in the header (line 1)."
    )


def test_header_after_blank_lines_reports_its_physical_line(session, brands, tmp_path):
    assert file_error(session, tmp_path, "\n  \nbrand,campaign,amount\n") == (
        f"Missing column spent_at in the header (line 3); the columns are {FORMAT}."
    )
    items = parse(session, tmp_path, "\n\n" + HEADER + "\nAcme,Nope,1,2026-07-01 09:00\n")
    assert row_errors(items) == [(4, "Brand 'Acme' has no campaign 'Nope'.")]


def test_header_names_in_any_case_and_with_spaces(session, brands, tmp_path):
    header = " Brand ,CAMPAIGN,  Amount,Spent_At ,External_ID,  CURRENCY  "
    row = one_row(session, tmp_path, "Acme,Search,12.34,2026-07-01T09:30:00Z,ext-1,USD", header=header)
    assert (row.campaign.brand_name, row.campaign.campaign_name, row.amount_minor, row.external_id) == (
        "Acme",
        "Search",
        1234,
        "ext-1",
    )


def test_columns_in_any_order(session, brands, tmp_path):
    row = one_row(session, tmp_path, "2026-07-01T09:30:00Z,7.5,Search,Acme", header="spent_at,amount,campaign,brand")
    assert (row.campaign.campaign_name, row.amount_minor) == ("Search", 750)


def test_bom_is_accepted(session, brands, tmp_path):
    items = parse(session, tmp_path, BOM + (HEADER + "\nAcme,Search,1.00,2026-07-01 09:00\n").encode())
    assert [(i.line, i.amount_minor) for i in items] == [(2, 100)]


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_crlf_and_lf_read_the_same(session, brands, tmp_path, newline):
    body = (
        newline.join(
            [
                HEADER,
                "Acme,Search,1.00,2026-07-01 09:00",
                "",
                "Acme,Nope,2.00,2026-07-01 09:00",
                "Acme,Social,3.00,2026-07-01 09:00",
            ]
        )
        + newline
    )
    items = parse(session, tmp_path, body)
    assert [(i.line, i.amount_minor) for i in items if isinstance(i, SpendRow)] == [(2, 100), (5, 300)]
    assert row_errors(items) == [(4, "Brand 'Acme' has no campaign 'Nope'.")]
    assert all(i.campaign.campaign_name in ("Search", "Social") for i in items if isinstance(i, SpendRow))


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_quoted_commas_and_embedded_newlines(session, brands, tmp_path, newline):
    lines = [
        HEADER + ",external_id",  # 1
        'Acme,"Search, Brand",1.00,2026-07-01 09:00,"id,with,commas"',  # 2
        'Acme,Search,2.00,2026-07-01 09:00,"multi',  # 3
        'line id"',  # 4
        'Acme,"Nope',  # 5
        'Campaign",3.00,2026-07-01 09:00,x',  # 6
        'Acme,Search,"1,000.00",2026-07-01 09:00,y',  # 7
        '"Acme",Social,4.00,"2026-07-01 09:00",z',  # 8
    ]
    items = parse(session, tmp_path, newline.join(lines) + newline)
    good = [(i.line, i.campaign.campaign_name, i.amount_minor, i.external_id) for i in items if isinstance(i, SpendRow)]
    assert good == [
        (2, "Search, Brand", 100, "id,with,commas"),
        (3, "Search", 200, f"multi{newline}line id"),
        (8, "Social", 400, "z"),
    ]
    assert row_errors(items) == [
        (5, f"Brand 'Acme' has no campaign {'Nope' + newline + 'Campaign'!r}."),
        (7, "Amount '1,000.00' is not a plain decimal number like 12.34."),
    ]


def test_unterminated_quote_reports_the_line_where_the_row_starts(session, brands, tmp_path):
    body = "\n".join(
        [HEADER, "Acme,Search,1.00,2026-07-01 09:00", 'Acme,"Search,1.00,2026-07-01 09:00', *good_rows(20)]
    )
    assert file_error(session, tmp_path, body) == "Line 3 cannot be read as CSV: unexpected end of data."


def test_text_after_a_closing_quote_is_a_csv_error_on_its_line(session, brands, tmp_path):
    body = "\n".join([HEADER, "Acme,Search,1.00,2026-07-01 09:00", "", 'Acme,"Search"x,1.00,2026-07-01 09:00'])
    assert file_error(session, tmp_path, body) == "Line 4 cannot be read as CSV: ',' expected after '\"'."


@pytest.mark.parametrize(
    "row, fields",
    [("Acme,Search,1.00", 3), ("Acme,Search,1.00,2026-07-01 09:00,extra", 5), ("Acme", 1)],
)
def test_wrong_field_count(session, brands, tmp_path, row, fields):
    error = one_error(session, tmp_path, row)
    assert error.message == f"The row has {fields} fields but the header has 4."
    assert error.raw == row


def test_blank_lines_are_skipped_but_line_numbers_stay_physical(session, brands, tmp_path):
    body = "\n".join(
        [
            HEADER,  # 1
            "",  # 2
            "Acme,Nope,1.00,2026-07-01 09:00",  # 3
            "   ",  # 4
            ",,,",  # 5: only empty fields, skipped like a blank line
            "",  # 6
            "Acme,Search,1.00,2026-07-01 09:00",  # 7
            "Acme,Search,x,2026-07-01 09:00",  # 8
            "",  # 9
            "",  # 10
        ]
    )
    items = parse(session, tmp_path, body)
    assert [i.line for i in items] == [3, 7, 8]
    assert row_errors(items) == [
        (3, "Brand 'Acme' has no campaign 'Nope'."),
        (8, "Amount 'x' is not a plain decimal number like 12.34."),
    ]


def test_header_only_file_has_no_rows(session, brands, tmp_path):
    assert parse(session, tmp_path, HEADER + "\r\n") == []


# --- Brand, campaign and currency ----------------------------------------------------------


def test_unknown_brand(session, brands, tmp_path):
    error = one_error(session, tmp_path, "Nope,Search,1.00,2026-07-01 09:00")
    assert error.message == "Unknown brand 'Nope'."
    assert error.raw == "Nope,Search,1.00,2026-07-01 09:00"


def test_unknown_brand_is_never_created(session, brands, tmp_path):
    from sqlalchemy import func, select

    from app.models import Brand, Campaign

    before = (
        session.scalar(select(func.count()).select_from(Brand)),
        session.scalar(select(func.count()).select_from(Campaign)),
    )
    parse(session, tmp_path, HEADER + "\nNew Brand,New Campaign,1.00,2026-07-01 09:00\nAcme,New,1,2026-07-01 09:00\n")
    after = (
        session.scalar(select(func.count()).select_from(Brand)),
        session.scalar(select(func.count()).select_from(Campaign)),
    )
    assert before == after == (3, 5)


def test_unknown_campaign(session, brands, tmp_path):
    assert one_error(session, tmp_path, "Acme,Display,1.00,2026-07-01 09:00").message == (
        "Brand 'Acme' has no campaign 'Display'."
    )


def test_archived_brand_and_campaign_do_not_match(session, brands, make, tmp_path, now):
    old = make.campaign(brands.acme, "Old")
    old.archived_at = now
    gone = make.brand("Gone")
    make.campaign(gone, "Search")
    gone.archived_at = now
    session.commit()
    items = parse(session, tmp_path, HEADER + "\nAcme,Old,1,2026-07-01 09:00\nGone,Search,1,2026-07-01 09:00\n")
    assert row_errors(items) == [(2, "Brand 'Acme' has no campaign 'Old'."), (3, "Unknown brand 'Gone'.")]


@pytest.mark.parametrize(
    "row, message",
    [
        (",Search,1.00,2026-07-01 09:00", "Brand is empty."),
        ("  ,Search,1.00,2026-07-01 09:00", "Brand is empty."),
        ("Acme,,1.00,2026-07-01 09:00", "Campaign is empty."),
        (",,1.00,2026-07-01 09:00", "Brand is empty; campaign is empty."),
    ],
)
def test_empty_brand_or_campaign(session, brands, tmp_path, row, message):
    assert one_error(session, tmp_path, row).message == message


def test_names_match_after_trimming_and_in_other_case(session, brands, tmp_path):
    row = one_row(session, tmp_path, "  acme , SEARCH ,1.00,2026-07-01 09:00")
    assert (row.campaign.brand_name, row.campaign.campaign_name) == ("Acme", "Search")


def test_currency_not_the_brands(session, brands, tmp_path):
    header = HEADER + ",currency"
    assert one_error(session, tmp_path, "Acme,Search,1.00,2026-07-01 09:00,EUR", header).message == (
        "Currency EUR is not the currency of brand 'Acme' (USD)."
    )
    assert one_error(session, tmp_path, "Nihon,Display,100,2026-07-01 09:00,usd", header).message == (
        "Currency USD is not the currency of brand 'Nihon' (JPY)."
    )


@pytest.mark.parametrize("currency", ["USD", "usd", " Usd ", ""])
def test_currency_of_the_brand_in_any_case_or_absent(session, brands, tmp_path, currency):
    row = one_row(session, tmp_path, f"Acme,Search,1.00,2026-07-01 09:00,{currency}", HEADER + ",currency")
    assert row.amount_minor == 100


# --- Amounts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "brand, amount, minor",
    [
        ("Acme", "12.34", 1234),
        ("Acme", " 12.34 ", 1234),
        ("Acme", "0", 0),
        ("Acme", "0.00", 0),
        ("Acme", "7", 700),
        ("Acme", "007.5", 750),
        # A trailing or leading point is still a plain decimal: "12." is 12, ".5" is a half.
        ("Acme", "12.", 1200),
        ("Acme", ".5", 50),
        ("Acme", "10000000000000.00", 10**15),
        ("Nihon", "1500", 1500),
        ("Nihon", "0", 0),
        ("Gulf", "1.234", 1234),
        ("Gulf", "1.2", 1200),
        ("Gulf", "3", 3000),
    ],
)
def test_good_amounts(session, brands, tmp_path, brand, amount, minor):
    campaign = {"Acme": "Search", "Nihon": "Display", "Gulf": "Search"}[brand]
    assert one_row(session, tmp_path, f'{brand},{campaign},"{amount}",2026-07-01 09:00').amount_minor == minor


@pytest.mark.parametrize(
    "brand, amount, message",
    [
        ("Acme", "-5.00", "Amount '-5.00' is negative; spend must be zero or more."),
        ("Acme", "-0", "Amount '-0' is negative; spend must be zero or more."),
        ("Acme", "1e3", "Amount '1e3' is not a plain decimal number like 12.34."),
        ("Acme", "1E3", "Amount '1E3' is not a plain decimal number like 12.34."),
        ("Acme", "NaN", "Amount 'NaN' is not a plain decimal number like 12.34."),
        ("Acme", "nan", "Amount 'nan' is not a plain decimal number like 12.34."),
        ("Acme", "inf", "Amount 'inf' is not a plain decimal number like 12.34."),
        ("Acme", "Infinity", "Amount 'Infinity' is not a plain decimal number like 12.34."),
        ("Acme", "1,000.00", "Amount '1,000.00' is not a plain decimal number like 12.34."),
        ("Acme", "1 000", "Amount '1 000' is not a plain decimal number like 12.34."),
        ("Acme", "+5", "Amount '+5' is not a plain decimal number like 12.34."),
        ("Acme", "$5", "Amount '$5' is not a plain decimal number like 12.34."),
        ("Acme", ".", "Amount '.' is not a plain decimal number like 12.34."),
        ("Acme", "1.2.3", "Amount '1.2.3' is not a plain decimal number like 12.34."),
        ("Acme", "0x10", "Amount '0x10' is not a plain decimal number like 12.34."),
        ("Acme", "1_000", "Amount '1_000' is not a plain decimal number like 12.34."),
        ("Acme", "\uff11\uff12", "Amount '\uff11\uff12' is not a plain decimal number like 12.34."),
        ("Acme", "", "Amount is empty."),
        ("Acme", "   ", "Amount is empty."),
        ("Acme", "1.234", "Amount '1.234' has 3 decimals; USD allows at most 2 decimals."),
        ("Acme", "1.000", "Amount '1.000' has 3 decimals; USD allows at most 2 decimals."),
        ("Nihon", "1.5", "Amount '1.5' has 1 decimal; JPY allows no decimals."),
        ("Nihon", "100.0", "Amount '100.0' has 1 decimal; JPY allows no decimals."),
        ("Gulf", "1.2345", "Amount '1.2345' has 4 decimals; KWD allows at most 3 decimals."),
        ("Acme", "10000000000000.01", "Amount is too large: at most 10000000000000.00 USD."),
        ("Acme", "9" * 5000, "Amount is too large: at most 10000000000000.00 USD."),
        ("Nihon", "1" + "0" * 16, "Amount is too large: at most 1000000000000000 JPY."),
    ],
    ids=lambda v: v[:20] if isinstance(v, str) else v,
)
def test_bad_amounts(session, brands, tmp_path, brand, amount, message):
    campaign = {"Acme": "Search", "Nihon": "Display", "Gulf": "Search"}[brand]
    assert one_error(session, tmp_path, f'{brand},{campaign},"{amount}",2026-07-01 09:00').message == message


# --- Timestamps ----------------------------------------------------------------------------


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "text, instant, local",
    [
        ("2026-03-08T14:30:00Z", utc(2026, 3, 8, 14, 30), date(2026, 3, 8)),
        ("2026-03-08T14:30:00z", utc(2026, 3, 8, 14, 30), date(2026, 3, 8)),
        ("2026-03-08T14:30Z", utc(2026, 3, 8, 14, 30), date(2026, 3, 8)),
        ("2026-03-08T20:15:00+05:45", utc(2026, 3, 8, 14, 30), date(2026, 3, 8)),
        ("2026-03-08T20:15+0545", utc(2026, 3, 8, 14, 30), date(2026, 3, 8)),
        ("2026-03-08T09:30:00-05:00", utc(2026, 3, 8, 14, 30), date(2026, 3, 8)),
        # Absolute, but counted on the brand-local day: 02:00Z on 2 July is 1 July in New York.
        ("2026-07-02T02:00:00Z", utc(2026, 7, 2, 2, 0), date(2026, 7, 1)),
        # Naive times are New York wall-clock times (EST in winter, EDT in summer).
        ("2026-01-15T09:30:00", utc(2026, 1, 15, 14, 30), date(2026, 1, 15)),
        ("2026-07-01T09:30:00", utc(2026, 7, 1, 13, 30), date(2026, 7, 1)),
        ("2026-07-01T23:30:00", utc(2026, 7, 2, 3, 30), date(2026, 7, 1)),
        ("2026-01-15 09:30", utc(2026, 1, 15, 14, 30), date(2026, 1, 15)),
        ("2026-01-15 09:30:15", utc(2026, 1, 15, 14, 30, 15), date(2026, 1, 15)),
        ("2026-01-15 09:30:15.25", utc(2026, 1, 15, 14, 30, 15, 250000), date(2026, 1, 15)),
        ('"2026-01-15 09:30:15,5"', utc(2026, 1, 15, 14, 30, 15, 500000), date(2026, 1, 15)),
        # Either side of the spring-forward gap (02:00-03:00 does not exist on 2026-03-08).
        ("2026-03-08 01:59", utc(2026, 3, 8, 6, 59), date(2026, 3, 8)),
        ("2026-03-08 03:00", utc(2026, 3, 8, 7, 0), date(2026, 3, 8)),
        # The fall-back hour 01:00-02:00 happens twice on 2026-11-01: the first (EDT) is meant.
        ("2026-11-01 01:30", utc(2026, 11, 1, 5, 30), date(2026, 11, 1)),
        ("2026-11-01T01:30:00", utc(2026, 11, 1, 5, 30), date(2026, 11, 1)),
        ("2026-11-01 00:59", utc(2026, 11, 1, 4, 59), date(2026, 11, 1)),
        ("2026-11-01 02:00", utc(2026, 11, 1, 7, 0), date(2026, 11, 1)),
        # The second 01:30 can still be given with its offset.
        ("2026-11-01T01:30:00-05:00", utc(2026, 11, 1, 6, 30), date(2026, 11, 1)),
    ],
)
def test_good_timestamps_new_york(session, brands, tmp_path, text, instant, local):
    row = one_row(session, tmp_path, f"Acme,Search,1.00,{text}")
    assert row.spent_at == instant
    assert row.spent_at.utcoffset().total_seconds() == 0
    assert row.local_date == local


def test_naive_timestamp_is_read_in_its_own_brands_zone(session, brands, tmp_path):
    items = parse(session, tmp_path, HEADER + "\nNihon,Display,100,2026-07-01 08:00\nAcme,Search,1,2026-07-01 08:00\n")
    assert [(i.spent_at, i.local_date) for i in items] == [
        (utc(2026, 6, 30, 23, 0), date(2026, 7, 1)),
        (utc(2026, 7, 1, 12, 0), date(2026, 7, 1)),
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("2026-03-08", f"Timestamp '2026-03-08' {ISO_HINT}."),
        ("yesterday", f"Timestamp 'yesterday' {ISO_HINT}."),
        ("08/03/2026 10:00", f"Timestamp '08/03/2026 10:00' {ISO_HINT}."),
        ("2026-03-08 9:30", f"Timestamp '2026-03-08 9:30' {ISO_HINT}."),
        ("1741444200", f"Timestamp '1741444200' {ISO_HINT}."),
        ("2026-03-08T10:00:00 EST", f"Timestamp '2026-03-08T10:00:00 EST' {ISO_HINT}."),
        ("2026-02-30 10:00", "Timestamp '2026-02-30 10:00' is not a real date and time."),
        ("2026-13-01 10:00", "Timestamp '2026-13-01 10:00' is not a real date and time."),
        ("2026-03-08 25:00", "Timestamp '2026-03-08 25:00' is not a real date and time."),
        ("2026-03-08T10:00:00+25:00", "Timestamp '2026-03-08T10:00:00+25:00' is not a real date and time."),
        (
            "2026-03-08 02:30",
            "2026-03-08 02:30 does not exist in America/New_York: the clocks skip it for daylight saving time.",
        ),
        (
            "2026-03-08T02:00:00",
            "2026-03-08 02:00 does not exist in America/New_York: the clocks skip it for daylight saving time.",
        ),
        ("9999-12-31T23:00:00-05:00", "Timestamp '9999-12-31T23:00:00-05:00' is out of range."),
        ("0001-01-01T00:00:00+05:00", "Timestamp '0001-01-01T00:00:00+05:00' is out of range."),
        ("", "The spent_at time is empty."),
    ],
)
def test_bad_timestamps_new_york(session, brands, tmp_path, text, message):
    assert one_error(session, tmp_path, f"Acme,Search,1.00,{text}").message == message


def test_times_whose_brand_local_day_overflows(session, brands, tmp_path):
    # Tokyo is ahead of UTC: local midnight of year 1 is in year 0, and the last UTC hour is in year 10000.
    assert one_error(session, tmp_path, "Nihon,Display,1,0001-01-01 00:00").message == (
        "Timestamp '0001-01-01 00:00' is out of range."
    )
    assert one_error(session, tmp_path, "Nihon,Display,1,9999-12-31T23:00:00Z").message == (
        "Timestamp '9999-12-31T23:00:00Z' is out of range."
    )


# --- External id and several problems -------------------------------------------------------


def test_external_id_length(session, brands, tmp_path):
    header = HEADER + ",external_id"
    assert one_row(session, tmp_path, f"Acme,Search,1,2026-07-01 09:00,{'x' * 200}", header).external_id == "x" * 200
    assert one_error(session, tmp_path, f"Acme,Search,1,2026-07-01 09:00,{'x' * 201}", header).message == (
        "The external_id is longer than 200 characters (201)."
    )
    assert one_row(session, tmp_path, "Acme,Search,1,2026-07-01 09:00,  ", header).external_id is None


def test_a_row_with_several_problems_reports_them_all(session, brands, tmp_path):
    header = HEADER + ",external_id,currency"
    error = one_error(session, tmp_path, f"Acme,Nope,-1,garbage,{'y' * 250},EUR", header)
    assert error.message == (
        "Brand 'Acme' has no campaign 'Nope'; "
        "currency EUR is not the currency of brand 'Acme' (USD); "
        "amount '-1' is negative; spend must be zero or more; "
        f"timestamp 'garbage' {ISO_HINT}; "
        "the external_id is longer than 200 characters (250)."
    )
    assert error.raw == f"Acme,Nope,-1,garbage,{'y' * 250},EUR"


def test_unknown_brand_reports_the_brand_only(session, brands, tmp_path):
    # Without the brand there is no currency or zone to read the amount and time in.
    assert one_error(session, tmp_path, "Nope,Nope,abc,garbage").message == "Unknown brand 'Nope'."


def test_errors_and_rows_come_in_file_order(session, brands, tmp_path):
    body = "\n".join(
        [
            HEADER,
            "Acme,Search,1.00,2026-07-01 09:00",
            "Acme,Search,-1,2026-07-01 09:00",
            "Nihon,Display,1.5,2026-07-01 09:00",
            "Gulf,Search,0.125,2026-07-01T09:00:00+03:00",
            "Gulf,Search,0.125,2026-03-08 02:30",
        ]
    )
    items = parse(session, tmp_path, body)
    assert [(i.line, type(i).__name__) for i in items] == [
        (2, "SpendRow"),
        (3, "RowError"),
        (4, "RowError"),
        (5, "SpendRow"),
        (6, "SpendRow"),
    ]
    # Kuwait has no DST: 02:30 on 8 March exists there.
    assert items[4].spent_at == utc(2026, 3, 7, 23, 30) and items[4].amount_minor == 125
