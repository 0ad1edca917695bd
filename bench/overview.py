"""Time the overview at 10,000 brands on a temporary SQLite (or PACER_BENCH_DATABASE_URL) database.

Usage: .venv/bin/python bench/overview.py [BRANDS]
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import insert, text
from werkzeug.security import generate_password_hash

from app import create_app
from app.extensions import db
from app.models import Brand, BrandDaySpend, Campaign, CampaignEvent, User

BRANDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
ZONES = [
    "UTC",
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Paris",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Africa/Lagos",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Asia/Kathmandu",
    "America/St_Johns",
]


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="pacer-overview-bench-"))
    url = os.environ.get("PACER_BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(tmp),
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "pacer.test",
        }
    )
    rng = random.Random(7)
    now = datetime.now(UTC)
    with app.app_context():
        if url.startswith("postgres"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        t0 = time.perf_counter()
        brands = [
            {
                "id": i,
                "name": f"Brand {i:05d} {rng.choice(['Shoes', 'Hats', 'Cars', 'Food', 'Travel'])}",
                "timezone": ZONES[i % len(ZONES)],
                "currency": "USD",
                "daily_budget_minor": rng.randrange(0, 50_000),
                "monthly_budget_minor": rng.randrange(100_000, 1_500_000),
                "created_at": now,
            }
            for i in range(1, BRANDS + 1)
        ]
        db.session.execute(insert(Brand), brands)
        campaigns = []
        cid = 0
        for b in brands:
            for n in range(3):
                cid += 1
                campaigns.append(
                    {
                        "id": cid,
                        "brand_id": b["id"],
                        "name": f"C{n}",
                        "enabled": True,
                        "status": rng.choice(["active", "paused"]),
                        "reasons": "",
                        "created_at": now,
                    }
                )
        db.session.execute(insert(Campaign), campaigns)
        # 90 days of day totals per brand: the current month and two before it.
        today = now.date()
        days = [
            rows
            for rows in (
                {"brand_id": b["id"], "local_date": today - timedelta(days=d), "amount_minor": rng.randrange(0, 40_000)}
                for b in brands
                for d in range(-1, 90)
            )
        ]
        for start in range(0, len(days), 50_000):
            db.session.execute(insert(BrandDaySpend), days[start : start + 50_000])
        events = [
            {
                "campaign_id": rng.randrange(1, cid + 1),
                "brand_id": 1,
                "at": now - timedelta(minutes=i),
                "old_status": "active",
                "new_status": "paused",
                "old_reasons": "",
                "new_reasons": "daily_budget",
                "actor": "enforce_budgets",
                "automatic": bool(i % 3),
                "facts": "{}",
            }
            for i in range(100_000)
        ]
        for e in events:
            e["brand_id"] = (e["campaign_id"] - 1) // 3 + 1
        for start in range(0, len(events), 50_000):
            db.session.execute(insert(CampaignEvent), events[start : start + 50_000])
        db.session.add(
            User(
                email="bench@pacer.test",
                role="viewer",
                password_hash=generate_password_hash("benchpass", method="pbkdf2:sha256:1000"),
            )
        )
        db.session.commit()
        print(
            f"seeded {BRANDS:,} brands, {len(campaigns):,} campaigns, {len(days):,} day totals, "
            f"{len(events):,} events in {time.perf_counter() - t0:.1f}s on {db.engine.dialect.name}"
        )

        client = app.test_client()
        assert client.post("/login", data={"email": "bench@pacer.test", "password": "benchpass"}).status_code == 302
        cases = [
            "/",
            "/?sort=name&order=desc&page=150",
            "/?sort=daily",
            "/?sort=monthly",
            "/?sort=pacing",
            "/?sort=pacing&order=asc&page=120",
            "/?sort=paused",
            "/?q=shoes&sort=daily",
            "/?q=brand+09",
        ]
        print(f"{'request':40s} {'median ms':>10s} {'max ms':>8s}  rows")
        for url_ in cases:
            timings = []
            for _ in range(7):
                start = time.perf_counter()
                response = client.get(url_)
                timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.status_code
            rows = response.get_data(as_text=True).count('class="brand-name"')
            print(f"{url_:40s} {statistics.median(timings):10.1f} {max(timings):8.1f}  {rows}")
        start = time.perf_counter()
        assert client.get("/brands/1").status_code == 200
        print(f"{'/brands/1':40s} {(time.perf_counter() - start) * 1000:10.1f}")


if __name__ == "__main__":
    main()
