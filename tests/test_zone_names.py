"""Time-zone names (issue 16, finding 7): the picker lists canonical names with their offsets now;
aliases are accepted on input and stored by their canonical name."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.models import Brand
from app.services.zone_names import canonical_zone, listed_zone_names, offset_text, zone_choices
from tests.helpers import add_user, sign_in

WINTER = datetime(2026, 1, 15, 12, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Africa/Asmera", "Africa/Asmara"),  # renamed spelling, not the zone it links to (Nairobi)
        ("US/Eastern", "America/New_York"),
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("Asia/Saigon", "Asia/Ho_Chi_Minh"),
        ("America/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("Japan", "Asia/Tokyo"),
        ("Etc/UTC", "UTC"),
        ("Zulu", "UTC"),
        ("Europe/Oslo", "Europe/Oslo"),  # listed (a country's zone) though the tz database links it
        ("America/New_York", "America/New_York"),
        ("Etc/GMT+5", "Etc/GMT+5"),  # a zone of its own, not an alias: kept
    ],
)
def test_canonical_names(typed, stored):
    assert canonical_zone(typed) == stored


def test_the_list_has_canonical_names_only():
    names = listed_zone_names()
    assert {"UTC", "America/New_York", "Asia/Kolkata", "Africa/Asmara", "Europe/Oslo"} <= set(names)
    assert not {"Africa/Asmera", "US/Eastern", "Asia/Calcutta", "Europe/Kiev", "Etc/GMT+5", "GMT"} & set(names)
    assert all(canonical_zone(name) == name for name in names)
    assert 350 < len(names) < 500  # zone.tab's names, not the ~600 of every alias


def test_offsets_follow_daylight_saving_at_the_instant():
    assert offset_text("America/New_York", WINTER) == "UTC−05:00"
    assert offset_text("America/New_York", SUMMER) == "UTC−04:00"
    assert offset_text("Asia/Kolkata", SUMMER) == "UTC+05:30" and offset_text("UTC", SUMMER) == "UTC±00:00"
    kolkata = next(c for c in zone_choices(SUMMER) if c.name == "Asia/Kolkata")
    assert kolkata.label == "UTC+05:30 · India"


def test_the_picker_is_built_once_a_quarter_hour_and_turns_with_the_clocks():
    def new_york(at):
        return next(c.offset for c in zone_choices(at) if c.name == "America/New_York")

    # New York springs forward at 2026-03-08 07:00 UTC, Lord Howe (+10:30 -> +11:00) at 2026-10-03 15:30 UTC.
    assert new_york(datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC)) == "UTC−05:00"
    assert new_york(datetime(2026, 3, 8, 7, 0, tzinfo=UTC)) == "UTC−04:00"
    lord_howe = [
        next(
            c.offset for c in zone_choices(datetime(2026, 10, 3, 15, m, tzinfo=UTC)) if c.name == "Australia/Lord_Howe"
        )
        for m in (29, 30)
    ]
    assert lord_howe == ["UTC+10:30", "UTC+11:00"]
    assert zone_choices(datetime(2026, 3, 8, 7, 1, tzinfo=UTC)) is zone_choices(datetime(2026, 3, 8, 7, 14, tzinfo=UTC))


@pytest.fixture
def manager(client, session):
    sign_in(client, add_user(session, "mia@pacer.test", "manager"))


GOOD = {"name": "Asmara Coffee", "currency": "USD", "daily_budget": "100", "monthly_budget": "2000"}


@pytest.mark.parametrize(("typed", "stored"), [("Africa/Asmera", "Africa/Asmara"), ("US/Eastern ", "America/New_York")])
def test_the_brand_form_stores_an_alias_by_its_canonical_name(client, session, manager, typed, stored):
    response = client.post("/brands/new", data=GOOD | {"timezone": typed})
    assert response.status_code == 302
    assert session.scalar(select(Brand.timezone).where(Brand.name == GOOD["name"])) == stored


def test_the_brand_form_refuses_an_unknown_zone_and_offers_the_list(client, session, manager):
    response = client.post("/brands/new", data=GOOD | {"timezone": "Mars/Olympus"})
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "“Mars/Olympus” is not an IANA time zone" in page
    assert 'list="timezone-list"' in page and '<datalist id="timezone-list">' in page
    assert 'value="Asia/Kolkata" label="Asia/Kolkata · UTC+05:30 · India"' in page
    assert 'value="Africa/Asmera"' not in page and 'value="US/Eastern"' not in page
    assert session.scalar(select(Brand).where(Brand.name == GOOD["name"])) is None
