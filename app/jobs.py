"""RQ entry points. Thin: each takes ids (never user text), runs one service inside the
app context at the current instant, and returns a small summary for the dashboard.

Every effect is keyed in the database (stored status, reset dates, dedupe keys), so a
job that runs twice, or two that overlap, change nothing the second time.
"""

from __future__ import annotations

import functools
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app, has_app_context
from rq import get_current_job

from app.extensions import db
from app.models import utcnow
from app.queue import QUEUE_SWEEPS, clear_delivery_pending, clear_pending, enqueue_pull, meta_saver
from app.services import platforms, webhooks
from app.services import reconcile as rec
from app.services.enforcement import commit_and_enforce
from app.services.imports import ImportNotQueued, ProgressReporter, prune_uploads, recover_imports, run_import
from app.services.outbox import request_delivery

_app: Flask | None = None


def use_app(app: Flask) -> None:
    """Let jobs run in ``app`` (worker.py calls this before forking work horses)."""
    global _app
    _app = app


def _app_context():
    global _app
    if has_app_context():
        return nullcontext()
    if _app is None:  # a plain `rq worker` process: build the app once per process
        from app import create_app

        _app = create_app()
    return _app.app_context()


def job(func):
    """Run the job inside the app context and release its database session afterwards."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _app_context():
            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapper


def _summary(changes: list[rec.Change]) -> dict:
    return {"changes": len(changes), "details": [c.describe() for c in changes[:50]]}


@job
def sweep() -> dict:
    """Every minute: the brands due or changed to the whole rule (`jobs run enforce-budgets` /
    `apply-dayparting`), the imports whose run was lost or never queued, and the stored uploads past their
    retention."""
    now = utcnow()
    summary = _summary(rec.sweep(db.session, now)) | recover_imports(db.session, now)
    summary["uploads_deleted"] = len(prune_uploads(db.session, now, **upload_retention(current_app)).deleted)
    # Whatever a lost request left in the outbox, or falls due before the next sweep, is asked for here.
    until = now + timedelta(seconds=SWEEP_PERIOD)
    summary["delivery_requested"] = (
        webhooks.has_work(db.session, until) or platforms.has_push_work(db.session, until)
    ) and request_delivery()
    return summary


def upload_retention(app: Flask) -> dict:
    """prune_uploads' settings from the config (PACER_UPLOAD_RETENTION_DAYS, the upload folder)."""
    return {"retention_days": app.config["UPLOAD_RETENTION_DAYS"], "folder": Path(app.config["UPLOAD_FOLDER"])}


@job
def full_sweep() -> dict:
    """Hourly (and `jobs run reconcile`): the sweep, plus every campaign of every brand checked against
    the rule in a few set-based queries and each brand out of step reconciled: the due sweep's safety net."""
    return _summary(rec.full_sweep(db.session, utcnow()))


@job
def reset_daily() -> dict:
    return _summary(rec.reset_daily(db.session, utcnow()))


@job
def reset_monthly() -> dict:
    return _summary(rec.reset_monthly(db.session, utcnow()))


@job
def reconcile_brand(brand_id: int) -> dict:
    """On demand after spend: bring one brand to the rule's state now."""
    clear_pending(brand_id)
    return _summary(rec.reconcile_brands(db.session, utcnow(), actor="reconcile_brand", brand_ids=[brand_id]))


@job
def import_spend(import_id: int) -> dict:
    """Run spend import ``import_id`` from its stored file, progress in this job's meta; then enforce
    the budgets of the brands it added spend to. A second run of the same import does nothing."""
    try:
        outcome = run_import(db.session, import_id, progress=ProgressReporter(meta_saver(get_current_job())))
    except ImportNotQueued as exc:
        return {"import_id": import_id, "skipped": str(exc)}
    enforcement = commit_and_enforce(db.session, actor="import_spend")
    return {
        "import_id": import_id,
        "status": outcome.status,
        "rows_read": outcome.rows_read,
        "imported": outcome.imported,
        "duplicates": outcome.duplicates,
        "rejected": outcome.rejected,
        "enforcement": enforcement.message() if enforcement.state else None,
    }


# A delivery job stays to send the retries due within this long (its timeout is DELIVERY_JOB_TIMEOUT);
# later ones are asked for by the next sweep.
DELIVERY_STAY = 120
DELIVERY_WAIT_AT_MOST = 30


@job
def deliver_webhooks() -> dict:
    """Send every outbox delivery that is due (webhooks, then pushes to the ad platforms), then those that
    fall due in the next moments (retries)."""
    clear_delivery_pending()
    settings = webhooks.DeliverySettings.from_config(current_app.config)
    connector_settings = platforms.ConnectorSettings.from_config(current_app.config)
    started = time.monotonic()
    totals: dict = {"passes": 0, "delivered": 0, "retrying": 0, "given_up": 0, "dispatched": 0}
    pushes: dict = {"delivered": 0, "dry_run": 0, "retrying": 0, "given_up": 0, "dispatched": 0}
    while True:
        run = webhooks.deliver_due(db.session, utcnow(), settings, clock=utcnow)
        push_run = platforms.push_due(db.session, utcnow(), connector_settings, clock=utcnow)
        totals["passes"] += 1
        for key in ("delivered", "retrying", "given_up", "dispatched"):
            totals[key] += getattr(run, key)
        for key in pushes:
            pushes[key] += getattr(push_run, key)
        totals["pushes"] = pushes
        next_due = min((d for d in (run.next_due, push_run.next_due) if d is not None), default=None)
        if next_due is None:
            return totals
        wait = max((next_due - utcnow()).total_seconds(), 0.05)
        if wait > DELIVERY_WAIT_AT_MOST or time.monotonic() - started + wait > DELIVERY_STAY:
            return totals | {"next_due": next_due.isoformat()}
        time.sleep(wait)


@job
def pull_all_spend() -> dict:
    """Every 15 minutes: a pull_spend job for each ad-platform connection of a live brand."""
    ids = platforms.pullable_connections(db.session)
    db.session.commit()
    for connection_id in ids:
        enqueue_pull(connection_id)
    return {"connections": len(ids)}


@job
def pull_spend(connection_id: int) -> dict:
    """One connection's hourly spend since its last successful pull (and the restated hours), written as
    hour rows; then the brand's budgets are enforced. A failed pull writes nothing and is retried next time."""
    settings = platforms.ConnectorSettings.from_config(current_app.config)
    with platforms.client(settings) as http:
        try:
            result = platforms.pull_connection(
                db.session, connection_id, utcnow(), settings, platforms.connector_factory(settings, http)
            )
        except LookupError:
            return {"connection_id": connection_id, "skipped": "the connection was deleted"}
    enforcement = commit_and_enforce(db.session, actor="pull_spend")
    return result.summary() | {"enforcement": enforcement.message() if enforcement.state else None}


@dataclass(frozen=True)
class PeriodicJob:
    """A job rq-scheduler runs on a UTC cron string, registered under a stable id."""

    id: str
    func: str
    cron: str
    timeout: int
    # -1 keeps the job's hash: rq expires a finished job after result_ttl, and if no worker ran
    # the next copy by then (workers down, a long import) rq-scheduler drops it for good (#42).
    result_ttl: int = -1
    failure_ttl: int = 7 * 24 * 3600
    queue_name: str = QUEUE_SWEEPS
    description: str = ""  # what /rq shows for the job

    def definition(self) -> str:
        """What identifies this definition; a change means the registered job is replaced."""
        return (
            f"{self.func}|{self.cron}|{self.timeout}|{self.result_ttl}|{self.failure_ttl}|{self.queue_name}"
            f"|{self.description}"
        )


SWEEP_PERIOD = 60  # seconds: every periodic job runs each minute ("* * * * *")

# Resets first, so the resumes at a brand's midnight are attributed to them, not to the sweep.
# rq-scheduler enqueues jobs due at the same instant in job-id order, hence the numbers in the
# ids. Every job applies the whole rule, so none can activate a campaign that another rule pauses.
# One sweep replaces the former pacer-periodic-3-enforce-budgets and pacer-periodic-4-apply-dayparting
# (the same pass twice a minute); registration cancels those ids on upgrade.
PERIODIC_JOBS = (
    PeriodicJob(
        "pacer-periodic-1-reset-monthly",
        "app.jobs.reset_monthly",
        "* * * * *",
        timeout=50,
        description="reset_monthly: brands whose local month turned, to the whole rule",
    ),
    PeriodicJob(
        "pacer-periodic-2-reset-daily",
        "app.jobs.reset_daily",
        "* * * * *",
        timeout=50,
        description="reset_daily: brands whose local day turned, to the whole rule",
    ),
    PeriodicJob(
        "pacer-periodic-3-sweep",
        "app.jobs.sweep",
        "* * * * *",
        timeout=50,
        description="sweep: brands due or changed to the whole rule (enforce-budgets, apply-dayparting)",
    ),
    # Off the hour's first minute, where the resets of the whole-hour zones land.
    PeriodicJob(
        "pacer-periodic-4-full-sweep",
        "app.jobs.full_sweep",
        "7 * * * *",
        timeout=600,
        description="full sweep: every campaign checked, brands out of step to the whole rule (hourly)",
    ),
    PeriodicJob(
        "pacer-periodic-5-pull-spend",
        "app.jobs.pull_all_spend",
        "*/15 * * * *",
        timeout=120,
        description="pull spend: one pull_spend job per ad-platform connection (every 15 minutes)",
    ),
)
