"""Who may do what: every route of the app, for every role, by every method it accepts.

The matrix is built from ``app.url_map``, so a route added later is covered without
editing this file. The rules it holds the app to:

* Left out: static files (``static``, ``*.static``, rq-dashboard's ``favicon``), ``/healthz``
  (public by design) and ``/api/v1`` (token auth, tested with the API).
* Public: ``auth.login``; everyone may load it (a signed-in person is sent on).
* Admin pages: the ``users.index`` and ``users.update`` endpoints and everything of
  rq-dashboard (``rq_dashboard.*``, mounted at /rq).
* Self-service: ``users.me``, ``users.change_password``, ``users.create_token``,
  ``users.revoke_token`` and ``auth.logout``: every signed-in role.
* Write endpoints: every other route that accepts POST. Its GET, when it has one, is the
  form that writes, so it is a manager page too (e.g. ``/brands/new``).
* Everything else is a read page.

Expected: anonymous -> 302 to /login (401 for JSON); viewer -> 403 on admin pages and on
write endpoints (GET and POST), a 2xx/3xx on read pages; manager -> 403 on admin pages
only; admin -> never 403. Nobody ever gets a 5xx (or an exception). Signed-in GETs of
pages they may see answer 2xx or 3xx (the fixture ids all exist). POSTs carry no data:
the answer to an empty form may be 400, but never 403 for a role that may write.
Werkzeug's 308 from a non-canonical URL (``/rq/0/`` -> ``/rq/``) is answered while routing,
before any view or guard, and carries nothing: it is accepted when it stays under the same
prefix, whose canonical URL the matrix checks too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.models import SpendImport, User, WebhookDelivery
from app.queue import QUEUE_SWEEPS
from app.services.aliases import add_alias
from app.services.platforms import new_key, save_connection
from app.services.spend_formats import save_format
from app.services.users import create_token
from app.services.webhooks import DeliverySettings, dispatch, save_endpoint, send_test_event

ROLES = ("anonymous", "viewer", "manager", "admin")
RANK = {"anonymous": -1, "viewer": 0, "manager": 1, "admin": 2}
PUBLIC = {"auth.login"}
ADMIN_ENDPOINTS = {"users.index", "users.update"}
ADMIN_BLUEPRINTS = ("rq_dashboard.", "webhooks.")
# Pages that only read but show what only managers may use (ad-platform connections).
MANAGER_ENDPOINTS = {"connections.index"}
SELF_SERVICE = {"users.me", "users.change_password", "users.create_token", "users.revoke_token", "auth.logout"}
METHODS = ("GET", "POST")  # HEAD and OPTIONS are answered by Werkzeug for the same rules


def excluded(rule) -> bool:
    return (
        rule.endpoint == "static"
        or rule.endpoint.endswith((".static", ".favicon"))
        or rule.rule == "/healthz"
        or rule.rule.startswith("/api/")
    )


def needed_role(endpoint: str, rule_methods: set[str]) -> str | None:
    """The least role that may use the endpoint (None: public)."""
    if endpoint in PUBLIC:
        return None
    if endpoint in ADMIN_ENDPOINTS or endpoint.startswith(ADMIN_BLUEPRINTS):
        return "admin"
    if endpoint in SELF_SERVICE:
        return "viewer"
    if "POST" in rule_methods or endpoint in MANAGER_ENDPOINTS:
        return "manager"
    return "viewer"


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    url: str
    needs: str | None


def build_url(rule, params: dict) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in params:
            raise LookupError(f"{rule.rule} ({rule.endpoint}) has a parameter {name!r} this test has no fixture for")
        return str(params[name])

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", value, rule.rule)


def cases(app, params: dict) -> list[Case]:
    found = []
    for rule in app.url_map.iter_rules():
        if excluded(rule):
            continue
        for method in METHODS:
            if method in rule.methods:
                found.append(
                    Case(rule.endpoint, method, build_url(rule, params), needed_role(rule.endpoint, rule.methods))
                )

    # Reads first, then writes, and the writes that remove things last (signing out the very last),
    # so each case meets the fixtures as they were built. rq-dashboard's GET /rq/requeue/<queue>
    # requeues every failed job: a write behind a GET, so it runs with the writes.
    def order(case: Case):
        writes = case.method != "GET" or "/requeue/" in case.url
        removes = any(word in case.url for word in ("/archive", "/empty", "/delete"))
        return (writes, removes, case.endpoint == "auth.logout", case.url)

    return sorted(found, key=order)


def add_user(session, email: str, role: str) -> User:
    user = User(
        email=email,
        role=role,
        active=True,
        password_hash=generate_password_hash("irrelevant", method="pbkdf2:sha256:1000"),
    )
    session.add(user)
    session.flush()
    return user


@pytest.fixture
def world(app, session, make, now, redis_connection):
    """One of everything a URL can name: a brand, a campaign (and an alias of it), an import, a user, each role's
    own API token, and a queued RQ job (for /rq's job pages)."""
    users = {role: add_user(session, f"{role}@pacer.test", role) for role in ("viewer", "manager", "admin")}
    target = add_user(session, "target@pacer.test", "viewer")
    brand = make.brand("Matrix")
    campaign = make.campaign(brand, "Everything")
    spend_import = SpendImport(
        filename="spend.csv",
        sha256="0" * 64,
        actor="user:admin@pacer.test",
        user_id=users["admin"].id,
        status="failed",
        message="worker died",
    )
    session.add(spend_import)
    alias = add_alias(session, brand.id, name="matrix-1", campaign_id=campaign.id, now=now, actor="test")
    saved_format = save_format(
        session,
        name="Matrix format",
        mapping={"campaign": "Campaign", "amount": "Cost", "day": "Day"},
        number_format="1,234.56",
        date_format="YYYY-MM-DD",
        actor="test",
        now=now,
    )
    tokens = {role: create_token(session, user, "matrix", now)[0] for role, user in users.items()}
    endpoint, _ = save_endpoint(
        session, None, url="http://127.0.0.1:9/hook", settings=DeliverySettings(allow_private=True)
    )
    send_test_event(session, endpoint.id, now)
    # An ad-platform connection whose platform is a closed local port: "test connection" fails at once, offline.
    app.config.update(CONNECTOR_KEY=new_key(), META_BASE_URL="http://127.0.0.1:9")
    connection = save_connection(
        session, brand.id, "meta", "act_1", {"access_token": "t"}, key=app.config["CONNECTOR_KEY"]
    )
    session.commit()
    dispatch(session, now)
    [delivery_id] = session.scalars(select(WebhookDelivery.id)).all()
    # A failed job, so requeueing it (one of /rq's POSTs) has something to do.
    queue = Queue(QUEUE_SWEEPS, connection=redis_connection)
    job = queue.enqueue("builtins.int", "not a number", job_id="matrix-job")
    SimpleWorker([queue], connection=redis_connection).work(burst=True)
    assert job.get_status(refresh=True) == "failed"
    params = {
        "brand_id": brand.id,
        "campaign_id": campaign.id,
        "import_id": spend_import.id,
        "format_id": saved_format.id,
        "user_id": target.id,
        "instance_number": 0,
        "queue_name": QUEUE_SWEEPS,
        "registry_name": "queued",
        "per_page": 8,
        "order": "asc",
        "page": 1,
        "job_id": job.id,
        "endpoint_id": endpoint.id,
        "delivery_id": delivery_id,
        "alias_id": alias.id,
        "connection_id": connection.id,
    }
    return {"users": users, "tokens": tokens, "params": params}


def expectation(role: str, case: Case) -> str:
    if case.needs is None:
        return "ok"
    if role == "anonymous":
        return "login"
    return "ok" if RANK[role] >= RANK[case.needs] else "forbidden"


def problem(role: str, case: Case, status: int, location: str) -> str | None:
    """What is wrong with this answer, or None."""
    expected = expectation(role, case)
    if status >= 500:
        return f"{status} (a server error)"
    prefix = "/" + case.url.strip("/").split("/")[0] + "/"
    if status == 308 and urlsplit(location).path.startswith(prefix):
        return None
    if expected == "login":
        if status == 401 or (status == 302 and "/login" in location):
            return None
        return f"{status} {location}, expected 302 to /login"
    if expected == "forbidden":
        return None if status == 403 else f"{status}, expected 403"
    if status == 403:
        return "403, expected access"
    if case.method == "GET" and not 200 <= status < 400:
        return f"{status}, expected a 2xx or 3xx page"
    return None


@pytest.mark.redis
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(app, session, world, role):
    params = dict(world["params"])
    if role != "anonymous":
        params["token_id"] = world["tokens"][role].id  # each person revokes their own token
    else:
        params["token_id"] = world["tokens"]["viewer"].id
    failures = []
    checked = 0
    for case in cases(app, params):
        client = app.test_client()
        if role != "anonymous":
            with client.session_transaction() as sess:
                sess["_user_id"] = world["users"][role].get_id()
                sess["_fresh"] = True
        checked += 1
        try:
            # As a browser on a Pacer page sends it (/rq refuses state changes from elsewhere).
            with client.open(
                case.url,
                method=case.method,
                data={} if case.method == "POST" else None,
                headers={"Sec-Fetch-Site": "same-origin"},
            ) as response:
                status, location = response.status_code, response.headers.get("Location", "")
        except Exception as exc:  # TESTING propagates view errors: in production each of these is a 500
            failures.append(f"{case.method} {case.url} ({case.endpoint}): raised {type(exc).__name__}: {exc}")
            continue
        finally:
            session.rollback()
        wrong = problem(role, case, status, location)
        if wrong:
            failures.append(f"{case.method} {case.url} ({case.endpoint}): {wrong}")
    assert checked > 0
    assert not failures, f"{role}: {len(failures)} of {checked} answers wrong:\n  " + "\n  ".join(failures)


def test_the_matrix_covers_the_pages_and_classifies_them_as_documented(app, world):
    params = dict(world["params"], token_id=1)
    by_endpoint = {(c.endpoint, c.method): c.needs for c in cases(app, params)}
    # The routes this area owns are always there; other areas' routes join the matrix as they are built.
    assert by_endpoint[("activity.index", "GET")] == "viewer"
    assert by_endpoint[("activity.export", "GET")] == "viewer"
    assert by_endpoint[("users.index", "GET")] == "admin"
    assert by_endpoint[("users.index", "POST")] == "admin"
    assert by_endpoint[("users.update", "POST")] == "admin"
    assert by_endpoint[("users.me", "GET")] == "viewer"
    assert by_endpoint[("users.create_token", "POST")] == "viewer"
    assert by_endpoint[("users.revoke_token", "POST")] == "viewer"
    assert by_endpoint[("rq_dashboard.queues_overview", "GET")] == "admin"
    assert by_endpoint[("rq_dashboard.delete_job_view", "POST")] == "admin"
    assert by_endpoint[("auth.login", "GET")] is None
    assert not any(endpoint.startswith(("api.", "health.")) or endpoint == "static" for endpoint, _ in by_endpoint)
    if ("brands.new", "GET") in by_endpoint:
        assert by_endpoint[("brands.new", "GET")] == "manager"  # the form that writes
    if ("brands.show", "GET") in by_endpoint:
        assert by_endpoint[("brands.show", "GET")] == "viewer"


# --- /rq: rq-dashboard, admins only -------------------------------------------------------------

RQ_URLS = [("GET", "/rq/"), ("GET", "/rq/0/data/queues.json"), ("POST", "/rq/job/x/delete")]


def signed_in_client(app, user):
    client = app.test_client()
    if user is not None:
        with client.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
    return client


@pytest.mark.parametrize(("method", "url"), RQ_URLS)
def test_rq_sends_anonymous_people_to_sign_in(app, method, url):
    response = app.test_client().open(url, method=method)
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("role", ["viewer", "manager"])
@pytest.mark.parametrize(("method", "url"), RQ_URLS)
def test_rq_refuses_everyone_but_admins(app, session, role, method, url):
    client = signed_in_client(app, add_user(session, f"{role}@pacer.test", role))
    session.commit()
    assert client.open(url, method=method).status_code == 403


@pytest.mark.redis
def test_rq_serves_admins_its_pages_and_json(app, session, redis_connection):
    client = signed_in_client(app, add_user(session, "admin@pacer.test", "admin"))
    session.commit()
    job = Queue(QUEUE_SWEEPS, connection=redis_connection).enqueue("builtins.print", "hello")
    overview = client.get("/rq/")
    assert overview.status_code == 200 and "RQ" in overview.get_data(as_text=True)
    queues = client.get("/rq/0/data/queues.json")
    assert queues.status_code == 200
    assert QUEUE_SWEEPS in {q["name"] for q in queues.get_json()["queues"]}
    deleted = client.post(f"/rq/job/{job.id}/delete", headers={"Origin": "http://pacer.test"})
    assert deleted.status_code == 200
    assert Queue(QUEUE_SWEEPS, connection=redis_connection).count == 0


@pytest.mark.redis
def test_rq_refuses_a_cross_site_post_even_from_an_admin(app, session, redis_connection):
    client = signed_in_client(app, add_user(session, "admin@pacer.test", "admin"))
    session.commit()
    job = Queue(QUEUE_SWEEPS, connection=redis_connection).enqueue("builtins.print", "keep me")
    response = client.post(f"/rq/job/{job.id}/delete", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert Queue(QUEUE_SWEEPS, connection=redis_connection).count == 1


def test_rq_without_redis_is_a_clear_error_not_a_crash_for_admins(app, session, redis_unreachable):
    client = signed_in_client(app, add_user(session, "admin@pacer.test", "admin"))
    session.commit()
    try:
        status = client.get("/rq/0/data/queues.json").status_code
    except Exception as exc:  # TESTING propagates the error a real server would answer with a 500
        pytest.fail(f"/rq with Redis down raised {type(exc).__name__}: {exc}")
    assert status == 503
