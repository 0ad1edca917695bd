"""The overview and the brand pages: figures per brand-local day and month, search, sort,
pagination, the brand form's validation, roles, archiving, and the pacing chart's data."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import event, func, select
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import Brand, BrandDaySpend, CampaignEvent, SpendRecord
from app.money import MoneyError
from app.services import overview
from app.services.brands import BrandError, create_brand, parse_budget
from app.services.reconcile import Change, changes_in_words, reconcile_brands
from app.services.spend import new_spend, write_spend
from app.services.totals import spend_today_and_month
from app.services.users import create_user

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # the conftest clock: a Wednesday
PASSWORD = "a long enough password"


@pytest.fixture(autouse=True)
def clock():
    """The views read the wall clock (app.models.utcnow); pin it to NOW."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def login(client, session):
    """Create a user of ``role`` and sign in through the real login form."""

    def sign_in(role: str) -> str:
        email = f"{role}@pacer.test"
        user = create_user(session, email, PASSWORD, role)
        # create_user hashes with scrypt (about 0.6 s here); a cheap hash keeps the real login check quick.
        user.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        session.commit()
        response = client.post("/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return email

    return sign_in


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def spend(session, campaign, amount_minor: int, at: datetime, **kw) -> None:
    write_spend(session, [new_spend(campaign, amount_minor, at, source=kw.pop("source", "manual"), **kw)])
    session.commit()


def listed_names(response) -> list[str]:
    return re.findall(r'class="brand-name">([^<]+)</a>', text_of(response))


def brand_row(response, name: str) -> str:
    """The overview table row of one brand, as text."""
    body = text_of(response)
    start = body.index(f'class="brand-name">{name}</a>')
    return body[start : body.index("</tr>", start)]


def brand_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Brand))


# --- the overview ------------------------------------------------------------------------------


def test_overview_shows_each_brand_against_its_own_local_day_and_month(client, session, make, login):
    login("viewer")
    utc = make.brand("Utc Brand", daily="100", monthly="3000")
    auckland = make.brand("Kiwi Brand", timezone="Pacific/Auckland", daily="100", monthly="3000")
    search_u = make.campaign(utc, "Search")
    make.campaign(utc, "Social", enabled=False)
    search_a = make.campaign(auckland, "Search")
    utc.created_at = auckland.created_at = datetime(2026, 10, 1, tzinfo=UTC)  # a brand of today is "not started"
    session.commit()
    reconcile_brands(session, NOW, actor="enforce_budgets")
    # 25 Nov 10:00 UTC is today in UTC but yesterday (25 Nov, 23:00) in Auckland, where it is already the 26th.
    spend(session, search_u, 4_000, datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    spend(session, search_a, 4_000, datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    spend(session, search_a, 1_500, datetime(2026, 11, 25, 14, 0, tzinfo=UTC))  # 26 Nov 03:00 in Auckland
    spend(session, search_u, 70_000, datetime(2026, 11, 3, 12, 0, tzinfo=UTC))
    spend(session, search_u, 9_999, datetime(2026, 10, 31, 12, 0, tzinfo=UTC))  # last month: not counted

    response = client.get("/")
    assert response.status_code == 200
    utc_row, kiwi_row = brand_row(response, "Utc Brand"), brand_row(response, "Kiwi Brand")
    assert "40.00 USD / 100.00 USD (40%)" in utc_row
    assert "740.00 USD / 3,000.00 USD (25%)" in utc_row
    assert "15.00 USD / 100.00 USD (15%)" in kiwi_row
    assert "55.00 USD / 3,000.00 USD (2%)" in kiwi_row
    # Campaign counts: the switched-off campaign is paused.
    assert "1 active" in utc_row and "1 paused" in utc_row
    assert "1 active" in kiwi_row and "0 paused" in kiwi_row
    # Paused for being switched off: said in words, and not red (red is for budgets only).
    assert "1 switched off" in utc_row and "has-paused" not in utc_row
    # Pacing: 24 5/8 of 30 days gone in UTC; 740 projects to 740 x 720 / 591 = 901.52 -> behind.
    assert 'pace-behind">behind' in utc_row and "Projected 901.52 USD (30% of budget)" in utc_row
    assert "Even pace by now: 2,462.50 USD" in utc_row
    assert "Pacific/Auckland · Thu 04:00" in kiwi_row


def test_overview_figures_match_the_spend_service_in_many_zones(session, make):
    zones = ["UTC", "America/New_York", "Pacific/Auckland", "Asia/Kolkata", "Pacific/Pago_Pago", "Pacific/Kiritimati"]
    brands = []
    for i, zone in enumerate(zones):
        brand = make.brand(f"Brand {i}", timezone=zone)
        campaign = make.campaign(brand)
        session.commit()
        for hours_ago in (1, 9, 17, 30, 50, 24 * 20, 24 * 40):
            spend(session, campaign, 100 + hours_ago, NOW - timedelta(hours=hours_ago))
        brands.append(brand)
    # A month-end instant, where some zones are already in December.
    for at in (NOW, datetime(2026, 11, 30, 20, 0, tzinfo=UTC)):
        rows = overview.brand_rows(session, brands, at)
        assert [(r.spend_today, r.spend_month) for r in rows] == [spend_today_and_month(session, b, at) for b in brands]


def test_overview_empty_state_differs_by_role(client, login, app):
    login("viewer")
    body = text_of(client.get("/"))
    assert "No brands yet" in body and "A manager or admin can add them" in body
    assert "/brands/new" not in body
    client.post("/logout")
    login("manager")
    body = text_of(client.get("/"))
    assert "No brands yet" in body
    assert body.count('href="/brands/new"') == 2  # the "Add brand" button and the link in the empty state


def test_search_by_name_is_case_insensitive_and_literal(client, session, make, login):
    login("viewer")
    for name in ("Acme Shoes", "ACME Hats", "Globex", "100% Juice", "100 Pct"):
        make.brand(name)
    session.commit()
    assert listed_names(client.get("/?q=acme")) == ["ACME Hats", "Acme Shoes"]
    assert listed_names(client.get("/?q=%25")) == ["100% Juice"]  # % is a character, not a wildcard
    assert listed_names(client.get("/?q=_")) == []
    body = text_of(client.get("/?q=zzz"))
    assert "No brand matches “zzz”" in body and "Clear the search" in body


def test_sorting_by_each_column_in_sql(client, session, make, login):
    login("viewer")
    # Name, daily budget, monthly budget; spend today and earlier this month; paused campaigns.
    specs = [
        ("Bravo", "100", "3000", 5_000, 0, 0),  # 50 % today, 50/3000 month
        ("alpha", "200", "3000", 2_000, 150_000, 2),  # 10 % today, 1520/3000 month, 2 paused
        ("Charlie", "50", "1000", 4_900, 10_000, 1),  # 98 % today, 149/1000 month, 1 paused
        ("Delta", "0", "1000", 0, 0, 0),  # a zero budget reads as 100 % used
    ]
    for name, daily, monthly, today, earlier, paused in specs:
        brand = make.brand(name, daily=daily, monthly=monthly)
        campaign = make.campaign(brand, "Main")
        for i in range(paused):
            make.campaign(brand, f"Off {i}", enabled=False)
        session.commit()
        if today:
            spend(session, campaign, today, NOW - timedelta(hours=1))
        if earlier:
            spend(session, campaign, earlier, datetime(2026, 11, 2, tzinfo=UTC))
    reconcile_brands(session, NOW, actor="enforce_budgets")

    def order(query: str) -> list[str]:
        return listed_names(client.get("/" + query))

    assert order("") == ["alpha", "Bravo", "Charlie", "Delta"]
    assert order("?sort=name&order=desc") == ["Delta", "Charlie", "Bravo", "alpha"]
    assert order("?sort=daily") == ["Delta", "Charlie", "Bravo", "alpha"]
    assert order("?sort=daily&order=asc") == ["alpha", "Bravo", "Charlie", "Delta"]
    assert order("?sort=monthly") == ["alpha", "Charlie", "Bravo", "Delta"]
    assert order("?sort=monthly&order=asc") == ["Delta", "Bravo", "Charlie", "alpha"]
    # One zone, one projection factor: pacing sorts like the month's share.
    assert order("?sort=pacing") == ["alpha", "Charlie", "Bravo", "Delta"]
    # Paused: alpha has 2 switched off; Charlie 1 switched off; Delta's zero budget pauses its one; ties by name.
    assert order("?sort=paused") == ["alpha", "Charlie", "Delta", "Bravo"]
    # An unknown sort falls back to the name.
    assert order("?sort=drop+table&order=sideways") == ["alpha", "Bravo", "Charlie", "Delta"]


def test_sorting_by_pacing_uses_each_zones_share_of_the_month(client, session, make, login):
    login("viewer")
    # Same spend and budget; at NOW it is 25 Nov 04:00 in Pago Pago (UTC-11) but 26 Nov 05:00 on
    # Kiritimati (UTC+14), so the same month-to-date projects higher where less of the month has gone.
    for name, zone in (("East", "Pacific/Kiritimati"), ("West", "Pacific/Pago_Pago"), ("Mid", "UTC")):
        brand = make.brand(name, timezone=zone, monthly="3000")
        campaign = make.campaign(brand)
        session.commit()
        spend(session, campaign, 200_000, NOW - timedelta(hours=3))
    reconcile_brands(session, NOW, actor="enforce_budgets")  # as each spend's enforcement does: the figures
    assert listed_names(client.get("/?sort=monthly")) == ["East", "Mid", "West"]  # a tie: by name
    assert listed_names(client.get("/?sort=pacing")) == ["West", "Mid", "East"]
    assert listed_names(client.get("/?sort=pacing&order=asc")) == ["East", "Mid", "West"]


def test_pagination_is_fifty_a_page(client, session, make, login):
    login("viewer")
    for i in range(120):
        make.brand(f"Brand {i:03d}")
    session.commit()
    first = client.get("/")
    assert listed_names(first) == [f"Brand {i:03d}" for i in range(50)]
    assert "Page 1 of 3 · 120 in all" in text_of(first)
    third = client.get("/?page=3&sort=name&order=desc")
    assert listed_names(third) == [f"Brand {i:03d}" for i in range(19, -1, -1)]
    assert 'rel="prev"' in text_of(third) and 'rel="next"' not in text_of(third)
    beyond = client.get("/?page=9")
    assert beyond.status_code == 200 and "No brands on this page" in text_of(beyond)
    # Search and pagination together: the pager keeps the query.
    searched = client.get("/?q=Brand+0&page=2")
    assert listed_names(searched) == [f"Brand {i:03d}" for i in range(50, 100)]
    assert "Page 2 of 2 · 100 in all" in text_of(searched)
    assert re.search(r'href="/\?q=Brand\+0&amp;page=1" rel="prev"', searched.get_data(as_text=True))


def test_overview_runs_the_same_queries_for_3_brands_or_a_full_page(client, session, make, login, app):
    """Its cost does not grow with the number of brands: no query per brand."""
    login("viewer")

    def statements_for(url: str) -> int:
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            brand = make.brand(f"B{i:03d}", timezone=["UTC", "Asia/Tokyo", "America/Denver"][i % 3])
            campaign = make.campaign(brand)
            session.commit()
            spend(session, campaign, 100 * i, NOW - timedelta(hours=i % 40))

    add(3, 0)
    small = {sort: statements_for(f"/?sort={sort}") for sort in ("name", "daily", "pacing", "paused")}
    add(70, 3)
    large = {sort: statements_for(f"/?sort={sort}") for sort in ("name", "daily", "pacing", "paused")}
    assert small == large
    assert max(large.values()) <= 12


def test_latest_automatic_actions_panel(client, session, make, login):
    login("viewer")
    brand = make.brand("Acme", timezone="America/New_York", daily="10")
    campaigns = [make.campaign(brand, f"C{i:02d}") for i in range(12)]
    session.commit()
    reconcile_brands(session, NOW - timedelta(hours=2), actor="apply_dayparting")  # 12 automatic events
    spend(session, campaigns[0], 1_000, NOW - timedelta(minutes=5))
    reconcile_brands(session, NOW, actor="enforce_budgets")  # 12 more: all paused for the daily budget
    # A manual change is not an automatic action.
    campaigns[1].enabled = False
    session.commit()
    reconcile_brands(session, NOW + timedelta(minutes=1), actor="user:ana@pacer.test", automatic=False)

    body = text_of(client.get("/"))
    panel = body[body.index("Latest automatic actions") :]
    assert panel.count("<li>") == 10
    assert "by enforce_budgets" in panel and "by apply_dayparting" not in panel and "user:ana" not in panel
    assert "Daily budget reached" in panel
    # Newest first (same instant: latest written first), so the last ten campaigns' pauses.
    assert re.findall(r'href="/campaigns/\d+">(C\d+)</a>', panel) == [f"C{i:02d}" for i in range(11, 1, -1)]
    assert f'href="/campaigns/{campaigns[11].id}"' in panel and f'href="/brands/{brand.id}"' in panel
    assert ">just now</time>" in panel and "25 Nov 10:00 local" in panel  # and the brand-local time (New York)
    assert ">2 h ago</time>" not in panel  # the older events are beyond the newest ten
    assert 'badge-active">active</span> →' in panel


def test_automatic_actions_empty_state(client, login):
    login("viewer")
    assert "No automatic actions yet" in text_of(client.get("/"))


# --- adding and editing a brand ----------------------------------------------------------------

GOOD = {
    "name": "  Acme Shoes  ",
    "timezone": "Europe/Paris",
    "currency": "EUR",
    "daily_budget": "150.50",
    "monthly_budget": "4000",
}


def test_manager_adds_a_brand(client, session, login):
    login("manager")
    form = client.get("/brands/new")
    assert form.status_code == 200
    body = text_of(form)
    assert re.search(r'<input[^>]*id="timezone"[^>]*list="timezone-list"[^>]*value="UTC"', body)
    assert '<option value="America/New_York" label="America/New York · UTC' in body
    assert '<option selected value="USD">USD</option>' in body and 'value="JPY"' in body

    response = client.post("/brands/new", data=GOOD)
    brand = session.scalars(select(Brand)).one()
    assert response.status_code == 302 and response.headers["Location"] == f"/brands/{brand.id}"
    assert (brand.name, brand.timezone, brand.currency) == ("Acme Shoes", "Europe/Paris", "EUR")
    assert (brand.daily_budget_minor, brand.monthly_budget_minor) == (15_050, 400_000)
    page = text_of(client.get(response.headers["Location"]))
    assert "Added brand “Acme Shoes”" in page and "No campaigns yet" in page


BAD_INPUTS = [
    ({"name": "   "}, "name", "Enter a name."),
    ({"name": "x" * 201}, "name", "At most 200 characters"),
    ({"name": "acme"}, "name", "A brand named “Acme” already exists."),
    ({"name": "Old"}, "name", "A brand named “Old” (archived) already exists."),
    # Found by the route fuzz: SQLite's lower() leaves "Ä" as it is, so the exact name is matched too (no 500).
    ({"name": "Ärger"}, "name", "A brand named “Ärger” already exists."),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone", "“Mars/Olympus_Mons” is not an IANA time zone"),
    ({"timezone": ""}, "timezone", "is not an IANA time zone"),
    ({"currency": "XYZ"}, "currency", "“XYZ” is not an ISO 4217 currency code"),
    ({"daily_budget": "-5"}, "daily_budget", "A budget cannot be negative."),
    ({"monthly_budget": "-0.01"}, "monthly_budget", "A budget cannot be negative."),
    ({"daily_budget": "10.001"}, "daily_budget", "EUR amounts have at most 2 decimals."),
    ({"currency": "JPY", "daily_budget": "100.5"}, "daily_budget", "JPY amounts have no decimals."),
    ({"currency": "KWD", "monthly_budget": "1.2345"}, "monthly_budget", "KWD amounts have at most 3 decimals."),
    ({"daily_budget": ""}, "daily_budget", "Enter an amount"),
    ({"daily_budget": "abc"}, "daily_budget", "“abc” is not an amount"),
    ({"daily_budget": "1,000"}, "daily_budget", "“1,000” is not an amount"),
    ({"daily_budget": "1e3"}, "daily_budget", "“1e3” is not an amount"),
    ({"daily_budget": "NaN"}, "daily_budget", "“NaN” is not an amount"),
    ({"monthly_budget": "1" * 20}, "monthly_budget", "Too large"),
]


def test_bad_brand_input_is_refused_with_an_inline_error(client, session, make, login):
    login("manager")
    acme = make.brand("Acme")
    make.brand("Old").archived_at = NOW
    make.brand("Ärger")
    session.commit()
    before = brand_count(session)
    for url in ("/brands/new", f"/brands/{acme.id}/edit"):
        for changes, field, message in BAD_INPUTS:
            if url != "/brands/new" and changes.get("name") == "acme":
                continue  # a brand may keep (or re-case) its own name
            case = (url, changes)
            response = client.post(url, data={**GOOD, **changes})
            assert response.status_code == 400, case
            body = text_of(response)
            error = re.search(rf'<small id="{field}-error" class="field-error">([^<]*)</small>', body)
            assert error and message in error.group(1), case
            assert 'aria-invalid="true"' in body and "nothing was saved" in body, case
            # Only the bad field is marked, and the form keeps what was typed.
            assert body.count('class="field-error"') == 1, case
            if field != "name":
                assert 'value="  Acme Shoes  "' in body, case
    assert brand_count(session) == before
    session.refresh(acme)
    assert (acme.name, acme.timezone, acme.currency, acme.daily_budget_minor) == ("Acme", "UTC", "USD", 10_000)


def test_every_bad_field_is_reported_at_once(client, session, login):
    login("manager")
    response = client.post(
        "/brands/new",
        data={"name": "", "timezone": "Nowhere", "currency": "usd", "daily_budget": "-1", "monthly_budget": "2.999"},
    )
    assert response.status_code == 400
    body = text_of(response)
    for field in ("name", "timezone", "daily_budget", "monthly_budget"):
        assert f'id="{field}-error"' in body
    assert 'id="currency-error"' not in body  # "usd" is read as USD, and shown selected again
    assert '<option selected value="USD">USD</option>' in body
    assert brand_count(session) == 0


def test_budgets_accept_plain_decimals_in_the_currency(session, now):
    cases = [
        ("0", "USD", 0),
        ("12.5", "USD", 1_250),
        ("12.", "USD", 1_200),
        (".75", "USD", 75),
        ("0012.50", "USD", 1_250),
        (" 7 ", "JPY", 7),
        ("1.234", "KWD", 1_234),
    ]
    for i, (typed, currency, minor) in enumerate(cases):
        brand = create_brand(
            session,
            now,
            actor="test",
            name=f"B{i}",
            timezone="UTC",
            currency=currency,
            daily_budget=typed,
            monthly_budget=typed,
        )
        assert (brand.daily_budget_minor, brand.monthly_budget_minor) == (minor, minor), typed


@pytest.mark.parametrize(
    ("value", "currency", "result"),
    [
        ("12.50", "USD", 1_250),
        (Decimal("12.5"), "USD", 1_250),
        (Decimal("1E+2"), "USD", 10_000),
        (7, "JPY", 7),
        (Decimal("100.105"), "USD", "USD amounts have at most 2 decimals."),
        (Decimal("-1"), "USD", "A budget cannot be negative."),
        (Decimal("NaN"), "USD", "Enter a finite amount."),
        (10**20, "USD", "Too large: at most 10000000000000.00 USD."),
        (12.5, "USD", "Enter the amount as text or a whole or decimal number"),
        (True, "USD", "Enter the amount as text or a whole or decimal number"),
    ],
)
def test_parse_budget_reads_text_and_exact_numbers_never_floats(value, currency, result):
    if isinstance(result, int):
        assert parse_budget(value, currency) == result
        return
    with pytest.raises(MoneyError) as info:
        parse_budget(value, currency)
    assert str(info.value).startswith(result)


def test_service_refuses_duplicates_whatever_the_form(session, now):
    create_brand(
        session, now, actor="test", name="Acme", timezone="UTC", currency="USD", daily_budget="1", monthly_budget="10"
    )
    with pytest.raises(BrandError) as info:
        create_brand(
            session,
            now,
            actor="test",
            name=" ACME ",
            timezone="UTC",
            currency="USD",
            daily_budget="1",
            monthly_budget="10",
        )
    assert list(info.value.errors) == ["name"]


def test_editing_budgets_reconciles_at_once_as_the_user(client, session, make, login):
    email = login("manager")
    brand = make.brand("Acme", daily="100", monthly="3000")
    campaign = make.campaign(brand)
    session.commit()
    reconcile_brands(session, NOW, actor="enforce_budgets")
    spend(session, campaign, 6_000, NOW - timedelta(hours=1))
    assert campaign.status == "active"

    form = text_of(client.get(f"/brands/{brand.id}/edit"))
    assert 'value="100.00"' in form and 'value="3000.00"' in form and re.search(r'id="timezone"[^>]*value="UTC"', form)
    response = client.post(
        f"/brands/{brand.id}/edit",
        data={"name": "Acme", "timezone": "UTC", "currency": "USD", "daily_budget": "50", "monthly_budget": "3000"},
    )
    assert response.status_code == 302
    session.refresh(campaign)
    assert (campaign.status, campaign.reasons) == ("paused", ["daily_budget"])
    event_ = session.scalars(select(CampaignEvent).order_by(CampaignEvent.id.desc())).first()
    assert (event_.actor, event_.automatic, event_.new_reasons) == (f"user:{email}", False, "daily_budget")
    page = text_of(client.get(f"/brands/{brand.id}"))
    assert "Saved “Acme”: changed daily budget. 1 campaign now paused." in page
    assert "Daily budget reached" in page


def test_currency_cannot_change_once_spend_is_recorded(client, session, make, login):
    login("manager")
    brand = make.brand("Acme", currency="USD")
    empty = make.brand("Empty", currency="USD")
    spend_campaign = make.campaign(brand)
    session.commit()
    spend(session, spend_campaign, 100, NOW - timedelta(hours=1))
    data = {"timezone": "UTC", "currency": "EUR", "daily_budget": "100", "monthly_budget": "2000"}
    refused = client.post(f"/brands/{brand.id}/edit", data={"name": "Acme", **data})
    assert refused.status_code == 400
    assert "has spend recorded in USD, so its currency cannot change" in text_of(refused)
    session.refresh(brand)
    assert brand.currency == "USD"
    assert client.post(f"/brands/{empty.id}/edit", data={"name": "Empty", **data}).status_code == 302
    session.refresh(empty)
    assert empty.currency == "EUR"


def test_renaming_onto_another_brand_is_refused_but_keeping_ones_own_name_is_fine(client, session, make, login):
    login("manager")
    acme, _ = make.brand("Acme"), make.brand("Globex")
    session.commit()
    data = {"timezone": "UTC", "currency": "USD", "daily_budget": "100", "monthly_budget": "2000"}
    refused = client.post(f"/brands/{acme.id}/edit", data={"name": "globex", **data})
    assert refused.status_code == 400 and "A brand named “Globex” already exists." in text_of(refused)
    renamed = client.post(f"/brands/{acme.id}/edit", data={"name": "ACME", **data})
    assert renamed.status_code == 302
    session.refresh(acme)
    assert acme.name == "ACME"


def test_time_zone_change_moves_spend_to_its_new_local_days(client, session, make, login):
    login("manager")
    brand = make.brand("Acme", daily="10", monthly="3000")
    campaign = make.campaign(brand)
    session.commit()
    reconcile_brands(session, NOW, actor="enforce_budgets")
    # 03:00 UTC on 25 Nov: today in UTC (and over the daily budget), but 24 Nov in New York.
    spend(session, campaign, 1_000, datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    assert campaign.status == "active"  # no reconcile since the spend
    reconcile_brands(session, NOW, actor="enforce_budgets")
    assert campaign.reasons == ["daily_budget"]

    response = client.post(
        f"/brands/{brand.id}/edit",
        data={
            "name": "Acme",
            "timezone": "America/New_York",
            "currency": "USD",
            "daily_budget": "10",
            "monthly_budget": "3000",
        },
    )
    assert response.status_code == 302
    assert session.scalars(select(SpendRecord.local_date)).all() == [date(2026, 11, 24)]
    assert session.execute(select(BrandDaySpend.local_date, BrandDaySpend.amount_minor)).all() == [
        (date(2026, 11, 24), 1_000)
    ]
    session.refresh(campaign)
    assert (campaign.status, campaign.reasons) == ("active", [])
    assert "changed time zone" in text_of(client.get(f"/brands/{brand.id}"))


def test_time_zone_change_that_only_changes_reasons_says_so(client, session, make, login):
    login("manager")
    brand = make.brand("Acme", daily="10", monthly="3000")
    first, second = make.campaign(brand, "Search", enabled=False), make.campaign(brand, "Social", enabled=False)
    session.commit()
    # Over today's UTC budget, but on 24 Nov in New York: both stay paused (switched off), one reason fewer.
    spend(session, first, 1_000, datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    reconcile_brands(session, NOW, actor="enforce_budgets")
    assert [c.reasons for c in (first, second)] == [["disabled", "daily_budget"]] * 2

    client.post(
        f"/brands/{brand.id}/edit",
        data={
            "name": "Acme",
            "timezone": "America/New_York",
            "currency": "USD",
            "daily_budget": "10",
            "monthly_budget": "3000",
        },
    )
    for campaign in (first, second):
        session.refresh(campaign)
        assert (campaign.status, campaign.reasons) == ("paused", ["disabled"])
    page = text_of(client.get(f"/brands/{brand.id}"))
    assert (
        "Saved “Acme”: changed time zone. No campaign changed status; 2 campaigns still paused, for other reasons."
    ) in page
    assert "now paused" not in page


def _change(old_status, new_status, old_reasons=(), new_reasons=()):
    return Change(
        at=NOW,
        brand="Acme",
        campaign="Search",
        campaign_id=1,
        old_status=old_status,
        new_status=new_status,
        old_reasons=old_reasons,
        new_reasons=new_reasons,
        actor="user:a@b.c",
    )


def test_changes_in_words_counts_status_changes_and_reason_changes_apart():
    paused = _change("active", "paused", (), ("daily_budget",))
    resumed = _change("paused", "active", ("schedule",), ())
    reasons_only = _change("paused", "paused", ("schedule",), ("schedule", "daily_budget"))
    new = _change(None, "paused", (), ("schedule",))
    assert changes_in_words([]) == "No campaign changed status."
    assert changes_in_words([paused]) == "1 campaign now paused."
    assert changes_in_words([paused, new, resumed]) == "1 campaign now active; 2 campaigns now paused."
    assert (
        changes_in_words([paused, reasons_only, reasons_only])
        == "1 campaign now paused; 2 still paused, for other reasons."
    )
    assert changes_in_words([reasons_only]) == "No campaign changed status; 1 campaign still paused, for other reasons."


def test_unknown_brand_is_404(client, login):
    login("manager")
    assert client.get("/brands/999").status_code == 404
    assert client.get("/brands/999/edit").status_code == 404
    assert client.post("/brands/999/archive").status_code == 404


# --- roles -------------------------------------------------------------------------------------


def test_viewer_may_read_but_not_add_edit_or_archive(client, session, make, login):
    login("viewer")
    brand = make.brand("Acme")
    make.campaign(brand)
    session.commit()
    data = {**GOOD, "name": "Acme"}
    for method, url in (
        ("get", "/brands/new"),
        ("post", "/brands/new"),
        ("get", f"/brands/{brand.id}/edit"),
        ("post", f"/brands/{brand.id}/edit"),
        ("post", f"/brands/{brand.id}/archive"),
    ):
        response = getattr(client, method)(url, data=data if method == "post" else None)
        assert response.status_code == 403, (method, url)
    assert brand_count(session) == 1
    session.refresh(brand)
    assert (brand.timezone, brand.archived_at) == ("UTC", None)
    page = text_of(client.get(f"/brands/{brand.id}"))
    assert "Edit brand" not in page and "Archive" not in page and "Add campaign" not in page
    assert "Add brand" not in text_of(client.get("/"))


def test_signed_out_visitor_is_sent_to_login(client, make, session):
    brand = make.brand("Acme")
    session.commit()
    for url in ("/", f"/brands/{brand.id}", "/brands/new"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_archive_needs_the_csrf_token(client, session, make, login, app):
    login("manager")
    brand = make.brand("Acme")
    session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/brands/{brand.id}/archive")
    assert response.status_code == 400 and "CSRF" in text_of(response)
    session.refresh(brand)
    assert brand.archived_at is None


# --- archiving ---------------------------------------------------------------------------------


def test_archive_pauses_hides_and_keeps_history(client, session, make, login):
    email = login("manager")
    brand = make.brand("Acme")
    other = make.brand("Globex")
    first, second = make.campaign(brand, "Search"), make.campaign(brand, "Social")
    session.commit()
    reconcile_brands(session, NOW - timedelta(hours=1), actor="enforce_budgets")
    spend(session, first, 500, NOW - timedelta(hours=2))
    assert first.status == "active"

    response = client.post(f"/brands/{brand.id}/archive")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    session.refresh(brand)
    assert brand.archived_at == NOW
    for campaign in (first, second):
        session.refresh(campaign)
        assert (campaign.status, campaign.reasons, campaign.archived_at) == ("paused", ["disabled"], NOW)
    events = session.scalars(
        select(CampaignEvent).where(CampaignEvent.brand_id == brand.id).order_by(CampaignEvent.id)
    ).all()
    assert len(events) == 4  # the two first states are kept, and the two pauses added
    assert {(e.actor, e.automatic, e.new_reasons) for e in events[2:]} == {(f"user:{email}", False, "disabled")}
    assert session.scalar(select(func.count()).select_from(SpendRecord)) == 1

    overview_page = client.get("/")
    assert listed_names(overview_page) == ["Globex"]
    assert "Archived “Acme” and its 2 campaigns" in text_of(overview_page)
    assert listed_names(client.get("/?archived=1")) == ["Acme"]
    page = text_of(client.get(f"/brands/{brand.id}"))
    assert "Archived on 2026-11-25 15:00" in page and "Edit brand" not in page
    assert "5.00 USD" in page  # its spend record is still listed
    # Archiving again changes nothing; editing an archived brand is refused.
    client.post(f"/brands/{brand.id}/archive")
    assert session.scalar(select(func.count()).select_from(CampaignEvent)) == 4
    edit = client.get(f"/brands/{brand.id}/edit")
    assert edit.status_code == 302
    assert other.archived_at is None


# --- the brand page ----------------------------------------------------------------------------


def chart_json(response) -> dict:
    match = re.search(
        r'<script type="application/json" id="brand-chart-data">(.*?)</script>', response.get_data(as_text=True), re.S
    )
    assert match, "no chart data on the page"
    return json.loads(match.group(1))


def test_brand_page_chart_data_is_the_local_month_cumulative(client, session, make, login):
    login("viewer")
    brand = make.brand("Acme", timezone="America/New_York", daily="100", monthly="3010")
    campaign = make.campaign(brand)
    session.commit()
    ny = ZoneInfo("America/New_York")
    spend(session, campaign, 12_345, datetime(2026, 11, 1, 0, 30, tzinfo=ny))  # 1 Nov (the DST day)
    spend(session, campaign, 5_000, datetime(2026, 11, 10, 9, 0, tzinfo=ny))
    spend(session, campaign, 2_500, datetime(2026, 11, 10, 23, 59, tzinfo=ny))
    spend(session, campaign, 10_000, datetime(2026, 11, 25, 9, 0, tzinfo=ny))  # today, 10:00 local now
    spend(session, campaign, 777, datetime(2026, 10, 31, 23, 59, tzinfo=ny))  # October: not this month

    response = client.get(f"/brands/{brand.id}")
    assert response.status_code == 200
    data = chart_json(response)
    assert data["currency"] == "USD" and data["today"] == "2026-11-25"
    assert data["days"][0] == "2026-11-01" and data["days"][-1] == "2026-11-30" and len(data["labels"]) == 30
    assert (
        data["daily_spend"][0] == "123.45" and data["daily_spend"][9] == "75.00" and data["daily_spend"][24] == "100.00"
    )
    assert data["cumulative"][:2] == ["123.45", "123.45"]
    assert data["cumulative"][9] == "198.45" and data["cumulative"][23] == "198.45"
    assert data["cumulative"][24] == "298.45"
    assert data["cumulative"][25:] == [None] * 5  # the days still to come
    # November in New York lasts 721 hours (the 1st has 25): 3010 x 25 / 721, and the full budget at the end.
    assert data["even_pacing"][0] == "104.37" and data["even_pacing"][-1] == "3010.00"
    assert (data["daily_budget"], data["monthly_budget"]) == ("100.00", "3010.00")
    # The same numbers for people without JavaScript, and the pacing summary in words.
    body = text_of(response)
    assert re.search(
        r'aria-current="date">\s*<th scope="row">Wed 25</th>\s*<td>100.00 USD</td>\s*<td>298.45 USD</td>', body
    )
    assert "At this rate, within what the daily budget allows for the days left, the month ends at" in body
    assert "local time <time" in body and "Wednesday 25 November 2026, 10:00" in body
    assert 'src="/static/js/brand_charts.js"' in body and "chart.umd.min.js" in body


def test_brand_page_lists_live_campaigns_with_every_reason_in_words(client, session, make, login):
    login("manager")
    brand = make.brand("Acme", daily="10")
    running = make.campaign(brand, "Always on")
    make.campaign(brand, "Switched off", enabled=False, end=date(2026, 1, 31))
    gone = make.campaign(brand, "Old campaign")
    gone.archived_at = NOW
    session.commit()
    reconcile_brands(session, NOW, actor="enforce_budgets")
    assert running.status == "active"
    spend(session, running, 1_000, NOW - timedelta(minutes=1))
    reconcile_brands(session, NOW, actor="enforce_budgets")

    body = text_of(client.get(f"/brands/{brand.id}"))
    campaigns = body[body.index('id="campaigns-title"') : body.index('id="chart-title"')]
    assert "Always on" in campaigns and "Switched off" in campaigns and "Old campaign" not in campaigns
    assert "1 archived campaign not shown" in campaigns
    switched_off = campaigns[campaigns.index("Switched off") :]
    for words in ("Switched off", "Outside its flight dates", "Daily budget reached"):
        assert f">{words}</span>" in switched_off
    assert f'href="/brands/{brand.id}/campaigns/new"' in campaigns  # "Add campaign" for a manager
    assert f'href="/campaigns/{running.id}"' in campaigns


def test_brand_page_lists_spend_records_newest_first_paginated(client, session, make, login):
    login("viewer")
    brand = make.brand("Acme", timezone="Asia/Tokyo", daily="100000", monthly="1000000")
    search, social = make.campaign(brand, "Search"), make.campaign(brand, "Social")
    session.commit()
    for i in range(30):
        spend(
            session,
            search if i % 2 else social,
            100 + i,
            NOW - timedelta(hours=30 - i),
            external_id=f"ext-{i:02d}",
            source="api" if i % 3 else "csv",
        )
    first = text_of(client.get(f"/brands/{brand.id}"))
    records = first[first.index('id="records-title"') :]
    assert re.findall(r"ext-\d\d", records) == [f"ext-{i:02d}" for i in range(29, 4, -1)]
    # The newest, 29, is an hour before NOW: 25 Nov 23:00 in Tokyo; odd rows are Search's.
    newest = records[records.index("<tbody>") : records.index("ext-29")]
    assert "2026-11-25 23:00" in newest and ">Search</a>" in newest and "1.29 USD" in newest and ">api</span>" in newest
    assert "Page 1 of 2 · 30 in all" in records
    second = text_of(client.get(f"/brands/{brand.id}?page=2"))
    assert re.findall(r"ext-\d\d", second[second.index('id="records-title"') :]) == [
        f"ext-{i:02d}" for i in range(4, -1, -1)
    ]


def test_brand_page_without_spend_or_campaigns_explains(client, session, make, login):
    login("viewer")
    brand = make.brand("Acme")
    session.commit()
    body = text_of(client.get(f"/brands/{brand.id}"))
    assert "No campaigns yet." in body and "add one" not in body
    assert "No spend recorded yet" in body
    assert chart_json(client.get(f"/brands/{brand.id}"))["cumulative"][24] == "0.00"


def test_brand_page_reads_no_budget_and_warns_of_a_daily_budget_above_the_monthly(client, session, make):
    from tests.helpers import add_user, sign_in

    sign_in(client, add_user(session, "viewer@example.com", "viewer"))
    empty = make.brand("Zero", daily="0", monthly="0")
    upside_down = make.brand("Upside", daily="500", monthly="100")
    session.commit()

    body = client.get(f"/brands/{empty.id}").get_data(as_text=True)
    assert ">no budget<" in body and "nothing to pace against" in body
    assert "(100%)" not in body and ">capped<" not in body
    assert 'id="budget-warning"' not in body

    body = client.get(f"/brands/{upside_down.id}").get_data(as_text=True)
    assert 'id="budget-warning"' in body and "the monthly budget pauses the campaigns first" in body
    assert ">not started<" in body and "No spend yet this month." in body
