"""The CSV reader's fast path must give exactly what the full validator gives, row for row."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime

import pytest

from app.ingest import csv_spend
from app.ingest.csv_spend import read_spend_csv
from app.services.spend import campaign_directory

AMOUNTS = [
    "12.34",
    "0",
    "0.5",
    "7",
    "12.",
    ".5",
    "1.234",
    "00012.30",
    " 3.00",
    "1e3",
    "-1",
    "１２",
    "999999999999.99",
    "9999999999999.99",
    "",
    "1,000",
]
TIMES = [
    "2026-11-01T05:59:59Z",
    "2026-11-01T06:30:00Z",
    "2026-11-01 01:30:00",
    "2026-11-01T01:30:00",
    "2026-03-08T02:30:00",
    "2026-03-08 07:30:00",
    "2026-02-30T10:00:00Z",
    "2026-10-31T23:59:59Z",
    "2026-11-01T00:00:00+05:45",
    "2026-11-01 01:30",
    "9999-12-31T23:00:00Z",
    "0001-01-01T00:00:00Z",
    "2026-04-04T15:15:00Z",
    "2026-10-03T15:45:00Z",
    "2026-11-30T13:00:00Z",
    "garbage",
    "1999-12-31T23:59:59Z",
    "2000-01-01T00:00:00Z",
    "2026-12-01T12:05:00Z",
    "2026-12-01T12:05:01Z",
    "2026-12-01 07:05:00",
    "2099-01-01T00:00:00Z",
]
NAMES = [
    ("Acme", "Search"),
    ("Acme", "search"),
    (" Acme", "Search"),
    ("Acme", "Nope"),
    ("Howe", "Stays"),
    ("Tea", "Matcha"),
    ("Nope", "Search"),
]
EXTERNAL = ["", "tx-1", " tx-2", "x" * 201]
CURRENCY = ["", "usd", "USD", "EUR", "AUD", "JPY"]


# The simulator reads without an upper bound; every other entry point with the spend rule's.
@pytest.mark.parametrize("latest", [None, datetime(2026, 12, 1, 12, 5, tzinfo=UTC)], ids=["any-future", "rule"])
def test_fast_path_and_full_validator_agree(session, make, monkeypatch, latest):
    make.campaign(make.brand("Acme", timezone="America/New_York"), "Search")
    make.campaign(make.brand("Howe", timezone="Australia/Lord_Howe", currency="AUD"), "Stays")
    make.campaign(make.brand("Tea", timezone="Asia/Tokyo", currency="JPY"), "Matcha")
    session.commit()
    rnd = random.Random(7)
    lines = ["brand,campaign,amount,spent_at,external_id,currency"]
    for _ in range(3000):
        brand, campaign = rnd.choice(NAMES)
        fields = [brand, campaign, rnd.choice(AMOUNTS), rnd.choice(TIMES), rnd.choice(EXTERNAL), rnd.choice(CURRENCY)]
        lines.append(",".join(f'"{f}"' for f in fields))
    data = ("\n".join(lines) + "\n").encode()
    directory = campaign_directory(session)

    with_fast = list(read_spend_csv(io.BytesIO(data), directory, latest))
    monkeypatch.setattr(csv_spend, "_fast_parser", lambda columns, directory, latest: lambda line, fields: None)
    without_fast = list(read_spend_csv(io.BytesIO(data), directory, latest))

    assert len(with_fast) == len(without_fast) == 3000
    assert with_fast == without_fast
    good = [row for row in with_fast if not isinstance(row, csv_spend.RowError)]
    assert 200 < len(good) < 2800  # both kinds of row are exercised
