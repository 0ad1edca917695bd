"""Pages under load: gunicorn with 2 workers, 10 concurrent signed-in users for 30 s over the overview
with every sort, a brand with 1,000 campaigns, a campaign page and the activity log. Prints requests/s
and p50/p95/p99 per page (issue 11 wants overview and campaign p95 <= 100 ms on an idle machine).

Builds a world with bulk inserts (bench/common.py) plus one brand of 1,000 campaigns and E campaign
events, settles it with a full sweep (which also computes every brand's overview figures), then starts
gunicorn on it. SQLite by default; PostgreSQL with --database-url / $DATABASE_URL (its schema is dropped).

    .venv/bin/python bench/pages.py [--brands 10000] [--campaigns 100000] [--spend-rows 1000000]
                                    [--events 1000000] [--users 10] [--seconds 30]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import random
import re
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path

from common import (
    BATCH,
    _insert,
    build_world,
    database_url,
    fresh_app,
    machine,
    now_utc,
    percentile,
    start_gunicorn,
    stop_gunicorn,
    workdir,
)

PASSWORD = "bench password long enough"
SORTS = [
    "/",
    "/?sort=name&order=desc&page=40",
    "/?sort=daily",
    "/?sort=monthly",
    "/?sort=pacing",
    "/?sort=paused",
    "/?sort=daily&page=60",
    "/?q=shoes&sort=daily",
]


def add_big_brand_and_events(session, *, campaigns: int, events: int, now) -> tuple[int, int]:
    """One brand with ``campaigns`` campaigns, and ``events`` campaign events spread over every brand."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from app.models import Brand, Campaign, CampaignEvent

    brand_id = session.scalar(select(func.max(Brand.id))) + 1
    first_campaign = session.scalar(select(func.max(Campaign.id))) + 1
    _insert(
        session,
        Brand.__table__,
        [
            {
                "id": brand_id,
                "name": "Big Agency Brand",
                "timezone": "Europe/London",
                "currency": "USD",
                "daily_budget_minor": 500_000,
                "monthly_budget_minor": 10_000_000,
                "created_at": now,
            }
        ],
    )
    rows = [
        {
            "id": first_campaign + n,
            "brand_id": brand_id,
            "name": f"Campaign {n:04d}",
            "enabled": True,
            "status": "paused",
            "reasons": "",
            "created_at": now,
        }
        for n in range(campaigns)
    ]
    for start in range(0, len(rows), BATCH):
        _insert(session, Campaign.__table__, rows[start : start + BATCH])
    last_campaign = first_campaign + campaigns - 1
    per_brand = 10
    rng = random.Random(5)
    first_event = (session.scalar(select(func.max(CampaignEvent.id))) or 0) + 1
    for start in range(0, events, BATCH):
        batch = []
        for i in range(start, min(events, start + BATCH)):
            cid = rng.randrange(1, first_campaign)
            batch.append(
                {
                    "id": first_event + i,
                    "campaign_id": cid,
                    "brand_id": (cid - 1) // per_brand + 1,
                    "at": now - timedelta(seconds=events - i),
                    "old_status": "active",
                    "new_status": "paused",
                    "old_reasons": "",
                    "new_reasons": "daily_budget",
                    "actor": "sweep",
                    "automatic": True,
                    "facts": "{}",
                }
            )
        _insert(session, CampaignEvent.__table__, batch)
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import text

        # COPY with explicit ids leaves the sequences behind: the settling sweep's events would collide.
        for table in ("brand", "campaign", "campaign_event"):
            session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )
            session.execute(text(f"ANALYZE {table}"))
    session.commit()
    return brand_id, last_campaign


class User(threading.Thread):
    def __init__(self, base: str, email: str, urls: list[str], until: float, results: dict, errors: list) -> None:
        super().__init__(daemon=True)
        self.base, self.email, self.urls, self.until = base, email, urls, until
        self.results, self.errors = results, errors
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def sign_in(self) -> None:
        page = self.opener.open(self.base + "/login").read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"email": self.email, "password": PASSWORD, "csrf_token": token}).encode()
        self.opener.open(self.base + "/login", data=data).read()

    def run(self) -> None:
        self.sign_in()
        rng = random.Random(self.email)
        while time.perf_counter() < self.until:
            label, url = rng.choice(self.urls)
            started = time.perf_counter()
            try:
                with self.opener.open(self.base + url) as response:
                    response.read()
                    if response.status != 200 or "/login" in response.url:
                        self.errors.append(f"{url}: {response.status} {response.url}")
            except urllib.error.URLError as exc:
                self.errors.append(f"{url}: {exc}")
                continue
            self.results[label].append((time.perf_counter() - started) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--brands", type=int, default=10_000)
    parser.add_argument("--campaigns", type=int, default=100_000)
    parser.add_argument("--spend-rows", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--big-brand-campaigns", type=int, default=1_000)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--reuse",
        metavar="DIR",
        help="measure again on the SQLite world an earlier run built in DIR (printed by it), without building one",
    )
    args = parser.parse_args()
    print(machine())
    if args.reuse:
        work = Path(args.reuse)
        url = f"sqlite:///{work / 'bench.sqlite3'}"
        big_brand, a_campaign, emails = reused_world(url, work, args.users)
    else:
        work = workdir("pacer-pages-bench-")
        url = database_url(args.database_url, work)
        big_brand, a_campaign, emails = new_world(url, work, args)
    measure(url, work, big_brand, a_campaign, emails, args)


def reused_world(url: str, work: Path, users: int) -> tuple[int, int, list[str]]:
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models import Brand, Campaign

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(work / "instance")})
    with app.app_context():
        big_brand = db.session.scalar(select(Brand.id).where(Brand.name == "Big Agency Brand"))
        a_campaign = db.session.scalar(select(func.max(Campaign.id)).where(Campaign.brand_id == big_brand))
        print(f"reusing the world in {work}")
        db.engine.dispose()
    return big_brand, a_campaign, [f"user{i}@pacer.test" for i in range(users)]


def new_world(url: str, work: Path, args) -> tuple[int, int, list[str]]:
    app = fresh_app(url, work)

    from app.extensions import db
    from app.services import reconcile as rec
    from app.services.users import create_user

    with app.app_context():
        session = db.session
        now = now_utc()
        world = build_world(session, brands=args.brands, campaigns=args.campaigns, spend_rows=args.spend_rows, now=now)
        big_brand, a_campaign = add_big_brand_and_events(
            session, campaigns=args.big_brand_campaigns, events=args.events, now=now
        )
        started = time.perf_counter()
        rec.full_sweep(session, now)
        settle = time.perf_counter() - started
        emails = [f"user{i}@pacer.test" for i in range(args.users)]
        for email in emails:
            create_user(session, email, PASSWORD, "viewer")
        session.commit()
        backend = session.get_bind().dialect.name
        print(
            f"{backend}: {world['brands'] + 1:,} brands, {world['campaigns'] + args.big_brand_campaigns:,} campaigns "
            f"(one brand with {args.big_brand_campaigns:,}), {world['spend_rows']:,} spend rows, {args.events:,} "
            f"events; built in {world['seconds']:.0f} s, settled (full sweep) in {settle:.0f} s; in {work}"
        )
        db.engine.dispose()
    return big_brand, a_campaign, emails


def measure(url: str, work: Path, big_brand: int, a_campaign: int, emails: list[str], args) -> None:
    server, base = start_gunicorn({"DATABASE_URL": url, "PACER_INSTANCE_PATH": str(work / "instance")})
    try:
        urls = [("overview " + u, u) for u in SORTS] + [
            (f"brand page ({args.big_brand_campaigns:,} campaigns)", f"/brands/{big_brand}"),
            ("campaign page", f"/campaigns/{a_campaign}"),
            ("campaign page (small brand)", "/campaigns/1"),
            ("activity log", "/activity"),
            ("activity log, page 500", "/activity?page=500"),
        ]
        results: dict[str, list[float]] = defaultdict(list)
        errors: list[str] = []
        until = time.perf_counter() + args.seconds
        users = [User(base, email, urls, until, results, errors) for email in emails]
        for user in users:
            user.start()
        for user in users:
            user.join()
    finally:
        stop_gunicorn(server)
    total = sum(len(v) for v in results.values())
    print(
        f"{args.users} users for {args.seconds:.0f} s against gunicorn (2 workers x 4 threads): {total:,} requests, "
        f"{total / args.seconds:.1f} requests/s, {len(errors)} errors"
    )
    print(f"{'page':44s} {'req':>6s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s}")
    for label, _ in urls:
        values = results.get(label) or [float("nan")]
        print(
            f"{label:44s} {len(results.get(label, [])):6d} {statistics.median(values):8.1f} "
            f"{percentile(values, 95):8.1f} {percentile(values, 99):8.1f}"
        )
    for error in errors[:5]:
        print("error:", error)
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
