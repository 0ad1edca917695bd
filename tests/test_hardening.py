"""Issue 12's findings, one test each: security headers, and input that used to answer 500."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import BrandDaySpend, SpendImport, SpendRecord
from app.services.spend import new_spend, write_spend
from app.services.users import create_token, create_user
from tests.helpers import add_user, sign_in

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
BIG_IDS = (2**31, 2**31 + 1, 2**63 - 1, 2**63, 10**30)


@pytest.fixture
def admin(session):
    return add_user(session, "admin@pacer.test", "admin")


@pytest.fixture
def as_admin(client, admin):
    sign_in(client, admin)
    return client


@pytest.fixture
def acme(session, make):
    brand = make.brand("Acme", timezone="UTC")
    campaign = make.campaign(brand, "Search")
    session.commit()
    return campaign


def api_token(session, role: str = "manager") -> dict:
    user = create_user(session, f"api-{role}@pacer.test", "correct-horse", role)
    _, plain = create_token(session, user, "ci", NOW)
    session.commit()
    return {"Authorization": f"Bearer {plain}"}


# --- 1. headers -------------------------------------------------------------------------------


def assert_security_headers(response) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_every_kind_of_response_carries_the_security_headers(client, as_admin, acme):
    anonymous = create_app_client(client)
    for response in (
        anonymous.get("/login"),
        anonymous.get("/healthz"),
        anonymous.get("/static/app.css"),
        anonymous.get("/no/such/page"),
        anonymous.get("/api/v1/brands"),
        as_admin.get("/"),
        as_admin.get(f"/campaigns/{acme.id}"),
        as_admin.get("/brands/999999"),
        as_admin.post("/brands/new", data={"name": ""}),
    ):
        response.close()  # static files are streamed
        assert_security_headers(response)
        assert "Strict-Transport-Security" not in response.headers  # development


def create_app_client(client):
    return client.application.test_client()


def test_signed_in_pages_are_not_cached_and_static_files_may_be(as_admin):
    assert as_admin.get("/").headers["Cache-Control"] == "no-store"
    assert as_admin.get("/activity").headers["Cache-Control"] == "no-store"
    with as_admin.get("/static/app.css") as static:
        assert "no-store" not in static.headers.get("Cache-Control", "")


def test_production_adds_hsts(app, database_url, instance_path):
    production = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": str(instance_path),
            "PACER_ENV": "production",
        }
    )
    response = production.test_client().get("/login")
    with production.app_context():
        db.engine.dispose()  # its pooled connection must not outlive the test
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert_security_headers(response)


def test_a_server_error_page_carries_them_too(database_url, instance_path, session):
    user = add_user(session, "ana@pacer.test", "viewer")
    broken = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(instance_path), "SERVER_NAME": "pacer.test"}
    )
    broken.add_url_rule("/boom", "boom", lambda: 1 / 0)
    client = broken.test_client()
    sign_in(client, user)
    response = client.get("/boom")
    with broken.app_context():
        db.engine.dispose()  # its pooled connection must not outlive the test
    assert response.status_code == 500 and "Something went wrong" in response.get_data(as_text=True)
    assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_templates_have_no_inline_scripts_or_event_handlers():
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{template.name}: {tag}")
        offenders += [f"{template.name}: {m}" for m in re.findall(r"\son[a-z]+\s*=", text)]
        offenders += [f"{template.name}: javascript: URL" for _ in re.findall(r"javascript:", text)]
    assert offenders == []


# --- 5. input that used to be a 500 -----------------------------------------------------------


def test_nul_bytes_are_refused_with_a_sentence_everywhere(client, session, as_admin, acme):
    anonymous = create_app_client(client)
    login = anonymous.post("/login", data={"email": "a\x00@pacer.test", "password": "x"})
    assert login.status_code == 400 and "NUL byte" in login.get_data(as_text=True)
    for response in (
        as_admin.get("/?q=a%00b"),
        as_admin.get("/activity?actor=a%00b"),
        as_admin.post(
            "/brands/new",
            data={"name": "Ac\x00me", "timezone": "UTC", "currency": "USD", "daily_budget": "1", "monthly_budget": "2"},
        ),
        as_admin.post(f"/brands/{acme.brand_id}/campaigns/new", data={"name": "Se\x00arch"}),
        as_admin.post(
            "/users",
            data={"email": "x\x00@pacer.test", "role": "viewer", "password": "long enough", "confirm": "long enough"},
        ),
        as_admin.post("/me/tokens", data={"name": "to\x00ken"}),
    ):
        assert response.status_code == 400, response.request.path
        assert "contains a NUL byte" in response.get_data(as_text=True)
    headers = api_token(session)
    api = client.get("/api/v1/brands?name=a%00", headers=headers)
    assert api.status_code == 400 and "NUL byte" in api.get_json()["error"]
    spend = client.post(
        "/api/v1/spend",
        headers=headers,
        json=[
            {
                "brand": "Acme",
                "campaign": "Search",
                "amount": "1",
                "spent_at": "2026-11-25T10:00:00Z",
                "external_id": "a\x00b",
            }
        ],
    )
    assert spend.status_code == 400 and "NUL byte" in spend.get_json()["error"]
    assert session.scalar(select(func.count()).select_from(SpendRecord)) == 0


def test_a_lone_surrogate_in_api_json_is_refused(client, session, acme):
    body = (
        '[{"brand": "Acme", "campaign": "Search", "amount": "1", "spent_at": "2026-11-25T10:00:00Z",'
        ' "external_id": "\\ud800"}]'
    )
    response = client.post("/api/v1/spend", headers=api_token(session), data=body, content_type="application/json")
    assert response.status_code == 400
    assert "surrogate" in response.get_json()["error"] and "$[0].external_id" in response.get_json()["error"]


def test_deep_and_huge_json_bodies_are_refused(app, client, session, acme):
    headers = api_token(session)
    deep = client.post(
        "/api/v1/spend", headers=headers, data="[" * 100_000 + "]" * 100_000, content_type="application/json"
    )
    assert deep.status_code == 400 and "deep" in deep.get_json()["error"]
    brackets_in_strings = client.post(
        "/api/v1/spend", headers=headers, content_type="application/json", data='[{"brand": "' + "[" * 1000 + '"}]'
    )
    assert brackets_in_strings.status_code == 400  # an unknown brand, not a nesting error
    assert "deep" not in brackets_in_strings.get_json()["error"]
    app.config["PACER_API_MAX_BYTES"] = 1024 * 1024
    huge = client.post(
        "/api/v1/spend", headers=headers, data=b"[" + b" " * (1024 * 1024) + b"]", content_type="application/json"
    )
    assert huge.status_code == 413 and "larger than 1 MB" in huge.get_json()["error"]
    number = client.post("/api/v1/spend", headers=headers, data="[" + "9" * 5000 + "]", content_type="application/json")
    assert number.status_code == 400


@pytest.mark.parametrize("big", BIG_IDS)
def test_ids_beyond_the_column_are_404_for_every_int_route(app, as_admin, big):
    checked = 0
    for rule in app.url_map.iter_rules():
        names = [name for name, conv in rule._converters.items() if type(conv).__name__ == "BoundedIntConverter"]
        if not names or rule.rule.startswith("/rq"):
            continue
        path = rule.rule
        for name in names:
            path = re.sub(rf"<int:{name}>", str(big), path)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = as_admin.open(path, method=method)
            assert response.status_code == 404, f"{method} {path}: {response.status_code}"
            checked += 1
    assert checked >= 10


def test_query_ids_beyond_the_column_are_a_form_error(as_admin):
    for query in ("campaign=2147483648", "brand=9223372036854775807", "campaign=99999999999999999999"):
        response = as_admin.get(f"/activity?{query}")
        assert response.status_code in (200, 400), query
    assert as_admin.get("/activity.csv?brand=2147483648").status_code in (200, 302)


def test_huge_page_numbers_are_clamped(as_admin, session, acme):
    huge = "9223372036854775807"
    spend_import = SpendImport(filename="spend.csv", sha256="0" * 64, actor="user:admin@pacer.test", status="rejected")
    session.add(spend_import)
    session.commit()
    for path in (
        "/",
        f"/brands/{acme.brand_id}",
        f"/campaigns/{acme.id}",
        "/spend/imports",
        f"/spend/imports/{spend_import.id}",
        "/activity",
        "/users",
    ):
        for page in (huge, "-5", "zz", "1e9", "٣"):
            response = as_admin.get(f"{path}?page={page}")
            assert response.status_code == 200, f"{path}?page={page}: {response.status_code}"


def test_only_known_query_arguments_reach_url_for(as_admin, session):
    for number in range(60):  # two pages of users
        add_user(session, f"user{number:02}@pacer.test", "viewer")
    hostile = "endpoint=x&_method=POST&_external=&_scheme=http&_anchor=a&user_id=abc&values=1"
    response = as_admin.get(f"/users?{hostile}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="/users?page=2"' in page
    overview = as_admin.get(f"/?{hostile}&q=acme&sort=name")
    assert overview.status_code == 200
    export = as_admin.get(f"/activity.csv?{hostile}&brand=not-a-number")
    assert export.status_code == 302
    assert export.headers["Location"] == "/activity?brand=not-a-number"


@pytest.mark.parametrize(
    "target", ["/%0D%0AX-Injected:1", "/%0AX", "/\\evil.example", "//evil.example", "https://evil.example/", "/ok%00"]
)
def test_unsafe_next_targets_are_ignored(client, session, target):
    add_user(session, "ana@pacer.test", "viewer")
    from tests.helpers import PASSWORD

    response = client.post(f"/login?next={target}", data={"email": "ana@pacer.test", "password": PASSWORD})
    if target.endswith("%00"):
        assert response.status_code == 400  # NUL in the query string
        return
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "X-Injected" not in response.headers


def test_a_safe_next_is_followed(client, session):
    add_user(session, "ana@pacer.test", "viewer")
    from tests.helpers import PASSWORD

    response = client.post(
        "/login?next=/activity%3Fkind%3Dmanual", data={"email": "ana@pacer.test", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/activity?kind=manual"


@pytest.mark.parametrize(
    "instant, zone",
    [
        (datetime(1, 1, 1, 0, 30, tzinfo=UTC), "America/New_York"),
        (datetime(9999, 12, 31, 23, 30, tzinfo=UTC), "Asia/Tokyo"),
    ],
)
def test_a_stored_extreme_spend_does_not_break_a_time_zone_change(as_admin, session, acme, instant, zone):
    write_spend(session, [new_spend(acme, 1000, instant, source="manual")])
    session.commit()
    brand_id = acme.brand_id
    response = as_admin.post(
        f"/brands/{brand_id}/edit",
        data={"name": "Acme", "timezone": zone, "currency": "USD", "daily_budget": "100", "monthly_budget": "2000"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    days = session.scalars(select(BrandDaySpend.local_date).where(BrandDaySpend.brand_id == brand_id)).all()
    assert [day.year for day in days] == [instant.year]
    assert as_admin.get(f"/brands/{brand_id}").status_code == 200
    assert as_admin.get(f"/campaigns/{acme.id}").status_code == 200
    assert as_admin.get("/").status_code == 200


# Expected to fail until the spend rule of issue 9 (2000-01-01 to five minutes after now) is merged.
@pytest.mark.parametrize("spent_at", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:00Z"])
def test_api_refuses_spend_outside_the_spend_rule(client, session, acme, spent_at):
    response = client.post(
        "/api/v1/spend",
        headers=api_token(session),
        json=[{"brand": "Acme", "campaign": "Search", "amount": "1", "spent_at": spent_at}],
    )
    assert response.status_code == 400
    assert response.get_json()["results"][0]["status"] == "error"
    assert session.scalar(select(func.count()).select_from(SpendRecord)) == 0
