"""How fast does a spend that reaches a budget pause the brand's campaigns?

Runs the real path: a temporary database (SQLite, or --database-url / $DATABASE_URL), an embedded
Redis, a real `worker.py` process on the Procfile's enforcement queues. A world of --brands brands x
--campaigns campaigns is built with bulk inserts (bench/common.py) and settled with a full sweep; then
for --sample of its brands it writes a spend that brings the day to the daily budget, commits and asks
for enforcement exactly as every write path does (app.services.enforcement.commit_and_enforce), and
measures from the commit until every campaign of the brand is stored as paused. Prints
p50/p95/p99/max and the machine.

    .venv/bin/python bench/enforcement_latency.py [--brands 10000] [--campaigns 10] [--sample 200] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from common import ROOT, build_world, database_url, fresh_app, machine, now_utc, percentile, workdir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--brands", type=int, default=10_000)
    parser.add_argument("--campaigns", type=int, default=10, help="per brand")
    parser.add_argument("--sample", type=int, default=200, help="brands whose spend is timed")
    parser.add_argument("--spend-rows", type=int, default=100_000)
    parser.add_argument(
        "--import-rows",
        type=int,
        default=0,
        help="run `flask spend import` of a file this long (last month's spend) while timing",
    )
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(machine())

    work = workdir("pacer-bench-")
    from app import embedded_redis

    redis_process, redis_url = embedded_redis.start(work / "redis")
    url = database_url(args.database_url, work)
    os.environ.update(DATABASE_URL=url, REDIS_URL=redis_url, PACER_INSTANCE_PATH=str(work / "instance"))
    app = fresh_app(url, work)
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Brand, Campaign, utcnow
    from app.queue import QUEUE_ENFORCE, QUEUE_SWEEPS
    from app.services.enforcement import commit_and_enforce
    from app.services.reconcile import full_sweep
    from app.services.spend import new_spend, write_spend
    from app.services.totals import spend_today_and_month

    worker = None
    with app.app_context():
        world = build_world(
            db.session,
            brands=args.brands,
            campaigns=args.brands * args.campaigns,
            spend_rows=args.spend_rows,
            now=now_utc(),
        )
        started = time.perf_counter()
        full_sweep(db.session, utcnow())
        print(
            f"{db.engine.dialect.name}: {world['brands']:,} brands, {world['campaigns']:,} campaigns, "
            f"{world['spend_rows']:,} spend rows; built in {world['seconds']:.0f} s, settled in "
            f"{time.perf_counter() - started:.0f} s"
        )
        step = max(1, args.brands // args.sample)
        chosen = select(Brand).where(Brand.id % step == 0).order_by(Brand.id).limit(args.sample)
        sample = db.session.scalars(chosen).all()

        worker_log = open(work / "worker.log", "w")  # noqa: SIM115 - the worker's output, closed after it
        # The Procfile's enforcement worker: its own queues, so a webhook delivery job (which stays for the
        # retries due soon) or an import never holds it.
        worker = subprocess.Popen(
            [sys.executable, "worker.py", "--queues", f"{QUEUE_ENFORCE},{QUEUE_SWEEPS}"],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=worker_log,
            stderr=worker_log,
        )
        importer = start_import(work, args.import_rows, db.session) if args.import_rows else None
        time.sleep(2)  # let the worker register before the clock starts (not part of any figure)
        latencies = []
        for brand in sample:
            campaign = db.session.scalars(select(Campaign).where(Campaign.brand_id == brand.id).limit(1)).one()
            now = utcnow()
            today, _ = spend_today_and_month(db.session, brand, now)
            write_spend(
                db.session, [new_spend(campaign, max(1, brand.daily_budget_minor - today), now, source="manual")]
            )
            started = time.perf_counter()
            commit_and_enforce(db.session, actor="bench")
            while True:
                db.session.rollback()
                statuses = db.session.scalars(select(Campaign.status).where(Campaign.brand_id == brand.id)).all()
                if all(s == "paused" for s in statuses):
                    break
                if time.perf_counter() - started > 60:
                    worker.terminate()
                    log_tail = (work / "worker.log").read_text()[-3000:]
                    raise SystemExit(
                        f"brand {brand.name} was not paused within 60 s; the worker's log ends:\n{log_tail}"
                    )
                time.sleep(0.002)
            latencies.append(time.perf_counter() - started)
        db.engine.dispose()
    import_state = "no import running"
    if importer is not None:
        still_running = importer.poll() is None
        importer.wait()
        import_state = (
            f"a {args.import_rows:,}-row import running "
            + ("throughout" if still_running else "(it finished before the last sample)")
            + f", exit {importer.returncode}"
        )
    worker.terminate()
    worker.wait(timeout=30)
    worker_log.close()
    redis_process.terminate()

    ms = [x * 1000 for x in latencies]
    print(
        f"spend -> all campaigns paused, {len(ms)} of {args.brands:,} brands x {args.campaigns} campaigns, "
        f"{db_name(url)}, one worker, {import_state}"
    )
    print(f"  p50 {percentile(ms, 50):7.1f} ms")
    print(f"  p95 {percentile(ms, 95):7.1f} ms")
    print(f"  p99 {percentile(ms, 99):7.1f} ms   (target <= 1000 ms)")
    print(f"  max {max(ms):7.1f} ms   mean {statistics.mean(ms):.1f} ms")


def start_import(work, rows: int, session):
    """Write a spend file of ``rows`` rows over last month (so it moves no budget of today) for every
    brand's first campaign, and start `flask spend import` on it in its own process."""
    import csv
    import random
    from datetime import timedelta

    from sqlalchemy import select

    from app.models import Brand, Campaign, utcnow

    firsts = select(Brand.name, Campaign.name).join(Campaign, Campaign.brand_id == Brand.id)
    names = session.execute(firsts.where(Campaign.name == "Campaign 00")).all()
    rng = random.Random(3)
    start = utcnow() - timedelta(days=60)
    path = work / "import.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["brand", "campaign", "amount", "spent_at", "external_id"])
        for i in range(rows):
            brand, campaign = rng.choice(names)
            at = start + timedelta(seconds=rng.randrange(20 * 24 * 3600))
            writer.writerow(
                [
                    brand,
                    campaign,
                    f"{rng.randrange(1, 5000) / 100:.2f}",
                    at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    f"bench-{i}",
                ]
            )
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "spend", "import", str(path)],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def db_name(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgres") else "SQLite"


if __name__ == "__main__":
    main()
