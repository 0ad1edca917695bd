"""Data migrations, run for real on a database of their own: what a stored row becomes."""

from __future__ import annotations

import hashlib

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.services.imports import import_file

BEFORE_READABLE_KEYS = "8f2871c78252"


def old_external_key(brand_id: int, external_id: str) -> str:
    """The dedupe key of an external id before revision c41d7e9b2f10 (app/services/spend.py then)."""
    return "e:" + hashlib.sha256(f"{brand_id}\x1f{external_id}".encode()).hexdigest()[:40]


def old_fingerprint_key(campaign_id: int, epoch: float, amount_minor: int, occurrence: int) -> str:
    text_ = f"{campaign_id}\x1f{epoch:.6f}\x1f{amount_minor}\x1f{occurrence}"
    return "f:" + hashlib.sha256(text_.encode()).hexdigest()[:40]


JULY_1_13H = 1782910800.0  # 2026-07-01T13:00:00Z
LONG_ID = "x" * 90
RECORDS = [  # id, external id, amount, old key
    (1, "tx-1", 1000, old_external_key(1, "tx-1")),
    (2, LONG_ID, 1000, old_external_key(1, LONG_ID)),
    (3, None, 1000, old_fingerprint_key(1, JULY_1_13H, 1000, 1)),
    (4, None, 1000, old_fingerprint_key(1, JULY_1_13H, 1000, 2)),
    (5, None, 1000, "m:0123456789abcdef0123456789abcdef"),
]


def keys(connection) -> list[str]:
    return list(connection.execute(text("SELECT dedupe_key FROM spend_record ORDER BY id")).scalars())


def test_dedupe_keys_become_readable_and_a_file_imported_before_adds_nothing_after(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite3'}",
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    with app.app_context():
        upgrade(revision=BEFORE_READABLE_KEYS)
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO brand (id, name, timezone, currency, daily_budget_minor, monthly_budget_minor,"
                    " created_at) VALUES (1, 'Acme', 'America/New_York', 'USD', 100000, 1000000,"
                    " '2026-06-01 00:00:00.000000')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO campaign (id, brand_id, name, enabled, status, reasons, created_at)"
                    " VALUES (1, 1, 'Search', 1, 'active', '', '2026-06-01 00:00:00.000000')"
                )
            )
            for record_id, external_id, amount, key in RECORDS:
                connection.execute(
                    text(
                        "INSERT INTO spend_record (id, campaign_id, brand_id, amount_minor, spent_at, local_date,"
                        " source, external_id, dedupe_key, created_at) VALUES (:id, 1, 1, :amount,"
                        " '2026-07-01 13:00:00.000000', '2026-07-01', 'csv', :external_id, :key,"
                        " '2026-07-01 14:00:00.000000')"
                    ),
                    {"id": record_id, "amount": amount, "external_id": external_id, "key": key},
                )
            connection.execute(text("INSERT INTO brand_day_spend VALUES (1, '2026-07-01', 5000)"))

        upgrade()
        with db.engine.connect() as connection:
            assert keys(connection) == [
                "e:1:tx-1",
                "h:1:" + hashlib.sha256(LONG_ID.encode()).hexdigest()[:40],
                "f:1:2026-07-01 13:00:00.000000:1000:1",
                "f:1:2026-07-01 13:00:00.000000:1000:2",
                "m:0123456789abcdef0123456789abcdef",
            ]

        # The file those records came from, imported again with today's code: nothing new.
        path = tmp_path / "july.csv"
        path.write_text(
            "brand,campaign,amount,spent_at,external_id\n"
            "Acme,Search,10.00,2026-07-01T13:00:00Z,tx-1\n"
            f"Acme,Search,10.00,2026-07-01T13:00:00Z,{LONG_ID}\n"
            "Acme,Search,10.00,2026-07-01T13:00:00Z,\n"
            "Acme,Search,10.00,2026-07-01T13:00:00Z,\n"
        )
        _, outcome = import_file(db.session, path, actor="test", skip_bad_rows=False)
        assert (outcome.status, outcome.imported, outcome.duplicates) == ("done", 0, 4)

        downgrade(revision=BEFORE_READABLE_KEYS)
        with db.engine.connect() as connection:
            assert keys(connection) == [key for *_, key in RECORDS]
        db.session.remove()
        db.engine.dispose()
