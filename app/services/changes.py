"""Which brands changed since the last completed sweep: the database's memory of what Redis may lose.

Every write that can change a campaign's state (spend, budget, schedule, switch, flight, time
zone, archive, import) is marked with :func:`mark_brands_changed` inside its own transaction, as its
last statement before commit, by the one post-commit helper (app.services.enforcement). The sweep
records how far it got with :func:`record_sweep`, and the first
sweep after an outage visits :func:`brands_changed_since` that watermark before anything else, so
enforcement that was deferred (Redis down, a worker killed, a process crash between commit and
enqueue) is caught up within one sweep, whatever Redis kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.database import upsert_insert
from app.models import BrandChange, SweepWatermark

SWEEP = "sweep"

# A write is marked with its own clock just before it commits, and a sweep's watermark is the
# instant it began, so a write that committed while a sweep ran can carry a time a little before
# that watermark (commit latency, clock skew between hosts). The catch-up looks back this much
# further; revisiting a brand is harmless, missing one is not.
CATCH_UP_OVERLAP = timedelta(minutes=5)


def mark_brands_changed(session: Session, brand_ids: Iterable[int], now: datetime) -> None:
    """Record in the caller's transaction that these brands' spend or settings changed at ``now``.

    Call it as the last statement before commit (``now`` read then), so the mark commits with the
    change it describes. Writes only brand_change rows, never the brand row that reconcile locks.
    A later mark wins; an earlier one never moves a brand's time back. Does not commit.
    """
    rows = [{"brand_id": brand_id, "changed_at": now} for brand_id in sorted(set(brand_ids))]
    if not rows:
        return
    table = BrandChange.__table__
    insert = upsert_insert(session, table)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[table.c.brand_id],
            set_={"changed_at": insert.excluded.changed_at},
            where=table.c.changed_at < insert.excluded.changed_at,
        ),
        rows,
    )


def sweep_watermark(session: Session) -> datetime | None:
    """The instant the last completed sweep covered every brand as of; None before the first."""
    return session.scalar(select(SweepWatermark.swept_as_of).where(SweepWatermark.name == SWEEP))


def brands_changed_since(session: Session, watermark: datetime | None, now: datetime) -> list[int] | None:
    """Brands whose spend or settings changed since ``watermark`` (less the overlap), by id: an
    indexed range read on brand_change.changed_at. None means every brand is to be caught up:
    there is no watermark, or it lies after ``now`` (a `jobs run --at` into the future), which
    would otherwise hide real changes."""
    if watermark is None or watermark > now:
        return None
    since = watermark - CATCH_UP_OVERLAP
    return list(
        session.scalars(
            select(BrandChange.brand_id).where(BrandChange.changed_at > since).order_by(BrandChange.brand_id)
        )
    )


def record_sweep(session: Session, swept_as_of: datetime) -> None:
    """Set the watermark to ``swept_as_of``, the instant a sweep began, once it has visited every
    brand. Unconditionally: an older sweep that ends later moves it back, which only widens the
    next catch-up. Does not commit."""
    table = SweepWatermark.__table__
    insert = upsert_insert(session, table).values(name=SWEEP, swept_as_of=swept_as_of)
    session.execute(
        insert.on_conflict_do_update(index_elements=[table.c.name], set_={"swept_as_of": insert.excluded.swept_as_of})
    )
