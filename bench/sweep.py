"""The minute's due sweep and the hourly full sweep at agency scale (issue 11: full sweep <= 2 s at
10,000 brands / 100,000 campaigns; the 10M/1M spend-row ratio <= 1.2).

Builds a world with bulk inserts (bench/common.py), settles it with one full sweep (every brand is
new, so every brand is reconciled one by one and every campaign gets its first state),
then times, at instants after it:
  - a quiet due sweep (a minute with no boundary): how many brands it visits, and its time;
  - a due sweep at a quarter hour where schedules turn: brands visited, time;
  - the full sweep right after it (the hourly safety net): its set-based check and its total time;
  - then, with --grow-to (default 10x the spend rows), the spend history grown in SQL to that many rows
    (copies of the rows moved back 45 days at a time, with their day totals), and the quiet due sweep
    and the full sweep timed again: the ratio of the two runs (issue 11: 10M/1M <= 1.2).
Every figure is printed with the load average at that moment (a shared machine stretches wall times).
Runs on a temporary SQLite database, or PostgreSQL with --database-url / $DATABASE_URL (its public
schema is dropped).

    .venv/bin/python bench/sweep.py [--brands 10000] [--campaigns 100000] [--spend-rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import timedelta

from common import build_world, database_url, fresh_app, machine, now_utc, workdir


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def grow_history(session, rows: int, target: int) -> int:
    """Copy the spend records (and their day totals) 45, 90, ... days back until there are ``target``."""
    from sqlalchemy import text

    postgres = session.get_bind().dialect.name == "postgresql"
    total, k = rows, 0
    while total < target:
        k += 1
        take = min(rows, target - total)
        shift = f"interval '{45 * k} days'" if postgres else f"'-{45 * k} days'"
        spent = f"spent_at - {shift}" if postgres else f"datetime(spent_at, {shift})"
        day = f"local_date - {45 * k}" if postgres else f"date(local_date, {shift})"
        session.execute(
            text(
                "INSERT INTO spend_record (id, campaign_id, brand_id, amount_minor, spent_at, local_date, source,"
                " dedupe_key, created_at) SELECT id + :offset, campaign_id, brand_id, amount_minor, "
                f"{spent}, {day}, source, 'h{k}:' || id, created_at FROM spend_record WHERE id <= :take"
            ),
            {"offset": k * rows, "take": take},
        )
        session.execute(
            text(
                f"INSERT INTO brand_day_spend (brand_id, local_date, amount_minor) SELECT brand_id, {day}, "
                "sum(amount_minor) FROM spend_record WHERE id <= :take GROUP BY brand_id, local_date"
            ).bindparams(take=take)
            if take == rows
            else text("SELECT 1")
        )
        session.commit()
        total += take
    session.execute(text("ANALYZE"))
    session.commit()
    return total


def timed(work):
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--brands", type=int, default=10_000)
    parser.add_argument("--campaigns", type=int, default=100_000)
    parser.add_argument("--spend-rows", type=int, default=1_000_000)
    parser.add_argument("--grow-to", type=int, default=None, help="spend rows for the second run (10x by default)")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    grow_to = args.grow_to if args.grow_to is not None else 10 * args.spend_rows
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
            f"{world['seconds']:.1f} s ({load()})"
        )

        changes, seconds = timed(lambda: rec.full_sweep(session, now))
        print(
            f"settle: first full sweep, every brand new, so reconciled one by one (as the old sweep did) writing "
            f"each campaign's first state: {seconds:8.2f} s, {len(changes):,} campaign changes ({load()})"
        )

        quarter = now - timedelta(minutes=now.minute % 15) + timedelta(minutes=15)
        quiet = quarter - timedelta(minutes=1)
        quiet = quiet if quiet > now else quarter + timedelta(minutes=1)
        if quiet > quarter:
            quarter += timedelta(minutes=15)
        plan = rec.plan_sweep(session, quiet)
        session.commit()
        _, seconds = timed(lambda: rec.sweep(session, quiet))
        print(
            f"due sweep, a quiet minute ({quiet:%H:%M}Z): {len(plan.brand_ids):6,} brands visited  {seconds:8.3f} s"
            f"  ({load()})"
        )

        plan = rec.plan_sweep(session, quarter)
        session.commit()
        changes, seconds = timed(lambda: rec.sweep(session, quarter))
        print(
            f"due sweep, a quarter hour ({quarter:%H:%M}Z): {len(plan.brand_ids):6,} brands visited  {seconds:8.3f} s"
            f"  ({len(changes):,} campaign changes, {load()})"
        )

        out, check = timed(lambda: brands_out_of_step(session, quarter))
        session.commit()
        changes, seconds = timed(lambda: rec.full_sweep(session, quarter))
        print(
            f"full sweep (hourly safety net): check of every campaign {check:6.3f} s; whole sweep {seconds:6.3f} s, "
            f"{len(out)} brands out of step, {len(changes)} changes   (target <= 2 s; {load()})"
        )
        if grow_to <= world["spend_rows"]:
            return

        def quiet_and_full(at):
            # Each sweep once to warm the cache (the history was just written), then the median of three.
            plan = rec.plan_sweep(session, at)
            session.commit()
            rec.sweep(session, at)
            rec.full_sweep(session, at)
            due = statistics.median(timed(lambda: rec.sweep(session, at))[1] for _ in range(3))
            full = statistics.median(timed(lambda: rec.full_sweep(session, at))[1] for _ in range(3))
            return len(plan.brand_ids), due, full

        # Both sizes measured back to back at the same instant, so only the history differs.
        at = quarter + timedelta(minutes=1)
        small = quiet_and_full(at)
        total, seconds = timed(lambda: grow_history(session, world["spend_rows"], grow_to))
        print(f"spend history grown to {total:,} rows in {seconds:.1f} s ({load()})")
        large = quiet_and_full(at)
        for label, (visited, due, full) in (("before", small), ("after", large)):
            print(
                f"  {label:6} ({world['spend_rows'] if label == 'before' else total:>10,} rows): quiet due sweep "
                f"{visited} brands {due:6.3f} s; full sweep {full:6.3f} s"
            )
        print(
            f"ratio {total // world['spend_rows']}x rows / 1x: due sweep {large[1] / small[1]:.2f}, full sweep "
            f"{large[2] / small[2]:.2f}   (target <= 1.2; {load()})"
        )


if __name__ == "__main__":
    main()
