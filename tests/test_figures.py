"""The overview's precomputed figures: kept by the spend writes (same transaction, exact amounts) and by
reconcile (counts, a new local day), never shown stale, and sorted on by the overview."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.models import BrandFigure
from app.services import overview
from app.services import reconcile as rec
from app.services.brands import update_brand
from app.services.spend import new_spend, write_spend
from app.services.totals import spend_today_and_month

T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def figure(session, brand) -> BrandFigure:
    session.expire_all()
    return session.get(BrandFigure, brand.id)


def spend(session, campaign, minor: int, at: datetime) -> None:
    write_spend(session, [new_spend(campaign, minor, at, source="api")])
    session.commit()


def test_reconcile_computes_the_figures_and_spend_writes_keep_them(session, make):
    brand = make.brand("Acme", timezone="America/New_York", daily="100", monthly="1000")  # 10:00 local at T0
    search = make.campaign(brand, "Search")
    make.campaign(brand, "Off", enabled=False)
    session.commit()
    spend(session, search, 2_000, T0 - timedelta(days=3))
    assert figure(session, brand) is None  # nothing to add to before the first reconcile
    rec.reconcile_brands(session, T0, actor="test")
    f = figure(session, brand)
    assert (f.day, f.spend_today, f.month, f.spend_month, f.active, f.paused) == (
        date(2026, 11, 25),
        0,
        date(2026, 11, 1),
        2_000,
        1,
        1,
    )
    assert (f.daily_share, f.monthly_share) == (0.0, 0.02)
    assert f.projected_share == 2_000 * f.projection_factor / 100_000

    spend(session, search, 2_500, T0 - timedelta(hours=1))  # today: no reconcile yet, figures already moved
    spend(session, search, 1_000, datetime(2026, 11, 2, 12, 0, tzinfo=UTC))  # earlier this month
    spend(session, search, 9_999, datetime(2026, 10, 20, 12, 0, tzinfo=UTC))  # last month: not this figure
    f = figure(session, brand)
    assert (f.spend_today, f.spend_month) == (2_500, 5_500) == spend_today_and_month(session, brand, T0)
    assert (f.daily_share, f.monthly_share) == (0.25, 0.055)
    assert f.projected_share == 5_500 * f.projection_factor / 100_000


def test_a_new_local_day_is_never_shown_with_yesterdays_spend(session, make):
    brand = make.brand("Acme", timezone="Asia/Kolkata")  # 20:30 local at T0
    campaign = make.campaign(brand, "Search")
    session.commit()
    spend(session, campaign, 3_000, T0 - timedelta(minutes=10))
    rec.full_sweep(session, T0)
    midnight = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)  # Kolkata's midnight

    # Before the sweep reaches the brand, the figure is yesterday's: the page computes today's instead.
    row = overview.brand_rows(session, [brand], midnight)[0]
    assert (row.spend_today, row.spend_month) == (0, 3_000)
    assert figure(session, brand).day == date(2026, 11, 25)

    assert rec.plan_sweep(session, midnight).brand_ids == [brand.id]  # midnight is the brand's next change
    rec.sweep(session, midnight)
    f = figure(session, brand)
    assert (f.day, f.spend_today, f.spend_month, f.daily_share) == (date(2026, 11, 26), 0, 3_000, 0.0)


def test_a_time_zone_change_recomputes_the_figures(session, make):
    brand = make.brand("Acme", timezone="UTC")
    campaign = make.campaign(brand, "Search")
    session.commit()
    spend(session, campaign, 1_500, datetime(2026, 11, 25, 1, 0, tzinfo=UTC))  # 24 Nov in Los Angeles
    rec.reconcile_brands(session, T0, actor="test")
    assert figure(session, brand).spend_today == 1_500

    update_brand(session, brand.id, T0, actor="test", timezone="America/Los_Angeles")
    session.commit()
    f = figure(session, brand)
    assert (f.day, f.spend_today, f.spend_month) == (date(2026, 11, 25), 0, 1_500)


def test_the_sorts_read_the_figures(session, make):
    shares = {"Low": 1_000, "High": 9_000, "Mid": 5_000}
    for name, minor in shares.items():
        campaign = make.campaign(make.brand(name, daily="100"), "Search")
        session.commit()
        spend(session, campaign, minor, T0 - timedelta(hours=1))
    make.brand("Never reconciled")
    session.commit()
    rec.reconcile_brands(session, T0, actor="test", brand_ids=[b for b in range(1, 4)])

    def names(**kw) -> list[str]:
        return [b.name for b in session.scalars(overview.brands_select(session, T0, **kw))]

    assert names(sort="daily") == ["High", "Mid", "Low", "Never reconciled"]
    assert names(sort="daily", descending=False) == ["Never reconciled", "Low", "Mid", "High"]
    assert names(sort="paused") == ["High", "Low", "Mid", "Never reconciled"]  # only High is over budget
