"""The sweep's watermark in the database: the first sweep after an outage catches up, first, on
every brand whose spend or settings changed since the last completed sweep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.models import BrandChange
from app.services import reconcile as rec
from app.services.changes import CATCH_UP_OVERLAP, mark_brands_changed, sweep_watermark
from app.services.spend import new_spend, write_spend

T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def spend_while_redis_is_down(session, campaign, minor: int, at: datetime) -> None:
    """A spend write as every write path makes it: the rows, then the mark, in one transaction.
    No reconcile follows (the post-commit request found Redis down)."""
    written = write_spend(session, [new_spend(campaign, minor, at, source="api")])
    mark_brands_changed(session, written.brand_ids, at)
    session.commit()


def three_brands(session, make):
    brands = [make.brand(name, daily="10") for name in ("Alpha", "Bravo", "Charlie")]
    for brand in brands:
        make.campaign(brand, "Search")
    session.commit()
    return brands


def test_before_any_sweep_every_brand_is_caught_up_and_a_sweep_records_its_instant(session, make):
    alpha, bravo, charlie = three_brands(session, make)
    plan = rec.plan_sweep(session, T0)
    assert (plan.watermark, plan.catch_up, plan.rest) == (None, [alpha.id, bravo.id, charlie.id], [])

    rec.sweep(session, T0)

    assert sweep_watermark(session) == T0
    later = rec.plan_sweep(session, T0 + timedelta(minutes=1))
    assert (later.watermark, later.catch_up, later.rest) == (T0, [], [])  # nobody changed, nobody due
    midnight = rec.plan_sweep(session, datetime(2026, 11, 26, tzinfo=UTC))  # a new day is due everywhere
    assert (midnight.catch_up, midnight.rest) == ([], [alpha.id, bravo.id, charlie.id])


def test_the_first_sweep_after_an_outage_enforces_the_deferred_spend_first(session, make):
    alpha, bravo, charlie = three_brands(session, make)
    for brand in (alpha, charlie):  # both reach their budgets, but neither is marked changed
        write_spend(session, [new_spend(brand.campaigns[0], 1000, T0 - timedelta(minutes=30), source="api")])
    session.commit()
    rec.sweep(session, T0 - timedelta(minutes=20))

    # Redis goes down; a spend reaches Bravo's budget and its enforcement is deferred.
    outage = T0 + timedelta(minutes=1)
    spend_while_redis_is_down(session, bravo.campaigns[0], 1000, outage)
    session.expire_all()
    assert bravo.campaigns[0].status == "active"

    back = T0 + timedelta(minutes=12)
    plan = rec.plan_sweep(session, back)
    assert plan.catch_up == [bravo.id] and plan.rest == []  # the others were swept and are not due
    changes = rec.sweep(session, back)

    session.expire_all()
    assert [(c.campaign, c.new_status, c.new_reasons) for c in changes] == [("Search", "paused", ("daily_budget",))]
    assert bravo.campaigns[0].status == "paused"
    assert sweep_watermark(session) == back
    # Caught up: once the overlap has passed, Bravo is no longer due a catch-up.
    assert rec.plan_sweep(session, back + CATCH_UP_OVERLAP).catch_up == []


def test_a_brand_is_caught_up_before_the_rest(session, make):
    alpha, bravo, _ = three_brands(session, make)
    rec.sweep(session, T0)
    at = T0 + timedelta(minutes=1)
    write_spend(session, [new_spend(alpha.campaigns[0], 1000, at, source="api")])  # not marked: the full check finds it
    spend_while_redis_is_down(session, bravo.campaigns[0], 1000, at)

    changes = rec.full_sweep(session, at + timedelta(minutes=1))

    assert [c.brand for c in changes] == ["Bravo", "Alpha"]


def test_a_write_that_committed_during_a_sweep_is_caught_up_by_the_next(session, make):
    # Marked with the writer's clock just before a sweep began, committed after the sweep had
    # read that brand: the overlap keeps it in the next catch-up.
    _, bravo, _ = three_brands(session, make)
    rec.sweep(session, T0)
    mark_brands_changed(session, [bravo.id], T0 - timedelta(seconds=3))
    session.commit()

    assert rec.plan_sweep(session, T0 + timedelta(minutes=1)).catch_up == [bravo.id]


def test_a_sweep_run_as_of_the_future_hides_no_change(session, make):
    alpha, bravo, charlie = three_brands(session, make)
    rec.sweep(session, datetime(2099, 1, 1, tzinfo=UTC))  # `jobs run enforce-budgets --at 2099-01-01`
    assert rec.plan_sweep(session, T0).catch_up == [alpha.id, bravo.id, charlie.id]

    rec.sweep(session, T0)
    assert sweep_watermark(session) == T0


def test_a_dry_run_leaves_the_watermark(session, make):
    three_brands(session, make)
    rec.sweep(session, T0)
    rec.sweep(session, T0 + timedelta(minutes=1), dry_run=True)
    assert sweep_watermark(session) == T0


def test_marks_keep_each_brands_latest_change(session, make):
    alpha, bravo, _ = three_brands(session, make)
    mark_brands_changed(session, [alpha.id, bravo.id, alpha.id], T0)
    mark_brands_changed(session, [alpha.id], T0 - timedelta(hours=1))  # an older write committing late
    mark_brands_changed(session, [bravo.id], T0 + timedelta(minutes=2))
    mark_brands_changed(session, [], T0)
    session.commit()

    rows = session.execute(select(BrandChange.brand_id, BrandChange.changed_at).order_by(BrandChange.brand_id))
    assert list(rows) == [(alpha.id, T0), (bravo.id, T0 + timedelta(minutes=2))]
