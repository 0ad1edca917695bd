"""How fast does a spend that reaches a budget pause the brand's campaigns?

Runs the real path: a temporary database (SQLite, or --database-url), an embedded
Redis, a real `worker.py` process; for each of N fresh brands it writes a spend
equal to the daily budget, commits and asks for enforcement exactly as every write
path does (app.services.enforcement.commit_and_enforce), and measures from the commit until every
campaign of the brand is stored as paused. Prints p50/p95/p99/max.

    .venv/bin/python bench/enforcement_latency.py [--brands 100] [--campaigns 5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--brands", type=int, default=100)
    parser.add_argument("--campaigns", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pacer-bench-"))
    from app import embedded_redis

    redis_process, redis_url = embedded_redis.start(work / "redis")
    os.environ.update(
        DATABASE_URL=args.database_url or f"sqlite:///{work / 'bench.sqlite3'}",
        REDIS_URL=redis_url,
        PACER_INSTANCE_PATH=str(work / "instance"),
    )
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from app import create_app
    from app.extensions import db
    from app.models import Brand, Campaign, utcnow
    from app.money import to_minor
    from app.services.enforcement import commit_and_enforce
    from app.services.reconcile import reconcile_brands
    from app.services.spend import new_spend, write_spend

    app = create_app()
    worker = None
    with app.app_context():
        if args.database_url:
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        for i in range(args.brands):
            brand = Brand(name=f"Bench {i:04d}", timezone="America/New_York", currency="USD",
                          daily_budget_minor=to_minor(Decimal("100"), "USD"), monthly_budget_minor=to_minor(Decimal("5000"), "USD"))
            db.session.add(brand)
            for j in range(args.campaigns):
                db.session.add(Campaign(brand=brand, name=f"Campaign {j}"))
        db.session.commit()
        reconcile_brands(db.session, utcnow(), actor="bench")
        brands = db.session.scalars(select(Brand).order_by(Brand.id)).all()

        worker = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=os.environ.copy(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2)  # let the worker register before the clock starts (not part of any figure)
        latencies = []
        for brand in brands:
            campaign = brand.campaigns[0]
            write_spend(db.session, [new_spend(campaign, brand.daily_budget_minor, utcnow(), source="manual")])
            started = time.perf_counter()
            commit_and_enforce(db.session, actor="bench")
            while True:
                db.session.rollback()
                statuses = db.session.scalars(select(Campaign.status).where(Campaign.brand_id == brand.id)).all()
                if all(s == "paused" for s in statuses):
                    break
                if time.perf_counter() - started > 30:
                    raise SystemExit(f"brand {brand.name} was not paused within 30 s")
                time.sleep(0.002)
            latencies.append(time.perf_counter() - started)
    worker.terminate()
    worker.wait(timeout=30)
    redis_process.terminate()

    ms = [x * 1000 for x in latencies]
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"spend -> all campaigns paused, {len(ms)} brands x {args.campaigns} campaigns, {backend}, one worker")
    print(f"  p50 {percentile(ms, 50):7.1f} ms")
    print(f"  p95 {percentile(ms, 95):7.1f} ms")
    print(f"  p99 {percentile(ms, 99):7.1f} ms   (target < 2000 ms)")
    print(f"  max {max(ms):7.1f} ms   mean {statistics.mean(ms):.1f} ms")


if __name__ == "__main__":
    main()
