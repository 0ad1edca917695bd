"""Signing in through the real login form, with real CSRF."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, email

pytestmark = pytest.mark.browser


def test_a_page_asks_for_a_login_first(page):
    page.goto("/activity")

    expect(page).to_have_url("/login?next=%2Factivity")
    expect(page.get_by_role("heading", name="Sign in to Pacer")).to_be_visible()
    expect(page.get_by_text("Please sign in to continue.")).to_be_visible()
    expect(page.get_by_role("link", name="Activity")).to_have_count(0)


def test_a_wrong_password_shows_the_error_and_the_right_one_lands_on_the_overview(page, live):
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(email("manager"))
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_text("That email and password do not match an account.")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Email", exact=True)).to_have_value(email("manager"))  # kept for the second try
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(live.url + "/")
    expect(page.get_by_role("status").filter(has_text=f"Signed in as {email('manager')}")).to_be_visible()
    expect(page.get_by_role("heading", name="Brands", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Latest automatic actions")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_signing_in_returns_to_the_page_asked_for_and_signing_out_ends_the_session(page):
    page.goto("/activity")
    page.get_by_label("Email", exact=True).fill(email("viewer"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Activity", exact=True)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status").filter(has_text="Signed out.")).to_be_visible()
    page.goto("/activity")
    expect(page.get_by_role("heading", name="Sign in to Pacer")).to_be_visible()
