"""The API against its OpenAPI 3.1 document (/api/v1/openapi.json), with schemathesis (issue 12).

Generated requests as a manager: every response must be documented (status, content type,
body schema), and none may be a 5xx. The document itself is checked against the routes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.services.users import create_token, create_user
from app.web.openapi import openapi_document, render_markdown
from tests.conftest import NOW

pytestmark = pytest.mark.redis


@pytest.fixture
def manager_token(session, make, redis_url):
    brand = make.brand("Acme", timezone="America/New_York")
    make.campaign(brand, "Search")
    user = create_user(session, "schema@pacer.test", "correct-horse", "manager")
    _, plain = create_token(session, user, "schemathesis", NOW)
    session.commit()
    return plain


# The document as the app serves it (a fixture-loaded schema needs pytest < 9 in schemathesis 4).
schema = schemathesis.openapi.from_dict(openapi_document())


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_the_api_answers_as_documented(case, app, session, manager_token):
    try:
        response = case.call(
            app=app, base_url="http://pacer.test/api/v1", headers={"Authorization": f"Bearer {manager_token}"}
        )
    finally:
        session.rollback()
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"
    case.validate_response(
        response, checks=[status_code_conformance, content_type_conformance, response_schema_conformance]
    )


def test_the_document_lists_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    routes = {
        (rule.rule.removeprefix("/api/v1"), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == routes
    assert document == openapi_document()


def test_docs_api_md_carries_the_generated_reference():
    text = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text()
    generated = text.split("<!-- generated: python -m app.web.openapi -->\n", 1)[1].split("<!-- end generated -->")[0]
    assert generated == render_markdown(), "run: python -m app.web.openapi, and paste it into docs/api.md"
