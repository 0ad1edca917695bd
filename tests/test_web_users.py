"""Users page (admins), your account page, API tokens, and the rules that keep an admin in charge."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models import ApiToken, User
from app.services.users import (
    TOKEN_PREFIX,
    UserError,
    authenticate_token,
    change_role,
    create_token,
    deactivate,
    reactivate,
    revoke_token,
)
from tests.helpers import PASSWORD, add_user, sign_in


@pytest.fixture
def admin(session):
    return add_user(session, "root@pacer.test", "admin")


@pytest.fixture
def admin_client(client, admin):
    sign_in(client, admin)
    return client


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- the users list and creating users ---------------------------------------------------------


def test_admin_sees_every_user_with_role_state_and_the_create_form(admin_client, session):
    add_user(session, "ana@pacer.test", "manager")
    add_user(session, "bo@pacer.test", "viewer", active=False)
    response = admin_client.get("/users")
    assert response.status_code == 200
    page = text_of(response)
    for email in ("root@pacer.test", "ana@pacer.test", "bo@pacer.test"):
        assert email in page
    assert "deactivated" in page and "Reactivate" in page
    assert 'name="password"' in page and 'name="confirm"' in page
    # An admin is offered no way to demote or deactivate themselves.
    assert "You cannot demote or deactivate yourself" in page
    assert page.count("Deactivate</button>") == 1  # only ana's row


@pytest.mark.parametrize("page", ["2", "abc", "-1", "99999999999999999999999"])
def test_odd_user_page_numbers_never_fail(admin_client, page):
    assert admin_client.get(f"/users?page={page}").status_code == 200


def test_admin_creates_a_user_who_can_then_sign_in(admin_client, session, app):
    response = admin_client.post(
        "/users",
        data={
            "email": " New.Person@Pacer.test ",
            "role": "manager",
            "password": "longenough1",
            "confirm": "longenough1",
        },
    )
    assert response.status_code == 302 and response.location.endswith("/users")
    user = session.scalar(select(User).where(User.email == "new.person@pacer.test"))
    assert user is not None and user.role == "manager" and user.active
    assert "Created manager new.person@pacer.test" in text_of(admin_client.get("/users"))

    fresh = app.test_client()
    signed_in = fresh.post("/login", data={"email": "new.person@pacer.test", "password": "longenough1"})
    assert signed_in.status_code == 302
    assert fresh.get("/me").status_code == 200


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"email": "", "password": "longenough1", "confirm": "longenough1"}, "Enter the person's email address."),
        ({"email": "not-an-email", "password": "longenough1", "confirm": "longenough1"}, "is not an email address"),
        ({"email": "x@pacer.test", "password": "short", "confirm": "short"}, "Use at least 8 characters."),
        ({"email": "x@pacer.test", "password": "longenough1", "confirm": "longenough2"}, "The two passwords differ."),
        ({"email": "ROOT@pacer.test", "password": "longenough1", "confirm": "longenough1"}, "already exists"),
        (
            {"email": "x@pacer.test", "role": "owner", "password": "longenough1", "confirm": "longenough1"},
            "Not a valid choice",
        ),
    ],
)
def test_creating_a_user_with_bad_input_shows_the_error_inline_and_creates_nobody(admin_client, session, form, message):
    response = admin_client.post("/users", data={"role": "viewer", **form})
    assert response.status_code == 400
    assert message in text_of(response)
    assert 'class="field-error"' in text_of(response)
    assert session.scalar(select(func.count()).select_from(User)) == 1


# --- changing role, deactivating ---------------------------------------------------------------


def test_admin_changes_another_users_role(admin_client, session):
    ana = add_user(session, "ana@pacer.test", "viewer")
    response = admin_client.post(f"/users/{ana.id}", data={"action": "role", "role": "manager"}, follow_redirects=True)
    assert "ana@pacer.test is now a manager." in text_of(response)
    session.refresh(ana)
    assert ana.role == "manager"

    again = admin_client.post(f"/users/{ana.id}", data={"action": "role", "role": "manager"}, follow_redirects=True)
    assert "ana@pacer.test is already a manager." in text_of(again)


def test_an_admin_cannot_demote_or_deactivate_themselves(admin_client, session, admin):
    other = add_user(session, "second@pacer.test", "admin")  # even with another admin around
    demoted = admin_client.post(f"/users/{admin.id}", data={"action": "role", "role": "viewer"}, follow_redirects=True)
    assert "You cannot remove the admin role from yourself" in text_of(demoted)
    deactivated = admin_client.post(f"/users/{admin.id}", data={"action": "deactivate"}, follow_redirects=True)
    assert "You cannot deactivate yourself" in text_of(deactivated)
    session.refresh(admin)
    assert admin.role == "admin" and admin.active
    assert other.role == "admin"


def test_an_admin_can_demote_another_admin_but_not_the_last_active_one(session, admin):
    second = add_user(session, "second@pacer.test", "admin")
    assert change_role(session, admin, second, "manager") is True
    session.commit()
    # Now root is the last active admin: nobody (e.g. a script without an acting user) may remove them.
    with pytest.raises(UserError, match="last active admin"):
        change_role(session, None, admin, "viewer")
    with pytest.raises(UserError, match="last active admin"):
        deactivate(session, None, admin)
    session.rollback()
    assert admin.role == "admin" and admin.active
    # A deactivated admin does not count as someone in charge.
    dormant = add_user(session, "dormant@pacer.test", "admin", active=False)
    with pytest.raises(UserError, match="last active admin"):
        deactivate(session, dormant, admin)
    session.rollback()
    # ...but may itself be demoted freely, since it is not active.
    assert change_role(session, admin, dormant, "viewer") is True


def test_unknown_role_is_refused_by_the_service(session, admin):
    ana = add_user(session, "ana@pacer.test", "viewer")
    with pytest.raises(UserError, match="role must be one of"):
        change_role(session, admin, ana, "owner")


def test_deactivated_user_cannot_sign_in_loses_their_session_and_tokens_then_reactivation_restores(
    admin_client, session, app, now
):
    ana = add_user(session, "ana@pacer.test", "manager")
    _, plain = create_token(session, ana, "uploader", now)
    session.commit()
    ana_client = app.test_client()
    sign_in(ana_client, ana)
    assert ana_client.get("/me").status_code == 200
    bearer = {"Authorization": f"Bearer {plain}"}
    assert app.test_client().get("/api/v1/brands", headers=bearer).status_code == 200

    response = admin_client.post(f"/users/{ana.id}", data={"action": "deactivate"}, follow_redirects=True)
    assert "ana@pacer.test is deactivated" in text_of(response)
    session.refresh(ana)
    assert not ana.active

    assert ana_client.get("/me").status_code == 302  # their open session no longer counts
    refused = app.test_client().post("/login", data={"email": "ana@pacer.test", "password": PASSWORD})
    assert refused.status_code == 400 and "This account has been deactivated" in text_of(refused)
    assert authenticate_token(session, plain, now) is None
    assert app.test_client().get("/api/v1/brands", headers=bearer).status_code == 401

    back = admin_client.post(f"/users/{ana.id}", data={"action": "reactivate"}, follow_redirects=True)
    assert "ana@pacer.test can sign in again" in text_of(back)
    assert authenticate_token(session, plain, now) == ana
    assert app.test_client().get("/api/v1/brands", headers=bearer).status_code == 200
    assert app.test_client().post("/login", data={"email": "ana@pacer.test", "password": PASSWORD}).status_code == 302


def test_reactivate_and_deactivate_report_when_nothing_changes(session, admin):
    ana = add_user(session, "ana@pacer.test", "viewer")
    assert reactivate(session, ana) is False
    assert deactivate(session, admin, ana) is True
    assert deactivate(session, admin, ana) is False


@pytest.mark.parametrize("data", [{}, {"action": "explode"}, {"action": "role", "role": "owner"}])
def test_a_bad_update_changes_nothing_and_says_so(admin_client, session, data):
    ana = add_user(session, "ana@pacer.test", "viewer")
    response = admin_client.post(f"/users/{ana.id}", data=data, follow_redirects=True)
    assert response.status_code == 200
    page = text_of(response)
    assert "nothing was changed" in page or "role must be one of" in page
    session.refresh(ana)
    assert ana.role == "viewer" and ana.active


def test_updating_an_unknown_user_is_404(admin_client):
    assert admin_client.post("/users/999999", data={"action": "deactivate"}).status_code == 404


@pytest.mark.parametrize("role", ["viewer", "manager"])
def test_only_admins_reach_the_users_pages(client, session, role, admin):
    user = add_user(session, f"{role}@pacer.test", role)
    sign_in(client, user)
    assert client.get("/users").status_code == 403
    assert (
        client.post(
            "/users",
            data={"email": "x@pacer.test", "role": "admin", "password": "longenough1", "confirm": "longenough1"},
        ).status_code
        == 403
    )
    assert client.post(f"/users/{admin.id}", data={"action": "deactivate"}).status_code == 403
    session.refresh(admin)
    assert admin.active
    assert session.scalar(select(func.count()).select_from(User)) == 2


# --- your account ------------------------------------------------------------------------------


def test_me_shows_your_email_role_and_token_section(client, session):
    viewer = add_user(session, "vera@pacer.test", "viewer")
    sign_in(client, viewer)
    response = client.get("/me")
    assert response.status_code == 200
    page = text_of(response)
    assert "vera@pacer.test" in page and "Reads everything, changes nothing." in page
    assert "No API tokens yet" in page
    assert response.headers["Cache-Control"] == "no-store"


def test_changing_your_password_needs_the_current_one(client, session, app):
    ana = add_user(session, "ana@pacer.test", "manager")
    sign_in(client, ana)
    wrong = client.post("/me/password", data={"current": "nope", "new": "brand new pw", "confirm": "brand new pw"})
    assert wrong.status_code == 400 and "The current password is not right." in text_of(wrong)
    short = client.post("/me/password", data={"current": PASSWORD, "new": "short", "confirm": "short"})
    assert short.status_code == 400 and "Use at least 8 characters." in text_of(short)
    differ = client.post("/me/password", data={"current": PASSWORD, "new": "brand new pw", "confirm": "brand new px"})
    assert differ.status_code == 400 and "The two passwords differ." in text_of(differ)
    session.refresh(ana)
    assert ana.check_password(PASSWORD)

    done = client.post(
        "/me/password",
        data={"current": PASSWORD, "new": "brand new pw", "confirm": "brand new pw"},
        follow_redirects=True,
    )
    assert "Your password is changed." in text_of(done)
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": "ana@pacer.test", "password": PASSWORD}).status_code == 400
    assert fresh.post("/login", data={"email": "ana@pacer.test", "password": "brand new pw"}).status_code == 302


# --- API tokens --------------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_only_its_sha256_is_stored(client, session):
    vera = add_user(session, "vera@pacer.test", "viewer")  # viewers may have read-only tokens
    sign_in(client, vera)
    response = client.post("/me/tokens", data={"name": "nightly report"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = text_of(response)
    match = re.search(r'id="new-token" type="text" value="(pcr_[A-Za-z0-9_-]+)"', page)
    assert match, "the plain token is rendered in the response"
    plain = match.group(1)
    assert len(plain) >= len(TOKEN_PREFIX) + 43  # token_urlsafe(32) is 43 characters

    token = session.scalar(select(ApiToken).where(ApiToken.user_id == vera.id))
    assert token.name == "nightly report"
    assert token.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in (token.name, token.token_hash)
    # Not flashed, not kept in the session cookie, not shown again.
    with client.session_transaction() as sess:
        assert plain not in repr(dict(sess))
    assert plain not in (response.headers.get("Set-Cookie") or "")
    later = text_of(client.get("/me"))
    assert plain not in later and "nightly report" in later and "never" in later


def test_tokens_are_random(session, admin, now):
    plains = {create_token(session, admin, f"t{i}", now)[1] for i in range(5)}
    assert len(plains) == 5 and all(p.startswith("pcr_") for p in plains)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the token a name"),
        ("   ", "Give the token a name"),
        ("x" * 101, "Use at most 100 characters."),
    ],
)
def test_a_token_needs_a_sensible_name(admin_client, session, name, message):
    response = admin_client.post("/me/tokens", data={"name": name})
    assert response.status_code == 400 and message in text_of(response)
    assert "pcr_" not in text_of(response)
    assert session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_a_live_token_name_is_not_reused_but_a_revoked_ones_is(admin_client, session, admin, now):
    token, _ = create_token(session, admin, "uploader", now)
    session.commit()
    duplicate = admin_client.post("/me/tokens", data={"name": "uploader"})
    assert duplicate.status_code == 400 and "already have a token named" in text_of(duplicate)
    revoke_token(session, admin, token.id, now)
    session.commit()
    assert admin_client.post("/me/tokens", data={"name": "uploader"}).status_code == 200


def test_authenticate_token_finds_the_user_and_records_its_use(session, admin, now):
    token, plain = create_token(session, admin, "script", now)
    later = now + timedelta(hours=2)
    assert authenticate_token(session, plain, later) == admin
    assert token.last_used_at == later
    assert authenticate_token(session, plain + "x", later) is None
    assert authenticate_token(session, "not-a-token", later) is None
    assert authenticate_token(session, "", later) is None
    assert authenticate_token(session, None, later) is None
    assert authenticate_token(session, hashlib.sha256(plain.encode()).hexdigest(), later) is None  # the hash is no key


def test_revoking_your_token_stops_it_working(admin_client, session, admin, now, app):
    token, plain = create_token(session, admin, "uploader", now)
    session.commit()
    bearer = {"Authorization": f"Bearer {plain}"}
    assert app.test_client().get("/api/v1/brands", headers=bearer).status_code == 200
    session.refresh(token)
    assert token.last_used_at is not None  # the API records each use
    response = admin_client.post(f"/me/tokens/{token.id}/revoke", follow_redirects=True)
    assert response.status_code == 200
    assert "Token “uploader” is revoked" in text_of(response)
    session.refresh(token)
    revoked_at = token.revoked_at
    assert revoked_at is not None
    assert authenticate_token(session, plain, now) is None
    assert app.test_client().get("/api/v1/brands", headers=bearer).status_code == 401
    # Revoking again is harmless and keeps the first time.
    admin_client.post(f"/me/tokens/{token.id}/revoke")
    session.refresh(token)
    assert token.revoked_at == revoked_at
    assert "revoked" in text_of(admin_client.get("/me"))


def test_you_cannot_revoke_someone_elses_token(admin_client, session, now):
    ana = add_user(session, "ana@pacer.test", "manager")
    token, plain = create_token(session, ana, "ana's script", now)
    session.commit()
    assert admin_client.post(f"/me/tokens/{token.id}/revoke").status_code == 404  # even an admin
    assert admin_client.post("/me/tokens/999999/revoke").status_code == 404
    session.refresh(token)
    assert token.revoked_at is None
    assert authenticate_token(session, plain, now) == ana
    assert "ana's script" not in text_of(admin_client.get("/me"))  # nor see it
