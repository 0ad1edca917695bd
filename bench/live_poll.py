"""What a live page's poll costs (app/web/live.py): each page asked the way static/js/live.js asks, once
with a stale ETag (a 200: the page rendered) and once with its own (a 304: one version read, no render),
in process through Flask's test client, so the figures are the server's own work. Prints per page the
median of each, their ratio, and the SQL statements each ran.

Builds a world with bulk inserts (bench/common.py) and settles it with a full sweep. SQLite by default;
PostgreSQL with --database-url / $DATABASE_URL (its schema is dropped).

    .venv/bin/python bench/live_poll.py [--brands 2000] [--campaigns 20000] [--spend-rows 200000] [--asks 40]
"""

from __future__ import annotations

import argparse
import statistics
import time

from common import build_world, database_url, fresh_app, machine, now_utc, workdir
from sqlalchemy import event, select


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brands", type=int, default=2_000)
    parser.add_argument("--campaigns", type=int, default=20_000)
    parser.add_argument("--spend-rows", type=int, default=200_000)
    parser.add_argument("--asks", type=int, default=40)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(machine())
    work = workdir("pacer-live-bench-")
    app = fresh_app(database_url(args.database_url, work), work)

    from app.extensions import db
    from app.models import Campaign
    from app.services import reconcile as rec
    from app.services.users import create_user

    with app.app_context():
        session = db.session
        now = now_utc()
        world = build_world(session, brands=args.brands, campaigns=args.campaigns, spend_rows=args.spend_rows, now=now)
        rec.full_sweep(session, now)
        user = create_user(session, "bench@pacer.test", "bench password long enough", "viewer")
        session.commit()
        user_id, campaign = user.get_id(), session.scalars(select(Campaign).limit(1)).one()
        pages = ["/", "/?sort=daily", "/?show=budget", f"/brands/{campaign.brand_id}", f"/campaigns/{campaign.id}"]
        pages += ["/activity", "/spend/imports"]
        backend = session.get_bind().dialect.name
        sizes = f"{world['brands']:,} brands, {world['campaigns']:,} campaigns, {world['spend_rows']:,} spend rows"
        print(f"{backend}: {sizes}")

        statements: list[str] = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        client = app.test_client()
        with client.session_transaction() as browser_session:
            browser_session["_user_id"], browser_session["_fresh"] = user_id, True

        print(f"{'page':<28} {'200 ms':>8} {'304 ms':>8} {'ratio':>6} {'SQL 200':>8} {'SQL 304':>8}")
        for url in pages:
            etag = client.get(url).headers["ETag"]
            timings: dict[int, list[float]] = {200: [], 304: []}
            counts: dict[int, int] = {}
            for _ in range(args.asks):
                for status, tag in ((200, '"stale"'), (304, etag)):
                    statements.clear()
                    started = time.perf_counter()
                    response = client.get(url, headers={"If-None-Match": tag})
                    elapsed = time.perf_counter() - started
                    if response.status_code == 200:
                        etag = response.headers["ETag"]  # a new minute moves the ETag
                    if response.status_code != status:  # the minute turned between the two asks
                        assert status == 304 and response.status_code == 200, (url, response.status_code)
                        continue
                    timings[status].append(elapsed)
                    counts[status] = len(statements)
            full, unchanged = (statistics.median(timings[s]) * 1000 for s in (200, 304))
            print(f"{url:<28} {full:8.1f} {unchanged:8.1f} {unchanged / full:6.2f} {counts[200]:8d} {counts[304]:8d}")


if __name__ == "__main__":
    main()
