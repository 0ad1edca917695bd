"""Sessions that really end, the remember cookie, the login throttle, and API token expiry (issue 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import ApiToken, LoginFailure, User
from app.services.signin import (
    ACCOUNT_LIMIT,
    ADDRESS_LIMIT,
    THROTTLE_WINDOW,
    Outcome,
    account_key,
    record_failure,
    sign_in,
)
from app.services.users import UserError, authenticate_token, create_token, create_user
from tests.helpers import PASSWORD, add_user

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
HOST = "pacer.test"


def log_in(client, email: str, password: str = PASSWORD, remember: bool = False):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data)


def signed_in(client) -> bool:
    response = client.get("/activity")
    return response.status_code == 200


def replay(app, cookies: dict[str, str]):
    """A fresh client (another browser) holding copies of ``cookies``."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value, domain=HOST)
    return other


def cookie(client, name: str) -> str:
    found = client.get_cookie(name, domain=HOST)
    assert found is not None, f"no {name} cookie"
    return found.value


@pytest.fixture
def ana(session):
    return add_user(session, "ana@pacer.test", "admin")


@pytest.fixture
def bob(session):
    return add_user(session, "bob@pacer.test", "viewer")


# --- 3. sessions end -----------------------------------------------------------------------------


def test_a_session_cookie_copied_before_logout_is_refused_after_it(app, client, ana):
    assert log_in(client, "ana@pacer.test").status_code == 302
    copied = {"session": cookie(client, "session")}
    assert signed_in(replay(app, copied))
    client.post("/logout")
    assert not signed_in(client)
    assert not signed_in(replay(app, copied))


def test_the_remember_cookie_is_strict_and_dies_with_logout(app, client, ana):
    response = log_in(client, "ana@pacer.test", remember=True)
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert "Expires=" in header and app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)
    remember = {"remember_token": cookie(client, "remember_token")}
    assert signed_in(replay(app, remember))
    client.post("/logout")
    assert not signed_in(replay(app, remember))
    # Signing in again issues a different cookie; the old one stays dead.
    log_in(client, "ana@pacer.test", remember=True)
    assert cookie(client, "remember_token") != remember["remember_token"]
    assert not signed_in(replay(app, remember))


def test_the_remember_cookie_is_secure_in_production(database_url, instance_path, session, ana):
    production = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SERVER_NAME": HOST,
            "INSTANCE_PATH": str(instance_path),
            "PACER_ENV": "production",
            "SESSION_COOKIE_SECURE": True,
            "REMEMBER_COOKIE_SECURE": True,
            "WTF_CSRF_ENABLED": False,
        }
    )
    response = production.test_client().post(
        "https://pacer.test/login", data={"email": "ana@pacer.test", "password": PASSWORD, "remember": "y"}
    )
    with production.app_context():
        db.engine.dispose()  # its pooled connection must not outlive the test
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header


def test_a_password_change_ends_other_sessions_and_cookies_but_keeps_this_one(app, client, session, ana):
    log_in(client, "ana@pacer.test", remember=True)
    other_browser = app.test_client()
    log_in(other_browser, "ana@pacer.test")
    stolen = {"remember_token": cookie(client, "remember_token")}
    done = client.post("/me/password", data={"current": PASSWORD, "new": "brand new pw", "confirm": "brand new pw"})
    assert done.status_code == 302
    assert signed_in(client)
    assert not signed_in(other_browser)
    assert not signed_in(replay(app, stolen))
    assert signed_in(replay(app, {"remember_token": cookie(client, "remember_token")}))


def test_deactivation_and_sign_out_everywhere_end_a_users_sessions(app, client, session, ana, bob):
    log_in(client, "ana@pacer.test")
    bobs = [app.test_client() for _ in range(2)]
    for browser in bobs:
        log_in(browser, "bob@pacer.test", remember=True)
    remember = {"remember_token": cookie(bobs[0], "remember_token")}

    out = client.post(f"/users/{bob.id}", data={"action": "signout"}, follow_redirects=True)
    assert "signed out everywhere" in out.get_data(as_text=True)
    assert not any(signed_in(browser) for browser in bobs)
    assert not signed_in(replay(app, remember))
    assert signed_in(client)

    log_in(bobs[0], "bob@pacer.test")
    assert signed_in(bobs[0])
    client.post(f"/users/{bob.id}", data={"action": "deactivate"})
    assert not signed_in(bobs[0])
    assert log_in(bobs[0], "bob@pacer.test").status_code == 400


def test_ids_from_before_generations_sign_nobody_in(app, ana):
    browser = app.test_client()
    with browser.session_transaction() as sess:
        sess["_user_id"] = str(ana.id)
    assert not signed_in(browser)
    for forged in (f"{ana.id}:1", f"{ana.id}:x", f"{ana.id}", ":0", f"{2**40}:0", "ab:0"):
        with browser.session_transaction() as sess:
            sess["_user_id"] = forged
        assert not signed_in(browser), forged


# --- 2. login throttle ---------------------------------------------------------------------------


def test_ten_failures_lock_the_account_even_for_the_right_password(app, client, session, ana):
    for _ in range(ACCOUNT_LIMIT):
        assert log_in(client, "ana@pacer.test", "wrong password").status_code == 400
    locked = log_in(client, "ANA@pacer.test ")
    assert locked.status_code == 429
    assert "Too many attempts; try again in 15 minutes." in locked.get_data(as_text=True)
    assert not signed_in(client)
    # Another account from the same address is still heard.
    add_user(session, "cy@pacer.test", "viewer")
    assert log_in(app.test_client(), "cy@pacer.test").status_code == 302


def test_the_account_lock_lifts_after_the_window_and_success_clears_the_count(session, ana):
    for minute in range(ACCOUNT_LIMIT):
        record_failure(session, "ana@pacer.test", "10.0.0.1", NOW + timedelta(minutes=minute))
    last = NOW + timedelta(minutes=ACCOUNT_LIMIT - 1)
    throttled = sign_in(session, "ana@pacer.test", PASSWORD, "10.0.0.2", last)
    assert throttled.outcome is Outcome.THROTTLED
    assert throttled.wait == timedelta(minutes=6)  # the oldest of the ten leaves the window at NOW + 15 min
    assert throttled.wait_message() == "Too many attempts; try again in 6 minutes."
    assert sign_in(session, "ana@pacer.test", PASSWORD, "10.0.0.2", NOW + THROTTLE_WINDOW).outcome is Outcome.SIGNED_IN
    assert (
        session.scalar(
            select(func.count()).select_from(LoginFailure).where(LoginFailure.key == account_key("ana@pacer.test"))
        )
        == 0
    )


def test_fifty_failures_from_one_address_lock_it_for_every_account(session, ana):
    for number in range(ADDRESS_LIMIT):
        record_failure(session, f"guess{number}@pacer.test", "203.0.113.9", NOW)
    assert sign_in(session, "ana@pacer.test", PASSWORD, "203.0.113.9", NOW).outcome is Outcome.THROTTLED
    assert sign_in(session, "ana@pacer.test", PASSWORD, "198.51.100.1", NOW).outcome is Outcome.SIGNED_IN


def test_unknown_and_known_emails_cost_the_same_writes(session, ana):
    unknown = sign_in(session, "nobody@pacer.test", "whatever1", "10.0.0.3", NOW)
    known = sign_in(session, "ana@pacer.test", "whatever1", "10.0.0.4", NOW)
    assert unknown.outcome is known.outcome is Outcome.WRONG
    rows = session.scalars(select(LoginFailure.key).order_by(LoginFailure.id)).all()
    assert rows == [
        account_key("nobody@pacer.test"),
        "address:10.0.0.3",
        account_key("ana@pacer.test"),
        "address:10.0.0.4",
    ]


def test_old_failures_are_forgotten(session):
    record_failure(session, "a@pacer.test", "10.0.0.5", NOW)
    record_failure(session, "b@pacer.test", "10.0.0.5", NOW + THROTTLE_WINDOW + timedelta(seconds=1))
    assert session.scalar(select(func.count()).select_from(LoginFailure)) == 2


# --- 3. API tokens -------------------------------------------------------------------------------


def test_tokens_may_expire_and_record_their_last_use(client, session):
    user = create_user(session, "api@pacer.test", "correct-horse", "viewer")
    forever, forever_plain = create_token(session, user, "forever", NOW)
    monthly, monthly_plain = create_token(session, user, "monthly", NOW, 30)
    assert forever.expires_at is None and monthly.expires_at == NOW + timedelta(days=30)
    assert authenticate_token(session, monthly_plain, NOW + timedelta(days=29)) is not None
    assert monthly.last_used_at == NOW + timedelta(days=29)
    assert authenticate_token(session, monthly_plain, NOW + timedelta(days=30)) is None
    assert authenticate_token(session, forever_plain, NOW + timedelta(days=3650)) is not None
    with pytest.raises(UserError, match="never expires"):
        create_token(session, user, "odd", NOW, 12)
    # An expired token's name may be used again.
    create_token(session, user, "monthly", NOW + timedelta(days=31))


def test_an_expired_token_is_refused_by_the_api(client, session):
    user = create_user(session, "api@pacer.test", "correct-horse", "viewer")
    _, plain = create_token(session, user, "old", datetime.now(UTC) - timedelta(days=8), 7)
    session.commit()
    response = client.get("/api/v1/brands", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 401 and "expired" in response.get_json()["error"]


def test_the_account_page_creates_expiring_tokens_and_shows_expiry_and_use(client, session, ana):
    log_in(client, "ana@pacer.test")
    page = client.post("/me/tokens", data={"name": "nightly", "lifetime": "90"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Expires (UTC)" in text and "After 90 days" in text
    token = session.scalar(select(ApiToken).where(ApiToken.name == "nightly"))
    assert token.expires_at is not None and token.expires_at - token.created_at == timedelta(days=90)
    assert token.expires_at.strftime("%Y-%m-%d %H:%M") in text
    bad = client.post("/me/tokens", data={"name": "odd", "lifetime": "12"})
    assert bad.status_code == 400
    revoked = client.post(f"/me/tokens/{token.id}/revoke", follow_redirects=True)
    assert "is revoked" in revoked.get_data(as_text=True)
    assert session.get(User, ana.id) is not None
