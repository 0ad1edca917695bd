"""`flask fixtures load` and `flask seed-demo`: create or update by name through the brand and campaign
services (the forms' rules and messages), validate everything first."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, func, select

from app.control import Window
from app.extensions import db
from app.models import Brand, BrandDaySpend, Campaign, CampaignEvent, ScheduleWindow, SpendRecord, User
from app.services.spend import new_spend, write_spend
from tests.helpers import add_user, sign_in

# The example document of the issue, verbatim.
EXAMPLE = (
    '{"brands":[{"name":"Acme","timezone":"America/New_York","currency":"USD",'
    '"daily_budget":"100.00","monthly_budget":"2000.00","campaigns":[{"name":"Search",'
    '"enabled":true,"start_date":null,"end_date":"2026-12-31","schedule":[{"days":["mon","tue"],'
    '"start":"09:00","end":"17:30"}]}]}]}'
)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def counts(session) -> dict[str, int]:
    models = (Brand, Campaign, ScheduleWindow, SpendRecord, BrandDaySpend, CampaignEvent, User)
    return {model.__name__: count(session, model) for model in models}


@pytest.fixture
def load(runner, tmp_path):
    """Run `fixtures load` on a document (a dict, or raw text / bytes written as is)."""
    calls = {"n": 0}

    def run(document, *, expect_ok: bool = True):
        calls["n"] += 1
        path = tmp_path / f"fixtures-{calls['n']}.json"
        if isinstance(document, bytes):
            path.write_bytes(document)
        else:
            path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
        result = runner.invoke(args=["fixtures", "load", str(path)])
        if expect_ok:
            assert result.exit_code == 0, result.output
        return result

    return run


def brand_doc(**overrides) -> dict:
    brand = {
        "name": "Acme",
        "timezone": "America/New_York",
        "currency": "USD",
        "daily_budget": "100.00",
        "monthly_budget": "2000.00",
        "campaigns": [{"name": "Search", "schedule": [{"days": ["mon"], "start": "09:00", "end": "17:00"}]}],
    }
    brand.update(overrides)
    return {"brands": [brand]}


def get_brand(session, name: str = "Acme") -> Brand:
    session.expire_all()
    return session.scalar(select(Brand).where(Brand.name == name))


def get_campaign(session, brand: str = "Acme", name: str = "Search") -> Campaign:
    return next(c for c in get_brand(session, brand).campaigns if c.name == name)


# --- loading and updating -------------------------------------------------------------------


def test_example_document_from_the_issue_loads(load, session):
    result = load(EXAMPLE)
    assert "brands: 1 created, 0 updated; campaigns: 1 created, 0 updated" in result.output

    brand = get_brand(session)
    assert (brand.timezone, brand.currency) == ("America/New_York", "USD")
    assert (brand.daily_budget_minor, brand.monthly_budget_minor) == (10000, 200000)
    campaign = get_campaign(session)
    assert campaign.enabled is True
    assert (campaign.start_date, campaign.end_date) == (None, date(2026, 12, 31))
    assert campaign.schedule() == (Window(0, 540, 1050), Window(1, 540, 1050))
    # Loading reconciles the new campaign: it has a state and one event recording it.
    assert campaign.status_changed_at is not None
    assert count(session, CampaignEvent) == 1


def test_loading_the_same_document_twice_changes_nothing(load, session):
    load(EXAMPLE)
    before = counts(session)
    result = load(EXAMPLE)
    assert "brands: 0 created, 0 updated; campaigns: 0 created, 0 updated" in result.output
    assert counts(session) == before


def test_update_by_name_changes_budgets_and_replaces_the_schedule(load, session):
    load(EXAMPLE)
    first_id = get_campaign(session).id
    updated = json.loads(EXAMPLE)
    brand = updated["brands"][0]
    brand["daily_budget"] = "150.50"
    brand["monthly_budget"] = "3000"
    brand["campaigns"][0]["schedule"] = [
        {"days": ["wed"], "start": "22:45", "end": "24:00"},
        {"days": ["sun", "sat"], "start": "00:00", "end": "00:15"},
    ]
    brand["campaigns"][0]["start_date"] = "2026-11-01"
    brand["campaigns"].append({"name": "Display", "enabled": False})
    result = load(updated)
    assert "brands: 0 created, 1 updated; campaigns: 1 created, 1 updated" in result.output

    acme = get_brand(session)
    assert (acme.daily_budget_minor, acme.monthly_budget_minor) == (15050, 300000)
    assert count(session, Brand) == 1
    search = get_campaign(session)
    assert search.id == first_id  # updated in place, not re-created
    assert search.start_date == date(2026, 11, 1)
    assert search.schedule() == (Window(2, 22 * 60 + 45, 1440), Window(5, 0, 15), Window(6, 0, 15))
    assert count(session, ScheduleWindow) == 3  # the old mon/tue windows are gone
    display = get_campaign(session, name="Display")
    assert display.enabled is False and display.schedule() == ()
    assert display.status == "paused" and display.reasons[0] == "disabled"


@pytest.mark.parametrize("schedule", [[], None], ids=["empty", "null"])
def test_empty_or_null_schedule_means_any_hour(load, session, schedule):
    load(EXAMPLE)
    assert get_campaign(session).schedule() != ()
    updated = json.loads(EXAMPLE)
    updated["brands"][0]["campaigns"][0]["schedule"] = schedule
    result = load(updated)
    assert "campaigns: 0 created, 1 updated" in result.output
    assert get_campaign(session).schedule() == ()
    assert count(session, ScheduleWindow) == 0


def test_a_missing_schedule_keeps_the_stored_one_and_a_new_campaign_runs_at_any_hour(load, session):
    load(EXAMPLE)
    stored = get_campaign(session).schedule()
    updated = json.loads(EXAMPLE)
    del updated["brands"][0]["campaigns"][0]["schedule"]
    updated["brands"][0]["campaigns"].append({"name": "Display"})
    result = load(updated)
    assert "campaigns: 1 created, 0 updated" in result.output
    assert get_campaign(session).schedule() == stored != ()
    assert get_campaign(session, name="Display").schedule() == ()


def test_overlapping_and_touching_rows_are_merged(load, session):
    load(
        brand_doc(
            campaigns=[
                {
                    "name": "Search",
                    "schedule": [
                        {"days": ["mon"], "start": "09:00", "end": "12:00"},
                        {"days": ["monday", 0], "start": "11:00", "end": "13:15"},
                        {"days": ["MON"], "start": "13:15", "end": "14:00"},
                    ],
                }
            ]
        )
    )
    assert get_campaign(session).schedule() == (Window(0, 540, 840),)


def test_json_numbers_are_read_exactly_as_decimals(load, session):
    # 100.10 as a float is 100.09999999999999...; read as a Decimal it is exactly 10010 cents.
    load('{"brands": [{"name": "Acme", "currency": "USD", "daily_budget": 100.10, "monthly_budget": 2000.3}]}')
    brand = get_brand(session)
    assert (brand.daily_budget_minor, brand.monthly_budget_minor) == (10010, 200030)
    assert brand.timezone == "UTC"  # the default zone

    load(
        '{"brands": [{"name": "Yen", "currency": "JPY", "daily_budget": 1200, "monthly_budget": 30000.0},'
        ' {"name": "Dinar", "currency": "kwd", "daily_budget": 1.005, "monthly_budget": "20.250"}]}'
    )
    yen, dinar = get_brand(session, "Yen"), get_brand(session, "Dinar")
    assert (yen.daily_budget_minor, yen.monthly_budget_minor) == (1200, 30000)
    assert dinar.currency == "KWD"
    assert (dinar.daily_budget_minor, dinar.monthly_budget_minor) == (1005, 20250)


def test_changing_the_time_zone_rebuilds_the_day_totals(load, session):
    load(brand_doc(timezone="UTC"))
    campaign = get_campaign(session)
    # 2026-11-25 03:00 UTC is still 2026-11-24 in New York (22:00 EST).
    write_spend(
        session,
        [
            new_spend(campaign, 2500, datetime(2026, 11, 25, 3, 0, tzinfo=UTC), source="manual"),
            new_spend(campaign, 1000, datetime(2026, 11, 25, 12, 0, tzinfo=UTC), source="manual"),
        ],
    )
    session.commit()
    day_totals = lambda: dict(session.execute(select(BrandDaySpend.local_date, BrandDaySpend.amount_minor)).all())  # noqa: E731
    assert day_totals() == {date(2026, 11, 25): 3500}

    result = load(brand_doc(timezone="America/New_York"))
    assert "brands: 0 created, 1 updated" in result.output
    assert day_totals() == {date(2026, 11, 24): 2500, date(2026, 11, 25): 1000}
    local_dates = sorted(session.scalars(select(SpendRecord.local_date)))
    assert local_dates == [date(2026, 11, 24), date(2026, 11, 25)]


def test_changing_the_currency_of_a_brand_with_spend_is_refused(load, session):
    load(brand_doc())
    write_spend(session, [new_spend(get_campaign(session), 500, datetime(2026, 11, 25, tzinfo=UTC), source="manual")])
    session.commit()
    before = counts(session)

    doc = brand_doc(currency="EUR", daily_budget="1.00")
    doc["brands"].insert(0, {"name": "Other", "daily_budget": "1", "monthly_budget": "2"})
    result = load(doc, expect_ok=False)
    assert result.exit_code == 1
    assert "brands[1].currency: This brand has spend recorded in USD, so its currency cannot change." in result.output
    assert counts(session) == before
    brand = get_brand(session)
    assert (brand.currency, brand.daily_budget_minor) == ("USD", 10000)
    assert get_brand(session, "Other") is None  # the valid brand before it was not written either


def test_changing_the_currency_of_a_brand_without_spend_is_allowed(load, session):
    load(brand_doc())
    load(brand_doc(currency="JPY", daily_budget="15000", monthly_budget="300000"))
    brand = get_brand(session)
    assert (brand.currency, brand.daily_budget_minor, brand.monthly_budget_minor) == ("JPY", 15000, 300000)


# --- validation: every problem, with its path; nothing written ------------------------------


def test_every_problem_is_reported_with_its_path_and_nothing_is_written(load, session):
    load(brand_doc(name="Existing"))
    before = counts(session)
    doc = {
        "brands": [
            {
                "name": "Good",
                "timezone": "Europe/London",
                "currency": "GBP",
                "daily_budget": "1",
                "monthly_budget": "2",
                "campaigns": [{"name": "Fine"}],
            },
            {
                "name": "Bad",
                "timezone": "Mars/Olympus_Mons",
                "currency": "EUR",
                "daily_budget": "-1.00",
                "monthly_budget": "10.001",
                "campaigns": [
                    {
                        "name": "C1",
                        "enabled": "yes",
                        "start_date": "2026-12-01",
                        "end_date": "2026-11-30",
                        "schedule": [
                            {"days": ["mon", "funday"], "start": "09:10", "end": "24:15"},
                            {"days": ["tue"], "start": "17:00", "end": "09:00"},
                            {"days": ["wed"], "start": "24:00", "end": "24:00"},
                            {"days": [], "start": "09:00", "end": "10:00"},
                            {"days": [7], "start": "9am", "end": "10:00"},
                        ],
                    },
                    {"name": "C1"},
                    {"name": "", "start_date": "2026-02-30"},
                ],
            },
            {"name": "Good", "daily_budget": 1.5, "monthly_budget": True},
            {"name": "USD", "currency": "USD", "daily_budget": 0.001, "monthly_budget": "1e100"},
        ]
    }
    result = load(doc, expect_ok=False)
    assert result.exit_code == 1
    out = result.output
    expected_paths = [
        "brands[1].timezone: “Mars/Olympus_Mons” is not an IANA time zone",
        "brands[1].daily_budget: A budget cannot be negative.",
        "brands[1].monthly_budget: EUR amounts have at most 2 decimals.",
        "brands[1].campaigns[0].enabled: must be true or false",
        "brands[1].campaigns[0].end_date: The flight must end on or after its start (2026-12-01).",
        "brands[1].campaigns[0].schedule[0].days: 'funday'",
        "brands[1].campaigns[0].schedule[0].start: start 09:10 is not on a 15-minute step",
        "brands[1].campaigns[0].schedule[0].end:",
        "brands[1].campaigns[0].schedule[1]: window 17:00-09:00 must have start before end",
        "brands[1].campaigns[0].schedule[2]: window 24:00-24:00 must have start before end",
        "brands[1].campaigns[0].schedule[3].days:",
        "brands[1].campaigns[0].schedule[4].days: 7",
        "brands[1].campaigns[0].schedule[4].start:",
        "brands[1].campaigns[1].name: campaign 'C1' appears twice",
        "brands[1].campaigns[2].name: A name is required.",
        "brands[1].campaigns[2].start_date: '2026-02-30'",
        "brands[2].name: brand 'Good' appears twice",
        "brands[2].monthly_budget: Enter the amount as text or a whole or decimal number",
        "brands[3].daily_budget: USD amounts have at most 2 decimals.",
        "brands[3].monthly_budget: “1e100” is not an amount",
    ]
    for path in expected_paths:
        assert path in out, f"{path!r} not reported in:\n{out}"
    assert "brands[0]" not in out and "brands[2].daily_budget" not in out
    assert f"{len(expected_paths)} problem(s), nothing was loaded" in out
    assert counts(session) == before
    assert get_brand(session, "Good") is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "EST5EDT8", "brands[0].timezone: “EST5EDT8” is not an IANA time zone"),
        ("timezone", "../../etc/passwd", "brands[0].timezone:"),
        ("timezone", None, "brands[0].timezone: must be text, not null"),
        ("currency", "usdollar", "brands[0].currency: “USDOLLAR” is not an ISO 4217 currency code"),
        ("currency", 840, "brands[0].currency: must be text, not a number"),
        ("daily_budget", "-0.01", "brands[0].daily_budget: A budget cannot be negative."),
        ("daily_budget", "12.345", "brands[0].daily_budget: USD amounts have at most 2 decimals."),
        ("daily_budget", "abc", "brands[0].daily_budget: “abc” is not an amount"),
        ("daily_budget", "NaN", "brands[0].daily_budget: “NaN” is not an amount"),
        ("daily_budget", "", "brands[0].daily_budget: Enter an amount, e.g. 100.00"),
        ("daily_budget", None, "brands[0].daily_budget: Enter the amount as text or a whole or decimal number"),
        ("daily_budget", True, "brands[0].daily_budget: Enter the amount as text or a whole or decimal number"),
        ("monthly_budget", [1], "brands[0].monthly_budget: Enter the amount as text or a whole or decimal number"),
        ("name", 7, "brands[0].name: must be text, not a number"),
    ],
)
def test_bad_brand_fields(load, session, field, value, message):
    result = load(brand_doc(**{field: value}), expect_ok=False)
    assert result.exit_code == 1
    assert message in result.output
    assert count(session, Brand) == 0


def test_missing_budget_is_reported(load, session):
    doc = brand_doc()
    del doc["brands"][0]["monthly_budget"]
    result = load(doc, expect_ok=False)
    assert result.exit_code == 1 and "brands[0].monthly_budget: Enter an amount, e.g. 100.00" in result.output


def test_float_budget_with_too_many_decimals_is_refused_not_rounded(load, session):
    result = load('{"brands": [{"name": "Acme", "daily_budget": 100.105, "monthly_budget": 1}]}', expect_ok=False)
    assert result.exit_code == 1
    assert "brands[0].daily_budget: USD amounts have at most 2 decimals." in result.output
    yen = load(
        '{"brands": [{"name": "Yen", "currency": "JPY", "daily_budget": 1200.5, "monthly_budget": 1}]}', expect_ok=False
    )
    assert yen.exit_code == 1 and "brands[0].daily_budget: JPY amounts have no decimals." in yen.output
    assert count(session, Brand) == 0


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"days": ["mon"], "start": "09:00", "end": "24:00"}, None),
        ({"days": ["sun"], "start": "00:00", "end": "24:00"}, None),
        ({"days": ["mon"], "start": "23:45", "end": "24:00"}, None),
        (
            {"days": ["mon"], "start": "09:00", "end": "24:15"},
            "schedule[0].end: time '24:15' is not between 00:00 and 24:00",
        ),
        (
            {"days": ["mon"], "start": "09:05", "end": "10:00"},
            "schedule[0].start: start 09:05 is not on a 15-minute step",
        ),
        ({"days": ["mon"], "start": "09:00", "end": "10:20"}, "schedule[0].end: end 10:20 is not on a 15-minute step"),
        (
            {"days": ["mon"], "start": "10:00", "end": "10:00"},
            "schedule[0]: window 10:00-10:00 must have start before end",
        ),
        (
            {"days": ["mon"], "start": "11:00", "end": "10:00"},
            "schedule[0]: window 11:00-10:00 must have start before end",
        ),
        ({"days": ["mon"], "start": "09:60", "end": "10:00"}, "schedule[0].start: time '09:60'"),
        ({"days": ["mon"], "end": "10:00"}, "schedule[0].start: time '' is not HH:MM"),
        ({"days": ["lundi"], "start": "09:00", "end": "10:00"}, "schedule[0].days: 'lundi' is not a day"),
        ({"days": "mon", "start": "09:00", "end": "10:00"}, "schedule[0].days: must be a non-empty list"),
        ({"days": [True], "start": "09:00", "end": "10:00"}, "schedule[0].days: True is not a day"),
        ("mon 09:00-10:00", "schedule[0]: must be an object"),
    ],
)
def test_schedule_rows(load, session, row, message):
    result = load(brand_doc(campaigns=[{"name": "Search", "schedule": [row]}]), expect_ok=message is None)
    if message is None:
        assert len(get_campaign(session).schedule()) == 1
        return
    assert result.exit_code == 1
    assert f"brands[0].campaigns[0].{message}" in result.output
    assert count(session, Campaign) == 0


def test_flight_dates(load, session):
    bad = load(
        brand_doc(campaigns=[{"name": "S", "start_date": "2026-11-02", "end_date": "2026-11-01"}]), expect_ok=False
    )
    assert bad.exit_code == 1
    assert "brands[0].campaigns[0].end_date: The flight must end on or after its start (2026-11-02)." in bad.output
    load(brand_doc(campaigns=[{"name": "S", "start_date": "2026-11-01", "end_date": "2026-11-01"}]))
    campaign = get_campaign(session, name="S")
    assert (campaign.start_date, campaign.end_date) == (date(2026, 11, 1), date(2026, 11, 1))


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b'{"brands": [}', b"not json", b'{"brands": []}{"brands": []}'],
    ids=["empty", "unclosed", "bad-list", "text", "two-documents"],
)
def test_invalid_json_is_refused(load, session, content):
    result = load(content, expect_ok=False)
    assert result.exit_code == 1
    assert "is not valid JSON" in result.output
    assert count(session, Brand) == 0


@pytest.mark.parametrize("document", ["[]", '{"brand": []}', '{"brands": {}}', '"Acme"'])
def test_wrong_document_shape_is_refused(load, session, document):
    result = load(document, expect_ok=False)
    assert result.exit_code == 1
    assert 'must be an object with a "brands" list' in result.output


def test_non_utf8_file_is_refused(load, session):
    result = load(
        '{"brands": [{"name": "Caf\u00e9", "daily_budget": "1", "monthly_budget": "2"}]}'.encode("latin-1"),
        expect_ok=False,
    )
    assert result.exit_code == 1
    assert "is not valid JSON" in result.output and "utf-8" in result.output.lower()
    assert count(session, Brand) == 0


def test_utf8_with_bom_and_non_ascii_names_load(load, session):
    load(
        '\ufeff{"brands": [{"name": "Caf\u00e9 M\u00fcller", "daily_budget": "1", "monthly_budget": "2",'
        ' "campaigns": [{"name": "\u691c\u7d22"}]}]}'.encode("utf-8")
    )
    assert get_campaign(session, "Caf\u00e9 M\u00fcller", "\u691c\u7d22").enabled is True


def test_names_with_backslashes_and_quotes_load_as_typed(load, session):
    # On PostgreSQL the new campaigns go through COPY's text format, where a backslash, \N and \. mean something.
    names = ["back\\slash", "\\N", "\\.", "quote'\"", "tab\there"]
    load(
        {
            "brands": [
                {"name": "Acme", "daily_budget": "1", "monthly_budget": "2", "campaigns": [{"name": n} for n in names]}
            ]
        }
    )
    assert sorted(c.name for c in get_brand(session).campaigns) == sorted(names)


def test_missing_file_is_a_usage_error(runner, tmp_path, session):
    result = runner.invoke(args=["fixtures", "load", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "No such file" in result.output


def test_help(runner):
    result = runner.invoke(args=["fixtures", "load", "--help"])
    assert result.exit_code == 0 and "FILE" in result.output


# --- seed-demo -------------------------------------------------------------------------------


def test_seed_demo_twice_changes_nothing_the_second_time(runner, session):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Demo data loaded" in first.output
    after_first = counts(session)
    assert after_first["Brand"] >= 5 and after_first["Campaign"] >= 10
    assert after_first["SpendRecord"] > 0 and after_first["User"] == 3
    zones = set(session.scalars(select(Brand.timezone)))
    assert {"America/New_York", "Europe/London", "Asia/Kathmandu"} <= zones
    assert after_first["CampaignEvent"] == after_first["Campaign"]  # each campaign's initial state, once
    statuses = dict(session.execute(select(Campaign.id, Campaign.status)).all())

    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "already loaded; nothing changed" in second.output
    assert counts(session) == after_first
    session.expire_all()
    assert dict(session.execute(select(Campaign.id, Campaign.status)).all()) == statuses


# --- one rule with the forms: names, partial updates, the same messages ----------------------


@pytest.fixture
def manager_client(client, session):
    sign_in(client, add_user(session, "manager@pacer.test", "manager"))
    return client


def form_error(response, field: str) -> str:
    match = re.search(
        rf'<small id="{field}-error" class="field-error">([^<]*)</small>',
        html.unescape(response.get_data(as_text=True)),
    )
    assert match, f"no error on {field}"
    return match.group(1)


def test_a_brand_named_in_another_case_is_updated_never_duplicated(load, session):
    load(brand_doc(name="Acme"))
    result = load({"brands": [{"name": "ACME", "daily_budget": "150.00"}]})
    assert "brands: 0 created, 1 updated" in result.output
    assert count(session, Brand) == 1
    brand = get_brand(session)
    assert (brand.name, brand.daily_budget_minor) == ("Acme", 15000)  # the stored spelling is kept


def test_the_form_refuses_a_name_fixtures_hold_in_another_case_and_fixtures_match_the_forms(
    load, session, manager_client
):
    load(brand_doc(name="Acme"))
    refused = manager_client.post(
        "/brands/new",
        data={"name": "acme", "timezone": "UTC", "currency": "USD", "daily_budget": "1", "monthly_budget": "2"},
    )
    assert refused.status_code == 400
    assert form_error(refused, "name") == "A brand named “Acme” already exists."
    added = manager_client.post(
        "/brands/new",
        data={"name": "Globex", "timezone": "UTC", "currency": "USD", "daily_budget": "1", "monthly_budget": "2"},
    )
    assert added.status_code == 302
    load({"brands": [{"name": "GLOBEX", "monthly_budget": "30"}]})
    assert count(session, Brand) == 2
    assert get_brand(session, "Globex").monthly_budget_minor == 3000


def test_one_document_naming_a_brand_twice_in_two_cases_is_refused(load, session):
    doc = brand_doc(name="Acme")
    doc["brands"].append({"name": "ACME ", "daily_budget": "1", "monthly_budget": "2"})
    result = load(doc, expect_ok=False)
    assert "brands[1].name: brand 'ACME' appears twice" in result.output
    assert count(session, Brand) == 0


def test_brands_already_differing_only_in_case_are_not_guessed_between(load, session, make):
    make.brand("Acme")
    make.brand("ACME")  # stored before names were unique ignoring case
    session.commit()
    result = load({"brands": [{"name": "acme", "daily_budget": "5"}]}, expect_ok=False)
    assert "brands[0].name: 2 brands are named so ignoring case (“Acme”, “ACME”)" in result.output
    assert count(session, Brand) == 2


def test_campaign_names_are_matched_as_typed_like_the_campaign_form(load, session, manager_client):
    load(brand_doc())
    result = load(brand_doc(campaigns=[{"name": "SEARCH"}]))
    assert "campaigns: 1 created, 0 updated" in result.output
    brand = get_brand(session)
    assert sorted(c.name for c in brand.campaigns) == ["SEARCH", "Search"]
    # The form allows the same: only the exact name is taken.
    assert manager_client.post(f"/brands/{brand.id}/campaigns/new", data={"name": "search"}).status_code == 302
    taken = manager_client.post(f"/brands/{brand.id}/campaigns/new", data={"name": "Search"})
    assert taken.status_code == 400
    assert form_error(taken, "name") == "Acme already has a campaign named 'Search'."


def test_omitted_fields_keep_their_stored_values(load, session, app):
    load(
        brand_doc(
            timezone="America/New_York",
            currency="EUR",
            daily_budget="80",
            monthly_budget="900",
            campaigns=[
                {
                    "name": "Search",
                    "enabled": False,
                    "start_date": "2026-11-01",
                    "end_date": "2026-12-31",
                    "schedule": [{"days": ["mon"], "start": "09:00", "end": "17:00"}],
                }
            ],
        )
    )
    campaign = get_campaign(session)
    write_spend(session, [new_spend(campaign, 2500, datetime(2026, 11, 25, 3, 0, tzinfo=UTC), source="manual")])
    session.commit()
    before = counts(session)

    writes: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        spend_table = "brand_day_spend" in statement or "spend_record" in statement
        if spend_table and not statement.lstrip().upper().startswith("SELECT"):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        result = load({"brands": [{"name": "Acme", "campaigns": [{"name": "Search"}]}]})
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    assert "brands: 0 created, 0 updated; campaigns: 0 created, 0 updated" in result.output
    assert writes == []  # the day totals were not rebuilt
    assert counts(session) == before
    brand = get_brand(session)
    assert (brand.timezone, brand.currency, brand.daily_budget_minor, brand.monthly_budget_minor) == (
        "America/New_York",
        "EUR",
        8000,
        90000,
    )
    campaign = get_campaign(session)
    assert campaign.enabled is False  # not switched on again
    assert (campaign.start_date, campaign.end_date) == (date(2026, 11, 1), date(2026, 12, 31))
    assert campaign.schedule() == (Window(0, 540, 1020),)
    assert dict(session.execute(select(BrandDaySpend.local_date, BrandDaySpend.amount_minor)).all()) == {
        date(2026, 11, 24): 2500
    }


def test_an_update_changes_only_the_fields_it_states(load, session):
    load(
        brand_doc(timezone="Europe/London", campaigns=[{"name": "Search", "enabled": False, "end_date": "2026-12-31"}])
    )
    result = load(
        {
            "brands": [
                {
                    "name": "Acme",
                    "monthly_budget": "2500",
                    "campaigns": [{"name": "Search", "start_date": "2026-12-01"}],
                }
            ]
        }
    )
    assert "brands: 0 created, 1 updated; campaigns: 0 created, 1 updated" in result.output
    brand = get_brand(session)
    assert (brand.timezone, brand.daily_budget_minor, brand.monthly_budget_minor) == ("Europe/London", 10000, 250000)
    campaign = get_campaign(session)
    assert (campaign.enabled, campaign.start_date, campaign.end_date) == (False, date(2026, 12, 1), date(2026, 12, 31))
    # A flight checked against the stored end date: a start after it is refused.
    bad = load(
        {"brands": [{"name": "Acme", "campaigns": [{"name": "Search", "start_date": "2027-01-05"}]}]}, expect_ok=False
    )
    assert "brands[0].campaigns[0].end_date: The flight must end on or after its start (2027-01-05)." in bad.output


def test_a_new_currency_needs_its_budgets_stated(load, session):
    load(brand_doc())
    result = load({"brands": [{"name": "Acme", "currency": "JPY", "daily_budget": "15000"}]}, expect_ok=False)
    assert "brands[0].monthly_budget: State the monthly budget in JPY too: the currency changes from USD." in (
        result.output
    )
    assert "brands[0].daily_budget" not in result.output
    assert get_brand(session).currency == "USD"


def test_archived_brands_and_campaigns_are_refused_as_in_the_forms(load, session, now):
    load(brand_doc(campaigns=[{"name": "Search"}, {"name": "Display"}]))
    get_campaign(session, name="Display").archived_at = now
    session.commit()
    result = load(brand_doc(campaigns=[{"name": "Display", "enabled": False}]), expect_ok=False)
    assert "brands[0].campaigns[0]: campaign 'Display' is archived, so it cannot be changed." in result.output

    get_brand(session).archived_at = now
    session.commit()
    result = load(brand_doc(daily_budget="5"), expect_ok=False)
    assert "brands[0].name: “Acme” is archived and cannot be edited." in result.output
    brand = get_brand(session)
    assert brand.archived_at is not None and brand.daily_budget_minor == 10000


GOOD_FORM = {
    "name": "Acme Shoes",
    "timezone": "Europe/Paris",
    "currency": "EUR",
    "daily_budget": "150.50",
    "monthly_budget": "4000",
}


@pytest.mark.parametrize(
    ("field", "value"),
    # "acme" is not here: fixtures match it to "Acme" (an update), where the form refuses it (tested above).
    [
        ("name", " "),
        ("name", "x" * 201),
        ("timezone", "Mars/Olympus_Mons"),
        ("timezone", "EST5EDT8"),
        ("currency", "XYZ"),
        ("daily_budget", "-5"),
        ("daily_budget", "10.001"),
        ("daily_budget", ""),
        ("daily_budget", "abc"),
        ("daily_budget", "1e3"),
        ("daily_budget", "NaN"),
        ("monthly_budget", "1" * 20),
    ],
)
def test_brand_messages_are_the_forms(load, session, manager_client, make, field, value):
    make.brand("Acme")
    session.commit()
    response = manager_client.post("/brands/new", data={**GOOD_FORM, field: value})
    assert response.status_code == 400
    message = form_error(response, field)
    result = load({"brands": [{**GOOD_FORM, field: value}]}, expect_ok=False)
    assert f"brands[0].{field}: {message}\n" in result.output
    assert "1 problem(s)" in result.output


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "x" * 201}, "name"),
        ({"name": ""}, "name"),
        ({"name": "Video", "start_date": "2026-12-10", "end_date": "2026-12-01"}, "end_date"),
    ],
)
def test_campaign_messages_are_the_forms(load, session, manager_client, data, field):
    load(brand_doc())
    brand = get_brand(session)
    response = manager_client.post(f"/brands/{brand.id}/campaigns/new", data=data)
    assert response.status_code == 400
    message = form_error(response, field)
    result = load(brand_doc(campaigns=[data]), expect_ok=False)
    assert f"brands[0].campaigns[0].{field}: {message}\n" in result.output


# --- many brands at once ----------------------------------------------------------------------


def agency(first: int, brands: int) -> dict:
    return {
        "brands": [
            brand_doc(
                name=f"Brand {b:03d}",
                campaigns=[
                    {"name": f"C{c}", "schedule": [{"days": ["mon", "wed"], "start": "09:00", "end": "17:00"}]}
                    for c in range(3)
                ],
            )["brands"][0]
            for b in range(first, first + brands)
        ]
    }


def test_new_campaigns_and_schedules_are_written_in_a_few_statements_whatever_their_number(load, session):
    inserts: dict[str, list[int]] = {"brand": [], "campaign": [], "schedule": []}

    def watch(conn, cursor, statement, parameters, context, executemany):
        for table, calls in inserts.items():
            if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()} "):
                calls.append(len(parameters) if executemany else 1)

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        load(agency(0, 2))
        small = {table: len(calls) for table, calls in inserts.items()}
        load(agency(2, 40))
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    large = {table: len(calls) - small[table] for table, calls in inserts.items()}
    # The first brand is written when the first campaign id is taken, the others at the end. The campaigns
    # and schedule rows in one INSERT per table; on PostgreSQL in one COPY, which the cursor events do not see.
    written = 0 if db.engine.dialect.name == "postgresql" else 1
    assert small == large == {"brand": 2, "campaign": written, "schedule": written}
    # Every row is in those statements (counted in the table: a COPY and an executemany are one statement each).
    assert session.scalar(select(func.count()).select_from(Campaign)) == 42 * 3
    assert session.scalar(select(func.count()).select_from(ScheduleWindow)) == 42 * 3 * 2
    # Written as the ORM path writes them: paused and never evaluated until the reconcile, windows merged.
    campaign = get_campaign(session, "Brand 041", "C2")
    assert campaign.schedule() == (Window(0, 540, 1020), Window(2, 540, 1020))
    assert campaign.brand.name == "Brand 041" and campaign.created_at is not None


def test_ids_of_a_bulk_load_follow_the_stored_rows(load, session):
    load(agency(0, 3))
    # A removed schedule row leaves its id unused at the top of the table; campaigns get their own ids.
    top = session.scalar(select(ScheduleWindow).order_by(ScheduleWindow.id.desc()).limit(1))
    removed = top.id
    session.delete(top)
    session.commit()
    stored = {table: session.scalar(select(func.max(model.id))) for table, model in (("b", Brand), ("c", Campaign))}
    load(agency(3, 2))
    new_brands = list(session.scalars(select(Brand).where(Brand.name >= "Brand 003")))
    assert [b.name for b in new_brands] == ["Brand 003", "Brand 004"]
    assert min(b.id for b in new_brands) > stored["b"]
    new_campaigns = [c for b in new_brands for c in b.campaigns]
    assert len(new_campaigns) == 6 and min(c.id for c in new_campaigns) > stored["c"]
    assert min(w.id for c in new_campaigns for w in c.windows) >= removed
    assert count(session, ScheduleWindow) == 5 * 3 * 2 - 1


def test_a_load_adding_brands_and_campaigns_of_stored_brands_gives_every_row_its_own_id(load, session):
    load(agency(0, 1))
    document = agency(1, 2)
    # A stored brand gets a new campaign and a new schedule through the ORM services, between new brands.
    stored = agency(0, 1)["brands"][0]
    stored["campaigns"] = [
        {"name": "C0", "schedule": [{"days": ["fri"], "start": "10:00", "end": "11:00"}]},
        {"name": "New", "schedule": [{"days": ["sat"], "start": "10:00", "end": "11:00"}]},
    ]
    document["brands"].insert(1, stored)
    result = load(document)
    assert "brands: 2 created, 0 updated; campaigns: 7 created, 1 updated" in result.output
    for brand in session.scalars(select(Brand)):
        session.refresh(brand)
    assert get_campaign(session, "Brand 000", "New").schedule() == (Window(5, 600, 660),)
    assert get_campaign(session, "Brand 000", "C0").schedule() == (Window(4, 600, 660),)
    assert [len(get_brand(session, f"Brand {b:03d}").campaigns) for b in range(3)] == [4, 3, 3]
