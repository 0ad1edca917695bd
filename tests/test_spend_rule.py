"""One spend rule at every entry point: the form, the CLI, the API and a CSV import.

Amount zero or more; spent_at between 2000-01-01 and five minutes after the server's time.
Each entry point is fed the same cases and must agree, with an error that names the field.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from app.models import SpendRecord
from app.services.imports import import_file
from app.services.users import create_token, create_user
from tests.helpers import add_user, sign_in

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
# (amount, spent_at in UTC, accepted?, the words of the refusal)
CASES = [
    ("0", "2026-11-25T11:00:00Z", True, None),
    ("0.00", "2000-01-01T00:00:00Z", True, None),
    ("1", "2026-11-25T12:05:00Z", True, None),  # the server's clock plus five minutes: a platform clock ahead
    ("1", "2026-11-25T12:05:01Z", False, "is in the future"),
    ("1", "2099-01-01T00:00:00Z", False, "is in the future"),
    ("1", "1999-12-31T23:59:59Z", False, "is before 2000-01-01"),
    ("1", "0001-01-01T00:00:00Z", False, "is before 2000-01-01"),
    ("-1", "2026-11-25T11:00:00Z", False, "negative"),
]
IDS = [f"{amount}@{at[:10]}" + ("" if ok else "-refused") for amount, at, ok, _ in CASES]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def search(session, make, app):
    app.config["REDIS_URL"] = None  # no Redis: enforcement runs in the request
    brand = make.brand("Acme", daily="100", monthly="2000")
    campaign = make.campaign(brand, "Search")
    session.commit()
    return campaign


def stored(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(SpendRecord))


@pytest.mark.parametrize(("amount", "at", "accepted", "words"), CASES, ids=IDS)
def test_the_spend_form(client, session, search, amount, at, accepted, words):
    sign_in(client, add_user(session, "mia@pacer.test", "manager"))
    response = client.post(f"/campaigns/{search.id}/spend", data={"amount": amount, "spent_at": at})
    assert response.status_code == (302 if accepted else 303)  # a refused form: post, redirect, get
    if not accepted:
        assert words in client.get(response.headers["Location"]).get_data(as_text=True)
    assert stored(session) == int(accepted)


@pytest.mark.parametrize(("amount", "at", "accepted", "words"), CASES, ids=IDS)
def test_the_cli(runner, session, search, amount, at, accepted, words):
    result = runner.invoke(
        args=["spend", "record", "--brand", "Acme", "--campaign", "Search", "--amount", amount, "--at", at]
    )
    assert result.exit_code == (0 if accepted else 2), result.output
    if not accepted:
        option = "--amount" if words == "negative" else "--at"
        assert f"Invalid value for {option}" in result.output and words in result.output
        assert "Traceback" not in result.output
    assert stored(session) == int(accepted)


@pytest.mark.parametrize(("amount", "at", "accepted", "words"), CASES, ids=IDS)
def test_the_api(client, session, search, amount, at, accepted, words):
    _, token = create_token(session, create_user(session, "api@example.com", "correct-horse", "manager"), "ci", NOW)
    session.commit()
    response = client.post(
        "/api/v1/spend",
        json=[{"brand": "Acme", "campaign": "Search", "amount": amount, "spent_at": at}],
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == (201 if accepted else 400)
    if not accepted:
        [result] = response.get_json()["results"]
        assert result["status"] == "error" and words in result["error"]
    assert stored(session) == int(accepted)


@pytest.mark.parametrize(("amount", "at", "accepted", "words"), CASES, ids=IDS)
def test_a_csv_import(session, search, tmp_path, amount, at, accepted, words):
    path = tmp_path / "spend.csv"
    path.write_text(f"brand,campaign,amount,spent_at\nAcme,Search,{amount},{at}\n")
    _, outcome = import_file(session, path, actor="test", skip_bad_rows=False)
    assert outcome.status == ("done" if accepted else "rejected")
    if not accepted:
        [error] = outcome.errors
        assert error.line == 2 and words in error.message
    assert stored(session) == int(accepted)
