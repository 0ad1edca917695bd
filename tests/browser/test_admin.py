"""An admin's pages: users (create with an inline error first, change a role, deactivate), the
job dashboard at /rq (admins only), and everyone's own account page with API tokens."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, unique

pytestmark = pytest.mark.browser


def test_an_admin_adds_a_user_changes_the_role_and_deactivates_them(page, new_page):
    person = unique("new.person").replace(" ", "-") + "@agency.test"
    login(page, "admin")
    page.get_by_role("banner").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()

    form = page.get_by_role("article").filter(has=page.get_by_role("heading", name="Add a user"))
    form.get_by_label("Email").fill(person)
    form.get_by_label(re.compile(r"^Role")).select_option("manager")
    form.get_by_label(re.compile(r"^Password")).fill("long-enough-1")
    form.get_by_label("Repeat the password").fill("long-enough-2")
    form.get_by_role("button", name="Create user").click()
    expect(page.get_by_text("The two passwords differ.")).to_be_visible()
    expect(form.get_by_label("Email")).to_have_value(person)

    form.get_by_label(re.compile(r"^Password")).fill("long-enough-1")
    form.get_by_label("Repeat the password").fill("long-enough-1")
    form.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("status").filter(has_text=f"Created manager {person}.")).to_be_visible()

    row = page.get_by_role("row").filter(has_text=person)
    row.get_by_label(f"Role for {person}").select_option("viewer")
    row.get_by_role("button", name="Change role").click()
    expect(page.get_by_role("status").filter(has_text=f"{person} is now a viewer.")).to_be_visible()

    # The new person signs in with the role just given.
    other = new_page()
    other.goto("/login")
    other.get_by_label("Email", exact=True).fill(person)
    other.get_by_label("Password").fill("long-enough-1")
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_role("banner")).to_contain_text("viewer")

    page.get_by_role("button", name=f"Deactivate {person}").click()
    expect(page.get_by_role("status").filter(has_text=f"{person} is deactivated")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=person)).to_contain_text("deactivated")

    other.context.clear_cookies()
    other.goto("/login")
    other.get_by_label("Email", exact=True).fill(person)
    other.get_by_label("Password").fill("long-enough-1")
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_text("This account has been deactivated; ask an admin.")).to_be_visible()

    # Admins cannot lock themselves out from the page.
    me = page.get_by_role("row").filter(has_text="admin@browser.test")
    expect(me).to_contain_text("You cannot demote or deactivate yourself.")
    expect(me.get_by_role("button")).to_have_count(0)


def test_the_job_dashboard_is_for_admins_only(page, new_page, jobs):
    login(page, "admin")
    page.get_by_role("banner").get_by_role("link", name="Jobs").click()
    expect(page).to_have_url(re.compile(r"/rq/"))
    expect(page.get_by_role("heading", name="Queues")).to_be_visible()
    expect(page.get_by_role("link", name="Workers")).to_be_visible()

    manager = new_page()
    login(manager, "manager")
    expect(manager.get_by_role("banner").get_by_role("link", name="Jobs")).to_have_count(0)
    for path in ("/rq/", "/rq/0/data/queues.json"):
        manager.goto(path)
        expect(manager.get_by_role("heading", name="403 · Not allowed")).to_be_visible()


def test_everyone_creates_and_revokes_their_own_api_token(page):
    login(page, "viewer")
    page.get_by_role("banner").get_by_role("link", name="viewer@browser.test").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.get_by_text("Reads everything, changes nothing.")).to_be_visible()

    page.get_by_label("Token name").fill("nightly report")
    page.get_by_role("button", name=re.compile("^Create")).click()
    token = page.get_by_label("Token", exact=True)
    expect(token).to_have_value(re.compile(r"^pcr_"))
    row = page.get_by_role("row").filter(has_text="nightly report")
    expect(row).to_contain_text("live")
    expect(row).to_contain_text("never")

    page.get_by_role("button", name="Revoke token nightly report").click()
    expect(page.get_by_role("row").filter(has_text="nightly report")).to_contain_text("revoked")
    expect(page.get_by_label("Token", exact=True)).to_have_count(0)  # shown once, never again

    # The password form says what is wrong, inline.
    page.get_by_label("Current password").fill("wrong-password")
    page.get_by_label(re.compile(r"^New password")).fill("another-pass-1")
    page.get_by_label("Repeat the new password").fill("another-pass-1")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("The current password is not right.")).to_be_visible()
    expect(page.get_by_label("Current password")).to_have_attribute("aria-invalid", "true")
