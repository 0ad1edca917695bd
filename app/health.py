"""Health of the running system: database, Redis, workers and the scheduler's heartbeat."""

from __future__ import annotations

from rq import Worker
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.queue import get_redis
from app.scheduling import HEARTBEAT_STALE_AFTER, scheduler_heartbeat_age


def check_health(session: Session) -> tuple[bool, dict]:
    """(healthy, report). Healthy when the database and Redis answer, a worker is alive and
    the scheduler's heartbeat is fresh; the report names what fails."""
    report: dict = {}
    failing = []
    try:
        session.execute(text("SELECT 1"))
        report["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        session.rollback()
        report["database"] = f"error: {type(exc).__name__}"
        failing.append("database")
    try:
        connection = get_redis()
        connection.ping()
        report["redis"] = "ok"
        # Worker.all, not Worker.count: it skips (and unregisters) workers whose key expired,
        # so a killed worker stops counting once its worker_ttl runs out.
        report["workers"] = len(Worker.all(connection=connection))
        age = scheduler_heartbeat_age(connection)
        if age is None:
            report["scheduler"] = "never seen"
        elif age > HEARTBEAT_STALE_AFTER:
            report["scheduler"] = f"stale: last seen {age:.0f}s ago"
        else:
            report["scheduler"] = "ok"
    except Exception as exc:  # noqa: BLE001
        report["redis"] = f"error: {exc}"
        report["workers"] = 0
        report["scheduler"] = "unknown: Redis is unreachable"
        failing.append("redis")
    if report["workers"] < 1:
        failing.append("workers")
    if report["scheduler"] != "ok":
        failing.append("scheduler")
    report["failing"] = failing
    return not failing, report
