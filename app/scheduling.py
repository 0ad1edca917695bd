"""The scheduler: the periodic jobs registered with rq-scheduler under stable ids, kept registered
through Redis outages and restarts, its heartbeat, and the moving of RQ's scheduled retries."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime

import rq_scheduler.scheduler
from crontab import CronTab
from redis import Redis
from rq import Queue
from rq.scheduler import RQScheduler
from rq_scheduler import Scheduler

from app.jobs import PERIODIC_JOBS, SWEEP_PERIOD, PeriodicJob
from app.queue import QUEUE_SWEEPS, QUEUES
from app.worker_support import REDIS_DOWN, RedisOutage, exit_on_stop_signals, wait_for_redis

log = logging.getLogger("pacer.scheduler")

JOB_ID_PREFIX = "pacer-periodic-"
HEARTBEAT_KEY = "pacer:scheduler:heartbeat"
# Seconds between scheduler passes: also how late a cron job or a retry may be moved to its queue.
HEARTBEAT_INTERVAL = 1
# /healthz calls the scheduler down after two sweep periods of silence: one missed sweep is a blip.
HEARTBEAT_STALE_AFTER = 2 * SWEEP_PERIOD


def next_cron_time(cron_string: str, use_local_timezone: bool = False) -> datetime:
    """The next instant after now that ``cron_string`` (UTC, as every Pacer cron is) matches, aware UTC.

    rq-scheduler 0.14 hands crontab a naive local "now": crontab warns (a FutureWarning at every start of
    scheduler.py) and reads the cron in the host's zone. An aware UTC "now" is the fix upstream has not
    released (rq-scheduler #299, #300); ``use_local_timezone`` is accepted for its signature, never used.
    """
    return CronTab(cron_string).next(now=datetime.now(UTC), return_datetime=True)


# Scheduler.cron and Scheduler.enqueue_job both look this name up in their module when they run.
rq_scheduler.scheduler.get_next_scheduled_time = next_cron_time


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
            spec.cron,
            func=spec.func,
            id=spec.id,
            queue_name=spec.queue_name,
            timeout=spec.timeout,
            result_ttl=spec.result_ttl,
            meta={"definition": spec.definition()},
            use_local_timezone=False,
            description=spec.description or None,
        )
        job.failure_ttl = spec.failure_ttl
        job.save()
    return result


def missing_periodic_jobs(
    connection: Redis, jobs: tuple[PeriodicJob, ...] = PERIODIC_JOBS, *, holding_the_lock: bool = False
) -> list[str]:
    """The declared periodic job ids rq-scheduler does not hold, read in one transaction.

    rq-scheduler takes a job out of its set and puts it back rescheduled while it holds its lock,
    so to anyone but the lock's holder a job missing while the lock is held is being moved, not lost.
    """
    with connection.pipeline(transaction=True) as pipe:
        for spec in jobs:
            pipe.zscore(Scheduler.scheduled_jobs_key, spec.id)
        pipe.exists(Scheduler.scheduler_lock_key)
        *scores, locked = pipe.execute()
    if locked and not holding_the_lock:
        return []
    return [spec.id for spec, score in zip(jobs, scores, strict=True) if score is None]


class PacerScheduler(Scheduler):
    """rq-scheduler that also, on every pass: writes a heartbeat for /healthz; registers the
    periodic jobs again if Redis lost them (restarted empty, or failed over), running each once
    at once to catch up; and moves RQ's scheduled retries (of reconcile_brand) to their queues.

    ``retries`` is RQ's own scheduler of those retries, kept across reconnections so its locks
    stay this process's."""

    def __init__(self, *args, retries: RQScheduler, jobs: tuple[PeriodicJob, ...] = PERIODIC_JOBS, **kwargs):
        super().__init__(*args, **kwargs)
        self.retries = retries
        self.jobs = jobs

    def heartbeat(self) -> None:
        super().heartbeat()
        write_heartbeat(self.connection)

    def enqueue_jobs(self):
        if missing_periodic_jobs(self.connection, self.jobs, holding_the_lock=True):
            self.keep_registered()
        jobs = super().enqueue_jobs()
        self.retries.acquire_locks()
        self.retries.enqueue_scheduled_jobs()
        return jobs

    def keep_registered(self) -> Registration:
        """Reconcile the registered periodic jobs with the declared ones; if any had to be added
        (first start, or Redis lost them), run each once now rather than at the next minute."""
        result = register_periodic_jobs(self, self.jobs)
        log.info(
            "periodic jobs: added %s, replaced %s, cancelled %s, kept %s",
            result.added,
            result.replaced,
            result.cancelled,
            result.kept,
        )
        if result.added:
            for spec in self.jobs:
                Queue(spec.queue_name, connection=self.connection).enqueue(
                    spec.func,
                    job_timeout=spec.timeout,
                    result_ttl=600,
                    failure_ttl=spec.failure_ttl,
                    description=f"{spec.description or spec.func} (catch-up run after registering)",
                )
        return result

    # Stopping and cleaning up are best effort while Redis is down: the lock and the instance key
    # expire by themselves, and an error here would turn a stop request into a retry.
    def remove_lock(self) -> None:
        with suppress(*REDIS_DOWN):
            super().remove_lock()

    def register_death(self) -> None:
        with suppress(*REDIS_DOWN):
            super().register_death()

    def _install_signal_handlers(self) -> None:
        def stop(signum, frame):
            log.info("stopping")
            self.remove_lock()
            self.register_death()
            with suppress(*REDIS_DOWN):
                self.retries.release_locks()
            raise SystemExit(0)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)


def run_scheduler(connect: Callable[[], Redis], *, interval: float = HEARTBEAT_INTERVAL) -> None:
    """Run the scheduler until SIGTERM or SIGINT, through any Redis outage: one log line when Redis
    goes, retries with backoff, and on its return the periodic jobs are reconciled again."""
    outage = RedisOutage("the scheduler", log)
    retries: RQScheduler | None = None
    while True:
        exit_on_stop_signals()
        connection = wait_for_redis(connect, outage)
        try:
            retries = retries or RQScheduler(QUEUES, connection=connection, interval=interval)
            scheduler = PacerScheduler(
                queue_name=QUEUE_SWEEPS, connection=connection, interval=interval, retries=retries
            )
            scheduler.keep_registered()
            scheduler.run()
        except REDIS_DOWN as exc:
            time.sleep(outage.failed(exc))


def write_heartbeat(connection: Redis) -> None:
    """Record that the scheduler made a pass now (read by /healthz)."""
    connection.set(HEARTBEAT_KEY, f"{time.time():.3f}", ex=HEARTBEAT_STALE_AFTER * 4)


def scheduler_heartbeat_age(connection: Redis) -> float | None:
    """Seconds since the scheduler's last pass, or None if it never ran."""
    value = connection.get(HEARTBEAT_KEY)
    return None if value is None else max(0.0, time.time() - float(value))
