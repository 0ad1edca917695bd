"""Pending deliveries with leases, in order per key: the one queue behind webhook deliveries and ad-platform pushes.

A delivery table has ``status`` ('pending' until delivered or given up), ``next_attempt_at`` and
``leased_until`` (a sender holds it until then). Deliveries of one ordering key (a webhook endpoint and
event ordering key; a platform push's campaign link) go one at a time, oldest first: a delivery waits while
an earlier one of its key is pending. ``where`` narrows a queue further (webhooks: only enabled endpoints);
``joins`` are the (table, on) pairs it needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Select, exists, or_, select, update
from sqlalchemy.orm import Session, aliased


def _blocked(model: type, keys: Sequence[str]):
    """An earlier delivery of the same key that is still pending."""
    earlier = aliased(model)
    return exists().where(
        *(getattr(earlier, key) == getattr(model, key) for key in keys),
        earlier.status == "pending",
        earlier.id < model.id,
    )


def _pending(stmt: Select, model: type, keys: Sequence[str], where: Sequence, joins: Sequence) -> Select:
    for table, on in joins:
        stmt = stmt.join(table, on)
    return stmt.where(model.status == "pending", ~_blocked(model, keys), *where)


def due_ids(
    session: Session, model: type, now: datetime, *, keys: Sequence[str], limit: int, where=(), joins=()
) -> list[int]:
    """Ids of the deliveries that may be attempted at ``now`` (due, not leased, first of their key), oldest first."""
    stmt = _pending(select(model.id), model, keys, where, joins).where(
        model.next_attempt_at <= now, or_(model.leased_until.is_(None), model.leased_until <= now)
    )
    return list(session.scalars(stmt.order_by(model.id).limit(limit)))


def next_due_at(
    session: Session, model: type, *, keys: Sequence[str], limit: int, where=(), joins=()
) -> datetime | None:
    """When the earliest pending delivery may be attempted (its lease counted), or None. One waiting behind an
    earlier one of its key does not count: that one's time does."""
    stmt = _pending(select(model.next_attempt_at, model.leased_until), model, keys, where, joins)
    rows = session.execute(stmt.order_by(model.next_attempt_at).limit(limit)).all()
    times = [max(next_at, lease) if lease else next_at for next_at, lease in rows]
    return min(times) if times else None


def has_work(
    session: Session, undispatched, model: type, until: datetime, *, keys: Sequence[str], limit: int, where=(), joins=()
) -> bool:
    """True when an outbox event waits to be fanned out to this queue (its ``undispatched`` mark is null) or a
    delivery falls due by ``until`` (a lease ending counts): the sweep then asks for a job."""
    waiting = session.scalar(select(exists().where(undispatched.is_(None))))
    due = next_due_at(session, model, keys=keys, limit=limit, where=where, joins=joins)
    return bool(waiting) or (due is not None and due <= until)


def claim(session: Session, model: type, row_id: int, now: datetime, lease: timedelta) -> bool:
    """Take a pending delivery's lease (one sender at a time), for ``lease``; commits."""
    taken = session.execute(
        update(model)
        .where(
            model.id == row_id,
            model.status == "pending",
            or_(model.leased_until.is_(None), model.leased_until <= now),
        )
        .values(leased_until=now + lease)
    ).rowcount
    session.commit()
    return taken == 1
