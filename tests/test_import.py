"""Importing spend files (app.services.imports): all or nothing, skipping bad rows, dedupe, day totals.

Real files under tmp_path, the real database (SQLite, or PostgreSQL with
PACER_TEST_DATABASE_URL). After every import the per-brand day totals must equal
the sum of the stored spend records for each brand-local day.
"""

from __future__ import annotations

import multiprocessing
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.control import local_day
from app.ingest.batches import BATCH_ROWS
from app.models import Brand, BrandDaySpend, SpendImport, SpendImportError, SpendRecord
from app.services import imports as importer
from app.services.imports import ImportProgress, create_import, import_file, run_import

HEADER = "brand,campaign,amount,spent_at"


@pytest.fixture(autouse=True, params=["in-process", "reader-process"])
def reader(request, monkeypatch):
    """Every test here runs twice: the file read in the importer's own process, and in a forked
    reader process (as files of READER_PROCESS_MIN_BYTES and more are); the results must not differ."""
    monkeypatch.setattr(importer, "READER_PROCESS_MIN_BYTES", 0 if request.param == "reader-process" else 1 << 62)
    yield request.param
    assert multiprocessing.active_children() == []  # no reader process outlives its import


@pytest.fixture
def brands(session, make):
    acme = make.brand("Acme", timezone="America/New_York", currency="USD")
    search = make.campaign(acme, "Search")
    social = make.campaign(acme, "Social")
    nihon = make.brand("Nihon", timezone="Asia/Tokyo", currency="JPY", daily="10000", monthly="300000")
    display = make.campaign(nihon, "Display")
    session.commit()
    return SimpleNamespace(acme=acme, nihon=nihon, search=search, social=social, display=display)


def write(tmp_path: Path, name: str, lines: list[str] | bytes, newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(lines if isinstance(lines, bytes) else (newline.join(lines) + newline).encode())
    return path


def run(session, path: Path, *, skip_bad_rows: bool = False):
    spend_import, outcome = import_file(session, path, actor="test", skip_bad_rows=skip_bad_rows)
    session.expire_all()
    stored = session.get(SpendImport, spend_import.id)
    # The stored counts are the outcome's.
    assert (stored.status, stored.rows_read, stored.imported, stored.duplicates, stored.rejected, stored.message) == (
        outcome.status,
        outcome.rows_read,
        outcome.imported,
        outcome.duplicates,
        outcome.rejected,
        outcome.message,
    )
    assert stored.finished_at is not None
    return stored, outcome


def counts(outcome) -> tuple[str, int, int, int, int]:
    return outcome.status, outcome.rows_read, outcome.imported, outcome.duplicates, outcome.rejected


def record_count(session) -> int:
    return session.scalar(select(func.count()).select_from(SpendRecord))


def day_totals(session) -> dict[tuple[str, date], int]:
    rows = session.execute(
        select(Brand.name, BrandDaySpend.local_date, BrandDaySpend.amount_minor).join(
            Brand, Brand.id == BrandDaySpend.brand_id
        )
    ).all()
    return {(name, day): amount for name, day, amount in rows}


def assert_day_totals_match_records(session) -> dict[tuple[str, date], int]:
    """BrandDaySpend equals the sum of SpendRecords per brand-local day, recomputed from spent_at."""
    expected: dict[tuple[str, date], int] = defaultdict(int)
    for record, brand in session.execute(
        select(SpendRecord, Brand).join(Brand, Brand.id == SpendRecord.brand_id)
    ).all():
        day = local_day(record.spent_at, ZoneInfo(brand.timezone))
        assert record.local_date == day
        expected[(brand.name, day)] += record.amount_minor
    totals = day_totals(session)
    assert totals == dict(expected)
    return totals


def stored_errors(session, import_id: int) -> list[tuple[int, str, str]]:
    return [
        (e.line, e.message, e.raw)
        for e in session.scalars(
            select(SpendImportError).where(SpendImportError.import_id == import_id).order_by(SpendImportError.line)
        )
    ]


GOOD = [
    HEADER,
    "Acme,Search,10.00,2026-07-01 09:00",
    "Acme,Social,2.50,2026-07-01T23:30:00",  # New York 1 July, UTC 2 July
    "Nihon,Display,1200,2026-07-01 08:00",  # Tokyo 1 July, UTC 30 June
]
BAD_ROW = "Acme,Search,-1.00,2026-07-01 10:00"


# --- All or nothing, or skipping bad rows ----------------------------------------------------


def test_all_or_nothing_one_bad_row_imports_nothing(session, brands, tmp_path):
    path = write(tmp_path, "spend.csv", [*GOOD[:2], BAD_ROW, *GOOD[2:]])
    stored, outcome = run(session, path)
    assert counts(outcome) == ("rejected", 4, 0, 0, 1)
    assert outcome.message == (
        "1 bad row: nothing was imported (all or nothing). Fix them, or import again skipping bad rows."
    )
    assert record_count(session) == 0
    assert session.scalar(select(func.count()).select_from(BrandDaySpend)) == 0
    assert stored_errors(session, stored.id) == [
        (3, "Amount '-1.00' is negative; spend must be zero or more.", BAD_ROW),
    ]
    assert (stored.filename, stored.actor, stored.skip_bad_rows, stored.size_bytes) == (
        "spend.csv",
        "test",
        False,
        path.stat().st_size,
    )
    assert len(stored.sha256) == 64


def test_all_or_nothing_rejects_even_beyond_the_first_write_batch(session, brands, tmp_path):
    # More good rows than one write batch, so rows are already flushed when the bad one is read.
    rows = [
        f"Acme,Search,1.00,2026-07-{1 + i // 1440:02d} {i // 60 % 24:02d}:{i % 60:02d}" for i in range(BATCH_ROWS + 10)
    ]
    path = write(
        tmp_path, "big.csv", [HEADER, *rows, "Acme,Search,1.00,2026-07-01 09:00", "Acme,Nope,1,2026-07-01 09:00"]
    )
    stored, outcome = run(session, path)
    assert counts(outcome) == ("rejected", BATCH_ROWS + 12, 0, 0, 1)
    assert stored_errors(session, stored.id) == [
        (BATCH_ROWS + 13, "Brand 'Acme' has no campaign 'Nope'.", "Acme,Nope,1,2026-07-01 09:00"),
    ]
    assert record_count(session) == 0
    assert day_totals(session) == {}


def test_skip_bad_rows_imports_the_good_ones_and_keeps_the_errors(session, brands, tmp_path):
    path = write(
        tmp_path,
        "spend.csv",
        [*GOOD[:2], BAD_ROW, "", "Nope,Search,1,2026-07-01 09:00", *GOOD[2:], "Acme,Search,1.234,2026-03-08 02:30"],
    )
    stored, outcome = run(session, path, skip_bad_rows=True)
    assert counts(outcome) == ("done", 6, 3, 0, 3)
    assert outcome.message is None
    assert outcome.brand_ids == {brands.acme.id, brands.nihon.id} and stored.brands_affected == 2
    assert stored_errors(session, stored.id) == [
        (3, "Amount '-1.00' is negative; spend must be zero or more.", BAD_ROW),
        (5, "Unknown brand 'Nope'.", "Nope,Search,1,2026-07-01 09:00"),
        (
            8,
            "Amount '1.234' has 3 decimals; USD allows at most 2 decimals; "
            "2026-03-08 02:30 does not exist in America/New_York: the clocks skip it for daylight saving time.",
            "Acme,Search,1.234,2026-03-08 02:30",
        ),
    ]
    records = session.scalars(select(SpendRecord).order_by(SpendRecord.spent_at)).all()
    assert [(r.campaign.name, r.amount_minor, r.spent_at, r.local_date, r.source, r.import_id) for r in records] == [
        ("Display", 1200, datetime(2026, 6, 30, 23, 0, tzinfo=UTC), date(2026, 7, 1), "csv", stored.id),
        ("Search", 1000, datetime(2026, 7, 1, 13, 0, tzinfo=UTC), date(2026, 7, 1), "csv", stored.id),
        ("Social", 250, datetime(2026, 7, 2, 3, 30, tzinfo=UTC), date(2026, 7, 1), "csv", stored.id),
    ]
    assert assert_day_totals_match_records(session) == {
        ("Acme", date(2026, 7, 1)): 1250,
        ("Nihon", date(2026, 7, 1)): 1200,
    }


def test_skip_bad_rows_with_only_bad_rows(session, brands, tmp_path):
    stored, outcome = run(session, write(tmp_path, "bad.csv", [HEADER, BAD_ROW]), skip_bad_rows=True)
    assert counts(outcome) == ("done", 1, 0, 0, 1)
    assert record_count(session) == 0
    assert [line for line, _, _ in stored_errors(session, stored.id)] == [2]


def test_huge_amount_is_a_row_error_not_a_crash(session, brands, tmp_path):
    path = write(tmp_path, "huge.csv", [HEADER, f"Acme,Search,{'9' * 30},2026-07-01 09:00", GOOD[1]])
    stored, outcome = run(session, path, skip_bad_rows=True)
    assert counts(outcome) == ("done", 2, 1, 0, 1)
    assert stored_errors(session, stored.id)[0][:2] == (2, "Amount is too large: at most 10000000000000.00 USD.")
    assert_day_totals_match_records(session)


# --- Whole-file errors -----------------------------------------------------------------------


@pytest.mark.parametrize("skip_bad_rows", [False, True])
def test_binary_file_is_rejected_and_nothing_stored(session, brands, tmp_path, skip_bad_rows):
    path = write(tmp_path, "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")
    stored, outcome = run(session, path, skip_bad_rows=skip_bad_rows)
    assert counts(outcome) == ("rejected", 0, 0, 0, 0)
    assert outcome.message == "This is a binary file, not a CSV text file (a NUL byte on line 3)."
    assert record_count(session) == 0 and day_totals(session) == {}
    assert stored_errors(session, stored.id) == []


@pytest.mark.parametrize("skip_bad_rows", [False, True])
def test_not_utf8_far_into_the_file_stores_nothing(session, brands, tmp_path, skip_bad_rows):
    # Past the first write batch and far past the 8 KiB sniffed up front; one bad row earlier too.
    rows = [
        f"Acme,Search,1.00,2026-07-{1 + i // 1440:02d} {i // 60 % 24:02d}:{i % 60:02d}" for i in range(BATCH_ROWS + 100)
    ]
    lines = [HEADER, BAD_ROW, *rows, "Acme,Caf\xe9,1.00,2026-07-05 09:00", GOOD[1]]
    path = write(tmp_path, "latin1.csv", "\n".join(lines).encode("latin-1"))
    stored, outcome = run(session, path, skip_bad_rows=skip_bad_rows)
    assert outcome.status == "rejected"
    assert outcome.message == (
        f"The file is not UTF-8 text (invalid byte 0xe9 on line {BATCH_ROWS + 103}); save it as UTF-8 CSV."
    )
    assert (outcome.imported, outcome.duplicates) == (0, 0)
    assert record_count(session) == 0 and day_totals(session) == {}
    assert stored_errors(session, stored.id) == []


def test_nul_byte_far_into_the_file_is_rejected(session, brands, tmp_path):
    # PostgreSQL cannot store NUL in text: such a row must never reach the database.
    rows = [f"Acme,Search,1.00,2026-07-01 {i // 60 % 24:02d}:{i % 60:02d},id-{i}" for i in range(400)]
    path = write(tmp_path, "nul.csv", [HEADER + ",external_id", *rows, "Acme,Search,1.00,2026-07-01 09:00,id\x00x"])
    stored, outcome = run(session, path, skip_bad_rows=True)
    assert (outcome.status, outcome.message) == (
        "rejected",
        "This is a binary file, not a CSV text file (a NUL byte on line 402).",
    )
    assert record_count(session) == 0 and stored_errors(session, stored.id) == []


def test_bad_header_is_rejected(session, brands, tmp_path):
    stored, outcome = run(
        session, write(tmp_path, "h.csv", ["brand,campaign,cost,spent_at", "Acme,Search,1,2026-07-01 09:00"])
    )
    assert outcome.status == "rejected"
    assert outcome.message == (
        "Unknown column 'cost' in the header (line 1); the columns are "
        "brand,campaign,amount,spent_at[,external_id][,currency][,period]."
    )
    assert record_count(session) == 0


def test_missing_file_is_rejected(session, brands, tmp_path):
    path = write(tmp_path, "gone.csv", GOOD)
    spend_import = create_import(session, path, filename="gone.csv", actor="test", skip_bad_rows=False)
    session.commit()
    path.unlink()
    outcome = run_import(session, spend_import.id)
    assert (outcome.status, outcome.message) == ("rejected", "The file cannot be read: No such file or directory.")
    assert record_count(session) == 0


def test_a_crash_mid_import_writes_nothing_and_marks_the_import_failed(session, brands, tmp_path):
    rows = [
        f"Acme,Search,1.00,2026-07-{1 + i // 1440:02d} {i // 60 % 24:02d}:{i % 60:02d}" for i in range(BATCH_ROWS + 10)
    ]
    path = write(tmp_path, "big.csv", [HEADER, *rows])
    spend_import = create_import(session, path, filename="big.csv", actor="test", skip_bad_rows=False)
    session.commit()
    seen: list[ImportProgress] = []

    def report(progress: ImportProgress) -> None:  # e.g. the job's meta cannot be saved: Redis went away
        seen.append(progress)
        raise ConnectionError("progress store unreachable")

    with pytest.raises(ConnectionError):
        run_import(session, spend_import.id, progress=report)
    assert seen[0].rows_read == BATCH_ROWS and seen[0].bytes_total == path.stat().st_size
    # Whatever the caller commits next, the rows written before the crash are gone.
    session.commit()
    session.expire_all()
    stored = session.get(SpendImport, spend_import.id)
    assert stored.status == "failed"
    assert stored.message == "The import failed (ConnectionError); nothing was imported. Try again."
    assert record_count(session) == 0 and day_totals(session) == {}
    # A retry of the same file imports it whole.
    _, outcome = run(session, path)
    assert counts(outcome) == ("done", BATCH_ROWS + 10, BATCH_ROWS + 10, 0, 0)
    assert_day_totals_match_records(session)


# --- Dedupe ----------------------------------------------------------------------------------


def test_reimporting_the_same_file_adds_nothing(session, brands, tmp_path):
    path = write(tmp_path, "spend.csv", GOOD)
    _, first = run(session, path)
    assert counts(first) == ("done", 3, 3, 0, 0)
    totals = assert_day_totals_match_records(session)

    stored, again = run(session, path)
    assert counts(again) == ("done", 3, 0, 3, 0)
    assert again.message == "Every row was already imported: nothing new was added."
    assert again.brand_ids == set() and stored.brands_affected == 0
    assert record_count(session) == 3
    assert assert_day_totals_match_records(session) == totals


@pytest.mark.parametrize("variant", ["crlf", "bom", "reordered", "other-case-and-spaces", "offsets-instead-of-local"])
def test_the_same_rows_written_differently_are_still_duplicates(session, brands, tmp_path, variant):
    run(session, write(tmp_path, "a.csv", GOOD))
    if variant == "crlf":
        path = write(tmp_path, "b.csv", GOOD, newline="\r\n")
    elif variant == "bom":
        path = write(tmp_path, "b.csv", b"\xef\xbb\xbf" + ("\n".join(GOOD) + "\n").encode())
    elif variant == "reordered":
        path = write(
            tmp_path,
            "b.csv",
            ["spent_at,amount,brand,campaign"]
            + [f"{t},{a},{b},{c}" for b, c, a, t in (row.split(",") for row in reversed(GOOD[1:]))],
        )
    elif variant == "other-case-and-spaces":
        path = write(
            tmp_path,
            "b.csv",
            [
                HEADER.upper(),
                " acme , SEARCH , 10.00 , 2026-07-01 09:00",
                "ACME,social,2.50,2026-07-01T23:30:00 ",
                "nihon , display,1200, 2026-07-01 08:00",
            ],
        )
    else:
        path = write(
            tmp_path,
            "b.csv",
            [
                HEADER,
                "Acme,Search,10,2026-07-01T13:00:00Z",
                "Acme,Social,2.5,2026-07-01T23:30:00-04:00",
                "Nihon,Display,1200,2026-07-01T08:00:00+09:00",
            ],
        )
    _, outcome = run(session, path)
    assert counts(outcome) == ("done", 3, 0, 3, 0)
    assert record_count(session) == 3
    assert_day_totals_match_records(session)


def test_two_equal_rows_in_one_file_both_count(session, brands, tmp_path):
    row = "Acme,Search,5.00,2026-07-01 09:00"
    path = write(tmp_path, "twice.csv", [HEADER, row, row])
    _, first = run(session, path)
    assert counts(first) == ("done", 2, 2, 0, 0)
    assert day_totals(session) == {("Acme", date(2026, 7, 1)): 1000}

    _, again = run(session, path)
    assert counts(again) == ("done", 2, 0, 2, 0)

    # A file with the row three times adds the one occurrence not yet stored.
    _, thrice = run(session, write(tmp_path, "thrice.csv", [HEADER, row, row, row]))
    assert counts(thrice) == ("done", 3, 1, 2, 0)
    # And the row once more, alone, is already there.
    _, once = run(session, write(tmp_path, "once.csv", [HEADER, row]))
    assert counts(once) == ("done", 1, 0, 1, 0)
    assert record_count(session) == 3
    assert assert_day_totals_match_records(session) == {("Acme", date(2026, 7, 1)): 1500}


def test_equal_rows_around_a_bad_row_in_all_or_nothing_then_fixed(session, brands, tmp_path):
    row = "Acme,Search,5.00,2026-07-01 09:00"
    _, rejected = run(session, write(tmp_path, "v1.csv", [HEADER, row, BAD_ROW, row]))
    assert counts(rejected) == ("rejected", 3, 0, 0, 1)
    _, fixed = run(session, write(tmp_path, "v2.csv", [HEADER, row, "Acme,Search,1.00,2026-07-01 10:00", row]))
    assert counts(fixed) == ("done", 3, 3, 0, 0)
    assert assert_day_totals_match_records(session) == {("Acme", date(2026, 7, 1)): 1100}


def test_rows_that_differ_in_campaign_time_or_amount_are_not_duplicates(session, brands, tmp_path):
    run(session, write(tmp_path, "a.csv", [HEADER, "Acme,Search,5.00,2026-07-01 09:00"]))
    _, outcome = run(
        session,
        write(
            tmp_path,
            "b.csv",
            [
                HEADER,
                "Acme,Social,5.00,2026-07-01 09:00",
                "Acme,Search,5.01,2026-07-01 09:00",
                "Acme,Search,5.00,2026-07-01 09:00:01",
                "Acme,Search,5.00,2026-07-01 09:00",
            ],
        ),
    )
    assert counts(outcome) == ("done", 4, 3, 1, 0)
    assert_day_totals_match_records(session)


def test_external_id_dedupes_across_files_even_if_other_columns_differ(session, brands, tmp_path):
    header = HEADER + ",external_id"
    _, first = run(session, write(tmp_path, "a.csv", [header, "Acme,Search,10.00,2026-07-01 09:00,txn-1"]))
    assert counts(first) == ("done", 1, 1, 0, 0)

    _, second = run(
        session,
        write(
            tmp_path,
            "b.csv",
            [
                header,
                "Acme,Social,99.00,2026-07-03 18:00,txn-1",  # same brand, same id: the same spend, corrected or not
                "Acme,Search,10.00,2026-07-01 09:00,txn-2",  # same facts, another id: another spend
                "Nihon,Display,10,2026-07-01 09:00,txn-1",  # ids are per brand
                "Acme,Search,10.00,2026-07-01 09:00,",  # no id: a fingerprint, not matching the id'd row
            ],
        ),
    )
    assert counts(second) == ("done", 4, 3, 1, 0)
    records = session.scalars(select(SpendRecord).order_by(SpendRecord.id)).all()
    assert [(r.campaign.name, r.amount_minor, r.external_id) for r in records] == [
        ("Search", 1000, "txn-1"),
        ("Search", 1000, "txn-2"),
        ("Display", 10, "txn-1"),
        ("Search", 1000, None),
    ]
    assert assert_day_totals_match_records(session) == {
        ("Acme", date(2026, 7, 1)): 3000,
        ("Nihon", date(2026, 7, 1)): 10,
    }


def test_repeated_external_id_in_one_file_counts_once(session, brands, tmp_path):
    header = HEADER + ",external_id"
    _, outcome = run(
        session,
        write(
            tmp_path,
            "a.csv",
            [
                header,
                "Acme,Search,1.00,2026-07-01 09:00,txn-9",
                "Acme,Search,1.00,2026-07-01 09:00,txn-9",
            ],
        ),
    )
    assert counts(outcome) == ("done", 2, 1, 1, 0)
    assert assert_day_totals_match_records(session) == {("Acme", date(2026, 7, 1)): 100}


def test_a_second_file_with_the_first_files_rows_plus_new_ones(session, brands, tmp_path):
    header = HEADER + ",external_id"
    first_rows = [
        "Acme,Search,10.00,2026-07-01 09:00,",
        "Acme,Search,10.00,2026-07-01 09:00,",  # genuinely twice
        "Acme,Social,3.00,2026-07-31T23:59:00,s-1",  # the last minute of July in New York
        "Nihon,Display,500,2026-07-01T00:00:00+09:00,",
    ]
    _, first = run(session, write(tmp_path, "july-1.csv", [header, *first_rows]))
    assert counts(first) == ("done", 4, 4, 0, 0)

    new_rows = [
        "Acme,Search,10.00,2026-07-01 09:00,",  # a third equal row: new
        "Acme,Social,4.00,2026-08-01T00:00:00,s-2",  # the first minute of August
        "Nihon,Display,700,2026-06-30T14:59:59Z,",  # Tokyo 30 June 23:59:59
    ]
    _, second = run(session, write(tmp_path, "july-2.csv", [header, *first_rows, *new_rows]))
    assert counts(second) == ("done", 7, 3, 4, 0)

    _, third = run(session, write(tmp_path, "july-3.csv", [header, *new_rows, *first_rows]))
    assert counts(third) == ("done", 7, 0, 7, 0)
    assert record_count(session) == 7
    assert assert_day_totals_match_records(session) == {
        ("Acme", date(2026, 7, 1)): 3000,
        ("Acme", date(2026, 7, 31)): 300,
        ("Acme", date(2026, 8, 1)): 400,
        ("Nihon", date(2026, 6, 30)): 700,
        ("Nihon", date(2026, 7, 1)): 500,
    }


def test_day_totals_follow_brand_local_days_across_dst(session, brands, tmp_path):
    _, outcome = run(
        session,
        write(
            tmp_path,
            "dst.csv",
            [
                HEADER,
                "Acme,Search,1.00,2026-03-08 01:59",  # EST, 06:59Z
                "Acme,Search,2.00,2026-03-08 03:00",  # EDT, 07:00Z
                "Acme,Search,4.00,2026-03-08T23:59:59",  # 03:59:59Z on 9 March, still 8 March locally
                "Acme,Search,8.00,2026-11-01 01:30",  # first 01:30, EDT: 05:30Z
                "Acme,Search,16.00,2026-11-01T01:30:00-05:00",  # second 01:30, EST: 06:30Z
                "Acme,Search,32.00,2026-11-02T04:59:59Z",  # 23:59:59 EST on 1 November
                "Acme,Search,64.00,2026-11-02T05:00:00Z",  # midnight of 2 November
            ],
        ),
    )
    assert counts(outcome) == ("done", 7, 7, 0, 0)
    assert assert_day_totals_match_records(session) == {
        ("Acme", date(2026, 3, 8)): 700,
        ("Acme", date(2026, 11, 1)): 5600,
        ("Acme", date(2026, 11, 2)): 6400,
    }
    spent = session.scalars(select(SpendRecord.spent_at).where(SpendRecord.amount_minor.in_([800, 1600]))).all()
    assert sorted(spent) == [datetime(2026, 11, 1, 5, 30, tzinfo=UTC), datetime(2026, 11, 1, 6, 30, tzinfo=UTC)]


def test_totals_after_a_mix_of_everything(session, brands, tmp_path):
    header = HEADER + ",external_id,currency"
    files = [
        ([header, "Acme,Search,1.00,2026-07-01 09:00,,USD", "Acme,Search,1.00,2026-07-01 09:00,,usd"], False),
        ([header, "Acme,Search,1.00,2026-07-01 09:00,,", "Acme,Search,1.00,2026-07-01 09:00,,EUR"], False),  # rejected
        (
            [
                header,
                "Acme,Search,1.00,2026-07-01 09:00,,",
                "Acme,Search,1.00,2026-07-01 09:00,,EUR",
                "Nihon,Display,300,2026-07-02 00:30,n-1,JPY",
            ],
            True,
        ),
        ([header, "Nihon,Display,999,2026-07-09 00:30,n-1,JPY", "Acme,Social,0,2026-07-02 00:30,,"], False),
    ]
    outcomes = [
        run(session, write(tmp_path, f"f{i}.csv", lines), skip_bad_rows=skip)[1]
        for i, (lines, skip) in enumerate(files)
    ]
    assert [counts(o) for o in outcomes] == [
        ("done", 2, 2, 0, 0),
        ("rejected", 2, 0, 0, 1),
        ("done", 3, 1, 1, 1),
        ("done", 2, 1, 1, 0),
    ]
    assert record_count(session) == 4
    totals = assert_day_totals_match_records(session)
    # A zero spend is a record too, and its day has a (zero) total.
    assert totals == {("Acme", date(2026, 7, 1)): 200, ("Acme", date(2026, 7, 2)): 0, ("Nihon", date(2026, 7, 2)): 300}
    assert session.scalar(select(func.count()).select_from(SpendImport)) == 4
