"""The operator CLI: `spend record`, `spend import`, `jobs run`, `status`, `users create`.

Each command is driven through Flask's CLI runner against the real database; time is
given with --at wherever the command takes it.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.control import Window
from app.models import Brand, BrandDaySpend, Campaign, CampaignEvent, SpendImport, SpendRecord, User
from app.services import reconcile as rec
from app.services.changes import mark_brands_changed
from app.services.spend import new_spend, write_spend

WED = 2  # 2026-11-25 is a Wednesday
STATUS_KEYS = {
    "brand",
    "campaign",
    "status",
    "reasons",
    "spend_today",
    "spend_month",
    "daily_budget",
    "monthly_budget",
    "currency",
}


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def spend_rows(session) -> list[tuple]:
    return session.execute(
        select(
            SpendRecord.campaign_id,
            SpendRecord.amount_minor,
            SpendRecord.spent_at,
            SpendRecord.local_date,
            SpendRecord.source,
            SpendRecord.external_id,
        ).order_by(SpendRecord.id)
    ).all()


def stored_state(session) -> dict:
    """Everything a job may write: campaign states, events, reset markers."""
    session.expire_all()
    return {
        "campaigns": session.execute(
            select(Campaign.id, Campaign.status, Campaign.reasons_text, Campaign.status_changed_at).order_by(
                Campaign.id
            )
        ).all(),
        "events": count(session, CampaignEvent),
        "brands": session.execute(
            select(Brand.id, Brand.daily_reset_on, Brand.monthly_reset_on).order_by(Brand.id)
        ).all(),
    }


def add_spend(session, campaign, minor: int, at: datetime) -> None:
    """A spend written as every write path writes it, marked changed for the sweep; no reconcile follows."""
    written = write_spend(session, [new_spend(campaign, minor, at, source="manual")])
    mark_brands_changed(session, written.brand_ids, at)
    session.commit()


@pytest.fixture
def redis_down(app):
    """A Redis nobody listens on: spend commands enforce in this process, deterministically."""
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions.pop("pacer_redis", None)


@pytest.fixture
def acme(session, make):
    brand = make.brand("Acme", daily="20", monthly="500")
    make.campaign(brand, "Search")
    make.campaign(brand, "Display")
    session.commit()
    return brand


# --- spend record ----------------------------------------------------------------------------


def test_spend_record_stores_the_spend(runner, session, acme, redis_down):
    result = runner.invoke(
        args=[
            "spend",
            "record",
            "--brand",
            "Acme",
            "--campaign",
            "Search",
            "--amount",
            "12.34",
            "--at",
            "2026-11-25T10:07:30Z",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Recorded 12.34 USD for Acme / Search" in result.output
    search = next(c for c in acme.campaigns if c.name == "Search")
    assert spend_rows(session) == [
        (search.id, 1234, datetime(2026, 11, 25, 10, 7, 30, tzinfo=UTC), date(2026, 11, 25), "manual", None)
    ]
    assert session.scalar(select(BrandDaySpend.amount_minor)) == 1234


def test_spend_record_at_without_offset_is_brand_local_time(runner, session, make, redis_down):
    brand = make.brand("Kolkata", timezone="Asia/Kolkata", currency="INR", daily="1000", monthly="10000")
    make.campaign(brand, "Search")
    session.commit()
    result = runner.invoke(
        args=[
            "spend",
            "record",
            "--brand",
            "Kolkata",
            "--campaign",
            "Search",
            "--amount",
            "5",
            "--at",
            "2026-11-01 00:10",
        ]
    )
    assert result.exit_code == 0, result.output
    [(_, amount, spent_at, local_date, _, _)] = spend_rows(session)
    assert (amount, spent_at, local_date) == (500, datetime(2026, 10, 31, 18, 40, tzinfo=UTC), date(2026, 11, 1))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--amount", "12.345"], "3 decimals"),
        (["--amount", "-5"], "negative"),
        (["--amount", "1e3"], "not a plain decimal"),
        (["--amount", "abc"], "not a plain decimal"),
        (["--amount", "NaN"], "not a plain decimal"),
        (["--amount", ""], "empty"),
        (["--amount", "1", "--at", "yesterday"], "not ISO 8601"),
        (["--amount", "1", "--at", "2026-02-30T10:00Z"], "not a real date"),
    ],
)
def test_spend_record_bad_input_stores_nothing(runner, session, acme, redis_down, args, message):
    result = runner.invoke(args=["spend", "record", "--brand", "Acme", "--campaign", "Search", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert count(session, SpendRecord) == 0 and count(session, BrandDaySpend) == 0


def test_spend_record_in_a_skipped_local_hour_is_refused(runner, session, make, redis_down):
    brand = make.brand("NY", timezone="America/New_York")
    make.campaign(brand, "Search")
    session.commit()
    result = runner.invoke(
        args=["spend", "record", "--brand", "NY", "--campaign", "Search", "--amount", "1", "--at", "2026-03-08T02:30"]
    )
    assert result.exit_code != 0
    assert "does not exist in America/New_York" in result.output
    assert count(session, SpendRecord) == 0


@pytest.mark.parametrize(
    ("brand", "campaign", "message"),
    [("Nope", "Search", "no brand named 'Nope'"), ("Acme", "Nope", "brand 'Acme' has no campaign 'Nope'")],
)
def test_spend_record_unknown_names_are_errors_not_creates(runner, session, acme, redis_down, brand, campaign, message):
    result = runner.invoke(args=["spend", "record", "--brand", brand, "--campaign", campaign, "--amount", "1"])
    assert result.exit_code == 1
    assert message in result.output
    assert count(session, SpendRecord) == 0
    assert count(session, Brand) == 1 and count(session, Campaign) == 2


def test_spend_record_requires_its_options(runner, acme):
    result = runner.invoke(args=["spend", "record", "--brand", "Acme", "--amount", "1"])
    assert result.exit_code == 2 and "--campaign" in result.output


def test_spend_record_reaching_the_budget_pauses_the_brands_campaigns(runner, session, acme, redis_down):
    rec.reconcile_brands(session, datetime.now(UTC), actor="test")
    record = lambda amount: runner.invoke(  # noqa: E731
        args=["spend", "record", "--brand", "Acme", "--campaign", "Search", "--amount", amount]
    )

    first = record("12.34")
    assert first.exit_code == 0, first.output
    session.expire_all()
    assert {c.status for c in session.scalars(select(Campaign))} == {"active"}

    second = record("7.66")  # 20.00 in all: exactly the daily budget
    assert second.exit_code == 0, second.output
    assert "active -> paused (daily_budget)" in second.output
    status = runner.invoke(args=["status", "--json"])
    assert status.exit_code == 0, status.output
    states = json.loads(status.output)
    assert [(s["campaign"], s["status"], s["reasons"]) for s in states] == [
        ("Display", "paused", ["daily_budget"]),
        ("Search", "paused", ["daily_budget"]),
    ]
    assert {(s["spend_today"], s["daily_budget"]) for s in states} == {("20.00", "20.00")}


def test_spend_record_with_the_same_external_id_adds_once(runner, session, acme, redis_down):
    args = [
        "spend",
        "record",
        "--brand",
        "Acme",
        "--campaign",
        "Search",
        "--amount",
        "3.50",
        "--at",
        "2026-11-25T10:00Z",
        "--external-id",
        "fb-123",
    ]
    first = runner.invoke(args=args)
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=args)
    assert second.exit_code == 0, second.output
    assert "already recorded; nothing added" in second.output
    assert [row[1] for row in spend_rows(session)] == [350]
    assert session.scalar(select(BrandDaySpend.amount_minor)) == 350


def test_spend_record_without_external_id_adds_every_time(runner, session, acme, redis_down):
    args = ["spend", "record", "--brand", "Acme", "--campaign", "Search", "--amount", "1", "--at", "2026-11-25T10:00Z"]
    assert runner.invoke(args=args).exit_code == 0
    assert runner.invoke(args=args).exit_code == 0
    assert count(session, SpendRecord) == 2
    assert session.scalar(select(BrandDaySpend.amount_minor)) == 200


# --- spend import ----------------------------------------------------------------------------


def write_csv(tmp_path, text: str, name: str = "spend.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


GOOD_CSV = (
    "Brand,Campaign,Amount,Spent_At,External_Id\r\n"
    "Acme,Search,1.50,2026-11-25T10:00:00Z,\r\n"
    "Acme,Search,1.50,2026-11-25T10:00:00Z,\r\n"  # two genuinely equal rows: both count
    "Acme,Display,2.25,2026-11-25 09:00,ext-1\r\n"
)

BAD_CSV = (
    "brand,campaign,amount,spent_at\n"
    "Acme,Search,1.00,2026-11-25T10:00:00Z\n"
    "Nope,Search,1.00,2026-11-25T10:00:00Z\n"
    "Acme,Search,1.001,2026-11-25T10:00:00Z\n"
    "Acme,Search,2.00,2026-11-25T10:00:00Z\n"
    "Acme,Missing,1.00,not-a-time\n"
)


def test_spend_import_prints_counts_and_re_import_adds_nothing(runner, session, acme, tmp_path, redis_down):
    path = write_csv(tmp_path, GOOD_CSV)
    result = runner.invoke(args=["spend", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "done: 3 rows read, 3 imported, 0 duplicates, 0 rejected." in result.output
    assert sorted(row[1] for row in spend_rows(session)) == [150, 150, 225]

    again = runner.invoke(args=["spend", "import", str(path)])
    assert again.exit_code == 0, again.output
    assert "done: 3 rows read, 0 imported, 3 duplicates, 0 rejected." in again.output
    assert "already imported" in again.output
    assert count(session, SpendRecord) == 3
    assert session.scalar(select(func.sum(BrandDaySpend.amount_minor))) == 525
    assert count(session, SpendImport) == 2


def test_spend_import_with_bad_rows_imports_nothing_and_lists_each_line(runner, session, acme, tmp_path, redis_down):
    result = runner.invoke(args=["spend", "import", str(write_csv(tmp_path, BAD_CSV))])
    assert result.exit_code == 1
    assert "rejected: 5 rows read, 0 imported, 0 duplicates, 3 rejected." in result.output
    assert "line 3: Unknown brand 'Nope'" in result.stderr
    assert "line 4: " in result.stderr and "decimals" in result.stderr
    assert "line 6: " in result.stderr and "no campaign 'Missing'" in result.stderr
    for good_line in ("line 2:", "line 5:"):
        assert good_line not in result.output
    assert "nothing was imported" in result.output
    assert count(session, SpendRecord) == 0 and count(session, BrandDaySpend) == 0


def test_spend_import_skipping_bad_rows_imports_the_good_ones(runner, session, acme, tmp_path, redis_down):
    result = runner.invoke(args=["spend", "import", "--skip-bad-rows", str(write_csv(tmp_path, BAD_CSV))])
    assert result.exit_code == 0, result.output
    assert "done: 5 rows read, 2 imported, 0 duplicates, 3 rejected." in result.output
    assert [line.split(":")[0] for line in result.stderr.splitlines() if line.startswith("line ")] == [
        "line 3",
        "line 4",
        "line 6",
    ]
    assert sorted(row[1] for row in spend_rows(session)) == [100, 200]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"brand,campaign,amount\nAcme,Search,1\n", "Missing column spent_at"),
        (
            b"brand,campaign,amount,spent_at\nAcme,Search,1,2026-11-25T10:00Z\nCaf\xe9,Search,1,2026-11-25T10:00Z\n",
            "not UTF-8",
        ),
    ],
    ids=["empty", "header", "latin-1"],
)
def test_spend_import_bad_file_is_rejected_whole(runner, session, acme, tmp_path, redis_down, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = runner.invoke(args=["spend", "import", str(path)])
    assert result.exit_code == 1
    assert message in result.output
    assert count(session, SpendRecord) == 0


def test_spend_import_missing_file_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(args=["spend", "import", str(tmp_path / "none.csv")])
    assert result.exit_code == 2 and "does not exist" in result.output


# --- jobs run --------------------------------------------------------------------------------


@pytest.fixture
def office(session, make):
    """A UTC brand with a Wednesday 09:00-17:00 campaign and an any-hour one; daily and monthly budget 10.00."""
    brand = make.brand("Acme", daily="10", monthly="10")
    make.campaign(brand, "Office", windows=(Window(WED, 9 * 60, 17 * 60),))
    make.campaign(brand, "Always")
    session.commit()
    return brand


def jobs(runner, *args):
    result = runner.invoke(args=["jobs", "run", *args])
    assert result.exit_code == 0, result.output
    return result.output


def states(session) -> dict[str, tuple[str, list[str]]]:
    session.expire_all()
    return {c.name: (c.status, c.reasons) for c in session.scalars(select(Campaign))}


def test_every_job_runs_as_of_at_and_prints_each_change(runner, session, office):
    out = jobs(runner, "reconcile", "--at", "2026-11-25T08:00:00Z")
    assert "2026-11-25T08:00:00Z  Acme / Office: new -> paused (schedule)  [cli]" in out
    assert "2026-11-25T08:00:00Z  Acme / Always: new -> active (all rules pass)  [cli]" in out
    assert out.rstrip().endswith("2 changes.")

    out = jobs(runner, "apply-dayparting", "--at", "2026-11-25T09:00")  # no offset: UTC
    assert "2026-11-25T09:00:00Z  Acme / Office: paused -> active (all rules pass)  [sweep]" in out
    assert out.rstrip().endswith("1 change.")
    assert states(session) == {"Office": ("active", []), "Always": ("active", [])}

    add_spend(session, office.campaigns[0], 1000, datetime(2026, 11, 25, 9, 30, tzinfo=UTC))
    out = jobs(runner, "enforce-budgets", "--at", "2026-11-25T09:30:00Z")
    assert out.count("active -> paused (daily_budget, monthly_budget)  [sweep]") == 2
    assert jobs(runner, "enforce-budgets", "--at", "2026-11-25T09:30:00Z").strip() == "0 changes."
    # Both operator names are the one sweep: the other finds nothing left to do.
    assert jobs(runner, "apply-dayparting", "--at", "2026-11-25T09:30:00Z").strip() == "0 changes."

    # Next day (a Thursday): the day budget lifts, the month budget and the schedule still pause.
    out = jobs(runner, "reset-daily", "--at", "2026-11-26T00:05:00+00:00")
    assert "Acme / Always: paused -> paused (monthly_budget)  [reset_daily]" in out
    assert "Acme / Office: paused -> paused (schedule, monthly_budget)  [reset_daily]" in out
    assert jobs(runner, "reset-daily", "--at", "2026-11-26T00:06:00Z").strip() == "0 changes."

    # A new month lifts the month budget: only the schedule is left.
    out = jobs(runner, "reset-monthly", "--at", "2026-12-01T00:00:00Z")
    assert "Acme / Always: paused -> active (all rules pass)  [reset_monthly]" in out
    assert "Acme / Office: paused -> paused (schedule)  [reset_monthly]" in out
    assert jobs(runner, "reset-monthly", "--at", "2026-12-01T00:00:00Z").strip() == "0 changes."
    assert states(session) == {"Office": ("paused", ["schedule"]), "Always": ("active", [])}


@pytest.mark.parametrize("name", ["enforce-budgets", "apply-dayparting", "reset-daily", "reset-monthly", "reconcile"])
def test_dry_run_of_every_job_prints_the_changes_and_writes_nothing(runner, session, office, name):
    add_spend(session, office.campaigns[0], 400, datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    before = stored_state(session)
    dry = jobs(runner, name, "--at", "2026-11-25T08:00:00Z", "--dry-run")
    assert dry.rstrip().endswith("2 changes (nothing written).")
    dry_lines = [line.removeprefix("[dry run] ") for line in dry.splitlines() if line.startswith("[dry run] ")]
    assert len(dry_lines) == 2
    assert stored_state(session) == before
    assert count(session, SpendRecord) == 1

    # The real run makes exactly the changes the dry run showed.
    real = jobs(runner, name, "--at", "2026-11-25T08:00:00Z")
    assert [line for line in real.splitlines() if "->" in line] == dry_lines
    assert stored_state(session) != before


@pytest.mark.parametrize("at", ["yesterday", "2026-13-01T00:00:00Z", "2026-11-25T25:00Z", "", "1700000000"])
def test_jobs_run_with_a_bad_at_is_a_usage_error(runner, session, office, at):
    before = stored_state(session)
    result = runner.invoke(args=["jobs", "run", "reconcile", "--at", at])
    assert result.exit_code == 2
    assert "Invalid value for --at" in result.output
    assert stored_state(session) == before


def test_jobs_run_unknown_job_is_a_usage_error(runner):
    result = runner.invoke(args=["jobs", "run", "reset-hourly"])
    assert result.exit_code == 2
    assert "enforce-budgets" in result.output  # the choices are listed


def test_jobs_run_help_lists_every_job(runner):
    result = runner.invoke(args=["jobs", "run", "--help"])
    assert result.exit_code == 0
    unwrapped = "".join(result.output.split())
    for name in ("enforce-budgets", "apply-dayparting", "reset-daily", "reset-monthly", "reconcile", "--dry-run"):
        assert name in unwrapped


# --- status ----------------------------------------------------------------------------------


def status_json(runner, *args) -> list[dict]:
    result = runner.invoke(args=["status", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
def three_currencies(session, make):
    acme = make.brand("Acme", timezone="America/New_York", currency="USD", daily="15", monthly="300")
    dinar = make.brand("Dinar", timezone="Asia/Kuwait", currency="KWD", daily="15", monthly="100.5")
    yen = make.brand("Yen", timezone="Asia/Tokyo", currency="JPY", daily="30000", monthly="700000")
    search = make.campaign(acme, "Search")
    make.campaign(acme, "Display", enabled=False)
    gulf = make.campaign(dinar, "Gulf")
    matcha = make.campaign(yen, "Matcha")
    session.commit()
    at = lambda *args: datetime(*args, tzinfo=UTC)  # noqa: E731
    # Acme (New York, EST = UTC-5): 15.00 late on the 24th local time, 2.50 on the 25th,
    # and 9.99 on 31 October local time (already 1 November in UTC), which is not November's.
    add_spend(session, search, 1500, at(2026, 11, 25, 4, 30))
    add_spend(session, search, 250, at(2026, 11, 25, 14, 0))
    add_spend(session, search, 999, at(2026, 11, 1, 3, 30))
    # Dinar: 1.250 KWD.
    add_spend(session, gulf, 1250, at(2026, 11, 25, 9, 0))
    # Yen (Tokyo, UTC+9): 1200 on the 25th local (23:00), 500 on the 25th local (01:00),
    # 300 on the 24th local, 1000 on 1 November local; 999 on 31 October local is not counted.
    add_spend(session, matcha, 1200, at(2026, 11, 25, 14, 0))
    add_spend(session, matcha, 500, at(2026, 11, 24, 16, 0))
    add_spend(session, matcha, 300, at(2026, 11, 24, 14, 0))
    add_spend(session, matcha, 1000, at(2026, 10, 31, 16, 0))
    add_spend(session, matcha, 999, at(2026, 10, 31, 14, 0))
    rec.reconcile_brands(session, at(2026, 11, 25, 14, 30), actor="test")


def test_status_json_keys_and_decimal_strings_in_each_currency(runner, three_currencies):
    states = status_json(runner, "--at", "2026-11-25T14:30:00Z")
    assert all(set(s) == STATUS_KEYS for s in states)
    assert [(s["brand"], s["campaign"]) for s in states] == [
        ("Acme", "Display"),
        ("Acme", "Search"),
        ("Dinar", "Gulf"),
        ("Yen", "Matcha"),
    ]
    display, search, gulf, matcha = states
    assert search == {
        "brand": "Acme",
        "campaign": "Search",
        "status": "active",
        "reasons": [],
        "spend_today": "2.50",
        "spend_month": "17.50",
        "daily_budget": "15.00",
        "monthly_budget": "300.00",
        "currency": "USD",
    }
    assert (display["status"], display["reasons"]) == ("paused", ["disabled"])
    assert gulf == {
        "brand": "Dinar",
        "campaign": "Gulf",
        "status": "active",
        "reasons": [],
        "spend_today": "1.250",
        "spend_month": "1.250",
        "daily_budget": "15.000",
        "monthly_budget": "100.500",
        "currency": "KWD",
    }
    assert matcha == {
        "brand": "Yen",
        "campaign": "Matcha",
        "status": "active",
        "reasons": [],
        "spend_today": "1700",
        "spend_month": "3000",
        "daily_budget": "30000",
        "monthly_budget": "700000",
        "currency": "JPY",
    }


def test_status_today_is_the_brand_local_day(runner, three_currencies):
    # 04:45 UTC on the 25th is still the 24th in New York: the 15.00 spent at 04:30 UTC is that
    # day's; the month is the brand-local month containing the instant (all of November's spend).
    acme = status_json(runner, "--brand", "Acme", "--at", "2026-11-25T04:45:00Z")
    assert {(s["spend_today"], s["spend_month"]) for s in acme} == {("15.00", "17.50")}
    # 05:00 UTC is midnight in New York: a new local day with 2.50 spent.
    acme = status_json(runner, "--brand", "Acme", "--at", "2026-11-25T05:00:00Z")
    assert {(s["spend_today"], s["spend_month"]) for s in acme} == {("2.50", "17.50")}
    # 15:30 UTC on the 25th is already the 26th in Tokyo: nothing spent today yet, the month unchanged.
    [matcha] = status_json(runner, "--brand", "Yen", "--at", "2026-11-25T15:30:00Z")
    assert (matcha["spend_today"], matcha["spend_month"]) == ("0", "3000")
    # On 1 December in Tokyo (15:00 UTC on 30 November) a new month has begun.
    [matcha] = status_json(runner, "--brand", "Yen", "--at", "2026-11-30T15:00:00Z")
    assert (matcha["spend_today"], matcha["spend_month"]) == ("0", "0")


def test_status_shows_budget_pauses(runner, session, make):
    brand = make.brand("Acme", daily="15", monthly="1000")
    campaign = make.campaign(brand, "Search")
    session.commit()
    add_spend(session, campaign, 1500, datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    rec.reconcile_brands(session, datetime(2026, 11, 25, 10, 0, tzinfo=UTC), actor="test")
    [state] = status_json(runner, "--at", "2026-11-25T10:00:00Z")
    assert (state["status"], state["reasons"], state["spend_today"], state["daily_budget"]) == (
        "paused",
        ["daily_budget"],
        "15.00",
        "15.00",
    )


def test_status_text_and_errors(runner, session, three_currencies):
    text = runner.invoke(args=["status", "--at", "2026-11-25T14:30:00Z"])
    assert text.exit_code == 0, text.output
    assert "Matcha" in text.output and "1,700/30,000" in text.output and "disabled" in text.output

    unknown = runner.invoke(args=["status", "--brand", "Nope"])
    assert unknown.exit_code == 1 and "no brand named 'Nope'" in unknown.output
    bad_at = runner.invoke(args=["status", "--at", "noon"])
    assert bad_at.exit_code == 2 and "Invalid value for --at" in bad_at.output


def test_status_with_no_campaigns(runner, session):
    assert status_json(runner) == []
    result = runner.invoke(args=["status"])
    assert result.exit_code == 0 and "No campaigns yet" in result.output


# --- users create ----------------------------------------------------------------------------


def test_users_create(runner, session):
    result = runner.invoke(
        args=["users", "create", "ops@example.com", "--role", "manager", "--password", "s3cret-pass"]
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.email == "ops@example.com"))
    assert user.role == "manager" and user.check_password("s3cret-pass")
    bad_role = runner.invoke(args=["users", "create", "x@example.com", "--role", "boss", "--password", "pw-pw-pw-pw"])
    assert bad_role.exit_code == 2
    assert count(session, User) == 1
