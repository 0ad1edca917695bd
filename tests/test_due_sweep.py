"""The minute's sweep visits only brands that are due or changed; next_change_at is kept by every
write that can move it; the full sweep's set-based check agrees with the rule and catches the rest."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event, select, text, update

from app.control import Window
from app.extensions import db
from app.models import Brand, Campaign
from app.services import reconcile as rec
from app.services.brands import update_brand
from app.services.campaigns import set_schedule, update_campaign
from app.services.changes import mark_brands_changed
from app.services.out_of_step import brands_out_of_step
from app.services.spend import new_spend, write_spend

T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday
WED = 2


def next_change(session, brand) -> datetime:
    session.expire_all()
    return session.get(Brand, brand.id).next_change_at


def test_the_due_sweep_visits_only_the_brands_whose_instant_has_come(session, make):
    office = make.brand("Office", timezone="America/New_York")  # 10:00 local at T0
    make.campaign(office, "Hours", windows=(Window(WED, 9 * 60, 17 * 60),))
    kolkata = make.brand("Kolkata", timezone="Asia/Kolkata")  # 20:30 local at T0
    make.campaign(kolkata, "Evening", windows=(Window(WED, 20 * 60 + 45, 22 * 60),))
    idle = [make.brand(f"Idle {i}") for i in range(5)]
    for brand in idle:
        make.campaign(brand, "Always")
    session.commit()
    rec.full_sweep(session, T0)

    assert next_change(session, office) == datetime(2026, 11, 25, 22, 0, tzinfo=UTC)  # 17:00 in New York
    assert next_change(session, kolkata) == datetime(2026, 11, 25, 15, 15, tzinfo=UTC)  # 20:45 in Kolkata
    assert rec.plan_sweep(session, T0 + timedelta(minutes=14)).brand_ids == []

    at = T0 + timedelta(minutes=15)
    assert rec.plan_sweep(session, at).brand_ids == [kolkata.id]
    changes = rec.sweep(session, at)
    assert [(c.brand, c.new_status) for c in changes] == [("Kolkata", "active")]
    assert next_change(session, kolkata) == datetime(2026, 11, 25, 16, 30, tzinfo=UTC)  # 22:00 in Kolkata
    assert rec.plan_sweep(session, at + timedelta(minutes=1)).brand_ids == []

    # Through the day, each sweep visits exactly the brands whose boundary or midnight has come.
    for hour, minute, due in [(16, 30, [kolkata]), (18, 30, [kolkata]), (22, 0, [office]), (24, 0, idle)]:
        at = T0.replace(hour=0, minute=0) + timedelta(hours=hour, minutes=minute)
        assert rec.plan_sweep(session, at - timedelta(seconds=1)).brand_ids == []
        assert rec.plan_sweep(session, at).brand_ids == [b.id for b in due], at
        rec.sweep(session, at)


def test_a_changed_brand_is_visited_even_when_not_due(session, make):
    brands = [make.brand(f"B{i}", daily="10") for i in range(4)]
    for brand in brands:
        make.campaign(brand, "Always")
    session.commit()
    rec.full_sweep(session, T0)
    written = write_spend(session, [new_spend(brands[2].campaigns[0], 1000, T0, source="api")])
    mark_brands_changed(session, written.brand_ids, T0 + timedelta(minutes=1))
    session.commit()

    plan = rec.plan_sweep(session, T0 + timedelta(minutes=2))
    assert (plan.catch_up, plan.rest) == ([brands[2].id], [])
    changes = rec.sweep(session, T0 + timedelta(minutes=2))
    assert [(c.brand, c.new_reasons) for c in changes] == [("B2", ("daily_budget",))]


def test_every_write_that_can_move_the_instant_moves_it(session, make, now):
    brand = make.brand("Acme", timezone="Europe/London")  # 15:00 local
    campaign = make.campaign(brand, "Search")
    session.commit()
    rec.full_sweep(session, now)
    assert next_change(session, brand) == datetime(2026, 11, 26, tzinfo=UTC)

    campaign = session.get(Campaign, campaign.id)
    set_schedule(session, campaign, [Window(WED, 16 * 60, 18 * 60)], now=now, actor="test")
    session.commit()
    assert next_change(session, brand) == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)

    update_brand(session, brand.id, now, actor="test", timezone="Asia/Tokyo")  # already Thursday 00:00 there
    session.commit()
    assert next_change(session, brand) == datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # Thursday's midnight in Tokyo

    campaign = session.get(Campaign, campaign.id)
    update_campaign(session, campaign, now=now, actor="test", enabled=False)
    set_schedule(session, campaign, [Window(3, 9 * 60, 18 * 60)], now=now, actor="test")  # Thursday in Tokyo
    session.commit()
    # A switched-off campaign's hours still count: its reasons name the schedule when outside them.
    assert next_change(session, brand) == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo


def test_the_full_sweep_catches_what_the_due_sweep_cannot_see(session, make):
    brands = [make.brand(f"B{i}") for i in range(5)]
    for brand in brands:
        make.campaign(brand, "Always")
    session.commit()
    rec.full_sweep(session, T0)
    # A state changed behind the rule's back (a manual fix in the database, a lost write): no mark, not due.
    stale = update(Campaign).where(Campaign.brand_id == brands[3].id).values(status="paused", reasons_text="disabled")
    session.execute(stale)
    session.commit()
    later = T0 + timedelta(minutes=5)
    assert rec.sweep(session, later) == []

    changes = rec.full_sweep(session, later)
    assert [(c.brand, c.old_status, c.new_status) for c in changes] == [("B3", "paused", "active")]
    assert rec.full_sweep(session, later + timedelta(minutes=1)) == []


def random_world(session, make, rng: random.Random, brands: int) -> None:
    zones = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham"]
    for b in range(brands):
        brand = make.brand(
            f"W{b:02d}",
            timezone=rng.choice(zones),
            daily=rng.choice(["0", "5", "20", "100"]),
            monthly=rng.choice(["0", "50", "300", "5000"]),
        )
        for c in range(rng.randrange(0, 4)):
            windows = {
                Window(day, start * 15, min(96, start + rng.randrange(1, 40)) * 15)
                for day, start in ((rng.randrange(7), rng.randrange(95)) for _ in range(rng.randrange(0, 4)))
            }
            start = date(2026, 11, rng.randrange(20, 30)) if rng.random() < 0.3 else None
            end = date(2026, 11, rng.randrange(25, 30)) if rng.random() < 0.3 else None
            if start and end and end < start:
                start, end = end, start
            campaign = make.campaign(
                brand, f"C{c}", enabled=rng.random() < 0.85, start=start, end=end, windows=tuple(sorted(windows))
            )
            if rng.random() < 0.2:
                campaign.archived_at = T0 - timedelta(days=1)
            for _ in range(rng.randrange(0, 3)):
                spent = T0 - timedelta(hours=rng.randrange(0, 24 * 8))
                write_spend(session, [new_spend(campaign, rng.randrange(100, 4000), spent, source="api")])
    session.commit()


def test_the_set_based_check_names_exactly_the_brands_the_rule_would_change(session, make):
    random_world(session, make, random.Random(11), brands=40)
    names = dict(session.execute(select(Brand.name, Brand.id)).all())
    never = set(brands_out_of_step(session, T0))
    assert never == {b for (b,) in session.execute(select(Campaign.brand_id).distinct())}  # never evaluated
    rec.reconcile_brands(session, T0, actor="test")
    assert brands_out_of_step(session, T0) == []

    instants = [T0 + timedelta(hours=hours, minutes=15 * (hours % 4)) for hours in (1, 5, 9, 14, 23, 30, 75, 146)]
    moved = 0
    for later in instants:
        expected = {names[c.brand] for c in rec.reconcile_brands(session, later, actor="test", dry_run=True)}
        assert set(brands_out_of_step(session, later)) == expected, later
        moved += bool(expected)
    assert moved >= len(instants) // 2  # the instants move some brands, or the comparison checks little


def statements(session, work) -> int:
    count = 0

    def count_one(*_):
        nonlocal count
        count += 1

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count_one)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", count_one)
    return count


def test_the_full_check_costs_the_same_statements_at_any_size(session, make):
    random_world(session, make, random.Random(3), brands=4)
    small = statements(session, lambda: brands_out_of_step(session, T0))
    random_world(session, make, random.Random(4), brands=0)
    for b in range(60):
        brand = make.brand(f"More {b}", timezone="Asia/Kolkata")
        make.campaign(brand, "A", windows=(Window(WED, 60, 120),))
        make.campaign(brand, "B")
    session.commit()
    assert statements(session, lambda: brands_out_of_step(session, T0)) == small
    rec.full_sweep(session, T0)
    # Once settled, the minute's sweep reads a fixed number of statements however many brands there are.
    quiet = T0 + timedelta(minutes=1)
    assert rec.plan_sweep(session, quiet).brand_ids == []
    assert statements(session, lambda: rec.sweep(session, quiet)) <= 6


def test_a_day_of_due_sweeps_leaves_nothing_for_the_full_check(session, make):
    """Every quarter hour for a day and a half, the due sweep alone keeps every brand in step with the rule."""
    random_world(session, make, random.Random(23), brands=30)
    rec.full_sweep(session, T0)
    visited = 0
    for step in range(1, 36 * 4 + 1):
        at = T0 + timedelta(minutes=15 * step)
        visited += len(rec.plan_sweep(session, at).brand_ids)
        session.commit()
        rec.sweep(session, at)
        assert brands_out_of_step(session, at) == [], at
    assert visited < 30 * 36 * 4 // 4  # far fewer visits than sweeping every brand every quarter hour


def test_a_reset_minute_without_a_midnight_costs_the_same_at_any_size(session, make):
    def world(count: int, start: int) -> None:
        for b in range(start, start + count):
            make.campaign(make.brand(f"R{b}", timezone=["UTC", "Asia/Kolkata", "America/New_York"][b % 3]), "Search")
        session.commit()

    world(3, 0)
    rec.reset_daily(session, T0)
    small = statements(session, lambda: rec.reset_daily(session, T0 + timedelta(minutes=1)))
    world(40, 3)
    rec.reset_daily(session, T0)
    assert statements(session, lambda: rec.reset_daily(session, T0 + timedelta(minutes=1))) == small
    # Kolkata's midnight (18:30Z): only its brands are reset.
    rec.reset_daily(session, datetime(2026, 11, 25, 18, 30, tzinfo=UTC))
    session.expire_all()
    reset_on = dict(session.execute(select(Brand.name, Brand.daily_reset_on)).all())
    assert reset_on == {f"R{b}": date(2026, 11, 26) if b % 3 == 1 else date(2026, 11, 25) for b in range(43)}


def rows_visited(session, work) -> int:
    """What ``work`` reads, whatever plan the database picks: on PostgreSQL the brand_day_spend rows it
    fetches in this transaction (pg_stat_xact_user_tables), on SQLite the virtual machine's steps (every
    row visited is at least one)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # A test's tables are a few hundred rows, which PostgreSQL rightly scans whole; at scale it seeks the
        # key. Without the scan, the rows read show whether the query's conditions bound it to the month.
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        fetched = text(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables"
            " WHERE relname = 'brand_day_spend'"
        )
        before = connection.execute(fetched).scalar_one()
        work()
        return connection.execute(fetched).scalar_one() - before
    steps = 0

    def step() -> int:
        nonlocal steps
        steps += 1
        return 0

    raw = connection.connection.driver_connection
    raw.set_progress_handler(step, 1)
    try:
        work()
    finally:
        raw.set_progress_handler(None, 1)
    return steps


def test_the_full_check_reads_the_same_rows_with_ten_times_the_history(session, make):
    """Issue 11: the full sweep's cost is flat in the spend history (10x older day totals, same brands)."""
    zones = ["UTC", "America/New_York", "Asia/Kolkata"]
    campaigns = [
        make.campaign(make.brand(f"H{b}", timezone=zones[b % 3], daily="40", monthly="300"), "A") for b in range(6)
    ]

    def spend_days_back(days) -> None:
        for campaign in campaigns:
            write_spend(
                session, [new_spend(campaign, 700, T0 - timedelta(days=d, hours=2), source="api") for d in days]
            )
        session.commit()

    spend_days_back(range(0, 6))  # this month (November) and today
    rec.full_sweep(session, T0)
    check = lambda: brands_out_of_step(session, T0)  # noqa: E731
    small = (statements(session, check), rows_visited(session, check))
    session.commit()
    spend_days_back(range(30, 90))  # ten times the days, all before the month
    assert statements(session, check) == small[0]
    assert rows_visited(session, check) == small[1]
    session.commit()
    assert rec.plan_sweep(session, T0 + timedelta(minutes=1), full=True).brand_ids == []
