"""Webhook delivery by real RQ worker processes (worker.py on pacer-webhooks) to a local receiver:
retries with one id and signatures standardwebhooks verifies, and a worker killed mid-delivery.

Waits poll real conditions with bounds; nothing asserts a duration.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import pytest
from rq import Worker
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook
from werkzeug import Response

from app import jobs
from app.models import OutboxEvent, WebhookDelivery, utcnow
from app.queue import QUEUE_WEBHOOKS
from app.services import reconcile as rec
from app.services.webhooks import DeliverySettings, save_endpoint
from tests.redis_fixtures import wait_for

pytestmark = pytest.mark.redis

WEBHOOK_WORKER = [sys.executable, "worker.py", "--queues", QUEUE_WEBHOOKS]


@pytest.fixture
def webhook_env(process_env, app):
    """Workers may send to the loopback receiver, with quick retries and a short request timeout."""
    process_env.update(PACER_WEBHOOK_ALLOW_PRIVATE="1", PACER_WEBHOOK_BACKOFF_BASE="0.2", PACER_WEBHOOK_TIMEOUT="1")
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    return process_env


@pytest.fixture
def endpoint(session, httpserver, webhook_env):
    endpoint, secret = save_endpoint(
        session, None, url=httpserver.url_for("/hook"), settings=DeliverySettings(allow_private=True)
    )
    session.commit()
    return endpoint


def resume_one_campaign(session, make) -> OutboxEvent:
    """A brand with one campaign, reconciled: one campaign.resumed committed (which asks for delivery)."""
    brand = make.brand("Acme", daily="100", monthly="100000")
    make.campaign(brand, "Search")
    session.commit()
    rec.reconcile_brands(session, utcnow(), actor="test")
    [event] = session.scalars(select(OutboxEvent)).all()
    return event


def delivery(session) -> WebhookDelivery:
    session.expire_all()
    [row] = session.scalars(select(WebhookDelivery)).all()
    return row


def test_a_receiver_that_fails_twice_gets_the_event_three_times_with_one_id_and_valid_signatures(
    session, make, endpoint, httpserver, redis_connection, run_process
):
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("busy", status=503)
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("oops", status=500)
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok", status=200)
    event = resume_one_campaign(session, make)
    assert redis_connection.llen(f"rq:queue:{QUEUE_WEBHOOKS}") == 1  # asked for after the commit

    result = run_process([*WEBHOOK_WORKER, "--burst"])

    assert result.returncode == 0, result.stderr
    requests = [request for request, _ in httpserver.log]
    assert [response.status_code for _, response in httpserver.log] == [503, 500, 200]
    assert [r.headers["webhook-id"] for r in requests] == [event.event_id] * 3
    for request in requests:  # what a receiver does: verify, then parse
        payload = Webhook(endpoint.secret).verify(request.get_data(), dict(request.headers))
        assert payload["id"] == event.event_id and payload["type"] == "campaign.resumed"
    row = delivery(session)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 3, 200)


def work_horses(worker_pid: int) -> list[int]:
    return [int(pid) for pid in Path(f"/proc/{worker_pid}/task/{worker_pid}/children").read_text().split()]


def test_a_worker_killed_mid_delivery_resends_the_event(
    session, make, endpoint, httpserver, redis_connection, background
):
    arrived = threading.Event()
    release = threading.Event()
    received: list[str] = []

    def receiver(request):
        received.append(request.headers["webhook-id"])
        if len(received) == 1:  # the first attempt hangs until its sender is dead
            arrived.set()
            release.wait(30)
        return Response("ok", status=200)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(receiver)
    worker = background.start(WEBHOOK_WORKER)
    wait_for(lambda: Worker.count(connection=redis_connection) == 1, 30, "the webhook worker to register", worker)
    event_id = resume_one_campaign(session, make).event_id
    wait_for(arrived.is_set, 30, "the first attempt to reach the receiver", worker)

    for horse in work_horses(worker.pid):
        os.kill(horse, signal.SIGKILL)
    worker.send_signal(signal.SIGKILL)  # the whole worker, mid-delivery: nothing recorded the attempt
    worker.wait(timeout=10)
    release.set()
    assert delivery(session).status == "pending"

    replacement = background.start(WEBHOOK_WORKER)
    jobs.sweep()  # the periodic sweep finds the undelivered event and asks for a delivery job (ends the session)
    wait_for(lambda: delivery(session).status == "delivered", 90, "the event to be sent again", replacement)

    assert received == [event_id, event_id]
    row = delivery(session)
    assert row.attempts == 1 and row.last_status_code == 200
