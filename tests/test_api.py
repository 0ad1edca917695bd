"""The JSON API: token auth, roles, per-record validation, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.models import BrandDaySpend, SpendRecord
from app.services.users import create_token, create_user, revoke_token

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def token_for(session, role: str, email: str | None = None) -> str:
    user = create_user(session, email or f"{role}@example.com", "correct-horse", role)
    _, plain = create_token(session, user, "ci", NOW)
    session.commit()
    return plain


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def acme(session, make):
    brand = make.brand("Acme", timezone="America/New_York", daily="100", monthly="2000")
    make.campaign(brand, "Search")
    make.campaign(brand, "Display")
    session.commit()
    return brand


def record(**overrides) -> dict:
    return {"brand": "Acme", "campaign": "Search", "amount": "12.50", "spent_at": "2026-11-25T10:00:00Z"} | overrides


def spend_rows(session) -> int:
    return session.scalar(select(func.count()).select_from(SpendRecord))


def test_requests_without_a_valid_token_get_401(client, session, acme):
    assert client.get("/api/v1/brands").status_code == 401
    assert client.get("/api/v1/brands", headers={"Authorization": "Bearer pcr_nope"}).status_code == 401
    assert client.get("/api/v1/brands", headers={"Authorization": "Basic abc"}).status_code == 401
    body = client.post("/api/v1/spend", json=[record()]).get_json()
    assert "token" in body["error"]
    assert spend_rows(session) == 0


def test_revoked_tokens_and_deactivated_users_are_refused(client, session, acme):
    token = token_for(session, "manager")
    assert client.get("/api/v1/brands", headers=auth(token)).status_code == 200
    from app.services.users import find_user

    manager = find_user(session, "manager@example.com")
    revoke_token(session, manager, manager_token_id(session, manager), NOW)
    session.commit()
    assert client.get("/api/v1/brands", headers=auth(token)).status_code == 401

    other = token_for(session, "viewer")
    viewer = find_user(session, "viewer@example.com")
    viewer.active = False
    session.commit()
    assert client.get("/api/v1/brands", headers=auth(other)).status_code == 401


def manager_token_id(session, user) -> int:
    from app.models import ApiToken

    return session.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id))


def test_spend_of_an_earlier_month_is_stored_and_asks_for_no_enforcement(client, session, acme, now, time_machine):
    time_machine.move_to(now, tick=False)  # 25 November: October's spend (a backfill) moves no state
    token = token_for(session, "manager")
    response = client.post("/api/v1/spend", json=[record(spent_at="2026-10-15T10:00:00Z")], headers=auth(token))
    assert response.status_code == 201
    body = response.get_json()
    assert (body["created"], body["enforcement"]) == (1, None)
    assert spend_rows(session) == 1


def test_viewers_read_but_may_not_write(client, session, acme):
    token = token_for(session, "viewer")
    brands = client.get("/api/v1/brands", headers=auth(token))
    assert brands.status_code == 200
    assert brands.get_json()["brands"][0]["name"] == "Acme"
    response = client.post("/api/v1/spend", json=[record()], headers=auth(token))
    assert response.status_code == 403
    assert "viewer" in response.get_json()["error"]
    assert spend_rows(session) == 0


def test_spend_is_written_with_per_record_results_and_is_idempotent(client, session, acme, now, time_machine):
    time_machine.move_to(now, tick=False)  # the spend is of this month: its brand is enforced
    token = token_for(session, "manager")
    payload = [record(external_id="tx-1"), record(amount="7.25", spent_at="2026-11-25 09:00")]
    first = client.post("/api/v1/spend", json=payload, headers=auth(token))
    assert first.status_code == 201
    body = first.get_json()
    assert (body["created"], body["duplicates"], body["rejected"]) == (2, 0, 0)
    assert [r["status"] for r in body["results"]] == ["created", "created"]
    assert body["enforcement"] == "applied"  # no Redis in this test: enforced at once in the request
    assert body["enforcement_message"].startswith("Enforced at once in this process (no Redis is configured")

    again = client.post("/api/v1/spend", json=payload, headers=auth(token))
    assert again.status_code == 200
    assert [r["status"] for r in again.get_json()["results"]] == ["duplicate", "duplicate"]
    assert spend_rows(session) == 2
    total = session.scalar(select(func.sum(BrandDaySpend.amount_minor)))
    assert total == 1250 + 725

    # The same external id with other values is still the same record.
    changed = client.post(
        "/api/v1/spend", json={"records": [record(external_id="tx-1", amount="99.00")]}, headers=auth(token)
    )
    assert changed.get_json()["results"][0]["status"] == "duplicate"
    assert spend_rows(session) == 2


def test_naive_times_are_brand_local(client, session, acme):
    token = token_for(session, "manager")
    client.post("/api/v1/spend", json=[record(spent_at="2026-11-25 09:00")], headers=auth(token))
    stored = session.scalar(select(SpendRecord))
    assert stored.spent_at == datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 09:00 EST


def test_all_bad_records_write_nothing_and_get_a_message_each(client, session, acme):
    token = token_for(session, "manager")
    payload = [
        record(brand="Nope"),
        record(campaign="Nope"),
        record(amount="-1"),
        record(amount="1.234"),
        record(amount="1e3"),
        record(amount=True),
        record(spent_at="yesterday"),
        record(spent_at="2026-03-08T02:30"),  # skipped by DST in New York
        record(currency="EUR"),
        record(colour="red"),
        "not an object",
        {"brand": "Acme"},
    ]
    response = client.post("/api/v1/spend", json=payload, headers=auth(token))
    assert response.status_code == 400
    body = response.get_json()
    assert "nothing was written" in body["error"]
    messages = [r["error"] for r in body["results"]]
    assert all(r["status"] == "error" for r in body["results"])
    assert [r["index"] for r in body["results"]] == list(range(len(payload)))
    expected_fragments = [
        "unknown brand",
        "no campaign",
        "negative",
        "decimals",
        "not a plain decimal",
        "string or number",
        "not ISO 8601",
        "does not exist",
        "not the currency",
        "unknown field",
        "must be an object",
        "amount is empty",
    ]
    for message, fragment in zip(messages, expected_fragments, strict=False):
        assert fragment.lower() in message.lower(), (message, fragment)
    assert spend_rows(session) == 0


def test_mixed_records_write_the_good_ones(client, session, acme):
    token = token_for(session, "manager")
    response = client.post("/api/v1/spend", json=[record(), record(amount="x")], headers=auth(token))
    assert response.status_code == 207
    assert [r["status"] for r in response.get_json()["results"]] == ["created", "error"]
    assert spend_rows(session) == 1


@pytest.mark.parametrize(
    "body, fragment",
    [
        (b"{not json", "not valid JSON"),
        (b"{}", "list of spend records"),
        (b"[]", "empty"),
        (b"", "list of spend records"),
    ],
)
def test_unusable_bodies_are_400(client, session, acme, body, fragment):
    token = token_for(session, "manager")
    response = client.post("/api/v1/spend", data=body, headers=auth(token) | {"Content-Type": "application/json"})
    assert response.status_code == 400
    assert fragment in response.get_json()["error"]


def test_campaigns_show_status_reasons_and_spend(client, session, acme):
    from app.services.reconcile import reconcile_brands

    token = token_for(session, "admin")
    client.post(
        "/api/v1/spend", json=[record(amount="100.00", spent_at=datetime.now(UTC).isoformat())], headers=auth(token)
    )
    reconcile_brands(session, datetime.now(UTC), actor="test")
    body = client.get("/api/v1/campaigns?brand=Acme", headers=auth(token)).get_json()
    search = next(c for c in body["campaigns"] if c["name"] == "Search")
    assert search["status"] == "paused"
    assert search["reasons"] == ["daily_budget"]
    assert search["spend_today"] == "100.00" and search["daily_budget"] == "100.00"
    assert search["currency"] == "USD"
