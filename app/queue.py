"""Redis and RQ plumbing: the connection, the queue names, the one enqueue helper,
and the request for enforcement that every spend write path makes after commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import redis
from flask import current_app
from rq import Queue, Retry

from app.embedded_redis import read_url

QUEUE_ENFORCE = "pacer-enforce"  # reconcile_brand after a spend: seconds matter
QUEUE_SWEEPS = "pacer-sweeps"  # the periodic jobs
QUEUE_IMPORTS = "pacer-imports"  # long spend imports
QUEUES = (QUEUE_ENFORCE, QUEUE_SWEEPS, QUEUE_IMPORTS)

# A brand with a reconcile already queued is not queued again until that job starts.
PENDING_KEY = "pacer:reconcile-pending:{brand_id}"
PENDING_TTL = 300

# A reconcile that fails or whose work horse dies runs again a few seconds later (it is
# idempotent); scheduler.py moves the scheduled retries to the queue (app.scheduling).
RECONCILE_RETRY = Retry(max=3, interval=[2, 5, 15])


class RedisUnavailable(RuntimeError):
    pass


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


def enqueue(func: str, *args, queue_name: str, job_timeout: int, result_ttl: int = 3600,
            failure_ttl: int = 7 * 24 * 3600, job_id: str | None = None, meta: dict | None = None,
            retry: Retry | None = None):
    """Enqueue ``func`` (a dotted path: job arguments carry ids, never user text)."""
    return queue(queue_name).enqueue(
        func, *args, job_timeout=job_timeout, result_ttl=result_ttl, failure_ttl=failure_ttl,
        job_id=job_id, meta=meta or {}, retry=retry,
    )


@dataclass
class EnforcementRequest:
    """What happened when enforcement was asked for after a spend write."""

    queued: list[int] = field(default_factory=list)
    already_pending: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    error: str | None = None

    @property
    def is_deferred(self) -> bool:
        return bool(self.deferred)

    def message(self) -> str:
        if self.deferred:
            return (f"Enforcement deferred ({self.error}): the spend is saved and the next sweep, "
                    "within a minute of Redis being back, applies the budgets.")
        brands = len(self.queued) + len(self.already_pending)
        return f"Budgets are being enforced for {brands} brand{'s' if brands != 1 else ''}."


def request_enforcement(brand_ids) -> EnforcementRequest:
    """Enqueue ``reconcile_brand`` for each brand, once while one is pending. Call after commit.

    Never raises for Redis trouble: the spend is already saved, so the brands are
    reported as deferred and the periodic sweep catches them up.
    """
    result = EnforcementRequest()
    brand_ids = sorted(set(brand_ids))
    try:
        connection = get_redis()
        for brand_id in brand_ids:
            if connection.set(PENDING_KEY.format(brand_id=brand_id), "1", nx=True, ex=PENDING_TTL):
                enqueue("app.jobs.reconcile_brand", brand_id, queue_name=QUEUE_ENFORCE,
                        job_timeout=60, result_ttl=600, retry=RECONCILE_RETRY)
                result.queued.append(brand_id)
            else:
                result.already_pending.append(brand_id)
    except (RedisUnavailable, redis.RedisError, OSError) as exc:
        result.deferred = [b for b in brand_ids if b not in result.queued and b not in result.already_pending]
        result.error = "Redis is unreachable" if not isinstance(exc, RedisUnavailable) else str(exc)
    return result


def clear_pending(brand_id: int) -> None:
    """Called when a reconcile_brand job starts, so spend arriving during it queues another run."""
    get_redis().delete(PENDING_KEY.format(brand_id=brand_id))
