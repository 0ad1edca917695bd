"""Webhook delivery in this process against a local receiver (pytest-httpserver), with the clock
injected: retries through the whole window, ordering per campaign, signatures; and the SSRF checks."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook
from werkzeug import Response

from app.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from app.queue import QUEUES
from app.services import reconcile as rec
from app.services.spend import new_spend, write_spend
from app.services.webhooks import (
    MAX_DELAY,
    DeliverySettings,
    WebhookError,
    backoff,
    check_url,
    deliver_due,
    save_endpoint,
)

LOCAL = DeliverySettings(timeout=5, backoff_base=10, allow_private=True)


def signature_ok(secret: str, request) -> bool:
    """The request's signature, recomputed with standardwebhooks at the timestamp it carries."""
    sent_at = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), tz=UTC)
    expected = Webhook(secret).sign(request.headers["webhook-id"], sent_at, request.get_data(as_text=True))
    return expected in request.headers["webhook-signature"].split(" ")


@pytest.fixture
def endpoint(session, httpserver):
    endpoint, secret = save_endpoint(session, None, url=httpserver.url_for("/hook"), settings=LOCAL)
    session.commit()
    assert secret.startswith("whsec_") and endpoint.secret == secret
    return endpoint


def pause_by_spend(session, make, now) -> OutboxEvent:
    """A brand whose one campaign is resumed, then paused by a spend: two events for one campaign."""
    brand = make.brand("Acme", daily="100", monthly="100000")
    search = make.campaign(brand, "Search")
    session.commit()
    rec.reconcile_brands(session, now, actor="test")
    write_spend(session, [new_spend(search, 5_000, now, source="api")])
    session.commit()
    rec.reconcile_brands(session, now, actor="test")
    return session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()


def test_a_receiver_down_for_the_whole_window_leaves_the_endpoint_failing_and_the_event_kept(
    session, make, now, endpoint, httpserver, client
):
    httpserver.expect_request("/hook", method="POST").respond_with_data("down for maintenance", status=503)
    [event] = pause_by_spend(session, make, now)  # 50 %: one campaign.resumed, no alert
    rng = random.Random(7)

    t = now
    while True:
        run = deliver_due(session, t, LOCAL, rng=rng)
        if run.next_due is None:
            break
        assert run.next_due > t
        t = run.next_due

    [delivery] = session.scalars(select(WebhookDelivery)).all()
    assert delivery.status == "failed" and delivery.last_status_code == 503
    assert delivery.response_excerpt == "down for maintenance" and delivery.last_error == "HTTP 503"
    # Retried for the whole window and no longer: the last attempt is exactly its end.
    assert delivery.last_attempt_at - delivery.first_attempt_at == timedelta(hours=24)
    requests = [request for request, _ in httpserver.log]
    assert len(requests) == delivery.attempts >= 12
    assert {r.headers["webhook-id"] for r in requests} == {event.event_id}
    assert all(signature_ok(endpoint.secret, r) for r in requests)
    assert {r.get_data(as_text=True) for r in requests} == {event.payload_json}
    stamps = [int(r.headers["webhook-timestamp"]) for r in requests]
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert 5 <= gaps[0] <= 10 and max(gaps) <= MAX_DELAY.total_seconds()
    assert gaps[6] > gaps[0] * 16  # exponential
    session.refresh(endpoint)
    assert endpoint.failing_since == delivery.last_attempt_at and "gave up" in endpoint.failing_reason
    assert session.get(OutboxEvent, event.id).payload_json == event.payload_json  # nothing lost

    body = client.get("/healthz").json
    assert [e["id"] for e in body["webhooks"]["failing_endpoints"]] == [endpoint.id]
    # Shown, not failed on: without Redis here, the failures are Redis's and nothing else's.
    assert set(body["failing"]) == {"redis", "workers", "scheduler"} | {f"queue:{q}" for q in QUEUES}


def test_a_success_after_failures_clears_failing_and_keeps_the_id(session, make, now, endpoint, httpserver):
    httpserver.expect_oneshot_request("/hook").respond_with_data("oops", status=500)
    httpserver.expect_oneshot_request("/hook").respond_with_data("oops", status=502)
    httpserver.expect_request("/hook").respond_with_data("thanks", status=204)
    [event] = pause_by_spend(session, make, now)
    endpoint.failing_since = now
    session.commit()
    t = now
    for _ in range(3):
        run = deliver_due(session, t, LOCAL, rng=random.Random(1))
        t = run.next_due or t
    [delivery] = session.scalars(select(WebhookDelivery)).all()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 204)
    assert [r.headers["webhook-id"] for r, _ in httpserver.log] == [event.event_id] * 3
    session.refresh(endpoint)
    assert endpoint.failing_since is None


def test_events_of_one_campaign_reach_an_endpoint_in_order(session, make, now, endpoint, httpserver):
    received: list[str] = []
    failures = iter([True])  # the first request fails, then all succeed

    def receiver(request):
        received.append(request.headers["webhook-id"])
        return Response("no", status=500) if next(failures, False) else Response("ok", status=200)

    httpserver.expect_request("/hook").respond_with_handler(receiver)
    brand = make.brand("Acme", daily="100", monthly="100000")
    search = make.campaign(brand, "Search")
    session.commit()
    rec.reconcile_brands(session, now, actor="test")  # resumed
    write_spend(session, [new_spend(search, 10_000, now, source="api")])
    session.commit()
    rec.reconcile_brands(session, now, actor="test")  # paused, and two alerts (80 %, 100 %) of the brand
    changes = session.scalars(
        select(OutboxEvent).where(OutboxEvent.campaign_id == search.id).order_by(OutboxEvent.id)
    ).all()
    alerts = session.scalars(
        select(OutboxEvent).where(OutboxEvent.type == "alert.fired").order_by(OutboxEvent.id)
    ).all()
    assert [e.type for e in changes] == ["campaign.resumed", "campaign.paused"] and len(alerts) == 2

    first = deliver_due(session, now, LOCAL, rng=random.Random(1))
    # The resume failed, so the pause waits behind it; the brand's alerts, another key, go on.
    assert received == [changes[0].event_id, alerts[0].event_id, alerts[1].event_id]
    deliver_due(session, first.next_due, LOCAL, rng=random.Random(1))
    assert received[3:] == [changes[0].event_id, changes[1].event_id]


def test_a_test_event_goes_to_its_endpoint_only(session, endpoint, httpserver, now):
    from app.services.webhooks import send_test_event

    other, _ = save_endpoint(session, None, url=httpserver.url_for("/other"), settings=LOCAL)
    httpserver.expect_request("/hook").respond_with_data("ok")
    send_test_event(session, endpoint.id, now)
    session.commit()
    run = deliver_due(session, now, LOCAL)
    assert run.delivered == 1
    [(request, _)] = httpserver.log
    assert request.path == "/hook" and json.loads(request.get_data())["type"] == "webhook.test"
    assert session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == other.id)).all() == []


def test_endpoints_get_only_the_brands_and_types_they_chose(session, make, now, httpserver):
    httpserver.expect_request("/a").respond_with_data("ok")
    httpserver.expect_request("/b").respond_with_data("ok")
    acme = make.brand("Acme", daily="100", monthly="100000")
    make.campaign(acme, "Search")
    other = make.brand("Other", daily="100", monthly="100000")
    make.campaign(other, "Search")
    session.commit()
    save_endpoint(session, None, url=httpserver.url_for("/a"), brand_ids=[acme.id], settings=LOCAL)
    save_endpoint(session, None, url=httpserver.url_for("/b"), event_types=["campaign.paused"], settings=LOCAL)
    session.commit()
    rec.reconcile_brands(session, now, actor="test")  # two campaign.resumed
    deliver_due(session, now, LOCAL)
    assert [(r.path, json.loads(r.get_data())["data"]["brand"]["name"]) for r, _ in httpserver.log] == [("/a", "Acme")]


def test_backoff_doubles_with_jitter_and_is_capped():
    rng = random.Random(3)
    for attempt in range(1, 25):
        delay = backoff(attempt, 10, rng).total_seconds()
        full = min(10 * 2 ** (attempt - 1), MAX_DELAY.total_seconds())
        assert full / 2 <= delay <= full


# --- server-side request forgery -------------------------------------------------------------


def resolver(*addresses):
    return lambda host, port: list(addresses)


PUBLIC = resolver("93.184.216.34")


@pytest.mark.parametrize(
    ("url", "resolve", "message"),
    [
        ("http://hooks.example.com/x", PUBLIC, "Use an https URL"),
        ("ftp://hooks.example.com/x", PUBLIC, "full http"),
        ("https://user:pw@hooks.example.com/x", PUBLIC, "credentials"),
        ("https://hooks.example.com:99999/x", PUBLIC, "port"),
        ("", PUBLIC, "Enter the receiver"),
        ("https://127.0.0.1/x", None, "loopback"),
        ("https://localhost/x", None, "loopback"),
        ("https://[::1]/x", None, "loopback"),
        ("https://10.1.2.3/x", None, "private"),
        ("https://192.168.0.10/x", None, "private"),
        ("https://169.254.169.254/latest/meta-data", None, "link-local"),
        ("https://0.0.0.0/x", None, "private"),
        ("https://[fd00::1]/x", None, "private"),
        ("https://[::ffff:127.0.0.1]/x", None, "loopback"),
        ("https://metadata.internal/x", resolver("169.254.169.254"), "169.254.169.254"),
        ("https://rebound.example.com/x", resolver("93.184.216.34", "10.0.0.5"), "10.0.0.5"),
        ("https://nowhere.invalid/x", None, "could not be resolved"),
    ],
)
def test_unsafe_urls_are_refused_in_production(url, resolve, message):
    kwargs = {"resolve": resolve} if resolve else {}
    with pytest.raises(WebhookError, match=message):
        check_url(url, production=True, allow_private=False, **kwargs)


def test_a_public_https_url_is_accepted_and_loopback_only_when_allowed():
    assert (
        check_url(" https://hooks.example.com/x ", production=True, allow_private=False, resolve=PUBLIC)
        == "https://hooks.example.com/x"
    )
    assert check_url("http://127.0.0.1:8080/x", production=False, allow_private=True) == "http://127.0.0.1:8080/x"
    with pytest.raises(WebhookError, match="loopback"):
        check_url("http://127.0.0.1:8080/x", production=False, allow_private=False)


def test_a_send_to_an_address_refused_since_is_not_made(session, make, now, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint, _ = save_endpoint(session, None, url=httpserver.url_for("/hook"), settings=LOCAL)
    session.commit()
    pause_by_spend(session, make, now)
    strict = DeliverySettings(allow_private=False)
    run = deliver_due(session, now, strict, rng=random.Random(1))
    assert run.retrying == 1 and httpserver.log == []
    [delivery] = session.scalars(select(WebhookDelivery)).all()
    assert delivery.last_error.startswith("not sent: The host") and delivery.status == "pending"
    assert session.get(WebhookEndpoint, endpoint.id).failing_since is None


def test_a_simulated_month_every_change_and_alert_reaches_a_flaky_receiver_signed_with_stable_ids(
    session, make, endpoint, httpserver
):
    """The issue's check: a receiver that verifies every signature and fails on purpose (every third
    request, and a whole day down) gets every audit-log change and every alert at least once."""
    from app.control import Window
    from app.models import Alert, CampaignEvent

    requests: list = []
    down = {"from": datetime(2026, 11, 10, tzinfo=UTC), "until": datetime(2026, 11, 11, tzinfo=UTC)}
    clock = {"now": None}

    def receiver(request):
        requests.append(request)
        failing = down["from"] <= clock["now"] < down["until"] or len(requests) % 3 == 0
        return Response("no", status=500) if failing else Response("ok", status=200)

    httpserver.expect_request("/hook").respond_with_handler(receiver)
    brand = make.brand("Acme", daily="100", monthly="1500")
    office = tuple(Window(day, 9 * 60, 17 * 60) for day in range(5))
    search = make.campaign(brand, "Search", windows=office)
    make.campaign(brand, "Display")
    session.commit()
    rng = random.Random(11)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for hour in range(30 * 24):
        clock["now"] = at = start + timedelta(hours=hour)
        if at.hour in (10, 14):
            write_spend(session, [new_spend(search, 4_500, at, source="api")])
            session.commit()
        rec.sweep(session, at)
        deliver_due(session, at, LOCAL, rng=rng)
    clock["now"] = at = start + timedelta(days=30)
    while (run := deliver_due(session, at, LOCAL, rng=rng)).next_due is not None:
        clock["now"] = at = max(run.next_due, at)

    audit = session.scalars(select(CampaignEvent)).all()
    alerts = session.scalars(select(Alert)).all()
    assert len(audit) > 40 and len(alerts) > 15
    delivered_ids = {r.headers["webhook-id"] for r in requests}
    outbox = session.scalars(select(OutboxEvent)).all()
    assert len(outbox) == len(audit) + len(alerts)
    assert {e.event_id for e in outbox} == delivered_ids  # every change and alert, at least once
    assert sorted(e.payload["data"]["audit_event_id"] for e in outbox if e.campaign_id) == sorted(a.id for a in audit)
    assert all(signature_ok(endpoint.secret, r) for r in requests)  # none unsigned
    for r in requests:  # ids stable: one id always carries the same body
        assert json.loads(r.get_data())["id"] == r.headers["webhook-id"]
    assert len(requests) > len(delivered_ids)  # there were retries
    assert session.scalars(select(WebhookDelivery).where(WebhookDelivery.status != "delivered")).all() == []
