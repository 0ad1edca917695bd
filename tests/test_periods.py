"""Period rows: a platform's running figure for a brand-local day or hour, the latest of which replaces the
earlier (app.services.spend.write_periods), through imports, write_spend, the API and the simulator.

Real files, the real database (SQLite, or PostgreSQL with PACER_TEST_DATABASE_URL). After every write the
day totals must equal the stored records' sums, and each period must hold exactly one record.
"""

from __future__ import annotations

import html
import threading
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.control import local_day
from app.extensions import db
from app.ingest.timestamps import TimestampError, parse_period_start
from app.models import Brand, BrandDaySpend, BrandFigure, Campaign, SpendImport, SpendRecord
from app.services.imports import create_import, import_file, run_import
from app.services.reconcile import reconcile_brand
from app.services.simulate import simulate
from app.services.spend import new_spend, rebuild_day_totals, write_spend
from tests.conftest import NOW, Builders, _empty_tables
from tests.helpers import add_user, sign_in
from tests.test_api import auth, token_for

HEADER = "brand,campaign,amount,spent_at,period"
NEW_YORK = ZoneInfo("America/New_York")
TODAY = date(2026, 11, 25)  # NOW (15:00 UTC) is 10:00 in New York


@pytest.fixture
def acme(session, make):
    brand = make.brand("Acme", timezone="America/New_York", daily="100", monthly="2000")
    search = make.campaign(brand, "Search")
    social = make.campaign(brand, "Social")
    session.commit()
    return SimpleNamespace(brand=brand, search=search, social=social)


def export(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


def run(session, path: Path, *, skip_bad_rows: bool = False):
    spend_import, outcome = import_file(session, path, actor="test", skip_bad_rows=skip_bad_rows)
    session.expire_all()
    stored = session.get(SpendImport, spend_import.id)
    assert (stored.replaced, stored.corrected, stored.unchanged) == (
        outcome.replaced,
        outcome.corrected,
        outcome.unchanged,
    )
    return outcome


def day_total(session, day: date = TODAY) -> int:
    return session.scalar(select(func.coalesce(func.sum(BrandDaySpend.amount_minor), 0)).filter_by(local_date=day))


def assert_coherent(session, zone: ZoneInfo = NEW_YORK) -> dict[date, int]:
    """Day totals equal the records' sums by brand-local day; one record per period key (the unique index)."""
    expected: dict[date, int] = defaultdict(int)
    for record in session.scalars(select(SpendRecord)):
        assert record.local_date == local_day(record.spent_at, zone)
        expected[record.local_date] += record.amount_minor
    totals = {
        day: amount for day, amount in session.execute(select(BrandDaySpend.local_date, BrandDaySpend.amount_minor))
    }
    assert {d: a for d, a in totals.items() if a} == {d: a for d, a in expected.items() if a}
    return totals


def status_at_now(session, acme) -> tuple[str, str]:
    reconcile_brand(session, acme.brand.id, NOW, actor="test")
    session.commit()
    campaign = session.get(Campaign, acme.search.id)
    return campaign.status, campaign.reasons


def spend_today_figure(session, acme) -> int:
    session.expire_all()
    return session.get(BrandFigure, acme.brand.id).spend_today


# --- the latest figure wins -------------------------------------------------------------------------


def test_a_day_exported_three_times_keeps_the_last_figure_and_the_state_follows(session, acme, tmp_path):
    assert status_at_now(session, acme) == ("active", [])  # the brand's figures exist for today
    instant = export(tmp_path, "instant.csv", "Acme,Social,5.00,2026-11-25 08:00,")
    assert run(session, instant).imported == 1

    first = run(session, export(tmp_path, "e1.csv", "Acme,Search,60.00,2026-11-25,day"))
    assert (first.imported, first.replaced, first.corrected, first.unchanged) == (1, 0, 0, 0)
    assert day_total(session) == 6500
    assert spend_today_figure(session, acme) == 6500  # moved in the import's own transaction
    assert status_at_now(session, acme) == ("active", [])

    rising = run(session, export(tmp_path, "e2.csv", "Acme,Search,120.00,2026-11-25,day"))
    assert (rising.imported, rising.duplicates, rising.replaced, rising.corrected, rising.unchanged) == (0, 0, 1, 0, 0)
    assert rising.brand_ids == {acme.brand.id}  # named for enforcement
    assert day_total(session) == 12500
    assert spend_today_figure(session, acme) == 12500
    assert status_at_now(session, acme) == ("paused", ["daily_budget"])

    equal = run(session, export(tmp_path, "e3.csv", "Acme,Search,120.00,2026-11-25,day"))
    assert (equal.imported, equal.replaced, equal.corrected, equal.unchanged) == (0, 0, 0, 1)
    assert equal.brand_ids == set()  # nothing moved: nothing to enforce
    assert equal.message == "Every row was already imported: nothing new was added."
    assert day_total(session) == 12500

    lowered = run(session, export(tmp_path, "e4.csv", "Acme,Search,80.00,2026-11-25,day"))
    assert (lowered.imported, lowered.replaced, lowered.corrected, lowered.unchanged) == (0, 0, 1, 0)
    assert lowered.brand_ids == {acme.brand.id}
    assert day_total(session) == 8500
    assert spend_today_figure(session, acme) == 8500
    assert status_at_now(session, acme) == ("active", [])

    period_rows = session.scalars(select(SpendRecord).where(SpendRecord.period.is_not(None))).all()
    assert [(r.period, r.amount_minor, r.spent_at) for r in period_rows] == [
        ("day", 8000, datetime(2026, 11, 25, 5, 0, tzinfo=UTC))  # New York's midnight
    ]
    assert assert_coherent(session)[TODAY] == 8500


def test_rows_of_one_period_in_one_export_are_added_and_months_move_by_the_difference(session, acme, tmp_path):
    run(
        session,
        export(tmp_path, "a.csv", "Acme,Search,10.00,2026-11-03 14:00,hour", "Acme,Search,2.50,2026-11-03T14,hour"),
    )
    assert day_total(session, date(2026, 11, 3)) == 1250
    again = run(session, export(tmp_path, "b.csv", "Acme,Search,11.00,2026-11-03 14:00:00,hour"))
    assert (again.replaced, again.corrected) == (0, 1)
    assert day_total(session, date(2026, 11, 3)) == 1100
    assert assert_coherent(session)[date(2026, 11, 3)] == 1100


def test_hours_of_new_yorks_fall_back_night_are_two_periods(session, acme, tmp_path):
    # 2026-11-01: 01:00-02:00 happens twice in New York, 05:00 UTC (EDT) and 06:00 UTC (EST).
    first = parse_period_start("2026-11-01 01:00", "hour", NEW_YORK)
    second = parse_period_start("2026-11-01T01:00-05:00", "hour", NEW_YORK)
    assert (first, second) == (datetime(2026, 11, 1, 5, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC))
    assert parse_period_start("2026-11-01T01", "hour", NEW_YORK) == first

    run(
        session,
        export(
            tmp_path, "a.csv", "Acme,Search,4.00,2026-11-01 01:00,hour", "Acme,Search,6.00,2026-11-01T01:00-05:00,hour"
        ),
    )
    assert day_total(session, date(2026, 11, 1)) == 1000
    later = run(session, export(tmp_path, "b.csv", "Acme,Search,9.00,2026-11-01T01:00-05:00,hour"))
    assert (later.imported, later.replaced) == (0, 1)  # only the second 01:00 hour is replaced
    stored = session.execute(
        select(SpendRecord.spent_at, SpendRecord.amount_minor).order_by(SpendRecord.spent_at)
    ).all()
    assert stored == [(first, 400), (second, 900)]
    assert assert_coherent(session)[date(2026, 11, 1)] == 1300


def test_a_campaigns_day_is_kept_as_one_day_figure_or_as_hours_never_both(session, acme, tmp_path):
    run(
        session,
        export(
            tmp_path, "hours.csv", "Acme,Search,3.00,2026-11-24 09:00,hour", "Acme,Search,4.00,2026-11-24 10:00,hour"
        ),
    )
    mixed = export(tmp_path, "day.csv", "Acme,Search,9.00,2026-11-24,day", "Acme,Social,9.00,2026-11-24,day")

    refused = run(session, mixed)  # all or nothing: the mixed row rejects the file
    assert (refused.status, refused.rejected, refused.imported) == ("rejected", 1, 0)
    assert [(e.line, e.message) for e in refused.errors] == [
        (2, "2026-11-24 is kept as hour figures for this campaign; a day figure for it would count that money twice.")
    ]
    assert day_total(session, date(2026, 11, 24)) == 700

    skipped = run(session, mixed, skip_bad_rows=True)
    assert (skipped.status, skipped.rejected, skipped.imported) == ("done", 1, 1)  # Social's day is new
    assert day_total(session, date(2026, 11, 24)) == 1600
    # Within one export, the first figure of a campaign's day decides its kind.
    both = run(
        session,
        export(tmp_path, "both.csv", "Acme,Search,1.00,2026-11-20,day", "Acme,Search,1.00,2026-11-20 10:00,hour"),
        skip_bad_rows=True,
    )
    assert (both.imported, both.rejected) == (1, 1)
    assert assert_coherent(session)[date(2026, 11, 24)] == 1600


@pytest.mark.parametrize(
    ("period", "spent_at", "message"),
    [
        ("week", "2026-11-05", "Period 'week' is not day or hour (or empty for a spend at an instant)."),
        (
            "day",
            "2026-11-05 10:00",
            "A day's spent_at is its date in the brand's zone like 2026-11-05, not '2026-11-05 10:00'.",
        ),
        ("day", "2026-02-30", "'2026-02-30' is not a real date."),
        (
            "hour",
            "2026-11-05 14:30",
            "An hour's spent_at is its start in the brand's zone like 2026-11-05 14:00 or 2026-11-05T14, "
            "not '2026-11-05 14:30'.",
        ),
        (
            "hour",
            "2026-03-08 02:00",
            "2026-03-08 02:00 does not exist in America/New_York: the clocks skip it for daylight saving time.",
        ),
        ("hour", "2026-11-05T14:00+05:30", "'2026-11-05T14:00+05:30' is not the start of an hour in America/New_York."),
        ("day", "2099-01-01", None),  # a future day: the spend rule's own message
    ],
)
def test_bad_period_rows_get_a_clear_message_and_nothing_is_stored(session, acme, tmp_path, period, spent_at, message):
    outcome = run(session, export(tmp_path, "bad.csv", f"Acme,Search,1.00,{spent_at},{period}"))
    assert (outcome.status, outcome.rejected) == ("rejected", 1)
    if message is not None:
        assert outcome.errors[0].message == message
    assert session.scalar(select(func.count()).select_from(SpendRecord)) == 0
    assert day_total(session, date(2026, 11, 5)) == 0


# --- later registered import wins, whichever finishes first -----------------------------------------


def _register(session, path: Path) -> int:
    spend_import = create_import(session, path, filename=path.name, actor="test", skip_bad_rows=False)
    session.commit()
    return spend_import.id


def _run_in_thread(app, import_id: int, errors: list, start: threading.Barrier) -> threading.Thread:
    """Run an import in a thread of its own, with its own app context, session and database connection."""

    def target():
        with app.app_context():
            try:
                start.wait()
                run_import(db.session, import_id)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
            finally:
                db.session.remove()

    thread = threading.Thread(target=target)
    thread.start()
    return thread


@pytest.mark.parametrize("order", ["earlier-first", "later-first", "at-once"])
def test_two_exports_of_one_day_imported_at_once_end_with_the_later_ones_figure(app, session, acme, tmp_path, order):
    hours = range(24)
    early_lines = [f"Acme,Search,{h + 1}.00,2026-11-24 {h:02d}:00,hour" for h in hours] + [
        "Acme,Social,50.00,2026-11-24,day"
    ]
    late_lines = [f"Acme,Search,{h + 2}.00,2026-11-24 {h:02d}:00,hour" for h in hours] + [
        "Acme,Social,40.00,2026-11-24,day"
    ]
    earlier = _register(session, export(tmp_path, "early.csv", *early_lines))
    later = _register(session, export(tmp_path, "late.csv", *late_lines))
    errors: list = []
    if order == "at-once":
        start = threading.Barrier(2)
        threads = [_run_in_thread(app, earlier, errors, start), _run_in_thread(app, later, errors, start)]
        for thread in threads:
            thread.join(120)
    else:
        for import_id in (earlier, later) if order == "earlier-first" else (later, earlier):
            _run_in_thread(app, import_id, errors, threading.Barrier(1)).join(120)
    assert errors == []
    session.expire_all()
    late_total = sum(h + 2 for h in hours) * 100 + 4000
    assert day_total(session, date(2026, 11, 24)) == late_total
    stored = dict(
        session.execute(
            select(SpendRecord.spent_at, SpendRecord.amount_minor).where(SpendRecord.campaign_id == acme.search.id)
        ).all()
    )
    assert sorted(stored.values()) == [(h + 2) * 100 for h in hours]
    assert session.scalar(select(SpendRecord.import_id).where(SpendRecord.campaign_id == acme.social.id)) == later
    imports = {i.id: i for i in session.scalars(select(SpendImport))}
    assert {i.status for i in imports.values()} == {"done"}
    if order == "later-first":
        assert imports[earlier].unchanged == 25  # it came last with older figures: nothing moved
    assert assert_coherent(session)[date(2026, 11, 24)] == late_total


# --- every writer, and the property ----------------------------------------------------------------


def test_write_spend_replaces_a_period_figure_and_keeps_instants_as_they_were(session, acme):
    start = datetime(2026, 11, 25, 5, tzinfo=UTC)
    hour = datetime(2026, 11, 25, 14, tzinfo=UTC)

    def write(amount, *, period="day", at=start, source="api"):
        result = write_spend(session, [new_spend(acme.search, amount, at, source=source, period=period)])
        session.commit()
        return result

    assert write(3000).inserted == 1
    assert write(4000).replaced == 1
    assert write(4000).unchanged == 1
    assert write(1000).corrected == 1
    # Instants keep insert-or-skip: the same external id twice is one record.
    for _ in range(2):
        write_spend(session, [new_spend(acme.search, 700, hour, source="manual", external_id="x-1")])
    session.commit()
    refused = write(500, period="hour", at=hour)
    assert refused.mixed and refused.period_outcomes
    assert day_total(session) == 1700
    assert assert_coherent(session)[TODAY] == 1700


def test_the_api_takes_period_figures_and_answers_each_outcome(client, session, acme):
    token = token_for(session, "manager")

    def post(*records):
        return client.post("/api/v1/spend", json=list(records), headers=auth(token))

    day = {"brand": "Acme", "campaign": "Search", "spent_at": "2026-11-24", "period": "day"}
    first = post(day | {"amount": "30.00"})
    assert first.status_code == 201
    assert first.json["results"] == [{"index": 0, "status": "created"}]
    raised = post(day | {"amount": "45.00"}, day | {"amount": "5.00"})  # one figure: 50.00
    assert raised.status_code == 200
    assert raised.json["results"] == [{"index": 0, "status": "replaced"}, {"index": 1, "status": "replaced"}]
    assert (raised.json["replaced"], raised.json["created"]) == (2, 0)
    same = post(day | {"amount": "50.00"})
    assert (same.json["unchanged"], same.json["results"][0]["status"]) == (1, "unchanged")
    lower = post(day | {"amount": "20.00"})
    assert (lower.json["corrected"], lower.json["results"][0]["status"]) == (1, "corrected")
    assert day_total(session, date(2026, 11, 24)) == 2000

    mixed = post(day | {"amount": "1.00", "period": "hour", "spent_at": "2026-11-24 10:00"})
    assert mixed.status_code == 400
    assert mixed.json["results"][0]["error"] == (
        "2026-11-24 is kept as one day figure for this campaign; an hour figure for it would count that money twice."
    )
    bad = post(day | {"amount": "1.00", "period": "month"}, day | {"amount": "1.00", "period": 3})
    assert bad.status_code == 400
    assert [r["error"] for r in bad.json["results"]] == [
        "Period 'month' is not day or hour (or empty for a spend at an instant).",
        "Period must be a string.",
    ]
    assert day_total(session, date(2026, 11, 24)) == 2000
    assert assert_coherent(session)[date(2026, 11, 24)] == 2000


def test_simulate_spend_applies_the_replacement(session, acme, tmp_path):
    run(session, export(tmp_path, "e1.csv", "Acme,Search,120.00,2026-11-25,day"))
    start, end = datetime(2026, 11, 25, 14, tzinfo=UTC), datetime(2026, 11, 25, 16, tzinfo=UTC)
    assert [c.status for c in simulate(session, start, end) if c.campaign == "Search"] == ["paused"]
    lowered = export(tmp_path, "e2.csv", "Acme,Search,80.00,2026-11-25,day")
    with lowered.open("rb") as handle:
        predicted = [
            (c.status, c.reasons) for c in simulate(session, start, end, spend_file=handle) if c.campaign == "Search"
        ]
    assert predicted == [("active", ())]
    assert day_total(session) == 12000  # the simulator stored nothing


# Exports: (export's rows) where a row is (campaign, period key, amount in cents). Search's days are day
# figures, Social's hours (two of them), so no row is refused and the last export of a period decides.
PERIOD_ROWS = {
    "day-24": ("Search", "2026-11-24", "day"),
    "day-25": ("Search", "2026-11-25", "day"),
    "hour-24": ("Social", "2026-11-24 23:00", "hour"),
    "hour-25": ("Social", "2026-11-25T00", "hour"),
}
export_rows = st.lists(st.tuples(st.sampled_from(sorted(PERIOD_ROWS)), st.integers(0, 20_000)), min_size=1, max_size=5)
instant_rows = st.lists(st.sampled_from(["2026-11-24 23:59", "2026-11-25 00:00", "2026-11-25 09:00"]), max_size=2)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    exports=st.lists(st.tuples(export_rows, instant_rows), min_size=1, max_size=4),
    via=st.sampled_from(["import", "write_spend"]),
)
def test_any_sequence_of_exports_leaves_each_periods_last_figure(app, tmp_path, exports, via):
    db.session.remove()
    _empty_tables()
    session = db.session
    brand = Builders(session).brand("Acme", timezone="America/New_York", daily="100", monthly="2000")
    campaigns = {
        c.name: c for c in (Builders(session).campaign(brand, "Search"), Builders(session).campaign(brand, "Social"))
    }
    session.commit()
    last: dict[str, int] = {}
    instants: dict[date, int] = defaultdict(int)
    stored_times: dict[str, int] = defaultdict(int)
    for number, (rows, instant_times) in enumerate(exports):
        figures: dict[str, int] = defaultdict(int)
        for key, cents in rows:
            figures[key] += cents
        if via == "import":
            lines = [f"Acme,{PERIOD_ROWS[k][0]},{c / 100:.2f},{PERIOD_ROWS[k][1]},{PERIOD_ROWS[k][2]}" for k, c in rows]
            lines += [f"Acme,Search,1.00,{at},{''}" for at in instant_times]
            assert run(session, export(tmp_path, f"export-{number}.csv", *lines)).status == "done"
        else:
            records = [
                new_spend(
                    campaigns[PERIOD_ROWS[k][0]],
                    c,
                    parse_period_start(PERIOD_ROWS[k][1], PERIOD_ROWS[k][2], NEW_YORK),
                    source="api",
                    period=PERIOD_ROWS[k][2],
                )
                for k, c in rows
            ]
            records += [
                new_spend(campaigns["Search"], 100, datetime.fromisoformat(at).replace(tzinfo=NEW_YORK), source="api")
                for at in instant_times
            ]
            write_spend(session, records)
            session.commit()
        last.update(figures)
        # Instants keep their own dedupe: an import's equal rows are keyed by occurrence (a file's second
        # equal row matches another file's second), a write_spend record without an id is always new.
        for at in set(instant_times):
            times = instant_times.count(at)
            if via == "import":
                stored_times[at] = max(stored_times[at], times)
            else:
                stored_times[at] += times
    for at, times in stored_times.items():
        instants[datetime.fromisoformat(at).date()] += 100 * times
    session.expire_all()
    stored = {
        (record.campaign.name, record.period, record.spent_at): record.amount_minor
        for record in session.scalars(select(SpendRecord).where(SpendRecord.period.is_not(None)))
    }
    expected = {
        (PERIOD_ROWS[k][0], PERIOD_ROWS[k][2], parse_period_start(PERIOD_ROWS[k][1], PERIOD_ROWS[k][2], NEW_YORK)): c
        for k, c in last.items()
    }
    assert stored == expected
    by_day: dict[date, int] = defaultdict(int, instants)
    for (_, _, start), cents in expected.items():
        by_day[local_day(start, NEW_YORK)] += cents
    totals = assert_coherent(session)
    assert {d: a for d, a in totals.items() if a} == {d: a for d, a in by_day.items() if a}


def test_parse_period_start_refuses_what_it_cannot_read():
    with pytest.raises(TimestampError):
        parse_period_start("2026-11-05T14:00Z", "day", NEW_YORK)
    assert parse_period_start("2026-11-05", "day", ZoneInfo("Asia/Kolkata")) == datetime(
        2026, 11, 4, 18, 30, tzinfo=UTC
    )
    # Santiago skips midnight on 2026-09-06: the day starts at 01:00 local, 04:00 UTC.
    assert parse_period_start("2026-09-06", "day", ZoneInfo("America/Santiago")) == datetime(2026, 9, 6, 4, tzinfo=UTC)


def test_the_campaign_form_records_a_days_figure_that_replaces_the_earlier(client, session, acme):
    sign_in(client, add_user(session, "m@example.com", "manager"))
    url = f"/campaigns/{acme.search.id}/spend"

    def post(amount, period="day", spent_at="2026-11-24T09:30"):
        response = client.post(url, data={"amount": amount, "spent_at": spent_at, "period": period})
        with client.session_transaction() as state:
            said = [message for _, message in state.pop("_flashes", [])]
        return response, said

    assert post("30")[1][0] == "Recorded 30.00 USD for Search, 2026-11-24 (America/New_York)."
    assert post("45")[1][0] == "Raised the figure to 45.00 USD for Search, 2026-11-24 (America/New_York)."
    assert post("45")[1][0] == "Unchanged: the figure is already 45.00 USD for Search, 2026-11-24 (America/New_York)."
    assert post("20")[1][0] == "Corrected (lowered) the figure to 20.00 USD for Search, 2026-11-24 (America/New_York)."
    assert day_total(session, date(2026, 11, 24)) == 2000

    def refused(*args) -> str:
        # A refused form comes back on the campaign page (post/redirect/get) with its errors.
        response, _ = post(*args)
        assert response.status_code == 303
        return html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))

    assert "an hour figure for it would count that money twice." in refused("5", "hour", "2026-11-24T10:00")
    assert "An hour's spent_at is its start" in refused("5", "hour", "2026-11-23T10:30")
    assert "Not a valid choice" in refused("5", "week")
    assert day_total(session, date(2026, 11, 24)) == 2000
    assert day_total(session, date(2026, 11, 23)) == 0
    assert assert_coherent(session)[date(2026, 11, 24)] == 2000


def test_the_import_page_and_the_cli_show_replaced_corrected_and_unchanged(client, runner, session, acme, tmp_path):
    run(session, export(tmp_path, "e1.csv", "Acme,Search,60.00,2026-11-24,day", "Acme,Social,6.00,2026-11-24,day"))
    second = export(
        tmp_path,
        "e2.csv",
        "Acme,Search,70.00,2026-11-24,day",
        "Acme,Social,5.00,2026-11-24,day",
        "Acme,Social,1,2026-11-23,day",
    )
    result = runner.invoke(args=["spend", "import", str(second)])
    assert result.exit_code == 0, result.output
    assert "3 rows read, 1 imported, 0 duplicates, 0 rejected." in result.output
    assert "Period figures: 1 replaced, 1 corrected (lowered), 0 unchanged." in result.output
    sign_in(client, add_user(session, "v@example.com", "viewer"))
    latest = session.scalar(select(SpendImport).order_by(SpendImport.id.desc()))
    page = html.unescape(client.get(f"/spend/imports/{latest.id}").get_data(as_text=True))
    assert "<dt>Replaced (a day or hour's figure raised)</dt><dd>1</dd>" in page
    assert "<dt>Corrected (a figure lowered)</dt><dd>1</dd>" in page
    assert "<dt>Unchanged figures</dt><dd>0</dd>" in page


def test_the_cli_records_a_period_figure(runner, session, acme):
    def record(amount, period="day", at="2026-11-24"):
        args = ["spend", "record", "--brand", "Acme", "--campaign", "Search", "--amount", amount, "--period", period]
        return runner.invoke(args=[*args, "--at", at])

    first = record("30")
    assert first.exit_code == 0, first.output
    assert "Day figure 30 USD for Acme / Search from 2026-11-24T05:00:00+00:00: new." in first.output
    assert "corrected." in record("10").output
    mixed = record("5", "hour", "2026-11-24 10:00")
    assert mixed.exit_code == 2
    assert "Invalid value for --period: 2026-11-24 is kept as one day figure" in mixed.output
    assert day_total(session, date(2026, 11, 24)) == 1000


def test_a_time_zone_change_keeps_period_rows_on_the_day_their_start_falls_on(session, acme, tmp_path):
    run(
        session,
        export(
            tmp_path,
            "ny.csv",
            "Acme,Search,10.00,2026-11-24,day",  # New York's midnight: 05:00 UTC, 21:00 the day before in Los Angeles
            "Acme,Social,3.00,2026-11-24 14:00,hour",
        ),
    )
    brand = session.get(Brand, acme.brand.id)
    brand.timezone = "America/Los_Angeles"
    rebuild_day_totals(session, brand)
    session.commit()
    los_angeles = ZoneInfo("America/Los_Angeles")
    assert assert_coherent(session, los_angeles) == {date(2026, 11, 23): 1000, date(2026, 11, 24): 300}
    # Whole-hour zones share their hours: the same hour exported in the new zone replaces the stored one.
    again = run(session, export(tmp_path, "la.csv", "Acme,Social,4.00,2026-11-24 11:00,hour"))
    assert (again.imported, again.replaced) == (0, 1)
    assert assert_coherent(session, los_angeles) == {date(2026, 11, 23): 1000, date(2026, 11, 24): 400}
