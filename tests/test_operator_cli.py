"""The operator commands of the replaced system: health, reset-database, spend simulate, simulate-time,
demo run, seed-demo --no-logins and shell, through Flask's CLI runner on the real database; plus a terminal
(a pty) for the question reset-database asks."""

from __future__ import annotations

import json
import os
import pty
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from app.control import Window
from app.models import Brand, Campaign, CampaignEvent, SpendRecord, User
from app.services import demo
from app.services.reconcile import reconcile_brands
from app.services.simulate import next_local

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # Wednesday; 10:00 in New York, 00:00 (Thu) in Tokyo
ROOT = Path(__file__).resolve().parent.parent
NINE_TO_FIVE = tuple(Window(day, 9 * 60, 17 * 60) for day in range(5))


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def office(session, make):
    """New York 9-5 on weekdays (running now), a switched-off one, and a Tokyo brand in JPY."""
    ny = make.brand("Acme", timezone="America/New_York", daily="100", monthly="3000")
    make.campaign(ny, "Search", windows=NINE_TO_FIVE)
    make.campaign(ny, "Off", enabled=False)
    tokyo = make.brand("Tea", timezone="Asia/Tokyo", currency="JPY", daily="30000", monthly="700000")
    make.campaign(tokyo, "Matcha")
    session.commit()
    reconcile_brands(session, NOW, actor="sweep")
    return ny, tokyo


# --- health ------------------------------------------------------------------------------------


def test_health_prints_the_healthz_checks_and_fails_when_redis_is_down(runner, client, redis_unreachable):
    result = runner.invoke(args=["health"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "database   ok" and lines[1].startswith("redis      error: ")
    assert "queue      pacer-enforce: unknown: Redis is unreachable (0 workers, ? queued)" in lines
    assert lines[-1] == (
        "FAILING: redis, workers, queue:pacer-enforce, queue:pacer-sweeps, queue:pacer-imports, queue:pacer-webhooks, "
        "scheduler"
    )
    as_json = runner.invoke(args=["health", "--json"])
    assert as_json.exit_code == 1
    page = client.get("/healthz")
    assert page.status_code == 503 and json.loads(as_json.output) == page.get_json()


def test_health_names_the_queues_without_a_live_worker(runner, redis_url):
    result = runner.invoke(args=["health"])
    assert result.exit_code == 1
    assert "redis      ok" in result.output and "workers    0 live" in result.output
    assert "queue      pacer-imports: no live worker (0 workers, 0 queued)" in result.output
    assert "scheduler  never seen" in result.output


# --- reset-database ----------------------------------------------------------------------------


def test_reset_database_refuses_without_a_terminal_and_resets_with_yes(runner, session, office, uploads):
    uploads.mkdir()
    (uploads / "stored.csv").write_text("brand,campaign,amount,spent_at\n")
    refused = runner.invoke(args=["reset-database"])
    assert refused.exit_code == 1
    assert (
        "refusing to reset the database without a terminal to ask on; pass --yes (make db-reset CONFIRM=yes)"
        in refused.output
    )
    assert count(session, Brand) == 2 and uploads.exists()

    session.remove()
    result = runner.invoke(args=["reset-database", "--yes"])
    assert result.exit_code == 0, result.output
    assert "empty, at the latest migration" in result.output
    assert (count(session, Brand), count(session, Campaign), count(session, CampaignEvent)) == (0, 0, 0)
    assert not uploads.exists()


def test_reset_database_asks_on_a_terminal_and_no_keeps_everything(session, office, database_url, instance_path):
    session.commit()
    session.remove()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACER_", "REDIS_", "DATABASE_"))}
    env.update(DATABASE_URL=database_url, PACER_INSTANCE_PATH=str(instance_path))
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "reset-database"],
        cwd=ROOT,
        env=env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    output = b""
    while b"[y/N]" not in output:
        output += os.read(controller, 1024)
    os.write(controller, b"n\n")
    assert process.wait(timeout=60) == 1
    try:
        while chunk := os.read(controller, 1024):
            output += chunk
    except OSError:  # the terminal closes with the process
        pass
    os.close(controller)
    assert b"Delete everything in" in output and b"Aborted!" in output
    assert count(session, Brand) == 2


# --- spend simulate ------------------------------------------------------------------------------


def test_spend_simulate_records_a_random_amount_for_each_running_campaign(runner, session, office, redis_unreachable):
    result = runner.invoke(args=["spend", "simulate", "--min", "5", "--max", "50", "--seed", "7"])
    assert result.exit_code == 0, result.output
    rows = session.execute(
        select(Campaign.name, SpendRecord.amount_minor, SpendRecord.spent_at, SpendRecord.source)
        .join(Campaign)
        .order_by(Campaign.name)
    ).all()
    assert [(name, at, source) for name, _, at, source in rows] == [
        ("Matcha", NOW, "manual"),
        ("Search", NOW, "manual"),
    ]
    matcha, search = rows[0][1], rows[1][1]
    assert 5 <= matcha <= 50 and 500 <= search <= 5000  # JPY has no decimals, USD two
    assert f"Recorded {Decimal(search) / 100} USD for Acme / Search." in result.output
    assert f"Recorded {matcha} JPY for Tea / Matcha." in result.output
    assert "2 spends recorded." in result.output and "Enforced at once in this process" in result.output
    # The same seed draws the same amounts, brand by brand.
    rng = random.Random(7)
    assert [search, matcha] == [rng.randint(500, 5000), rng.randint(5, 50)]


def test_spend_simulate_skips_a_currency_no_amount_fits_and_says_when_nothing_runs(
    runner, session, office, redis_unreachable
):
    result = runner.invoke(args=["spend", "simulate", "--min", "0.10", "--max", "0.90"])
    assert result.exit_code == 0, result.output
    assert "Skipped Tea: no amount between 0.10 and 0.90 fits its currency's decimals." in result.output
    assert session.scalars(select(SpendRecord.campaign_id)).all() == [office[0].campaigns[1].id]
    for campaign in session.scalars(select(Campaign)):
        campaign.enabled = False
    session.commit()
    reconcile_brands(session, NOW, actor="sweep")
    quiet = runner.invoke(args=["spend", "simulate", "--min", "1", "--max", "2"])
    assert quiet.exit_code == 0
    assert quiet.output == "No campaign is active now, so no spend was recorded (see `flask --app app status`).\n"
    assert count(session, SpendRecord) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--min", "x", "--max", "5"], "Invalid value for --min: MIN 'x' is not an amount"),
        (["--min", "-1", "--max", "5"], "Invalid value for --min: MIN '-1' is not an amount"),
        (["--min", "5", "--max", "1e3"], "Invalid value for --max: MAX '1e3' is not an amount"),
        (["--min", "9", "--max", "5"], "Invalid value for --min: MIN (9) is more than MAX (5)"),
        (["--min", "5"], "Missing option '--max'"),
    ],
)
def test_spend_simulate_bad_input_records_nothing(runner, session, office, args, message):
    result = runner.invoke(args=["spend", "simulate", *args])
    assert result.exit_code == 2 and message in result.output
    assert count(session, SpendRecord) == 0


# --- simulate-time -------------------------------------------------------------------------------


def test_simulate_time_shows_what_dayparting_does_at_a_local_hour_and_writes_nothing(runner, session, office):
    events = count(session, CampaignEvent)
    result = runner.invoke(args=["simulate-time", "--hour", "20", "--day", "wed"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Wed 20:00 America/New_York     Acme / Off: stays paused (disabled)",
        "Wed 20:00 America/New_York     Acme / Search: active -> paused (schedule)",
        "Wed 20:00 Asia/Tokyo           Tea / Matcha: stays active (all rules pass)",
        "1 of 3 campaigns would change (nothing written).",
    ]
    morning = runner.invoke(args=["simulate-time", "--hour", "9", "--day", "Monday", "--json"])
    rows = [json.loads(line) for line in morning.output.splitlines()]
    assert rows[1] == {
        "brand": "Acme",
        "campaign": "Search",
        "local": "2026-11-30T09:00-05:00",
        "at": "2026-11-30T14:00:00Z",
        "status_now": "active",
        "reasons_now": [],
        "status": "active",
        "reasons": [],
        "window": "mon 09:00-17:00",
    }
    assert count(session, CampaignEvent) == events
    assert [c.status for c in session.scalars(select(Campaign).order_by(Campaign.id))] == ["active", "paused", "active"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hour", "24", "--day", "mon"], "Invalid value for '--hour': 24 is not in the range 0<=x<=23."),
        (["--hour", "nine", "--day", "mon"], "Invalid value for '--hour': 'nine' is not a valid integer range."),
        (["--hour", "9", "--day", "7"], "Invalid value for --day: '7' is not a weekday: use mon..sun"),
        (["--hour", "9", "--day", "someday"], "Invalid value for --day: 'someday' is not a weekday"),
        (["--hour", "9"], "Missing option '--day'"),
    ],
)
def test_simulate_time_bad_input_is_a_usage_error(runner, office, args, message):
    result = runner.invoke(args=["simulate-time", *args])
    assert result.exit_code == 2 and message in result.output


def test_next_local_hour_across_daylight_saving():
    ny = ZoneInfo("America/New_York")
    # 02:00 on 8 March 2026 does not exist in New York: the clocks jump to 03:00 EDT (07:00 UTC).
    assert next_local(datetime(2026, 3, 2, tzinfo=UTC), ny, 6, 2) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    # 01:00 on 1 November 2026 happens twice: the first is 05:00 UTC.
    assert next_local(datetime(2026, 10, 30, tzinfo=UTC), ny, 6, 1) == datetime(2026, 11, 1, 5, 0, tzinfo=UTC)
    # The same weekday later today, or next week once the hour has passed.
    assert next_local(NOW, ny, 2, 11) == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    assert next_local(NOW, ny, 2, 9) == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)


# --- demo run ------------------------------------------------------------------------------------


def test_demo_run_shows_the_whole_demonstration(runner, session, redis_unreachable):
    result = runner.invoke(args=["demo", "run", "--seed", "1", "--url", "http://pacer.example:8000/"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "1. Demo data\n   loaded: brands: 6 created" in out
    over = session.scalar(select(Brand).where(Brand.name == demo.OVER_BUDGET_BRAND))
    assert all("daily_budget" in c.reasons and c.status == "paused" for c in over.campaigns)
    # Lord Howe Island is at 02:00 on Thursday (UTC+11): a window from 03:00 to 05:00 every day pauses it now.
    stays = session.scalar(select(Campaign).where(Campaign.name == demo.DAYPARTING_CAMPAIGN))
    assert stays.schedule() == tuple(Window(day, 180, 300) for day in range(7))
    assert (stays.status, stays.reasons) == ("paused", ["schedule"])
    assert "now runs every day 03:00-05:00 (Lord Howe Lodge's local time); it is paused until then." in out
    assert "at 2026-11-26 00:00 UTC, 00:00 in Europe/London; the scheduler does it then:" in out
    assert "   Search - Generic: paused (daily_budget) -> paused (schedule)" in out
    demo_events = session.scalars(select(CampaignEvent).where(CampaignEvent.actor == "demo")).all()
    assert {(e.campaign.name, e.new_reasons) for e in demo_events} >= {
        ("Search - Generic", "daily_budget"),
        ("Search - Stays", "schedule"),
    }
    assert "Lord Howe Lodge / Search - Stays: active -> paused (schedule)  [demo]" in out
    assert f"http://pacer.example:8000/brands/{over.id}" in out and "http://pacer.example:8000/activity" in out
    assert f"http://pacer.example:8000/campaigns/{stays.id}" in out
    # Nothing of the reset preview was written.
    assert session.scalars(select(CampaignEvent).where(CampaignEvent.actor == "reset_daily")).all() == []

    again = runner.invoke(args=["demo", "run", "--seed", "1"])
    assert again.exit_code == 0, again.output
    assert "1. Demo data\n   already loaded." in again.output and "http://127.0.0.1:5000/" in again.output


def test_demo_run_waits_for_the_worker_then_enforces_here(runner, session, redis_url):
    result = runner.invoke(args=["demo", "run", "--wait", "0.3"])
    assert result.exit_code == 0, result.output
    assert (
        "no worker paused it within 0.3 s (is `make run` running?); enforced here instead: 2 changes." in result.output
    )
    over = session.scalar(select(Brand).where(Brand.name == demo.OVER_BUDGET_BRAND))
    assert all("daily_budget" in c.reasons for c in over.campaigns)


def test_demo_run_says_what_is_missing(runner, session, redis_unreachable):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    brand = session.scalar(select(Brand).where(Brand.name == demo.OVER_BUDGET_BRAND))
    brand.archived_at = NOW - timedelta(days=1)
    session.commit()
    result = runner.invoke(args=["demo", "run"])
    assert result.exit_code == 1
    assert "Error: the demo brand 'Brightside Books' is missing or archived; reset the demo data" in result.output


# --- seed-demo and shell -------------------------------------------------------------------------


def test_seed_demo_prints_the_logins_unless_told_not_to(runner, session, redis_unreachable):
    quiet = runner.invoke(args=["seed-demo", "--no-logins"])
    assert quiet.exit_code == 0 and "Demo data loaded" in quiet.output and "pacer-admin" not in quiet.output
    assert count(session, User) == 3


def test_shell_starts_with_the_session_and_models(session, office, database_url, instance_path):
    session.commit()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACER_", "REDIS_", "DATABASE_"))}
    env.update(DATABASE_URL=database_url, PACER_INSTANCE_PATH=str(instance_path))
    shell = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "shell"],
        cwd=ROOT,
        env=env,
        input="print(sorted(b.name for b in session.scalars(db.select(Brand))), utcnow().tzinfo)\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shell.returncode == 0, shell.stderr
    assert "['Acme', 'Tea'] UTC" in shell.stdout
