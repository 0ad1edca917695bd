"""Enforcement after a write: the one post-commit path for spend, settings and imports.

A service that writes something the rule depends on (spend, a budget, a schedule, a switch,
flight dates, a time zone, an import) names the brand with :func:`enforce_after_commit`.
The caller then commits with :func:`commit_and_enforce`, which marks them changed in the same
transaction (app.services.changes, for the sweep) and then asks the queue for a
``reconcile_brand`` of each named brand, so a budget hit pauses campaigns within seconds.
When Redis cannot be reached, the brands are reconciled here instead, at once: one
fallback, one wording (:meth:`Enforcement.message`). A rollback forgets the names.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

from app import queue
from app.models import utcnow
from app.services.changes import mark_brands_changed
from app.services.reconcile import Change, reconcile_brands

log = logging.getLogger(__name__)
_BRANDS = "pacer.enforce_brands"


def enforce_after_commit(session: Session, brand_ids: Iterable[int]) -> None:
    """Have :func:`commit_and_enforce` reconcile these brands once this transaction commits."""
    session.info.setdefault(_BRANDS, set()).update(brand_ids)


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_BRANDS, None)


@dataclass
class Enforcement:
    """What happened to the brands a committed write named."""

    queued: list[int] = field(default_factory=list)  # a reconcile_brand job is queued (or already was)
    applied: list[int] = field(default_factory=list)  # reconciled in this process: Redis was unreachable
    deferred: list[int] = field(default_factory=list)  # neither worked: the periodic sweep applies them
    changes: list[Change] = field(default_factory=list)
    error: str | None = None

    @property
    def state(self) -> str | None:
        """ "queued", "applied", "deferred", or None when the write named no brand."""
        if self.deferred:
            return "deferred"
        if self.applied:
            return "applied"
        return "queued" if self.queued else None

    def message(self) -> str:
        brands = len(self.queued) + len(self.applied) + len(self.deferred)
        some = f"{brands} brand{'s' if brands != 1 else ''}"
        if self.deferred:
            return (
                f"Enforcement deferred ({self.error}): the change is saved and the next periodic sweep "
                "applies the budgets and schedules."
            )
        if self.applied:
            changed = len(self.changes)
            return (
                f"Enforced at once in this process ({self.error}): budgets and schedules of {some} applied, "
                f"{changed} campaign change{'s' if changed != 1 else ''}."
            )
        return f"Budgets and schedules are being enforced for {some}."


def commit_and_enforce(session: Session, *, actor: str, now: datetime | None = None) -> Enforcement:
    """Commit, then enforce every brand the transaction named (see the module's docstring).

    ``actor`` names who enforces when it happens here (e.g. "user:ann@example.com", "spend").
    """
    brand_ids = sorted(session.info.pop(_BRANDS, set()))
    # The database's own record of the change, in the same transaction: if the request below is lost
    # (Redis down, a crash after commit), the next sweep still visits these brands first.
    mark_brands_changed(session, brand_ids, utcnow())
    session.commit()
    result = Enforcement()
    if not brand_ids:
        return result
    try:
        result.queued = sum(queue.enqueue_reconciles(brand_ids), [])
        return result
    except queue.RedisUnavailable as exc:
        result.queued, result.error = exc.queued, str(exc)
    left = [brand_id for brand_id in brand_ids if brand_id not in result.queued]
    try:
        result.changes = reconcile_brands(session, now or utcnow(), actor=actor, brand_ids=left)
        result.applied = left
    except Exception:  # noqa: BLE001 - the write is saved; the sweep will enforce it
        session.rollback()
        log.exception("enforcing brands %s in this process failed", left)
        result.deferred = left
    return result
