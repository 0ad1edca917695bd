"""Connectors against a local fake Google Ads on a real socket (tests/fake_platforms.py): how long a first
pull (31 days x 24 hours x C campaigns of hour rows, paged) and a routine pull (the 48 restated hours) take,
and pushes per second through push_due. Loopback only: these time Pacer's side (paging, conversion, the
spend write), not a platform's latency.

    .venv/bin/python bench/connectors.py [--campaigns 50] [--pushes 200] [--page-size 10000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from common import database_url, fresh_app, machine, now_utc, workdir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--pushes", type=int, default=200)
    parser.add_argument("--page-size", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(machine())
    work = workdir("pacer-connectors-bench-")
    app = fresh_app(database_url(args.database_url, work), work)

    from sqlalchemy import func, select

    from app.connectors import PlatformSettings
    from app.extensions import db
    from app.models import Brand, Campaign, SpendRecord
    from app.services import platforms as pf
    from app.services import reconcile as rec
    from tests.fake_platforms import GOOGLE_VERSION, FakeGoogleAds, Served

    key = pf.new_key()
    now = now_utc().replace(minute=30, second=0, microsecond=0)
    ids = [str(10_000 + i) for i in range(args.campaigns)]
    fake = FakeGoogleAds(statuses=dict.fromkeys(ids, "ENABLED"), time_zone="UTC", currency="USD")
    fake.page_size = args.page_size
    start = (now - timedelta(days=31)).date()
    fake.spend = [
        (cid, start + timedelta(days=d), h, str(1_000_000 + i))
        for d in range(32)
        for h in range(24)
        for i, cid in enumerate(ids)
    ]
    served = Served(fake)
    settings = pf.ConnectorSettings(
        key=key, platforms={"google_ads": PlatformSettings(served.url, GOOGLE_VERSION, f"{served.url}/token", 20)}
    )
    credentials = {
        "developer_token": "dev-token",
        "client_id": "client-1",
        "client_secret": "secret-1",
        "refresh_token": "refresh-1",
    }
    with app.app_context():
        session = db.session
        backend = session.get_bind().dialect.name
        brand = Brand(
            name="Bench", timezone="UTC", currency="USD", daily_budget_minor=10**12, monthly_budget_minor=10**13
        )
        session.add(brand)
        session.flush()
        campaigns = [Campaign(brand_id=brand.id, name=f"C{i}") for i in range(args.campaigns)]
        session.add_all(campaigns)
        session.flush()
        connection = pf.save_connection(session, brand.id, "google_ads", "1234567890", credentials, key=key)
        connection.dry_run = False
        for campaign, cid in zip(campaigns, ids, strict=True):
            pf.link_campaign(session, campaign.id, connection.id, cid)
        session.commit()

        with pf.client(settings) as http:
            build = pf.connector_factory(settings, http)
            started = time.perf_counter()
            first = pf.pull_connection(session, connection.id, now, settings, build)
            session.commit()
            first_s = time.perf_counter() - started
            started = time.perf_counter()
            routine = pf.pull_connection(session, connection.id, now + timedelta(minutes=15), settings, build)
            session.commit()
            routine_s = time.perf_counter() - started
        stored = session.scalar(select(func.count()).select_from(SpendRecord))
        print(f"{backend}: {args.campaigns} campaigns, page size {args.page_size}")
        print(
            f"first pull: {first.rows:,} hour rows read, {first.written:,} written in {first_s:.2f} s "
            f"({first.rows / first_s:,.0f} rows/s)"
        )
        print(f"routine pull (48 h restated): {routine.rows:,} rows read, {routine.written} new, in {routine_s:.2f} s")
        print(f"spend rows stored: {stored:,}")

        # Pushes: every campaign resumed (first evaluation), then paused and resumed again, until --pushes.
        rec.reconcile_brands(session, now, actor="bench")
        sent, at, flip = 0, now, False
        started = time.perf_counter()
        while sent < args.pushes:
            run = pf.push_due(session, at, settings)
            sent += run.delivered
            if run.delivered == 0:
                for campaign in campaigns:
                    campaign.enabled = flip
                session.commit()
                flip = not flip
                at += timedelta(minutes=1)
                rec.reconcile_brands(session, at, actor="bench")
        push_s = time.perf_counter() - started
        print(
            f"pushes: {sent} delivered in {push_s:.2f} s ({sent / push_s:.0f}/s, reconciles included), "
            f"{len(fake.calls('campaigns:mutate'))} mutate requests"
        )
    served.close()


if __name__ == "__main__":
    main()
