"""The webhook pages (admins), the alerts page and badge, and the brand's alert thresholds."""

from __future__ import annotations

import random
import re

import pytest
from sqlalchemy import select

from app.models import Brand, OutboxEvent, WebhookDelivery, WebhookEndpoint
from app.services import reconcile as rec
from app.services.spend import new_spend, write_spend
from app.services.webhooks import DeliverySettings, deliver_due
from tests.helpers import add_filler_brands, add_user, sign_in


@pytest.fixture
def admin(client, session):
    user = add_user(session, "admin@example.com", "admin")
    sign_in(client, user)
    return user


def endpoints(session) -> list[WebhookEndpoint]:
    session.expire_all()
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def secret_in(body: str) -> str | None:
    found = re.search(r'value="(whsec_[A-Za-z0-9+/=]+)"', body)
    return found.group(1) if found else None


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(app, client, session, admin, make):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    acme = make.brand("Acme")
    session.commit()
    response = client.post(
        "/webhooks",
        data={
            "url": "http://127.0.0.1:9/hook",
            "description": "ops",
            "event_types": ["campaign.paused", "alert.fired"],
            "brand_ids": [str(acme.id)],
            "enabled": "y",
        },
    )
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    [endpoint] = endpoints(session)
    assert secret_in(response.get_data(as_text=True)) == endpoint.secret
    assert (endpoint.url, endpoint.event_types, endpoint.brand_ids, endpoint.enabled) == (
        "http://127.0.0.1:9/hook",
        "alert.fired,campaign.paused",
        str(acme.id),
        True,
    )
    listing = client.get("/webhooks").get_data(as_text=True)
    assert "http://127.0.0.1:9/hook" in listing and secret_in(listing) is None

    old = endpoint.secret
    rotated = client.post(f"/webhooks/{endpoint.id}/rotate")
    new = secret_in(rotated.get_data(as_text=True))
    assert new and new != old and endpoints(session)[0].secret == new


@pytest.mark.parametrize(
    ("url", "production", "message"),
    [
        ("http://127.0.0.1:8080/hook", False, "private, loopback or link-local"),
        ("http://localhost/hook", False, "private, loopback or link-local"),
        ("http://169.254.169.254/latest/meta-data/", False, "private, loopback or link-local"),
        ("http://10.0.0.8/hook", False, "private, loopback or link-local"),
        ("http://[::1]/hook", False, "private, loopback or link-local"),
        ("http://hooks.example.com/hook", True, "Use an https URL"),
        ("gopher://hooks.example.com/", False, "full http(s) URL"),
        ("https://admin:pw@hooks.example.com/", False, "credentials"),
    ],
)
def test_ssrf_attempts_on_the_endpoint_form_are_refused(app, client, session, admin, url, production, message):
    app.config["PACER_ENV"] = "production" if production else "development"
    response = client.post("/webhooks", data={"url": url, "enabled": "y"})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True).replace("&#39;", "'")
    assert endpoints(session) == []


def test_only_admins_manage_endpoints(client, session):
    sign_in(client, add_user(session, "manager@example.com", "manager"))
    assert client.get("/webhooks").status_code == 403
    assert client.post("/webhooks", data={"url": "https://hooks.example.com/"}).status_code == 403


def test_test_event_delivery_log_and_redeliver(app, client, session, admin, httpserver, now):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    httpserver.expect_request("/hook").respond_with_data("bad gateway", status=502)
    client.post("/webhooks", data={"url": httpserver.url_for("/hook"), "enabled": "y"})
    [endpoint] = endpoints(session)

    response = client.post(f"/webhooks/{endpoint.id}/test")
    assert response.status_code == 302
    [event] = session.scalars(select(OutboxEvent)).all()
    assert event.type == "webhook.test" and event.only_endpoint_id == endpoint.id
    settings = DeliverySettings(allow_private=True, retry_window=DeliverySettings().retry_window * 0)
    deliver_due(session, now, settings, rng=random.Random(1))  # a zero window: given up at once

    page = client.get(f"/webhooks/{endpoint.id}").get_data(as_text=True)
    assert event.event_id in page and "given up" in page and "502" in page and "bad gateway" in page
    assert 'id="endpoint-failing"' in page
    assert "failing since" in client.get("/webhooks").get_data(as_text=True)

    [delivery] = session.scalars(select(WebhookDelivery)).all()
    assert client.post(f"/webhooks/deliveries/{delivery.id}/redeliver").status_code == 302
    session.expire_all()
    assert session.get(WebhookDelivery, delivery.id).status == "pending"


def test_alerts_page_and_header_badge(app, client, session, make, now, time_machine):
    time_machine.move_to(now, tick=False)
    sign_in(client, add_user(session, "viewer@example.com", "viewer"))
    brand = make.brand("Acme", daily="100", monthly="100000")
    search = make.campaign(brand, "Search")
    session.commit()
    assert 'id="alert-badge"' not in client.get("/alerts").get_data(as_text=True)
    write_spend(session, [new_spend(search, 9_000, now, source="api")])
    session.commit()
    rec.reconcile_brands(session, now, actor="reconcile_brand")

    body = client.get("/alerts").get_data(as_text=True)
    assert re.search(r'id="alert-badge"[^>]*>1<', body)
    assert "Spend today reached 80% of the daily budget: 90.00 of 100.00 USD." in body


def test_with_many_brands_the_alerts_filter_names_its_brand(client, session, make, now):
    from app.models import Alert, Brand

    sign_in(client, add_user(session, "viewer@example.com", "viewer"))
    acme = make.brand("Acme")
    add_filler_brands(session)
    other = session.query(Brand).filter_by(name="Brand 007").one()
    for brand in (acme, other):
        session.add(Alert(brand_id=brand.id, kind="monthly", percent=80, period="2026-11", fired_at=now))
    session.commit()
    body = client.get("/alerts").get_data(as_text=True)
    assert 'name="brand_name"' in body and "Brand 150" not in body
    assert "Brand 007" in body and ">Acme<" in body
    filtered = client.get("/alerts?brand_name=acme").get_data(as_text=True)
    assert re.findall(r'<tr>\s*<td>[^<]*</td>\s*<td><a href="[^"]*">([^<]+)</a>', filtered) == ["Acme"]
    assert 'value="Acme"' in filtered
    assert 'value="Acme"' in client.get(f"/alerts?brand={acme.id}").get_data(as_text=True)
    bad = client.get("/alerts?brand_name=Nope")
    assert bad.status_code == 400 and "No brand is named “Nope”." in bad.get_data(as_text=True)


def test_a_manager_edits_the_alert_thresholds_on_the_brand_page(client, session, make):
    sign_in(client, add_user(session, "manager@example.com", "manager"))
    brand = make.brand("Acme")
    session.commit()
    page = client.get(f"/brands/{brand.id}").get_data(as_text=True)
    assert 'value="80, 100"' in page

    assert client.post(f"/brands/{brand.id}/alerts", data={"alert_percents": "50, 90%, 100"}).status_code == 302
    session.expire_all()
    assert session.get(Brand, brand.id).alert_percents == "50,90,100"

    response = client.post(f"/brands/{brand.id}/alerts", data={"alert_percents": "ninety"})
    assert response.status_code == 400 and "is not a whole percentage" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Brand, brand.id).alert_percents == "50,90,100"


def test_the_endpoint_form_needs_its_csrf_token(app, client, session, admin):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/webhooks", data={"url": "https://hooks.example.com/"})
    assert response.status_code == 400 and endpoints(session) == []
