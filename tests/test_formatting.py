"""One number and money formatter (issue 16, item 5): grouping and the currency's decimals on pages
and in the CLI's human output; plain decimal strings in CSV and JSON, which machines read."""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import UTC, datetime

import pytest

from app.money import display_amount, format_count, format_grouped, format_money, group_digits
from app.services.reconcile import reconcile_brand
from app.services.spend import new_spend, write_spend
from tests.helpers import add_user, sign_in

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("minor", "currency", "grouped"),
    [
        (1_200_000, "USD", "12,000.00"),
        (18_000, "JPY", "18,000"),
        (30_000, "JPY", "30,000"),
        (1_234_567_891, "KWD", "1,234,567.891"),
        (5, "USD", "0.05"),
        (0, "JPY", "0"),
        (99_999, "USD", "999.99"),
    ],
)
def test_amounts_are_grouped_with_the_currency_decimals(minor, currency, grouped):
    assert format_grouped(minor, currency) == grouped
    assert format_money(minor, currency) == f"{grouped} {currency}"


def test_stored_decimal_strings_are_grouped_and_anything_else_is_shown_as_is():
    assert group_digits("12000.00") == "12,000.00" and group_digits("-1000") == "-1,000"
    assert display_amount("18000") == "18,000" and display_amount("30000.5") == "30,000.5"
    assert display_amount(None) == display_amount("") == "—"
    assert display_amount("n/a") == "n/a" and display_amount("1e5") == "1e5"
    assert format_count(16001) == "16,001" and format_count(7) == "7"


def test_the_pager_groups_page_numbers(app):
    class Page:
        page, pages, total, has_prev, has_next, prev_num, next_num = 1, 16001, 800_050, False, True, None, 2

    with app.test_request_context("/activity"):
        pager = app.jinja_env.from_string('{% from "macros.html" import pager %}{{ pager(p, "activity.index") }}')
        text = pager.render(p=Page())
    assert "Page 1 of 16,001 · 800,050 in all" in text


@pytest.fixture
def yen(make, session):
    brand = make.brand("Kyoto", currency="JPY", daily="30000", monthly="900000")
    campaign = make.campaign(brand, "Search")
    write_spend(session, [new_spend(campaign, 18_000, NOW, source="manual")])
    reconcile_brand(session, brand.id, NOW, actor="enforce_budgets")
    session.commit()
    return campaign


def test_the_campaign_page_groups_its_facts_and_history(client, session, yen, time_machine):
    time_machine.move_to(NOW, tick=False)
    sign_in(client, add_user(session, "vera@pacer.test", "viewer"))
    page = html.unescape(client.get(f"/campaigns/{yen.id}").get_data(as_text=True))
    assert "18,000 / 30,000 JPY daily budget" in page and "18,000 / 900,000 JPY monthly budget" in page
    assert "spend 18,000 / 30,000 today, 18,000 / 900,000 this month (JPY)" in page  # the history row's facts
    assert "18000" not in page and "30000" not in page


def test_the_activity_export_keeps_plain_numbers_while_the_page_groups_them(client, session, yen):
    sign_in(client, add_user(session, "vera@pacer.test", "viewer"))
    rows = list(csv.DictReader(io.StringIO(client.get("/activity.csv").get_data(as_text=True))))
    assert [(r["spend_today"], r["daily_budget"], r["monthly_budget"]) for r in rows] == [("18000", "30000", "900000")]
    page = html.unescape(client.get("/activity").get_data(as_text=True))
    assert "Today 18,000 / 30,000 JPY" in page


def test_the_cli_groups_for_people_and_keeps_json_plain(runner, yen):
    status = runner.invoke(args=["status", "--at", NOW.isoformat()])
    assert status.exit_code == 0, status.output
    assert "today 18,000/30,000  month 18,000/900,000 JPY" in status.output
    states = json.loads(runner.invoke(args=["status", "--json", "--at", NOW.isoformat()]).output)
    assert (states[0]["spend_today"], states[0]["monthly_budget"]) == ("18000", "900000")
