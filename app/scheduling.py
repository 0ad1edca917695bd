"""Registering the periodic jobs with rq-scheduler, and its heartbeat."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from redis import Redis
from rq_scheduler import Scheduler

from app.jobs import PERIODIC_JOBS, PeriodicJob

JOB_ID_PREFIX = "pacer-periodic-"
HEARTBEAT_KEY = "pacer:scheduler:heartbeat"
HEARTBEAT_INTERVAL = 5  # seconds between scheduler passes
HEARTBEAT_STALE_AFTER = 90  # /healthz calls the scheduler down after this many seconds of silence


@dataclass
class Registration:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def register_periodic_jobs(scheduler: Scheduler, jobs: tuple[PeriodicJob, ...] = PERIODIC_JOBS) -> Registration:
    """Make rq-scheduler hold exactly ``jobs``: keep unchanged ones, replace changed ones,
    add missing ones and cancel Pacer jobs no longer declared. Running it twice changes nothing."""
    declared = {spec.id: spec for spec in jobs}
    registered = {job.id: job for job in scheduler.get_jobs()}
    result = Registration()
    for job_id, job in registered.items():
        if job_id.startswith(JOB_ID_PREFIX) and job_id not in declared:
            scheduler.cancel(job)
            job.delete()
            result.cancelled.append(job_id)
    for job_id, spec in declared.items():
        current = registered.get(job_id)
        if current is not None and current.meta.get("definition") == spec.definition():
            result.kept.append(job_id)
            continue
        if current is not None:
            scheduler.cancel(current)
            result.replaced.append(job_id)
        else:
            result.added.append(job_id)
        job = scheduler.cron(
            spec.cron, func=spec.func, id=spec.id, queue_name=spec.queue_name, timeout=spec.timeout,
            result_ttl=spec.result_ttl, meta={"definition": spec.definition()}, use_local_timezone=False,
            description=spec.description or None,
        )
        job.failure_ttl = spec.failure_ttl
        job.save()
    return result


class HeartbeatScheduler(Scheduler):
    """rq-scheduler that also records when it last ran, for /healthz."""

    def heartbeat(self) -> None:
        super().heartbeat()
        self.connection.set(HEARTBEAT_KEY, f"{time.time():.3f}", ex=HEARTBEAT_STALE_AFTER * 4)


def scheduler_heartbeat_age(connection: Redis) -> float | None:
    """Seconds since the scheduler's last pass, or None if it never ran."""
    value = connection.get(HEARTBEAT_KEY)
    return None if value is None else max(0.0, time.time() - float(value))
