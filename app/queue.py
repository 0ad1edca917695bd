"""Redis and RQ plumbing, the only module that knows RQ: the connection, the queue names,
the one enqueue helper, what a job's state is, and asking for a brand's reconcile.

Nothing here writes the database; the services decide, this module carries messages.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import redis
from flask import current_app
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.worker import Worker

from app.embedded_redis import read_url

QUEUE_ENFORCE = "pacer-enforce"  # reconcile_brand after a spend: seconds matter
QUEUE_SWEEPS = "pacer-sweeps"  # the periodic jobs
QUEUE_IMPORTS = "pacer-imports"  # long spend imports and spend pulls from the ad platforms
QUEUE_WEBHOOKS = "pacer-webhooks"  # delivering the outbox: a slow receiver must never delay enforcement
QUEUES = (QUEUE_ENFORCE, QUEUE_SWEEPS, QUEUE_IMPORTS, QUEUE_WEBHOOKS)

# What an import job keeps in its meta while it runs.
PROGRESS_FIELDS = ("rows_read", "bytes_read", "bytes_total", "rows_per_s", "eta_s")
IMPORT_RESULT_TTL = 24 * 3600
IMPORT_FAILURE_TTL = 7 * 24 * 3600

# A brand with a reconcile already queued is not queued again until that job starts.
PENDING_KEY = "pacer:reconcile-pending:{brand_id}"
PENDING_TTL = 300
ENQUEUE_CHUNK = 500

# A reconcile that fails or whose work horse dies runs again a few seconds later (it is
# idempotent); scheduler.py moves the scheduled retries to the queue (app.scheduling).
RECONCILE_RETRY = Retry(max=3, interval=[2, 5, 15])

# One delivery job at a time is enough (it delivers everything due); asked for again once it starts.
DELIVERY_PENDING_KEY = "pacer:delivery-pending"
DELIVERY_PENDING_TTL = 300
DELIVERY_JOB_TIMEOUT = 300
# A delivery job whose work horse dies runs again; what it was sending is resent once its lease ends.
DELIVERY_RETRY = Retry(max=3, interval=[2, 5, 15])


class RedisUnavailable(RuntimeError):
    """Redis cannot be reached (or none is configured); the message is a phrase for people."""

    def __init__(self, message: str, *, queued: list[int] | None = None) -> None:
        super().__init__(message)
        self.queued = queued or []


def redis_url() -> str | None:
    """REDIS_URL when configured, else the embedded server's address kept under instance/."""
    return current_app.config.get("REDIS_URL") or read_url(Path(current_app.instance_path))


def get_redis() -> redis.Redis:
    """A client for Pacer's Redis, cached per URL on the app; fails fast when Redis is down."""
    url = redis_url()
    if not url:
        raise RedisUnavailable("no Redis is configured (REDIS_URL unset and no embedded server running)")
    clients = current_app.extensions.setdefault("pacer_redis", {})
    if url not in clients:
        clients[url] = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
    return clients[url]


def queue(name: str) -> Queue:
    return Queue(name, connection=get_redis())


def enqueue(
    func: str,
    *args,
    queue_name: str,
    job_timeout: int,
    result_ttl: int = 3600,
    failure_ttl: int = 7 * 24 * 3600,
    job_id: str | None = None,
    meta: dict | None = None,
    retry: Retry | None = None,
):
    """Enqueue ``func`` (a dotted path: job arguments carry ids, never user text)."""
    return queue(queue_name).enqueue(
        func,
        *args,
        job_timeout=job_timeout,
        result_ttl=result_ttl,
        failure_ttl=failure_ttl,
        job_id=job_id,
        meta=meta or {},
        retry=retry,
    )


def enqueue_import(import_id: int, *, job_timeout: int) -> str:
    """Queue ``import_spend(import_id)`` on the imports queue; returns the job id.

    Raises RedisUnavailable (with a sentence) when Redis cannot be reached.
    """
    try:
        job = enqueue(
            "app.jobs.import_spend",
            import_id,
            queue_name=QUEUE_IMPORTS,
            job_timeout=job_timeout,
            result_ttl=IMPORT_RESULT_TTL,
            failure_ttl=IMPORT_FAILURE_TTL,
        )
    except (redis.RedisError, OSError):
        raise RedisUnavailable("Redis is unreachable") from None
    return job.id


def enqueue_reconciles(brand_ids) -> tuple[list[int], list[int]]:
    """Queue ``reconcile_brand`` for each brand, once while one is pending: (queued, already pending).

    Raises RedisUnavailable (with a sentence) when Redis cannot be reached; brands queued
    before the failure are in the exception's ``queued``.
    """
    queued: list[int] = []
    pending: list[int] = []
    ids = sorted(set(brand_ids))
    try:
        connection = get_redis()
        enforce = Queue(QUEUE_ENFORCE, connection=connection)
        # A few round trips per 500 brands, not two per brand: a fixtures load names 10,000 of them.
        for start in range(0, len(ids), ENQUEUE_CHUNK):
            chunk = ids[start : start + ENQUEUE_CHUNK]
            with connection.pipeline(transaction=False) as pipe:
                for brand_id in chunk:
                    pipe.set(PENDING_KEY.format(brand_id=brand_id), "1", nx=True, ex=PENDING_TTL)
                fresh = [brand_id for brand_id, was_set in zip(chunk, pipe.execute(), strict=True) if was_set]
            pending += [brand_id for brand_id in chunk if brand_id not in set(fresh)]
            if fresh:
                enforce.enqueue_many(
                    [
                        Queue.prepare_data(
                            "app.jobs.reconcile_brand",
                            args=(brand_id,),
                            timeout=60,
                            result_ttl=600,
                            failure_ttl=7 * 24 * 3600,
                            meta={},
                            retry=RECONCILE_RETRY,
                        )
                        for brand_id in fresh
                    ]
                )
            queued += fresh
    except (redis.RedisError, OSError):
        raise RedisUnavailable("Redis is unreachable", queued=queued + pending) from None
    except RedisUnavailable as exc:
        raise RedisUnavailable(str(exc), queued=queued + pending) from None
    return queued, pending


def enqueue_delivery() -> bool:
    """Queue ``deliver_webhooks`` unless one is already waiting; True if this call queued it.

    Raises RedisUnavailable (with a sentence) when Redis cannot be reached.
    """
    try:
        if not get_redis().set(DELIVERY_PENDING_KEY, "1", nx=True, ex=DELIVERY_PENDING_TTL):
            return False
        enqueue(
            "app.jobs.deliver_webhooks",
            queue_name=QUEUE_WEBHOOKS,
            job_timeout=DELIVERY_JOB_TIMEOUT,
            result_ttl=600,
            retry=DELIVERY_RETRY,
        )
    except (redis.RedisError, OSError):
        raise RedisUnavailable("Redis is unreachable") from None
    return True


PULL_JOB_TIMEOUT = 600


def enqueue_pull(connection_id: int) -> str:
    """Queue ``pull_spend(connection_id)`` on the imports queue (long, network-bound work); returns the job id.

    Raises RedisUnavailable (with a sentence) when Redis cannot be reached.
    """
    try:
        job = enqueue("app.jobs.pull_spend", connection_id, queue_name=QUEUE_IMPORTS, job_timeout=PULL_JOB_TIMEOUT)
    except (redis.RedisError, OSError):
        raise RedisUnavailable("Redis is unreachable") from None
    return job.id


def clear_delivery_pending() -> None:
    """Called when a delivery job starts, so events committed during it ask for another run."""
    get_redis().delete(DELIVERY_PENDING_KEY)


def clear_pending(brand_id: int) -> None:
    """Called when a reconcile_brand job starts, so spend arriving during it queues another run."""
    get_redis().delete(PENDING_KEY.format(brand_id=brand_id))


@dataclass(frozen=True)
class JobState:
    """What the queue knows of one job."""

    missing: bool = False  # not in Redis (never was, expired, or Redis lost it)
    ended: bool = False  # failed, stopped or cancelled
    worker_gone: bool = False  # started by a worker that no longer exists
    meta: dict = field(default_factory=dict)


def job_state(job_id: str) -> JobState | None:
    """The state of job ``job_id``, or None when Redis cannot be asked now."""
    try:
        connection = get_redis()
        job = Job.fetch(job_id, connection=connection)
        status = job.get_status(refresh=False)
        worker_gone = (
            status == JobStatus.STARTED
            and bool(job.worker_name)
            and not connection.exists(Worker.redis_worker_namespace_prefix + job.worker_name)
        )
    except NoSuchJobError:
        return JobState(missing=True)
    except (RedisUnavailable, redis.RedisError, OSError):
        return None
    ended = status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)
    return JobState(ended=ended, worker_gone=worker_gone, meta=dict(job.meta))


def meta_saver(job: Job | None):
    """A function that saves figures into ``job``'s meta; progress is shown, never needed, so a
    Redis error is ignored rather than failing the job."""

    def save(figures: dict) -> None:
        if job is None:
            return
        job.meta.update(figures)
        with contextlib.suppress(redis.RedisError, OSError):
            job.save_meta()

    return save
