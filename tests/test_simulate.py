"""`flask simulate`: the replay must equal the control rule at every instant, and write nothing.

The heart of this file is ``test_simulate_matches_the_rule_at_every_instant``: brands in five
zones (DST changes in New York, London and Lord Howe, +05:30 and +05:45 offsets), schedules
with quarter-hour windows and 24:00 ends, flights, budgets, stored spend and a spend CSV
across the DST changes and the October/November month end. The expected state at each
instant is computed here, independently of the app's services: the campaign facts come
from this file's own description, the day and month totals from this file's own list of
spend instants; only the pure rule, ``app.control.decide``, is shared.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.control import BudgetFacts, CampaignFacts, Window, decide
from app.models import Brand, BrandDaySpend, Campaign, CampaignEvent, ScheduleWindow, SpendImport, SpendRecord
from app.services import reconcile as rec
from app.services.spend import new_spend, write_spend

KEYS = {"at", "brand", "campaign", "status", "reasons"}
UTC_ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL = list(DAYS)
WEEKDAYS = list(DAYS[:5])


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# --- the world of the property test ----------------------------------------------------------
#
# brand name -> (zone, currency, daily, monthly, {campaign: (enabled, start, end, schedule rows)})
WORLD = {
    "NY Outdoor": (
        "America/New_York",
        "USD",
        "100.00",
        "400.00",
        {
            "Always": (True, None, None, []),
            "Office": (True, None, None, [(WEEKDAYS, "09:00", "17:30")]),
            # 01:00-02:00 happens twice on 2026-11-01; 22:15-24:00 ends at midnight.
            "Night": (True, None, None, [(["sun"], "00:00", "03:00"), (["sat"], "22:15", "24:00")]),
            "Flight": (True, "2026-10-31", "2026-11-01", []),
            "Off": (False, None, None, [(ALL, "00:00", "24:00")]),
        },
    ),
    "London Books": (
        "Europe/London",
        "GBP",
        "50.00",
        "1000.00",
        {
            "Weekend": (True, None, None, [(["sat", "sun"], "00:45", "02:15")]),
            "Quarter": (True, "2026-10-10", None, [(ALL, "09:15", "09:30"), (ALL, "23:45", "24:00")]),
        },
    ),
    "Kolkata Chai": (
        "Asia/Kolkata",
        "INR",
        "2000.00",
        "5000.00",
        {
            "Always": (True, None, None, []),
            "Morning": (True, None, None, [(ALL, "06:00", "10:45")]),
        },
    ),
    "Kathmandu Treks": (
        "Asia/Kathmandu",
        "NPR",
        "800.00",
        "100000.00",
        {
            "Work": (True, "2026-10-05", "2026-10-30", [(WEEKDAYS, "09:15", "17:45")]),
            "Midnight": (True, None, None, [(ALL, "00:00", "00:15"), (ALL, "23:45", "24:00")]),
        },
    ),
    "Lord Howe Lodge": (
        "Australia/Lord_Howe",
        "AUD",
        "120.00",
        "600.00",
        {
            "Always": (True, None, None, []),
            "Dawn": (True, None, None, [(["sun"], "01:45", "03:00")]),
            "Gap": (True, None, None, [(["sun"], "02:00", "02:30")]),  # skipped on 2026-10-04
        },
    ),
}

START = utc(2026, 10, 3, 0, 0)
END = utc(2026, 11, 2, 12, 0)

# Spend already stored before the replay: (brand, campaign, amount, instant, external id).
STORED = [
    ("NY Outdoor", "Always", "150.00", utc(2026, 10, 2, 16, 0), None),  # before --from, same month
    ("NY Outdoor", "Always", "999.00", utc(2026, 10, 1, 3, 0), None),  # 30 September in New York
    ("NY Outdoor", "Always", "50.00", utc(2026, 10, 20, 15, 0), "ny-ext-1"),  # also in the file below
    ("London Books", "Weekend", "500.00", utc(2026, 9, 30, 23, 30), None),  # 1 October 00:30 BST
    ("Lord Howe Lodge", "Always", "400.00", utc(2026, 10, 1, 1, 0), None),
]
# Spend rows of the CSV: (brand, campaign, amount, spent_at as written, the instant it means, external id).
FILE = [
    # New York: daily 100, monthly 400 (200 of October already stored).
    ("NY Outdoor", "Always", "60.00", "2026-10-30T14:00:00Z", utc(2026, 10, 30, 14, 0), ""),
    ("NY Outdoor", "Office", "40.00", "2026-10-30T18:07:30Z", utc(2026, 10, 30, 18, 7, 30), ""),  # day hits 100
    ("NY Outdoor", "Always", "50.00", "2026-10-30T23:30:00-04:00", utc(2026, 10, 31, 3, 30), ""),  # 350
    ("NY Outdoor", "Flight", "50.00", "2026-10-31T20:00:00Z", utc(2026, 10, 31, 20, 0), ""),  # month hits 400
    ("NY Outdoor", "Always", "50.00", "2026-10-20T15:00:00Z", utc(2026, 10, 20, 15, 0), "ny-ext-1"),  # stored
    ("NY Outdoor", "Night", "30.00", "2026-11-01 01:30", utc(2026, 11, 1, 5, 30), ""),  # local, first 01:30
    ("NY Outdoor", "Night", "30.00", "2026-11-01T01:30:00-05:00", utc(2026, 11, 1, 6, 30), ""),  # second 01:30
    ("NY Outdoor", "Always", "40.00", "2026-11-02T04:30:00Z", utc(2026, 11, 2, 4, 30), ""),  # 1 Nov 23:30 EST
    # London: daily 50, monthly 1000 (500 stored on 1 October).
    ("London Books", "Weekend", "20.00", "2026-10-24T23:30:00Z", utc(2026, 10, 24, 23, 30), ""),
    ("London Books", "Weekend", "20.00", "2026-10-25 01:30", utc(2026, 10, 25, 0, 30), ""),  # BST 01:30
    ("London Books", "Weekend", "10.00", "2026-10-25T01:30:00+00:00", utc(2026, 10, 25, 1, 30), ""),  # GMT 01:30
    ("London Books", "Quarter", "5.00", "2026-10-25T23:30:00Z", utc(2026, 10, 25, 23, 30), ""),  # still the 25th
    ("London Books", "Quarter", "460.00", "2026-10-31T23:30:00Z", utc(2026, 10, 31, 23, 30), ""),  # month hit
    ("London Books", "Quarter", "25.00", "2026-11-01T10:00:00Z", utc(2026, 11, 1, 10, 0), ""),
    ("London Books", "Quarter", "25.00", "2026-11-01T10:00:00Z", utc(2026, 11, 1, 10, 0), ""),  # equal row
    # Kolkata: daily 2000, monthly 5000.
    ("Kolkata Chai", "Always", "1500.00", "2026-10-10T05:00:00+05:30", utc(2026, 10, 9, 23, 30), ""),
    ("Kolkata Chai", "Morning", "1500.00", "2026-10-20T04:00:00Z", utc(2026, 10, 20, 4, 0), ""),
    ("Kolkata Chai", "Always", "2000.00", "2026-10-31T18:29:59Z", utc(2026, 10, 31, 18, 29, 59), ""),
    ("Kolkata Chai", "Always", "1000.00", "2026-10-31T18:30:00Z", utc(2026, 10, 31, 18, 30), ""),
    # Kathmandu: daily 800.
    ("Kathmandu Treks", "Work", "799.99", "2026-10-06T03:20:00Z", utc(2026, 10, 6, 3, 20), ""),
    ("Kathmandu Treks", "Work", "0.01", "2026-10-06T03:20:00.250000Z", utc(2026, 10, 6, 3, 20, 0, 250000), ""),
    ("Kathmandu Treks", "Midnight", "800.00", "2026-10-31T18:14:00Z", utc(2026, 10, 31, 18, 14), ""),
    # Lord Howe: daily 120, monthly 600 (400 stored on 1 October).
    ("Lord Howe Lodge", "Always", "100.00", "2026-10-03T15:00:00Z", utc(2026, 10, 3, 15, 0), ""),  # 01:30 +10:30
    ("Lord Howe Lodge", "Dawn", "20.00", "2026-10-04 02:45", utc(2026, 10, 3, 15, 45), ""),  # 02:45 +11
    ("Lord Howe Lodge", "Always", "1.00", "2026-10-04T12:59:00Z", utc(2026, 10, 4, 12, 59), ""),
    ("Lord Howe Lodge", "Always", "80.00", "2026-10-31T12:00:00Z", utc(2026, 10, 31, 12, 0), ""),  # month hit
]


def fixtures_document() -> dict:
    brands = []
    for name, (zone, currency, daily, monthly, campaigns) in WORLD.items():
        brands.append(
            {
                "name": name,
                "timezone": zone,
                "currency": currency,
                "daily_budget": daily,
                "monthly_budget": monthly,
                "campaigns": [
                    {
                        "name": cname,
                        "enabled": enabled,
                        "start_date": start,
                        "end_date": end,
                        "schedule": [{"days": days, "start": s, "end": e} for days, s, e in rows],
                    }
                    for cname, (enabled, start, end, rows) in campaigns.items()
                ],
            }
        )
    return {"brands": brands}


def csv_text(rows) -> str:
    lines = ["brand,campaign,amount,spent_at,external_id"]
    lines += [f"{b},{c},{amount},{written},{ext}" for b, c, amount, written, _, ext in rows]
    return "\n".join(lines) + "\n"


def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


class Expected:
    """The rule at any instant, from this file's own facts and spend list."""

    def __init__(self, spend: list[tuple[str, datetime, Decimal]]) -> None:
        self.campaigns: dict[tuple[str, str], tuple[ZoneInfo, CampaignFacts]] = {}
        self.budgets: dict[str, tuple[int, int]] = {}
        for name, (zone, _currency, daily, monthly, campaigns) in WORLD.items():
            self.budgets[name] = (int(Decimal(daily) * 100), int(Decimal(monthly) * 100))
            for cname, (enabled, start, end, rows) in campaigns.items():
                windows = tuple(
                    sorted(Window(DAYS.index(day), minutes(s), minutes(e)) for days, s, e in rows for day in days)
                )
                facts = CampaignFacts(
                    enabled, start and date.fromisoformat(start), end and date.fromisoformat(end), windows
                )
                self.campaigns[(name, cname)] = (ZoneInfo(zone), facts)
        # Per brand: (instant, local date of the spend, minor units), sorted.
        self.spend: dict[str, list[tuple[datetime, date, int]]] = defaultdict(list)
        for brand, at, amount in spend:
            zone = ZoneInfo(WORLD[brand][0])
            self.spend[brand].append((at, at.astimezone(zone).date(), int(amount * 100)))

    def totals(self, brand: str, t: datetime) -> tuple[int, int]:
        today = t.astimezone(ZoneInfo(WORLD[brand][0])).date()
        day = month = 0
        for at, local, minor in self.spend[brand]:
            if at <= t and (local.year, local.month) == (today.year, today.month):
                month += minor
                if local == today:
                    day += minor
        return day, month

    def states(self, t: datetime) -> dict[tuple[str, str], tuple[str, list[str]]]:
        out = {}
        for brand in WORLD:
            day, month = self.totals(brand, t)
            daily, monthly = self.budgets[brand]
            budget = BudgetFacts(daily, monthly, day, month)
            for (b, cname), (zone, facts) in self.campaigns.items():
                if b == brand:
                    decision = decide(facts, budget, t, zone)
                    out[(b, cname)] = (str(decision.status), [str(r) for r in decision.reasons])
        return out


def simulated_states(lines: list[dict], points: list[datetime]):
    """(t, the state per campaign from the last line at or before t) for each of the sorted ``points``."""
    state: dict[tuple[str, str], tuple[str, list[str]]] = {}
    i = 0
    for t in points:
        while i < len(lines) and z(lines[i]["at"]) <= t:
            state[(lines[i]["brand"], lines[i]["campaign"])] = (lines[i]["status"], lines[i]["reasons"])
            i += 1
        yield t, dict(state)


def snapshot(session) -> dict:
    session.expire_all()
    tables = (Brand, Campaign, ScheduleWindow, SpendRecord, BrandDaySpend, CampaignEvent, SpendImport)
    return {
        "counts": {t.__name__: session.scalar(select(func.count()).select_from(t)) for t in tables},
        "campaigns": session.execute(
            select(Campaign.id, Campaign.status, Campaign.reasons_text, Campaign.status_changed_at).order_by(
                Campaign.id
            )
        ).all(),
        "days": session.execute(
            select(BrandDaySpend.brand_id, BrandDaySpend.local_date, BrandDaySpend.amount_minor).order_by(
                BrandDaySpend.brand_id, BrandDaySpend.local_date
            )
        ).all(),
    }


def run_simulate(runner, *args) -> list[dict]:
    result = runner.invoke(args=["simulate", "--json", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


@pytest.fixture
def world(runner, session, tmp_path):
    """The five brands loaded through `fixtures load`, the stored spend written, the CSV on disk."""
    path = tmp_path / "world.json"
    path.write_text(json.dumps(fixtures_document()))
    result = runner.invoke(args=["fixtures", "load", str(path)])
    assert result.exit_code == 0, result.output
    campaigns = {(c.brand.name, c.name): c for c in session.scalars(select(Campaign))}
    write_spend(
        session,
        [
            new_spend(campaigns[(b, c)], int(Decimal(amount) * 100), at, source="manual", external_id=ext)
            for b, c, amount, at, ext in STORED
        ],
    )
    session.commit()
    spend_csv = tmp_path / "spend.csv"
    spend_csv.write_text(csv_text(FILE), encoding="utf-8")
    return spend_csv


def test_simulate_matches_the_rule_at_every_instant(runner, session, world):
    before = snapshot(session)
    # A daily step: the transitions must come from the quarter hours and spend instants themselves.
    lines = run_simulate(
        runner, "--from", START.isoformat(), "--to", END.isoformat(), "--spend", str(world), "--step", "1d"
    )
    assert snapshot(session) == before  # writes nothing

    # The shape of every line; instants in order; none before --from or after --to.
    for line in lines:
        assert set(line) == KEYS
        assert UTC_ISO_Z.match(line["at"]), line["at"]
        assert line["status"] in ("active", "paused")
        assert (line["status"] == "active") == (line["reasons"] == [])
    instants = [z(line["at"]) for line in lines]
    assert instants == sorted(instants) and instants[0] >= START and instants[-1] <= END

    # Every campaign's initial state at --from, then only real changes.
    everyone = {(b, c) for b, spec in WORLD.items() for c in spec[4]}
    first = {}
    previous = {}
    for line in lines:
        key = (line["brand"], line["campaign"])
        first.setdefault(key, line["at"])
        state = (line["status"], line["reasons"])
        assert previous.get(key) != state, f"{key} repeated {state} at {line['at']}"
        previous[key] = state
    assert set(first) == everyone
    assert set(first.values()) == {"2026-10-03T00:00:00Z"}

    # The stored spend in the file (same external id) counts once; equal rows in the file both count.
    spend = [(b, at, Decimal(amount)) for b, _, amount, at, _ in STORED]
    spend += [(b, at, Decimal(amount)) for b, _, amount, _, at, ext in FILE if ext != "ny-ext-1"]
    expected = Expected(spend)

    # Every 5 minutes of the span, and just before, at and just after every spend and every change.
    points = set()
    t = START
    while t <= END:
        points.add(t)
        t += timedelta(minutes=5)
    tiny = timedelta(microseconds=1)
    for at in [at for _, at, _ in spend] + instants:
        points.update(p for p in (at - tiny, at, at + tiny) if START <= p <= END)
    mismatches = []
    for t, got in simulated_states(lines, sorted(points)):
        want = expected.states(t)
        if want != got:
            diff = {k: (want.get(k), got.get(k)) for k in want.keys() | got.keys() if want.get(k) != got.get(k)}
            mismatches.append((t.isoformat(), diff))
    assert not mismatches, f"{len(mismatches)} instants differ, first: {mismatches[:3]}"

    # And some of the instants by name, so the model above is not trusted blindly.
    def changes(brand, campaign):
        return [
            (line["at"], line["status"], line["reasons"])
            for line in lines
            if (line["brand"], line["campaign"]) == (brand, campaign)
        ]

    ny = changes("NY Outdoor", "Always")
    assert ("2026-10-30T18:07:30Z", "paused", ["daily_budget"]) in ny  # a non-quarter-hour spend
    assert ("2026-10-31T04:00:00Z", "active", []) in ny  # New York midnight (EDT)
    assert ("2026-10-31T20:00:00Z", "paused", ["monthly_budget"]) in ny
    assert ("2026-11-01T04:00:00Z", "active", []) in ny  # a new month
    assert ("2026-11-02T04:30:00Z", "paused", ["daily_budget"]) in ny  # 23:30 EST: still 1 November
    assert ("2026-11-02T05:00:00Z", "active", []) in ny  # the 25-hour day ends
    night = [c for c in changes("NY Outdoor", "Night") if c[0].startswith("2026-11-01")]
    # Saturday 22:15-24:00 and Sunday 00:00-03:00 local: the month budget pauses it until the month
    # turns at Sunday 00:00 EDT (04:00Z); 03:00 EST is 08:00Z, four hours on as 01:00-02:00 repeats.
    assert night[:3] == [
        ("2026-11-01T02:15:00Z", "paused", ["monthly_budget"]),
        ("2026-11-01T04:00:00Z", "active", []),
        ("2026-11-01T08:00:00Z", "paused", ["schedule"]),
    ]
    kolkata = changes("Kolkata Chai", "Always")
    assert ("2026-10-31T18:29:59Z", "paused", ["daily_budget", "monthly_budget"]) in kolkata
    assert ("2026-10-31T18:30:00Z", "active", []) in kolkata
    assert ("2026-10-06T03:20:00.250000Z", "paused", ["schedule", "daily_budget"]) in changes("Kathmandu Treks", "Work")
    assert ("2026-10-31T18:15:00Z", "active", []) in changes("Kathmandu Treks", "Midnight")  # 00:00 +05:45
    # Lord Howe: 02:00-02:30 does not exist on 4 October, so Gap stays paused that Sunday.
    gap = [c for c in changes("Lord Howe Lodge", "Gap") if c[0] < "2026-10-04T13:00:00Z"]
    assert gap == [
        ("2026-10-03T00:00:00Z", "paused", ["schedule"]),
        ("2026-10-03T15:45:00Z", "paused", ["schedule", "daily_budget"]),
    ]
    assert ("2026-10-10T15:00:00Z", "active", []) in changes("Lord Howe Lodge", "Gap")  # 02:00 +11 a week on
    lord_howe = changes("Lord Howe Lodge", "Always")
    assert ("2026-10-03T15:45:00Z", "paused", ["daily_budget"]) in lord_howe
    assert ("2026-10-04T13:00:00Z", "active", []) in lord_howe  # the 23.5-hour day ends
    london = changes("London Books", "Weekend")
    assert ("2026-10-25T01:30:00Z", "paused", ["daily_budget"]) in london  # GMT 01:30, the second one
    assert ("2026-10-31T23:30:00Z", "paused", ["schedule", "daily_budget", "monthly_budget"]) in london
    assert ("2026-11-01T00:00:00Z", "paused", ["schedule"]) in london
    assert ("2026-11-01T00:45:00Z", "active", []) in london  # Sunday 00:45 GMT
    quarter = changes("London Books", "Quarter")
    assert ("2026-11-01T10:00:00Z", "paused", ["schedule", "daily_budget"]) in quarter  # both equal rows count


@pytest.mark.parametrize("step", ["1h", "7m", "1d", "1s"])
def test_transitions_do_not_depend_on_the_step(runner, world, step):
    args = ["--from", "2026-10-24T00:00:00Z", "--to", "2026-11-02T00:00:00Z", "--spend", str(world)]
    assert run_simulate(runner, *args, "--step", step) == run_simulate(runner, *args)


def test_spend_in_the_file_already_imported_is_not_counted_twice(runner, session, world, app):
    args = ["--from", "2026-10-24T00:00:00Z", "--to", "2026-11-02T12:00:00Z"]
    with_file = run_simulate(runner, *args, "--spend", str(world))
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # enforce in process, not through a queue
    imported = runner.invoke(args=["spend", "import", str(world)])
    assert imported.exit_code == 0, imported.output
    assert run_simulate(runner, *args) == with_file  # the stored rows alone give the same replay
    assert run_simulate(runner, *args, "--spend", str(world)) == with_file  # and the file adds nothing


# --- smaller cases ---------------------------------------------------------------------------


@pytest.fixture
def acme(session, make):
    brand = make.brand("Acme", daily="10", monthly="100")
    search = make.campaign(brand, "Search")
    make.campaign(brand, "Office", windows=(Window(2, 9 * 60, 17 * 60),))  # Wednesday
    make.campaign(brand, "Off", enabled=False)
    session.commit()
    return brand, search


def test_a_spend_at_a_non_quarter_hour_instant_changes_state_at_exactly_that_instant(runner, acme, tmp_path):
    path = tmp_path / "spend.csv"
    path.write_text("brand,campaign,amount,spent_at\nAcme,Search,10.00,2026-11-25T10:07:30Z\n")
    lines = run_simulate(runner, "--from", "2026-11-25T10:00:00Z", "--to", "2026-11-25T11:00:00Z", "--spend", str(path))
    assert lines == [
        {"at": "2026-11-25T10:00:00Z", "brand": "Acme", "campaign": "Off", "status": "paused", "reasons": ["disabled"]},
        {"at": "2026-11-25T10:00:00Z", "brand": "Acme", "campaign": "Office", "status": "active", "reasons": []},
        {"at": "2026-11-25T10:00:00Z", "brand": "Acme", "campaign": "Search", "status": "active", "reasons": []},
        {
            "at": "2026-11-25T10:07:30Z",
            "brand": "Acme",
            "campaign": "Off",
            "status": "paused",
            "reasons": ["disabled", "daily_budget"],
        },
        {
            "at": "2026-11-25T10:07:30Z",
            "brand": "Acme",
            "campaign": "Office",
            "status": "paused",
            "reasons": ["daily_budget"],
        },
        {
            "at": "2026-11-25T10:07:30Z",
            "brand": "Acme",
            "campaign": "Search",
            "status": "paused",
            "reasons": ["daily_budget"],
        },
    ]


def test_initial_state_for_every_campaign_and_schedule_changes(runner, acme):
    lines = run_simulate(runner, "--from", "2026-11-25T08:50:00Z", "--to", "2026-11-25T17:00:00Z", "--step", "1h")
    assert [(line["at"], line["campaign"], line["status"], line["reasons"]) for line in lines] == [
        ("2026-11-25T08:50:00Z", "Off", "paused", ["disabled"]),
        ("2026-11-25T08:50:00Z", "Office", "paused", ["schedule"]),
        ("2026-11-25T08:50:00Z", "Search", "active", []),
        ("2026-11-25T09:00:00Z", "Office", "active", []),  # on the quarter hour, not at the hourly step
        ("2026-11-25T17:00:00Z", "Office", "paused", ["schedule"]),  # --to is evaluated too
    ]


def test_stored_spend_counts_only_in_its_local_day_and_month(runner, session, acme):
    brand, search = acme
    write_spend(
        session,
        [
            new_spend(search, 600, utc(2026, 11, 24, 23, 0), source="manual"),  # yesterday
            new_spend(search, 9400, utc(2026, 11, 2, 12, 0), source="manual"),  # this month
            new_spend(search, 99999, utc(2026, 10, 31, 23, 0), source="manual"),
        ],
    )  # last month
    session.commit()
    lines = run_simulate(runner, "--from", "2026-11-24T22:00:00Z", "--to", "2026-11-25T01:00:00Z")
    search_lines = [(line["at"], line["reasons"]) for line in lines if line["campaign"] == "Search"]
    assert search_lines == [
        ("2026-11-24T22:00:00Z", []),  # 9400 this month: under 10000
        ("2026-11-24T23:00:00Z", ["monthly_budget"]),  # 10000 this month (and only 6.00 today)
    ]


def test_spend_after_to_and_archived_campaigns_are_left_out(runner, session, acme, tmp_path):
    brand, search = acme
    archived = next(c for c in brand.campaigns if c.name == "Off")
    archived.archived_at = utc(2026, 11, 1)
    session.commit()
    path = tmp_path / "spend.csv"
    path.write_text("brand,campaign,amount,spent_at\nAcme,Search,10.00,2026-11-25T12:00:00Z\n")
    lines = run_simulate(runner, "--from", "2026-11-25T10:00:00Z", "--to", "2026-11-25T11:59:59Z", "--spend", str(path))
    assert [(line["campaign"], line["status"]) for line in lines] == [("Office", "active"), ("Search", "active")]


def test_simulate_writes_nothing_even_when_states_are_stale(runner, session, acme, tmp_path):
    brand, search = acme
    rec.reconcile_brands(session, utc(2026, 11, 25, 8, 0), actor="test")
    write_spend(session, [new_spend(search, 500, utc(2026, 11, 25, 9, 0), source="manual")])
    session.commit()
    path = tmp_path / "spend.csv"
    path.write_text("brand,campaign,amount,spent_at\nAcme,Search,5.00,2026-11-25T10:00:00Z\n")
    before = snapshot(session)
    lines = run_simulate(runner, "--from", "2026-11-25T08:00:00Z", "--to", "2026-11-26T08:00:00Z", "--spend", str(path))
    assert any(line["reasons"] == ["daily_budget"] for line in lines)
    assert snapshot(session) == before


def test_text_output(runner, acme):
    result = runner.invoke(args=["simulate", "--from", "2026-11-25T08:00:00Z", "--to", "2026-11-25T10:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "2026-11-25T08:00:00Z  Acme / Office: paused (schedule)" in result.output
    assert "2026-11-25T09:00:00Z  Acme / Office: active (-)" in result.output


def test_from_with_an_offset_or_without_one(runner, acme):
    utc_lines = run_simulate(runner, "--from", "2026-11-25T08:00:00Z", "--to", "2026-11-25T10:00:00Z")
    assert run_simulate(runner, "--from", "2026-11-25T13:30:00+05:30", "--to", "2026-11-25T05:00:00-05:00") == utc_lines
    assert run_simulate(runner, "--from", "2026-11-25 08:00", "--to", "2026-11-25T10:00") == utc_lines


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--from", "soon", "--to", "2026-11-26T00:00Z"], 2, "Invalid value for --from"),
        (["--from", "2026-11-25T00:00Z", "--to", "2026-11-31T00:00Z"], 2, "Invalid value for --to"),
        (["--from", "2026-11-25T00:00Z"], 2, "Missing option '--to'"),
        (["--to", "2026-11-25T00:00Z"], 2, "Missing option '--from'"),
        (["--from", "2026-11-25T00:00Z", "--to", "2026-11-24T00:00Z"], 1, "--to must be after --from"),
        (["--from", "2026-11-25T00:00Z", "--to", "2026-11-25T00:00Z"], 1, "--to must be after --from"),
        (["--from", "2025-11-25T00:00Z", "--to", "2026-11-27T00:00Z"], 1, "at most 366 days"),
        (["--from", "2026-11-25T00:00Z", "--to", "2026-11-26T00:00Z", "--step", "0m"], 1, "not a positive duration"),
        (["--from", "2026-11-25T00:00Z", "--to", "2026-11-26T00:00Z", "--step", "-5m"], 1, "not a positive duration"),
        (["--from", "2026-11-25T00:00Z", "--to", "2026-11-26T00:00Z", "--step", "15x"], 1, "not a positive duration"),
        (["--from", "2026-11-25T00:00Z", "--to", "2026-11-26T00:00Z", "--step", ""], 1, "not a positive duration"),
        (
            ["--from", "2026-11-25T00:00Z", "--to", "2026-11-26T00:00Z", "--spend", "/nonexistent.csv"],
            2,
            "Invalid value for '--spend'",
        ),
    ],
)
def test_bad_arguments(runner, session, acme, args, code, message):
    before = snapshot(session)
    result = runner.invoke(args=["simulate", "--json", *args])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert snapshot(session) == before


def test_a_spend_file_with_bad_rows_is_refused_with_each_line(runner, session, acme, tmp_path):
    path = tmp_path / "spend.csv"
    path.write_text(
        "brand,campaign,amount,spent_at\n"
        "Acme,Search,1.00,2026-11-25T10:00:00Z\n"
        "Nope,Search,1.00,2026-11-25T10:00:00Z\n"
        "Acme,Search,1.005,2026-11-25T10:00:00Z\n"
    )
    result = runner.invoke(
        args=["simulate", "--json", "--from", "2026-11-25T00:00Z", "--to", "2026-11-26T00:00Z", "--spend", str(path)]
    )
    assert result.exit_code == 1
    assert "line 3: Unknown brand 'Nope'" in result.output and "line 4: " in result.output
    assert '"at"' not in result.output  # no partial replay


def test_a_spend_file_that_is_not_csv_text_is_refused(runner, acme, tmp_path):
    path = tmp_path / "spend.csv"
    path.write_bytes(b"\x00\x01\x02binary")
    result = runner.invoke(
        args=["simulate", "--from", "2026-11-25T00:00Z", "--to", "2026-11-26T00:00Z", "--spend", str(path)]
    )
    assert result.exit_code == 1 and "binary" in result.output


def test_a_one_second_step_over_most_of_a_year(runner, acme):
    # Steps finer than the quarter hours cannot change a state; the replay stays exact and bounded.
    lines = run_simulate(runner, "--from", "2026-01-01T00:00:00Z", "--to", "2026-12-31T00:00:00Z", "--step", "1s")
    office = [(line["at"], line["status"]) for line in lines if line["campaign"] == "Office"]
    wednesdays = [date(2026, 1, 1) + timedelta(days=d) for d in range(364)]
    wednesdays = [d for d in wednesdays if d.weekday() == 2]
    assert office == [("2026-01-01T00:00:00Z", "paused")] + [
        (f"{d.isoformat()}T{hour}:00:00Z", status)
        for d in wednesdays
        for hour, status in (("09", "active"), ("17", "paused"))
    ]
    assert len(lines) == 3 + 2 * len(wednesdays)
