"""The minute's due sweep and the hourly full sweep at agency scale (issue 11: full sweep <= 2 s at
10,000 brands / 100,000 campaigns; the 10M/1M spend-row ratio <= 1.2).

Builds a world with bulk inserts (bench/common.py), settles it with one full sweep (every brand is
new, so every brand is reconciled one by one and every campaign gets its first state),
then times, at instants after it:
  - a quiet due sweep (a minute with no boundary): how many brands it visits, and its time;
  - a due sweep at a quarter hour where schedules turn: brands visited, time;
  - the full sweep right after it (the hourly safety net): its set-based check and its total time.
Runs on a temporary SQLite database, or PostgreSQL with --database-url / $DATABASE_URL (its public
schema is dropped).

    .venv/bin/python bench/sweep.py [--brands 10000] [--campaigns 100000] [--spend-rows 1000000]
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from common import build_world, database_url, fresh_app, machine, now_utc, workdir


def timed(work):
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--brands", type=int, default=10_000)
    parser.add_argument("--campaigns", type=int, default=100_000)
    parser.add_argument("--spend-rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(machine())
    work = workdir("pacer-sweep-bench-")
    url = database_url(args.database_url, work)
    app = fresh_app(url, work)

    from app.extensions import db
    from app.services import reconcile as rec
    from app.services.out_of_step import brands_out_of_step

    with app.app_context():
        session = db.session
        backend = session.get_bind().dialect.name
        now = now_utc().replace(second=0, microsecond=0)
        world = build_world(session, brands=args.brands, campaigns=args.campaigns, spend_rows=args.spend_rows, now=now)
        print(
            f"{backend}: {world['brands']:,} brands, {world['campaigns']:,} campaigns, {world['windows']:,} schedule "
            f"rows, {world['spend_rows']:,} spend rows, {world['day_totals']:,} day totals; built in "
            f"{world['seconds']:.1f} s"
        )

        changes, seconds = timed(lambda: rec.full_sweep(session, now))
        print(
            f"settle: first full sweep, every brand new, so reconciled one by one (as the old sweep did) writing "
            f"each campaign's first state: {seconds:8.2f} s, {len(changes):,} campaign changes"
        )

        quarter = now - timedelta(minutes=now.minute % 15) + timedelta(minutes=15)
        quiet = quarter - timedelta(minutes=1)
        quiet = quiet if quiet > now else quarter + timedelta(minutes=1)
        if quiet > quarter:
            quarter += timedelta(minutes=15)
        plan = rec.plan_sweep(session, quiet)
        session.commit()
        _, seconds = timed(lambda: rec.sweep(session, quiet))
        print(f"due sweep, a quiet minute ({quiet:%H:%M}Z): {len(plan.brand_ids):6,} brands visited  {seconds:8.3f} s")

        plan = rec.plan_sweep(session, quarter)
        session.commit()
        changes, seconds = timed(lambda: rec.sweep(session, quarter))
        print(
            f"due sweep, a quarter hour ({quarter:%H:%M}Z): {len(plan.brand_ids):6,} brands visited  {seconds:8.3f} s"
            f"  ({len(changes):,} campaign changes)"
        )

        out, check = timed(lambda: brands_out_of_step(session, quarter))
        session.commit()
        changes, seconds = timed(lambda: rec.full_sweep(session, quarter))
        print(
            f"full sweep (hourly safety net): check of every campaign {check:6.3f} s; whole sweep {seconds:6.3f} s, "
            f"{len(out)} brands out of step, {len(changes)} changes   (target <= 2 s)"
        )


if __name__ == "__main__":
    main()
