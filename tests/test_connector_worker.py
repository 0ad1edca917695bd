"""Connectors run by real RQ worker processes (worker.py) against a local fake platform on a real socket:
a committed campaign change is pushed by the delivery job, and the periodic pull writes hour rows and asks
for the brand's enforcement."""

from __future__ import annotations

import sys

import pytest
from rq import Queue
from sqlalchemy import select

from app.models import CampaignPlatformLink, PlatformPush, SpendRecord, utcnow
from app.queue import QUEUE_ENFORCE, QUEUE_IMPORTS, QUEUE_SWEEPS, QUEUE_WEBHOOKS
from app.services import platforms as pf
from app.services import reconcile as rec
from tests.fake_platforms import GOOGLE_VERSION, FakeGoogleAds, Served

pytestmark = pytest.mark.redis

KEY = pf.new_key()
CREDENTIALS = {
    "developer_token": "dev-token",
    "client_id": "client-1",
    "client_secret": "secret-1",
    "refresh_token": "refresh-1",
}


@pytest.fixture
def google(process_env, app):
    served = Served(FakeGoogleAds(statuses={"111": "PAUSED"}, time_zone="UTC", currency="USD"))
    settings = {
        "PACER_CONNECTOR_KEY": KEY,
        "PACER_GOOGLE_ADS_BASE_URL": served.url,
        "PACER_GOOGLE_ADS_VERSION": GOOGLE_VERSION,
        "PACER_GOOGLE_OAUTH_TOKEN_URL": f"{served.url}/token",
        "PACER_CONNECTOR_TIMEOUT": "5",
    }
    process_env.update(settings)
    app.config["CONNECTOR_KEY"] = KEY
    yield served
    served.close()


def linked_campaign(session, make, *, dry_run: bool):
    brand = make.brand("Acme", daily="100", monthly="100000")
    search = make.campaign(brand, "Search")
    connection = pf.save_connection(session, brand.id, "google_ads", "1234567890", CREDENTIALS, key=KEY)
    connection.dry_run = dry_run
    pf.link_campaign(session, search.id, connection.id, "111")
    session.commit()
    return brand, search, connection


def test_the_delivery_job_pushes_a_committed_resume(session, make, google, redis_connection, run_process):
    _, search, _ = linked_campaign(session, make, dry_run=False)
    rec.reconcile_brands(session, utcnow(), actor="test")  # resumed, committed: a delivery job is asked for
    assert redis_connection.llen(f"rq:queue:{QUEUE_WEBHOOKS}") == 1

    result = run_process([sys.executable, "worker.py", "--queues", QUEUE_WEBHOOKS, "--burst"])

    assert result.returncode == 0, result.stderr
    assert google.app.statuses["111"] == "ENABLED"
    session.expire_all()
    assert session.scalar(select(PlatformPush.status)) == "delivered"
    assert session.scalar(select(CampaignPlatformLink.sync_state)) == "in_sync"


def test_dry_run_through_the_worker_sends_nothing(session, make, google, redis_connection, run_process):
    linked_campaign(session, make, dry_run=True)
    rec.reconcile_brands(session, utcnow(), actor="test")

    result = run_process([sys.executable, "worker.py", "--queues", QUEUE_WEBHOOKS, "--burst"])

    assert result.returncode == 0, result.stderr
    assert google.app.requests == [] and google.app.statuses["111"] == "PAUSED"
    session.expire_all()
    assert session.scalar(select(PlatformPush.status)) == "dry_run"


def test_the_periodic_pull_writes_hours_and_asks_for_enforcement(session, make, google, redis_connection, run_process):
    brand, search, connection = linked_campaign(session, make, dry_run=True)
    hour = utcnow().replace(minute=0, second=0, microsecond=0)  # the current hour: today, whatever the time
    google.app.spend = [("111", hour.date(), hour.hour, "150000000")]  # 150.00 USD: over the daily budget
    Queue(QUEUE_SWEEPS, connection=redis_connection).enqueue("app.jobs.pull_all_spend", job_timeout=60)

    result = run_process([sys.executable, "worker.py", "--queues", f"{QUEUE_SWEEPS},{QUEUE_IMPORTS}", "--burst"])

    assert result.returncode == 0, result.stderr
    session.expire_all()
    [row] = session.scalars(select(SpendRecord)).all()
    assert (row.campaign_id, row.amount_minor, row.source, row.spent_at) == (search.id, 15000, "pull", hour)
    assert redis_connection.llen(f"rq:queue:{QUEUE_ENFORCE}") == 1  # the brand's reconcile_brand
    result = run_process([sys.executable, "worker.py", "--queues", QUEUE_ENFORCE, "--burst"])
    assert result.returncode == 0, result.stderr
    session.expire_all()
    session.refresh(search)
    assert search.status == "paused" and "daily_budget" in search.reasons
