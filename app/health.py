"""Health of the running system: database, Redis, a live worker on every queue, the scheduler's
heartbeat and its periodic jobs."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from rq import Queue, Worker
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.queue import QUEUES, get_redis
from app.scheduling import HEARTBEAT_STALE_AFTER, missing_periodic_jobs, scheduler_heartbeat_age
from app.services.platforms import key_problem, out_of_sync
from app.services.webhooks import failing_endpoints, undelivered_count
from app.worker_support import WORKER_SILENT_AFTER


def live_workers(connection) -> list[Worker]:
    """Registered workers that heartbeated recently. Worker.all skips (and unregisters) workers
    whose key expired; the heartbeat age notices a killed one sooner than that expiry."""
    now = datetime.now(UTC)
    return [
        worker
        for worker in Worker.all(connection=connection)
        if worker.last_heartbeat is not None
        and (now - worker.last_heartbeat.replace(tzinfo=UTC)).total_seconds() <= WORKER_SILENT_AFTER
    ]


def check_health(session: Session) -> tuple[bool, dict]:
    """(healthy, report). Healthy when the database and Redis answer, every queue Pacer uses has a
        live worker, the scheduler's heartbeat is fresh and every periodic job is registered; the
        report names what fails (``failing``: "database", "redis", "workers", "queue:<name>",
        "scheduler", "connectors": connections exist and PACER_CONNECTOR_KEY cannot read them).
        ``webhooks`` lists the endpoints marked failing and the undelivered count, but is never
    a failure of Pacer's own."""
    report: dict = {}
    failing = []
    try:
        session.execute(text("SELECT 1"))
        report["database"] = "ok"
        # Shown, never a 503: a receiver that is down is its owner's problem, and nothing is lost.
        report["webhooks"] = {
            "failing_endpoints": failing_endpoints(session),
            "undelivered": undelivered_count(session),
        }
        # Connections whose credentials cannot be read (PACER_CONNECTOR_KEY unset or wrong) fail Pacer's own
        # pushes and pulls: a failure. Campaigns out of sync are shown, like failing webhook endpoints.
        problem = key_problem(session, current_app.config.get("CONNECTOR_KEY"))
        report["connectors"] = {"key": problem or "ok", "out_of_sync": len(out_of_sync(session))}
        if problem:
            failing.append("connectors")
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        session.rollback()
        report["database"] = f"error: {type(exc).__name__}"
        failing.append("database")
    try:
        connection = get_redis()
        connection.ping()
        report["redis"] = "ok"
        workers = live_workers(connection)
        report["workers"] = len(workers)
        report["queues"] = {}
        for name in QUEUES:
            listening = sum(1 for worker in workers if name in worker.queue_names())
            report["queues"][name] = {
                "status": "ok" if listening else "no live worker",
                "workers": listening,
                "queued": Queue(name, connection=connection).count,
            }
        age = scheduler_heartbeat_age(connection)
        missing = missing_periodic_jobs(connection)
        if age is None:
            report["scheduler"] = "never seen"
        elif age > HEARTBEAT_STALE_AFTER:
            report["scheduler"] = f"stale: last seen {age:.0f}s ago"
        elif missing:
            report["scheduler"] = f"periodic jobs not registered: {', '.join(missing)}"
        else:
            report["scheduler"] = "ok"
    except Exception as exc:  # noqa: BLE001
        report["redis"] = f"error: {exc}"
        report["workers"] = 0
        report["queues"] = {
            name: {"status": "unknown: Redis is unreachable", "workers": 0, "queued": None} for name in QUEUES
        }
        report["scheduler"] = "unknown: Redis is unreachable"
        failing.append("redis")
    if report["workers"] < 1:
        failing.append("workers")
    failing += [f"queue:{name}" for name, queue in report["queues"].items() if queue["workers"] < 1]
    if report["scheduler"] != "ok":
        failing.append("scheduler")
    report["failing"] = failing
    return not failing, report
