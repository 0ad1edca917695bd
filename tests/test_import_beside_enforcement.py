"""Enforcement never waits for an import (issue 10, finding 3), with real processes on the test database.

A long import of brand Acme runs in its own process (the CLI's import path) while spend that reaches
the daily budget of another brand, and of Acme itself, is written and enforced by a real enforcement
worker. Both brands must be paused while the import still runs: on PostgreSQL its transaction is still
open (the brand lock does not conflict with its foreign-key locks); on SQLite its rows are stored in
committed batches, unpublished, so the write lock is free between batches. Nothing here times anything:
the proof is the order of events (paused, while the import is still ``running``).
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from rq.job import Job, JobStatus
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from app.database import BrandLockTimeout, is_postgres
from app.extensions import db
from app.models import Brand, BrandDaySpend, CampaignEvent, SpendImport, SpendRecord, utcnow
from app.queue import QUEUE_ENFORCE, QUEUE_SWEEPS
from app.services import reconcile as rec
from app.services.enforcement import commit_and_enforce
from app.services.spend import counted_spend, new_spend, write_spend
from tests.redis_fixtures import wait_for

pytestmark = pytest.mark.redis

ENFORCER = [sys.executable, "worker.py", "--queues", f"{QUEUE_ENFORCE},{QUEUE_SWEEPS}"]
ROWS = 400_000  # long enough that the import is still running when the reconciles are done
OLD_DAY = date(2025, 6, 1)  # the import's rows are long past: they never touch today's budget


def midday_zone() -> str:
    return f"Etc/GMT{-(12 - utcnow().hour):+d}"  # Etc/GMT names carry the opposite sign


def write_old_spend(path: Path, rows: int) -> dict[date, int]:
    """Acme rows of 0.01 on days from OLD_DAY on, one a second, brand-local; returns the day totals."""
    lines = ["brand,campaign,amount,spent_at\n"]
    per_day: dict[date, int] = {}
    for i in range(rows):
        day, second = divmod(i, 86_400)
        stamp = f"{OLD_DAY + timedelta(days=day)}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
        lines.append(f"Acme,{'Search' if i % 2 else 'Display'},0.01,{stamp}\n")
        per_day[OLD_DAY + timedelta(days=day)] = per_day.get(OLD_DAY + timedelta(days=day), 0) + 1
    path.write_text("".join(lines))
    return per_day


def statuses(name: str) -> list[str]:
    db.session.expire_all()
    brand = db.session.scalars(select(Brand).where(Brand.name == name)).one()
    return [c.status for c in brand.campaigns]


def holds_key_share_on(database_url: str, brand_id: int) -> bool:
    """PostgreSQL: whether another transaction holds a lock on the brand's row that FOR UPDATE (the
    brand lock before this change) would wait for: the key-share lock an insert referencing it takes."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as probe:
            try:
                probe.execute(text("SELECT id FROM brand WHERE id = :id FOR UPDATE NOWAIT"), {"id": brand_id})
            except OperationalError as exc:
                assert getattr(exc.orig, "sqlstate", None) == "55P03", exc  # lock_not_available
                return True
            probe.rollback()
            return False
    finally:
        engine.dispose()


def import_is_writing(database_url: str, import_id: int, brand_id: int) -> bool:
    """The import process holds what it holds while writing: PostgreSQL, its open transaction's
    key-share lock on the brand row; SQLite, committed (unpublished) batches."""
    db.session.rollback()
    if is_postgres(db.session):
        return holds_key_share_on(database_url, brand_id)
    return bool(
        db.session.scalar(select(func.count()).select_from(SpendRecord).where(SpendRecord.import_id == import_id))
    )


def import_row(import_id: int) -> SpendImport:
    db.session.expire_all()
    return db.session.get(SpendImport, import_id)


@pytest.fixture
def world(session, make):
    acme = make.brand("Acme", daily="100", monthly="5000", timezone=midday_zone())
    make.campaign(acme, "Search")
    make.campaign(acme, "Display")
    other = make.brand("Other", daily="100", monthly="5000", timezone=midday_zone())
    make.campaign(other, "Search")
    session.commit()
    rec.reconcile_brands(session, utcnow(), actor="test")
    assert statuses("Acme") == ["active", "active"] and statuses("Other") == ["active"]
    return acme, other


def test_budget_reaching_spend_is_enforced_while_a_long_import_runs(
    session, world, background, redis_connection, tmp_path, database_url
):
    acme, other = world
    per_day = write_old_spend(tmp_path / "long.csv", ROWS)
    enforcer = background.start(ENFORCER)
    wait_for(lambda: redis_connection.keys("rq:worker:*"), 30, "the enforcement worker to register", enforcer)
    importer = background.start(
        [sys.executable, "-m", "flask", "--app", "app", "spend", "import", str(tmp_path / "long.csv")]
    )
    wait_for(lambda: session.scalar(select(SpendImport.id)), 60, "the import to be registered", importer)
    import_id = session.scalar(select(SpendImport.id))
    wait_for(lambda: import_is_writing(database_url, import_id, acme.id), 120, "the import to write rows", importer)

    # Spend that reaches each brand's daily budget, committed and enforced as every write path does.
    written = write_spend(
        session,
        [
            new_spend(other.campaigns[0], 10000, utcnow(), source="api"),
            new_spend(acme.campaigns[0], 10000, utcnow(), source="api"),
        ],
    )
    assert written.brand_ids == {acme.id, other.id}
    assert commit_and_enforce(session, actor="test").queued == sorted([acme.id, other.id])

    wait_for(
        lambda: statuses("Other") == ["paused"] and statuses("Acme") == ["paused", "paused"],
        120,
        "both brands to be paused",
        enforcer,
    )
    # Paused while the import has not finished: the reconciles did not wait for it.
    assert import_row(import_id).status == "running" and importer.poll() is None
    if is_postgres(session):  # and its transaction still holds the lock the former FOR UPDATE waited for
        assert holds_key_share_on(database_url, acme.id)
    events = session.scalars(select(CampaignEvent).where(CampaignEvent.new_status == "paused")).all()
    assert {(e.brand_id, e.actor, e.new_reasons) for e in events} == {
        (acme.id, "reconcile_brand", "daily_budget"),
        (other.id, "reconcile_brand", "daily_budget"),
    }
    # Each reconcile got its lock on its first attempt (none gave up and waited for a retry).
    for job_id in redis_connection.lrange("rq:queue:" + QUEUE_ENFORCE, 0, -1):
        pytest.fail(f"a reconcile is still queued: {job_id}")
    failed = (
        redis_connection.zrange(f"rq:wip:{QUEUE_ENFORCE}", 0, -1)
        + redis_connection.zrange(f"rq:failed:{QUEUE_ENFORCE}", 0, -1)
        + redis_connection.zrange(f"rq:scheduled:{QUEUE_ENFORCE}", 0, -1)
    )
    assert failed == []
    finished = [
        Job.fetch(j.decode(), connection=redis_connection)
        for j in redis_connection.zrange(f"rq:finished:{QUEUE_ENFORCE}", 0, -1)
    ]
    assert len(finished) == 2 and all(j.get_status() == JobStatus.FINISHED for j in finished)
    # While it runs, none of the import's rows count: Acme's day totals are today's spend alone.
    acme_days = session.execute(
        select(BrandDaySpend.local_date, BrandDaySpend.amount_minor).where(BrandDaySpend.brand_id == acme.id)
    ).all()
    assert [amount for _, amount in acme_days] == [10000]

    assert importer.wait(timeout=900) == 0, background.output(importer)
    done = import_row(import_id)
    assert (done.status, done.imported, done.unpublished_from_id) == ("done", ROWS, None)
    totals = dict(
        session.execute(
            select(BrandDaySpend.local_date, BrandDaySpend.amount_minor).where(
                BrandDaySpend.brand_id == acme.id, BrandDaySpend.local_date < date(2026, 1, 1)
            )
        ).all()
    )
    assert totals == per_day
    assert session.scalar(select(func.count()).select_from(SpendRecord).where(counted_spend())) == ROWS + 2


def test_a_reconcile_gives_up_on_a_held_lock_and_the_others_go_on(session, world, database_url):
    acme, other = world
    written = write_spend(
        session,
        [
            new_spend(other.campaigns[0], 10000, utcnow(), source="api"),
            new_spend(acme.campaigns[0], 10000, utcnow(), source="api"),
        ],
    )
    session.commit()
    # Another connection holds Acme's lock (PostgreSQL: its row; SQLite: the one write lock) in an open transaction.
    engine = create_engine(database_url)
    holder = engine.connect()
    try:
        holder.execute(text("UPDATE brand SET name = name WHERE id = :id"), {"id": acme.id})
        if is_postgres(session):
            with pytest.raises(BrandLockTimeout, match=rf"\[{acme.id}\]"):
                rec.reconcile_brands(session, utcnow(), actor="test", brand_ids=[acme.id, other.id])
            # Acme was skipped, Other went on.
            assert statuses("Acme") == ["active", "active"] and statuses("Other") == ["paused"]
        else:
            with pytest.raises(BrandLockTimeout):
                rec.reconcile_brands(session, utcnow(), actor="test", brand_ids=[acme.id, other.id])
            assert statuses("Acme") == ["active", "active"] and statuses("Other") == ["active"]
        holder.rollback()
        # Once the lock is free, the retry does the work.
        rec.reconcile_brands(session, utcnow(), actor="test", brand_ids=[acme.id, other.id])
        assert statuses("Acme") == ["paused", "paused"] and statuses("Other") == ["paused"]
    finally:
        holder.close()
        engine.dispose()
    assert written.brand_ids == {acme.id, other.id}
