"""CSRF enforced, as in production: a POST without the form's token is refused and changes nothing."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import ApiToken, Brand, User
from app.services.users import create_user

PASSWORD = "correct horse"
REFUSED = "CSRF check failed"


@pytest.fixture
def csrf_app(app, database_url, instance_path):
    """A second app on the test database with CSRF on (the ``app`` fixture, whose context stays
    open, empties the tables afterwards)."""
    enforcing = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": str(instance_path),
            "WTF_CSRF_ENABLED": True,
        }
    )
    assert enforcing.config["WTF_CSRF_ENABLED"] is True
    yield enforcing
    with enforcing.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def people(session):
    users = {role: create_user(session, f"{role}@pacer.test", PASSWORD, role) for role in ("manager", "admin")}
    session.commit()
    return users


def token_in(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "the page carries a CSRF token"
    return html.unescape(match.group(1))


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def sign_in(client, email: str) -> None:
    token = token_in(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_login_without_the_token_is_refused(csrf_app, people):
    client = csrf_app.test_client()
    response = client.post("/login", data={"email": "admin@pacer.test", "password": PASSWORD})
    assert response.status_code == 400
    assert REFUSED in html.unescape(response.get_data(as_text=True))
    assert client.get("/me").status_code == 302  # still not signed in
    forged = client.post("/login", data={"email": "admin@pacer.test", "password": PASSWORD, "csrf_token": "forged"})
    assert forged.status_code == 400 and client.get("/me").status_code == 302


def test_login_with_the_token_from_the_form_succeeds(csrf_app, people):
    client = csrf_app.test_client()
    sign_in(client, "admin@pacer.test")
    me = client.get("/me")
    assert me.status_code == 200 and "admin@pacer.test" in me.get_data(as_text=True)


def test_a_token_from_another_session_does_not_count(csrf_app, people):
    other = csrf_app.test_client()
    stolen = token_in(other.get("/login").get_data(as_text=True))
    victim = csrf_app.test_client()
    response = victim.post("/login", data={"email": "admin@pacer.test", "password": PASSWORD, "csrf_token": stolen})
    assert response.status_code == 400 and victim.get("/me").status_code == 302


def test_creating_a_user_without_the_token_changes_nothing(csrf_app, people, session):
    client = csrf_app.test_client()
    sign_in(client, "admin@pacer.test")
    form = {"email": "new@pacer.test", "role": "admin", "password": "longenough1", "confirm": "longenough1"}
    refused = client.post("/users", data=form)
    assert refused.status_code == 400 and REFUSED in html.unescape(refused.get_data(as_text=True))
    assert count(session, User) == 2

    accepted = client.post("/users", data=form | {"csrf_token": token_in(client.get("/users").get_data(as_text=True))})
    assert accepted.status_code == 302
    assert count(session, User) == 3


def test_role_changes_and_token_actions_need_the_token(csrf_app, people, session):
    client = csrf_app.test_client()
    sign_in(client, "admin@pacer.test")
    manager = people["manager"]
    assert client.post(f"/users/{manager.id}", data={"action": "deactivate"}).status_code == 400
    assert client.post("/me/tokens", data={"name": "script"}).status_code == 400
    session.expire_all()
    assert session.get(User, manager.id).active
    assert count(session, ApiToken) == 0


def test_a_manager_form_without_the_token_changes_nothing(csrf_app, people, session):
    client = csrf_app.test_client()
    sign_in(client, "manager@pacer.test")
    form = {"name": "Forged", "timezone": "UTC", "currency": "USD", "daily_budget": "10", "monthly_budget": "100"}
    refused = client.post("/brands/new", data=form)
    assert refused.status_code == 400 and REFUSED in html.unescape(refused.get_data(as_text=True))
    assert count(session, Brand) == 0


def test_signing_out_needs_the_token(csrf_app, people):
    client = csrf_app.test_client()
    sign_in(client, "manager@pacer.test")
    assert client.post("/logout").status_code == 400
    assert client.get("/me").status_code == 200  # a forged link cannot sign you out
    token = token_in(client.get("/me").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/me").status_code == 302
