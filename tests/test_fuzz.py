"""A bounded Hypothesis fuzz of every route: no input, for any role or method, may answer 5xx (issue 12).

The routes come from ``app.url_map``, so a route added later is fuzzed without editing this file.
Each example picks a route, a role (or none) and a method, and sends generated path parts, query
arguments, form fields and, to the JSON API, a body: NUL bytes, lone surrogates, huge and negative
numbers, deep nesting, long strings, and the names the views actually read. CSRF is off (the
``app`` fixture), so generated forms reach the views. /healthz is left out: its 503 is its answer.
"""

from __future__ import annotations

import json
import re
import tempfile
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from app.models import User
from app.services.users import create_token
from tests.helpers import add_user

pytestmark = pytest.mark.redis

ROLES = ("anonymous", "viewer", "manager", "admin")
PLACEHOLDER = re.compile(r"<(?:([a-zA-Z_]+)(?:\([^)]*\))?:)?([a-zA-Z_]+)>")
NAMES = (
    "page",
    "q",
    "sort",
    "order",
    "archived",
    "brand",
    "campaign",
    "reason",
    "actor",
    "kind",
    "date_from",
    "date_to",
    "next",
    "name",
    "endpoint",
    "_method",
    "_external",
    "_scheme",
    "_anchor",
    "values",
    "brand_id",
    "campaign_id",
    "action",
    "amount",
    "confirm",
    "currency",
    "current",
    "daily_budget",
    "monthly_budget",
    "email",
    "enabled",
    "start_date",
    "end_date",
    "external_id",
    "lifetime",
    "mode",
    "new",
    "password",
    "remember",
    "role",
    "spent_at",
    "timezone",
    "quarter",
    "csrf_token",
)
NASTY = ("\x00", "\ud800", "\udfff", "\r\n", "%00", "../", "'", '"', "<script>", "\u202e", "٣", "ｘ", "\ufeff")
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30]),
)
EDGES = st.sampled_from([0, -1, 2**31, 2**63 - 1, 2**63, 10**30]).map(str)
TEXT = st.one_of(
    st.lists(st.sampled_from(NASTY) | st.text(max_size=8), min_size=1, max_size=4).map("".join),
    st.text(max_size=30),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=30),  # surrogates included
    st.sampled_from(NASTY),
    NUMBERS.map(str),
    st.sampled_from(
        [
            "",
            " ",
            "UTC",
            "USD",
            "viewer",
            "admin",
            "deactivate",
            "signout",
            "role",
            "2026-11-25",
            "0001-01-01",
            "9999-12-31",
            "2026-11-25T10:00:00Z",
            "12.50",
            "-1",
            "1e400",
            "NaN",
            "never",
            "7",
        ]
    ),
    st.integers(min_value=1000, max_value=20000).map(lambda n: "x" * n),
)
# NUL bytes and lone surrogates inside ordinary text: what PostgreSQL and UTF-8 encoders refuse.
POISONED = st.tuples(st.text(max_size=5), st.sampled_from(["\x00", "\ud800", "\udfff"]), st.text(max_size=5)).map(
    "".join
)
VALUE = POISONED | EDGES | NUMBERS.map(str) | TEXT


# A plausible value for every name a view reads, so that a form passes its other checks and the
# one mutated field reaches the service and the database.
PLAUSIBLE = {
    "name": "Fuzzed",
    "timezone": "UTC",
    "currency": "USD",
    "daily_budget": "10",
    "monthly_budget": "100",
    "email": "fuzz@pacer.test",
    "password": "long enough pw",
    "confirm": "long enough pw",
    "current": "nope nope",
    "new": "long enough pw",
    "role": "viewer",
    "action": "role",
    "amount": "1.00",
    "spent_at": "2026-11-25 10:00",
    "external_id": "fx-1",
    "lifetime": "never",
    "mode": "all",
    "actor": "fuzz",
    "q": "fuzz",
    "sort": "name",
    "order": "asc",
    "page": "1",
    "enabled": "y",
    "start_date": "2026-11-01",
    "end_date": "2026-12-31",
    "date_from": "2026-11-01",
    "date_to": "2026-11-30",
    "reason": "schedule",
    "kind": "manual",
    "next": "/activity",
}


TEXT_NAMES = ("name", "email", "password", "current", "new", "confirm", "external_id", "actor", "q", "next", "amount")


@st.composite
def fields(draw) -> dict[str, str]:
    """Plausible values, then either a few names (known or not) set to generated values, or one
    generated poison (a NUL, a surrogate, a huge number...) put into every free-text field."""
    values = dict(PLAUSIBLE) if draw(st.integers(0, 3)) else {}
    if draw(st.booleans()):
        poison = draw(POISONED | VALUE)
        for name in TEXT_NAMES:
            values[name] = poison if draw(st.booleans()) else values.get(name, "") + poison
    for name in draw(st.lists(st.sampled_from(NAMES) | TEXT, max_size=4)):
        values[name] = draw(VALUE)
    return values


FIELDS = fields()
QUERY = FIELDS
JSON_LEAF = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT, st.floats(allow_nan=False, allow_infinity=False))
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.sampled_from(NAMES), TEXT), inner, max_size=4)
    ),
    max_leaves=12,
)
RECORD = st.fixed_dictionaries(
    {},
    optional={
        key: st.one_of(TEXT, NUMBERS, JSON_LEAF)
        for key in ("brand", "campaign", "amount", "spent_at", "external_id", "currency")
    },
)
JSON_BODY = st.one_of(
    JSON_VALUE.map(lambda v: json.dumps(v).encode()),
    st.lists(RECORD, max_size=3).map(lambda v: json.dumps(v).encode()),
    st.integers(min_value=1, max_value=200_000).map(lambda n: b"[" * n + b"]" * n),
    st.binary(max_size=64),
)


def encode(pairs: dict[str, str]) -> str:
    """application/x-www-form-urlencoded, lone surrogates kept as the bytes a careless client would send."""

    def quoted(text: str) -> str:
        return quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")

    return "&".join(quoted(name) + "=" + quoted(value) for name, value in pairs.items())


def fuzzed_rules() -> list[tuple[str, str]]:
    """(rule, endpoint) of every route, read from an app built only for its URL map."""
    with tempfile.TemporaryDirectory() as instance:
        config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "INSTANCE_PATH": instance}
        url_map = create_app(config).url_map
    return sorted(
        (rule.rule, rule.endpoint)
        for rule in url_map.iter_rules()
        if rule.endpoint != "static" and not rule.endpoint.endswith((".static", ".favicon")) and rule.rule != "/healthz"
    )


@pytest.fixture
def world(app, session, uploads, redis_url, make):
    brand = make.brand("Fuzz Brand")
    campaign = make.campaign(brand, "Fuzz Campaign")
    users = {role: add_user(session, f"{role}@fuzz.test", role) for role in ROLES[1:]}
    tokens = {role: create_token(session, user, "fuzz", user.created_at)[1] for role, user in users.items()}
    session.commit()
    return {
        "ids": [brand.id, campaign.id, users["viewer"].id],
        "users": {r: u.id for r, u in users.items()},
        "tokens": tokens,
    }


def path_part(data, converter: str | None, ids: list[int]) -> str:
    """Mostly a real id (so the view runs), else any number or any text."""
    kind = data.draw(st.sampled_from(("id", "id", "number", "text")))
    if kind == "id":
        return str(data.draw(st.sampled_from(ids)))
    if kind == "number":
        return data.draw(EDGES | NUMBERS.map(str))
    return quote_from_bytes(data.draw(TEXT).encode("utf-8", "surrogatepass"), safe="")


@pytest.mark.parametrize("rule_text, endpoint", fuzzed_rules())
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_no_input_answers_5xx(app, session, world, data, rule_text, endpoint):
    rule = next(r for r in app.url_map.iter_rules() if (r.rule, r.endpoint) == (rule_text, endpoint))
    role = data.draw(st.sampled_from(ROLES), label="role")
    method = data.draw(st.sampled_from(sorted(rule.methods - {"HEAD", "OPTIONS"})), label="method")
    path = PLACEHOLDER.sub(lambda m: path_part(data, m.group(1), world["ids"]), rule.rule)
    query = encode(data.draw(QUERY, label="query"))
    headers = {"Sec-Fetch-Site": data.draw(st.sampled_from(["same-origin", "cross-site"]))}
    body, content_type = None, None
    if rule.rule.startswith("/api/"):
        if role != "anonymous":
            headers["Authorization"] = "Bearer " + world["tokens"][role]
        if method == "POST":
            body, content_type = data.draw(JSON_BODY, label="json"), "application/json"
    elif method == "POST":
        body, content_type = encode(data.draw(FIELDS, label="form")), "application/x-www-form-urlencoded"

    client = app.test_client()
    if role != "anonymous" and not rule.rule.startswith("/api/"):
        session.expire_all()
        user = session.get(User, world["users"][role])
        with client.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
    try:
        response = client.open(
            path, method=method, query_string=query, data=body, content_type=content_type, headers=headers
        )
        status = response.status_code
        response.close()
    finally:
        session.rollback()
    assert status < 500, f"{method} {path}?{query[:200]} as {role}: {status}"
