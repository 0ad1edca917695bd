"""Campaign pages: add, edit, schedule grid (as a plain checkbox form), spend form, archive, history, roles."""

from __future__ import annotations

import html
import os
import re
import shutil
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from app.control import Window
from app.models import Campaign, CampaignEvent, ScheduleWindow, SpendRecord, User
from app.services.reconcile import reconcile_brand, reconcile_brands
from tests import helpers
from tests.helpers import sign_in

# Monday 23 November 2026, 09:30 UTC: the clock every test here runs at.
FROZEN = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock(request):
    if request.node.get_closest_marker("browser"):  # a live server and a browser run on the real clock
        yield
        return
    with time_machine.travel(FROZEN, tick=False):
        yield


def add_user(session, role: str) -> User:
    return helpers.add_user(session, f"{role}@pacer.test", role)


@pytest.fixture
def manager(client, session):
    user = add_user(session, "manager")
    sign_in(client, user)
    return user


@pytest.fixture
def viewer(client, session):
    user = add_user(session, "viewer")
    sign_in(client, user)
    return user


@pytest.fixture
def brand(make, session):
    brand = make.brand("Acme", daily="100", monthly="2000")
    session.commit()
    return brand


@pytest.fixture
def campaign(make, session, brand):
    campaign = make.campaign(brand, "Search")
    reconcile_brand(session, brand.id, FROZEN, actor="enforce_budgets")
    session.commit()
    return campaign


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as sess:
        return list(sess.get("_flashes", []))


def stored_windows(session, campaign_id: int) -> list[tuple[int, int, int]]:
    rows = session.execute(
        select(ScheduleWindow.day_of_week, ScheduleWindow.start_minute, ScheduleWindow.end_minute)
        .where(ScheduleWindow.campaign_id == campaign_id)
        .order_by(ScheduleWindow.day_of_week, ScheduleWindow.start_minute)
    ).all()
    return [tuple(row) for row in rows]


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def checked_values(page: str) -> set[str]:
    return set(re.findall(r'<input type="checkbox" name="q" value="(\d:\d+)"[^>]*\bchecked\b', page))


# --- adding a campaign ---------------------------------------------------------------------


def test_new_campaign_form_renders_for_a_manager(client, manager, brand):
    response = client.get(f"/brands/{brand.id}/campaigns/new")
    page = text_of(response)
    assert response.status_code == 200
    assert "Add a campaign to Acme" in page
    for name in ("name", "enabled", "start_date", "end_date"):
        assert f'name="{name}"' in page


def test_create_campaign_trims_the_name_reconciles_and_logs_the_user(client, manager, brand, session):
    response = client.post(
        f"/brands/{brand.id}/campaigns/new",
        data={"name": "  Brand search  ", "enabled": "y", "start_date": "2026-11-01", "end_date": "2026-12-31"},
    )
    campaign = session.scalar(select(Campaign))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/campaigns/{campaign.id}")
    assert campaign.name == "Brand search"
    assert (campaign.start_date, campaign.end_date) == (date(2026, 11, 1), date(2026, 12, 31))
    assert campaign.status == "active" and campaign.status_changed_at == FROZEN
    event = session.scalar(select(CampaignEvent))
    assert (event.actor, event.automatic, event.new_status) == ("user:manager@pacer.test", False, "active")
    assert any("Added Brand search: it is active" in message for _, message in flashes(client))


def test_create_switched_off_campaign_says_why_it_is_paused(client, manager, brand, session):
    client.post(f"/brands/{brand.id}/campaigns/new", data={"name": "Display"})  # the switch left unticked
    campaign = session.scalar(select(Campaign))
    assert (campaign.enabled, campaign.status, campaign.reasons) == (False, "paused", ["disabled"])
    assert any("paused (Switched off)" in message for _, message in flashes(client))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "Search", "enabled": "y"}, "name", "Acme already has a campaign named 'Search'."),
        ({"name": "   ", "enabled": "y"}, "name", "A name is required."),
        ({"enabled": "y"}, "name", "A name is required."),
        (
            {"name": "Video", "start_date": "2026-12-10", "end_date": "2026-12-01"},
            "end_date",
            "The flight must end on or after its start (2026-12-10).",
        ),
        ({"name": "Video", "start_date": "2026-13-01"}, "start_date", "Not a valid date value."),
        ({"name": "x" * 300}, "name", "At most 200 characters (this one has 300)."),
    ],
)
def test_create_campaign_bad_input_shows_inline_errors_and_stores_nothing(
    client, manager, brand, campaign, session, data, field, message
):
    before = count(session, Campaign)
    response = client.post(f"/brands/{brand.id}/campaigns/new", data=data)
    page = text_of(response)
    assert response.status_code == 400
    assert re.search(rf'id="{field}-error" class="field-error">[^<]*{re.escape(message)}', page), page
    assert count(session, Campaign) == before


def test_a_name_held_by_an_archived_campaign_is_reported_as_such(client, manager, brand, campaign, session):
    campaign.archived_at = FROZEN - timedelta(days=1)
    session.commit()
    response = client.post(f"/brands/{brand.id}/campaigns/new", data={"name": "Search"})
    assert response.status_code == 400
    assert "Acme already has a campaign (archived) named 'Search'." in text_of(response)


def test_new_campaign_for_an_unknown_brand_is_404(client, manager):
    assert client.get("/brands/999/campaigns/new").status_code == 404


def test_archived_brand_cannot_get_campaigns(client, manager, brand, session):
    brand.archived_at = FROZEN
    session.commit()
    response = client.post(f"/brands/{brand.id}/campaigns/new", data={"name": "Late"})
    assert response.status_code == 302 and count(session, Campaign) == 0


# --- the campaign page ---------------------------------------------------------------------


def test_show_page_has_status_facts_grid_strip_and_history(client, manager, campaign):
    response = client.get(f"/campaigns/{campaign.id}")
    page = text_of(response)
    assert response.status_code == 200
    assert 'class="badge badge-active">active' in page
    assert "since 2026-11-23 09:30 UTC (UTC)" in page
    assert "0.00 / 100.00 USD daily budget" in page and "0.00 / 2,000.00 USD monthly budget" in page
    assert "2026-11-23 09:30+00:00 (UTC)" in page  # the local time of the latest decision
    assert "No hours selected: this campaign runs at any hour" in page
    assert page.count('type="checkbox" name="q"') == 7 * 96
    assert 'aria-label="Monday 09:00–09:15"' in page and 'value="0:540"' in page
    assert 'aria-label="Sunday 23:45–24:00"' in page and 'value="6:1425"' in page
    assert "Next 7 days" in page and "Budgets are not counted here" in page
    assert "Today · Mon 23 Nov" in page and "09:30–24:00" in page and "Sun 29 Nov" in page
    assert "enforce_budgets" in page and "automatic" in page
    assert f'action="/campaigns/{campaign.id}/spend"' in page


def test_show_unknown_campaign_is_404(client, manager):
    assert client.get("/campaigns/424242").status_code == 404


def test_viewer_sees_everything_read_only(client, viewer, campaign):
    page = text_of(client.get(f"/campaigns/{campaign.id}"))
    assert 'class="badge badge-active">active' in page
    assert page.count(" disabled>") == 7 * 96  # every grid checkbox is disabled
    assert "Save schedule" not in page and 'id="edit-form"' not in page
    assert f'action="/campaigns/{campaign.id}/spend"' not in page
    assert "Archive Search" not in page
    assert "Your role cannot record spend." in page


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/brands/{brand}/campaigns/new"),
        ("post", "/brands/{brand}/campaigns/new"),
        ("post", "/campaigns/{campaign}/edit"),
        ("post", "/campaigns/{campaign}/schedule"),
        ("post", "/campaigns/{campaign}/archive"),
        ("post", "/campaigns/{campaign}/spend"),
    ],
)
def test_viewer_gets_403_on_every_change(client, viewer, brand, campaign, session, method, path):
    events = count(session, CampaignEvent)
    url = path.format(brand=brand.id, campaign=campaign.id)
    data = {"name": "Hijack", "q": "0:0", "amount": "5"}
    response = getattr(client, method)(url, data=data) if method == "post" else client.get(url)
    assert response.status_code == 403
    session.expire_all()
    assert campaign.name == "Search" and campaign.archived_at is None and campaign.windows == []
    assert count(session, SpendRecord) == 0 and count(session, CampaignEvent) == events


def test_signed_out_visitor_is_sent_to_login(client, campaign):
    response = client.get(f"/campaigns/{campaign.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- editing -------------------------------------------------------------------------------


def test_edit_applies_at_once_and_history_shows_the_user(client, manager, campaign, session):
    response = client.post(
        f"/campaigns/{campaign.id}/edit", data={"name": "Search (EU)", "start_date": "", "end_date": ""}
    )
    assert response.status_code == 302
    session.expire_all()
    assert (campaign.name, campaign.enabled, campaign.status, campaign.reasons) == (
        "Search (EU)",
        False,
        "paused",
        ["disabled"],
    )
    assert any(m == "Saved. Search (EU) is now paused (Switched off)." for _, m in flashes(client))
    page = text_of(client.get(f"/campaigns/{campaign.id}"))
    history = page[page.index('id="history"') :]
    body = history[history.index("<tbody>") :]
    first_row = body[: body.index("</tr>")]
    assert "manager@pacer.test" in first_row and "manual" in first_row
    assert "active → " in first_row and "Switched off" in first_row and "switched off" in first_row
    event = session.scalar(select(CampaignEvent).order_by(CampaignEvent.id.desc()))
    assert (event.actor, event.automatic, event.old_status, event.new_status) == (
        "user:manager@pacer.test",
        False,
        "active",
        "paused",
    )


def test_edit_flight_in_the_past_pauses_for_flight(client, manager, campaign, session):
    client.post(
        f"/campaigns/{campaign.id}/edit",
        data={"name": "Search", "enabled": "y", "start_date": "2026-10-01", "end_date": "2026-10-31"},
    )
    session.expire_all()
    assert campaign.reasons == ["flight"]
    assert any("is now paused (Outside its flight dates)" in m for _, m in flashes(client))


def test_edit_with_no_change_says_so(client, manager, campaign, session):
    client.post(f"/campaigns/{campaign.id}/edit", data={"name": "Search", "enabled": "y"})
    assert any(m == "Nothing to change. Search is still active." for _, m in flashes(client))
    assert count(session, CampaignEvent) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Display", "enabled": "y"}, "Acme already has a campaign named 'Display'."),
        ({"name": "", "enabled": "y"}, "A name is required."),
        ({"name": "Search", "start_date": "2026-12-02", "end_date": "2026-12-01"}, "The flight must end on or after"),
    ],
)
def test_edit_bad_input_changes_nothing(client, manager, make, brand, campaign, session, data, message):
    make.campaign(brand, "Display")
    session.commit()
    response = client.post(f"/campaigns/{campaign.id}/edit", data=data)
    assert response.status_code == 400
    page = text_of(response)
    assert message in page
    assert 'id="edit-form"' in page  # the form comes back with the errors beside its fields
    session.expire_all()
    assert (campaign.name, campaign.enabled, campaign.start_date) == ("Search", True, None)
    assert count(session, CampaignEvent) == 1


# --- the schedule grid as a plain form ----------------------------------------------------


def quarters(day: int, start: str, end: str) -> list[str]:
    h1, m1 = map(int, start.split(":"))
    h2, m2 = map(int, end.split(":"))
    return [f"{day}:{minute}" for minute in range(h1 * 60 + m1, h2 * 60 + m2, 15)]


def test_schedule_checkboxes_become_merged_windows(client, manager, campaign, session):
    checked = (
        quarters(0, "09:00", "10:15")
        + quarters(2, "13:15", "13:30")
        + quarters(1, "23:00", "24:00")
        + quarters(0, "12:00", "12:30")
    )
    response = client.post(f"/campaigns/{campaign.id}/schedule", data={"q": checked})
    assert response.status_code == 302 and response.headers["Location"].endswith("#schedule")
    assert stored_windows(session, campaign.id) == [(0, 540, 615), (0, 720, 750), (1, 1380, 1440), (2, 795, 810)]
    session.expire_all()
    assert campaign.status == "active"  # Monday 09:30 is inside Monday 09:00-10:15
    message = next(m for _, m in flashes(client) if m.startswith("Schedule saved"))
    assert message == (
        "Schedule saved (Mon 09:00–10:15, 12:00–12:30; Tue 23:00–24:00; Wed 13:15–13:30). Search is still active."
    )
    page = text_of(client.get(f"/campaigns/{campaign.id}"))
    assert checked_values(page) == set(checked)
    assert (
        "Runs only in these hours: <strong>Mon 09:00–10:15, 12:00–12:30; Tue 23:00–24:00; Wed 13:15–13:30</strong>."
    ) in page
    assert "Today · Mon 23 Nov" in page and "09:30–10:15, 12:00–12:30" in page


def test_schedule_outside_now_pauses_and_joins_identical_days(client, manager, campaign, session):
    checked = [q for day in range(5) for q in quarters(day, "13:00", "17:00")]
    client.post(f"/campaigns/{campaign.id}/schedule", data={"q": checked})
    session.expire_all()
    assert (campaign.status, campaign.reasons) == ("paused", ["schedule"])
    assert stored_windows(session, campaign.id) == [(day, 780, 1020) for day in range(5)]
    assert any(
        m == "Schedule saved (Mon–Fri 13:00–17:00). Search is now paused (Outside its dayparting hours)."
        for _, m in flashes(client)
    )
    event = session.scalar(select(CampaignEvent).order_by(CampaignEvent.id.desc()))
    assert event.actor == "user:manager@pacer.test" and event.facts["windows"] == 5 and event.facts["window"] is None


def test_schedule_with_nothing_checked_asks_what_was_meant(client, manager, make, brand, session):
    campaign = make.campaign(brand, "Night", windows=(Window(6, 0, 60),))
    reconcile_brand(session, brand.id, FROZEN, actor="test")
    session.commit()
    events = count(session, CampaignEvent)
    response = client.post(f"/campaigns/{campaign.id}/schedule", data={})
    assert response.status_code == 400
    page = text_of(response)
    assert "No hour is checked, and nothing was saved." in page
    assert 'name="if_empty" value="any_hour"' in page and 'name="if_empty" value="switch_off"' in page
    assert stored_windows(session, campaign.id) == [(6, 0, 60)] and count(session, CampaignEvent) == events
    # A made-up choice is asked again, never read as "any hour".
    assert client.post(f"/campaigns/{campaign.id}/schedule", data={"if_empty": "maybe"}).status_code == 400
    assert stored_windows(session, campaign.id) == [(6, 0, 60)]


def test_never_run_switches_the_campaign_off_and_keeps_its_schedule(client, manager, make, brand, session):
    campaign = make.campaign(brand, "Night", windows=(Window(0, 540, 600),))
    reconcile_brand(session, brand.id, FROZEN, actor="test")
    session.commit()
    assert campaign.status == "active"
    response = client.post(f"/campaigns/{campaign.id}/schedule", data={"if_empty": "switch_off"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#schedule")
    session.expire_all()
    assert (campaign.enabled, campaign.status, campaign.reasons) == (False, "paused", ["disabled"])
    assert stored_windows(session, campaign.id) == [(0, 540, 600)]
    assert any(m.startswith("Switched off, so it never runs") and "(Mon 09:00–10:00)" in m for _, m in flashes(client))


def test_schedule_cleared_on_purpose_runs_at_any_hour(client, manager, make, brand, session):
    campaign = make.campaign(brand, "Night", windows=(Window(6, 0, 60),))
    reconcile_brand(session, brand.id, FROZEN, actor="test")
    session.commit()
    assert campaign.status == "paused"
    client.post(f"/campaigns/{campaign.id}/schedule", data={"if_empty": "any_hour"})
    assert stored_windows(session, campaign.id) == []
    session.expire_all()
    assert campaign.status == "active"
    assert any(m.startswith("Schedule cleared: the campaign may run at any hour.") for _, m in flashes(client))


def test_what_decides_it_follows_a_schedule_save_that_kept_it_active(client, manager, campaign, session):
    # Finding 2: the save changed no status, so no event was written; the panel still shows the facts now.
    client.post(f"/campaigns/{campaign.id}/schedule", data={"q": quarters(0, "09:00", "10:00")})
    session.expire_all()
    assert campaign.status == "active"
    page = text_of(client.get(f"/campaigns/{campaign.id}"))
    facts = page[page.index('id="decision-facts"') : page.index("</dl>", page.index('id="decision-facts"'))]
    assert "inside Mon 09:00–10:00" in facts and "no schedule" not in facts


def test_schedule_resubmitted_unchanged_writes_nothing(client, manager, make, brand, session):
    campaign = make.campaign(brand, "Night", windows=(Window(0, 540, 600),))
    session.commit()
    client.post(f"/campaigns/{campaign.id}/schedule", data={"q": quarters(0, "09:00", "10:00")})
    assert any(m.startswith("The schedule is unchanged.") for _, m in flashes(client))
    assert stored_windows(session, campaign.id) == [(0, 540, 600)]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("junk", "'junk' is not a quarter-hour of the grid"),
        ("7:540", "'7:540': day 7 does not exist"),
        ("0:545", "'0:545': minute 545 is not on a quarter-hour"),
        ("0:1440", "'0:1440': minute 1440 is past the end of the day"),
        ("-1:0", "'-1:0' is not a quarter-hour of the grid"),
        ("0:", "'0:' is not a quarter-hour of the grid"),
        ("", "'' is not a quarter-hour of the grid"),
        ("0:540:1", "'0:540:1' is not a quarter-hour of the grid"),
    ],
)
def test_bad_schedule_values_are_400_and_change_nothing(client, manager, make, brand, session, value, message):
    campaign = make.campaign(brand, "Night", windows=(Window(0, 540, 600),))
    session.commit()
    response = client.post(f"/campaigns/{campaign.id}/schedule", data={"q": ["1:0", value]})
    assert response.status_code == 400
    page = text_of(response)
    assert "The schedule was not saved:" in page and message in page
    assert stored_windows(session, campaign.id) == [(0, 540, 600)]
    assert checked_values(page) == set(quarters(0, "09:00", "10:00"))  # the grid shows what is stored
    assert count(session, CampaignEvent) == 0


def test_schedule_post_without_csrf_token_is_refused(app, client, manager, campaign, session):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(f"/campaigns/{campaign.id}/schedule", data={"q": ["0:0"]})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert "CSRF" in text_of(response)
    assert stored_windows(session, campaign.id) == []


# --- recording spend -----------------------------------------------------------------------


def test_spend_form_records_and_enforces_at_once_without_redis(client, manager, campaign, session):
    response = client.post(
        f"/campaigns/{campaign.id}/spend",
        data={"amount": "12.50", "spent_at": "2026-11-23T08:15", "external_id": "fb-1"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#spend")
    record = session.scalar(select(SpendRecord))
    assert (record.amount_minor, record.spent_at, record.source, record.external_id) == (
        1250,
        datetime(2026, 11, 23, 8, 15, tzinfo=UTC),
        "manual",
        "fb-1",
    )
    messages = flashes(client)
    assert ("success", "Recorded 12.50 USD for Search at 2026-11-23 08:15 (UTC).") in messages
    # No Redis in these tests: the one fallback enforces in the request itself.
    assert (
        "warning",
        "Enforced at once in this process (no Redis is configured (REDIS_URL unset and no embedded "
        "server running)): budgets and schedules of 1 brand applied, 0 campaign changes.",
    ) in messages
    # The same external id again adds nothing.
    client.post(f"/campaigns/{campaign.id}/spend", data={"amount": "12.50", "external_id": "fb-1"})
    assert count(session, SpendRecord) == 1
    assert any("already recorded for Acme; nothing was added" in m for _, m in flashes(client))


def test_spend_time_is_read_in_the_brand_zone(client, manager, make, session):
    brand = make.brand("Gotham", timezone="America/New_York")
    campaign = make.campaign(brand, "Search")
    session.commit()
    client.post(f"/campaigns/{campaign.id}/spend", data={"amount": "3", "spent_at": "2026-11-22T23:30"})
    record = session.scalar(select(SpendRecord))
    assert record.spent_at == datetime(2026, 11, 23, 4, 30, tzinfo=UTC)
    assert record.local_date == date(2026, 11, 22)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amount": "-5"}, "amount", "Amount '-5' is negative"),
        ({"amount": "1.234"}, "amount", "has 3 decimals; USD allows at most 2 decimals"),
        ({"amount": "12,50"}, "amount", "is not a plain decimal number"),
        ({"amount": ""}, "amount", "Enter the amount spent."),
        ({"amount": "5", "spent_at": "yesterday"}, "spent_at", "is not ISO 8601"),
        ({"amount": "5", "spent_at": "2026-02-30T10:00"}, "spent_at", "is not a real date and time"),
        (
            {"amount": "5", "spent_at": "2026-11-23T09:36"},
            "spent_at",
            "The spent_at time 2026-11-23 09:36 UTC is in the future",
        ),
        (
            {"amount": "5", "spent_at": "2099-01-01T00:00"},
            "spent_at",
            "The spent_at time 2099-01-01 00:00 UTC is in the future",
        ),
        (
            {"amount": "5", "spent_at": "1999-12-31T23:59"},
            "spent_at",
            "The spent_at time 1999-12-31 23:59 UTC is before 2000-01-01",
        ),
        (
            {"amount": "5", "spent_at": "0001-01-01T00:00"},
            "spent_at",
            "The spent_at time 0001-01-01 00:00 UTC is before 2000-01-01",
        ),
        ({"amount": "5", "external_id": "x" * 201}, "external_id", "Field cannot be longer than 200 characters."),
    ],
)
def test_bad_spend_input_stores_nothing(client, manager, campaign, session, data, field, message):
    # Post, redirect, get: the error is shown at the form (its field focused, so in view), and a reload is a GET.
    response = client.post(f"/campaigns/{campaign.id}/spend", data=data)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/campaigns/{campaign.id}"
    page = client.get(f"/campaigns/{campaign.id}")
    assert page.status_code == 200
    assert re.search(rf'id="{field}-error" class="field-error">[^<]*{re.escape(message)}', text_of(page))
    assert re.search(rf'<input[^>]*autofocus[^>]*id="{field}"|<input[^>]*id="{field}"[^>]*autofocus', text_of(page))
    assert count(session, SpendRecord) == 0
    reloaded = text_of(client.get(f"/campaigns/{campaign.id}"))
    assert f'id="{field}-error"' not in reloaded and "autofocus" not in reloaded


def test_a_refused_spend_keeps_what_was_typed(client, manager, campaign, session):
    client.post(f"/campaigns/{campaign.id}/spend", data={"amount": "12.345", "external_id": "fb-77"})
    page = text_of(client.get(f"/campaigns/{campaign.id}"))
    assert 'value="12.345"' in page and 'value="fb-77"' in page
    assert "USD allows at most 2 decimals" in page
    # The kept form belongs to that campaign only.
    other = Campaign(brand_id=campaign.brand_id, name="Other")
    session.add(other)
    session.commit()
    client.post(f"/campaigns/{campaign.id}/spend", data={"amount": "x"})
    assert "field-error" not in text_of(client.get(f"/campaigns/{other.id}"))
    assert count(session, SpendRecord) == 0


def test_the_spend_url_is_not_a_dead_end_on_reload(client, manager, campaign):
    assert client.get(f"/campaigns/{campaign.id}/spend").status_code in (301, 302, 303, 308)


def test_spend_in_a_dst_gap_is_refused(client, manager, make, session):
    brand = make.brand("Gotham", timezone="America/New_York")
    campaign = make.campaign(brand, "Search")
    session.commit()
    # Sunday 8 March 2026: New York's clocks jump from 02:00 to 03:00.
    response = client.post(f"/campaigns/{campaign.id}/spend", data={"amount": "5", "spent_at": "2026-03-08T02:30"})
    assert response.status_code == 303
    assert "2026-03-08 02:30 does not exist in America/New_York" in text_of(client.get(response.headers["Location"]))
    assert count(session, SpendRecord) == 0


def test_spend_reaching_the_daily_budget_pauses_at_once(client, manager, campaign, session):
    client.post(f"/campaigns/{campaign.id}/spend", data={"amount": "60"})
    client.post(f"/campaigns/{campaign.id}/spend", data={"amount": "40.00"})
    assert any("Enforced at once in this process" in m and "1 campaign change." in m for _, m in flashes(client))
    assert session.scalar(select(func.sum(SpendRecord.amount_minor))) == 10000
    session.expire_all()
    assert (campaign.status, campaign.reasons) == ("paused", ["daily_budget"])
    page = text_of(client.get(f"/campaigns/{campaign.id}"))
    start = page.index('id="status"')
    status = page[start : page.index("</header>", start)]
    assert 'badge-paused">paused' in status and "Daily budget reached" in status
    assert "100.00 / 100.00 USD daily budget" in page


# --- archiving -----------------------------------------------------------------------------


def test_archive_stops_hides_and_keeps_history(client, manager, brand, campaign, session):
    response = client.post(f"/campaigns/{campaign.id}/archive")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/brands/{brand.id}")
    session.expire_all()
    assert campaign.archived_at == FROZEN
    assert (campaign.status, campaign.reasons) == ("paused", ["disabled"])
    assert [e.actor for e in session.scalars(select(CampaignEvent).order_by(CampaignEvent.id))] == [
        "enforce_budgets",
        "user:manager@pacer.test",
    ]
    page = text_of(client.get(f"/campaigns/{campaign.id}"))
    assert "Archived on 2026-11-23 09:30 UTC" in page
    assert "Save schedule" not in page and 'id="edit-form"' not in page
    assert "Archived" in page[page.index('id="upcoming"') :]
    # Changes to an archived campaign are refused and change nothing.
    for path, data in (
        ("edit", {"name": "Back", "enabled": "y"}),
        ("schedule", {"q": ["0:0"]}),
        ("spend", {"amount": "5"}),
    ):
        refused = client.post(f"/campaigns/{campaign.id}/{path}", data=data)
        assert refused.status_code == 302
        assert any("archived, so Search cannot be changed" in m for _, m in flashes(client))
    session.expire_all()
    assert campaign.name == "Search" and campaign.windows == [] and count(session, SpendRecord) == 0
    # A later sweep leaves it paused.
    assert reconcile_brands(session, FROZEN + timedelta(hours=1), actor="enforce_budgets") == []


# --- history -------------------------------------------------------------------------------


def test_history_is_paginated_newest_first(client, manager, brand, campaign, session):
    for i in range(24):
        campaign.enabled = i % 2 == 1
        reconcile_brand(session, brand.id, FROZEN + timedelta(minutes=i + 1), actor=f"job-{i}")
    session.commit()
    assert count(session, CampaignEvent) == 25
    first = text_of(client.get(f"/campaigns/{campaign.id}"))
    rows = re.findall(r"<td data-label=\"Who\">(job-\d+|enforce_budgets) <small", first)
    assert rows[:3] == ["job-23", "job-22", "job-21"] and len(rows) == 20
    assert "Page 1 of 2" in first
    second = text_of(client.get(f"/campaigns/{campaign.id}?page=2"))
    assert re.findall(r"<td data-label=\"Who\">(job-\d+|enforce_budgets) <small", second) == [
        "job-3",
        "job-2",
        "job-1",
        "job-0",
        "enforce_budgets",
    ]
    assert "2026-11-23 09:31 UTC" in second


# --- the grid in a real browser ------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture
def live_url(app):
    """The test app served over HTTP on a free loopback port for the length of one test."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.mark.browser
# On a laptop without Chromium this skips; in CI (CI set) it runs, and fails if Chromium is missing.
@pytest.mark.skipif(
    shutil.which(CHROMIUM) is None and not os.environ.get("CI"),
    reason="needs Debian's chromium package (apt-get install chromium)",
)
def test_grid_paints_by_drag_and_keyboard_and_saves(app, live_url, make, session):
    from playwright.sync_api import sync_playwright

    app.config["SERVER_NAME"] = None  # the live server answers on 127.0.0.1:<port>
    add_user(session, "manager")
    brand = make.brand("Acme")
    campaign = make.campaign(brand, "Search")
    session.commit()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{live_url}/login")
            page.fill("#email", "manager@pacer.test")
            page.fill("#password", "correct horse")
            page.click("main button[type=submit]")
            page.wait_for_url(f"{live_url}/")
            page.goto(f"{live_url}/campaigns/{campaign.id}")
            summary = page.locator("#schedule-summary")
            assert "No hours selected: this campaign runs at any hour" in summary.inner_text()

            # Drag from Monday 09:00 to Friday 16:45: the rectangle of days and quarters is painted on.
            page.locator("table.schedule-grid").scroll_into_view_if_needed()
            start = page.locator('input[value="0:540"]').bounding_box()
            end = page.locator('input[value="4:1005"]').bounding_box()
            page.mouse.move(start["x"] + 3, start["y"] + 3)
            page.mouse.down()
            page.mouse.move(end["x"] + 3, end["y"] + 3, steps=8)
            page.mouse.up()
            checked = lambda: page.eval_on_selector_all("input[name=q]:checked", "els => els.map(e => e.value)")  # noqa: E731
            assert len(checked()) == 5 * 32
            assert summary.inner_text() == "Not saved yet: will run only in Mon–Fri 09:00–17:00."

            # A click toggles one cell.
            page.locator('input[value="6:0"]').click()
            assert page.locator('input[value="6:0"]').is_checked()
            page.locator('input[value="6:0"]').click()
            assert not page.locator('input[value="6:0"]').is_checked()

            # Keyboard: Space toggles the focused cell, Shift+arrows paint its state over what they sweep.
            page.locator('input[value="5:600"]').focus()
            page.keyboard.press("Space")
            page.keyboard.down("Shift")
            for _ in range(3):
                page.keyboard.press("ArrowRight")
            page.keyboard.up("Shift")
            assert page.evaluate("document.activeElement.value") == "5:645"
            assert "Sat 10:00–11:00" in summary.inner_text()

            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "campaign-grid-painted.png"), full_page=True)
            page.click("#schedule-save")
            page.wait_for_url(f"{live_url}/campaigns/{campaign.id}#schedule")
            assert "Schedule saved (Mon–Fri 09:00–17:00; Sat 10:00–11:00)." in page.locator(".flash").first.inner_text()
            assert errors == []
        finally:
            browser.close()
    session.expire_all()
    assert stored_windows(session, campaign.id) == [(day, 540, 1020) for day in range(5)] + [(5, 600, 660)]
