"""A GET reads: replaying every page and API GET writes nothing to the database and queues nothing.

Repairs (an import whose worker died, an import registered while Redis was down) belong to the
periodic sweep, so a page view leaves them as they are.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from rq import Queue
from sqlalchemy import event, select

from app.extensions import db
from app.models import SpendImport, utcnow
from app.queue import QUEUES
from app.services.enforcement import commit_and_enforce
from app.services.imports import create_import, import_file, this_process
from app.services.reconcile import reconcile_brands
from app.services.spend_formats import save_format
from app.services.users import create_token
from app.services.webhooks import DeliverySettings, save_endpoint, send_test_event
from tests.helpers import add_user, sign_in

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|TRUNCATE)\b", re.IGNORECASE)
SKIP_PREFIXES = ("/static/", "/rq")  # files, and the RQ dashboard (its own routes; see the hardening tests)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def world(app, session, make, tmp_path, redis_connection):
    """A bit of everything a GET can show, including two imports only the sweep may repair."""
    brand = make.brand("Acme", timezone="America/New_York")
    campaign = make.campaign(brand, "Search")
    session.commit()
    reconcile_brands(session, utcnow(), actor="test")
    path = tmp_path / "spend.csv"
    path.write_text("brand,campaign,amount,spent_at\nAcme,Search,1.50,2026-11-25T10:00:00Z\nAcme,Nope,1,x\n")
    done, _ = import_file(session, path, actor="test", skip_bad_rows=True)
    commit_and_enforce(session, actor="test")
    dead = create_import(session, path, filename="dead.csv", actor="test", skip_bad_rows=False)
    dead.status, dead.runner, dead.attempts, dead.started_at = (
        "running",
        f"{this_process().rpartition(' ')[0]} {dead_pid()}",
        1,
        utcnow(),
    )
    waiting = create_import(session, path, filename="waiting.csv", actor="test", skip_bad_rows=False)  # no job yet
    admin = add_user(session, "root@pacer.test", "admin")
    _, token = create_token(session, admin, "ci", utcnow())
    # An endpoint with an undelivered event: its pages must show it, never send or dispatch it.
    endpoint, _ = save_endpoint(
        session, None, url="http://127.0.0.1:9/hook", settings=DeliverySettings(allow_private=True)
    )
    send_test_event(session, endpoint.id, utcnow())
    saved_format = save_format(
        session,
        name="Read-only format",
        mapping={"campaign": "Campaign", "amount": "Cost", "day": "Day"},
        number_format="1,234.56",
        date_format="YYYY-MM-DD",
        actor="test",
        now=utcnow(),
    )
    session.commit()
    redis_connection.flushdb()  # the commit asked for a delivery job; only what GETs queue counts below
    return {
        "brand_id": brand.id,
        "campaign_id": campaign.id,
        "import_id": done.id,
        "format_id": saved_format.id,
        "admin": admin,
        "token": token,
        "endpoint_id": endpoint.id,
        "repairs": {dead.id: "running", waiting.id: "queued"},
    }


def get_urls(app, ids: dict) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(SKIP_PREFIXES):
            continue
        values = {name: ids[name] for name in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            urls.append(url_for(rule.endpoint, **values))
    for import_id in ids["repairs"]:
        urls += [f"/spend/imports/{import_id}", f"/spend/imports/{import_id}/progress"]
    return urls


def test_every_get_writes_nothing_and_queues_nothing(app, client, session, world, redis_connection):
    sign_in(client, world["admin"])
    # The token's first use stamps its last-used time (kept to 5 minutes); from then on reads are reads.
    assert client.get("/api/v1/brands", headers={"Authorization": f"Bearer {world['token']}"}).status_code == 200
    urls = get_urls(app, world)
    assert len(urls) >= 20
    writes: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        if WRITES.match(statement):
            writes.append(statement.split("\n")[0][:80])

    keys_before = sorted(redis_connection.keys())
    queued_before = [Queue(name, connection=redis_connection).job_ids for name in QUEUES]
    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        for _ in range(2):  # replayed: the second pass must be as quiet as the first
            for url in urls:
                headers = {"Authorization": f"Bearer {world['token']}"} if url.startswith("/api/") else {}
                # Buffered, as a server reads a response whole: an unread streamed CSV is otherwise closed at
                # a later garbage collection, outside its request, and that warning fails the test.
                response = client.get(url, headers=headers, buffered=True)
                # /login redirects a signed-in user; /healthz answers 503 without workers.
                assert response.status_code in (200, 302, 503), (url, response.status_code)
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)

    assert writes == []
    assert sorted(redis_connection.keys()) == keys_before
    assert [Queue(name, connection=redis_connection).job_ids for name in QUEUES] == queued_before
    session.expire_all()
    statuses = {
        i.id: i.status for i in session.scalars(select(SpendImport).where(SpendImport.id.in_(world["repairs"])))
    }
    assert statuses == world["repairs"]  # left for the sweep
