"""What worker.py and scheduler.py share: riding out Redis outages, and a worker that re-registers
itself when Redis comes back without its registration (restarted empty, or failed over)."""

from __future__ import annotations

import logging
import re
import signal
import sys
import time
from collections.abc import Callable

import redis
from rq import Worker, worker_registration

log = logging.getLogger("pacer")

# What "Redis is down" looks like from redis-py (BusyLoadingError, a Redis still loading its
# data, is a ConnectionError); OSError for sockets that fail below it.
REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError, OSError)

# A worker heartbeats at least every WORKER_TTL - 15 s while idle (rq's dequeue timeout) and
# every 30 s while a job runs (rq's job_monitoring_interval); /healthz calls a worker that has
# been silent for WORKER_SILENT_AFTER dead, so a killed one is noticed within a minute.
WORKER_TTL = 30
WORKER_SILENT_AFTER = 60


class RedisOutage(logging.Filter):
    """One log line when Redis stops answering and one when it answers again, and the backoff
    between tries (0.5 s doubling to 5 s, so work resumes within seconds of Redis's return).

    Also a logging filter for rq's loggers, which otherwise log every retry: their "could not
    connect" lines become this outage's one line.
    """

    FIRST_DELAY = 0.5
    MAX_DELAY = 5.0

    def __init__(self, process: str, logger: logging.Logger = log) -> None:
        super().__init__()
        self.process = process
        self.log = logger
        self.since: float | None = None
        self.delay = self.FIRST_DELAY

    def failed(self, error: object) -> float:
        """Note a failed attempt; returns how long to wait before the next."""
        if self.since is None:
            self.since = time.monotonic()
            self.log.warning(
                "Redis is unreachable (%s): %s keeps retrying and resumes by itself when it is back",
                error,
                self.process,
            )
        delay, self.delay = self.delay, min(self.delay * 2, self.MAX_DELAY)
        return delay

    def recovered(self) -> None:
        if self.since is not None:
            self.log.warning("Redis answers again after %.0fs: %s resumed", time.monotonic() - self.since, self.process)
        self.since = None
        self.delay = self.FIRST_DELAY

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        retrying = re.search(r"could not connect to Redis instance: (.*?)\.? retrying in", message)
        if retrying:
            self.failed(retrying.group(1))
            return False
        # rq's "found an unhandled exception, quitting..." with a traceback, when Redis went away
        # while a job ran: the worker loop in worker.py starts a fresh worker once Redis is back.
        if record.exc_info and isinstance(record.exc_info[1], REDIS_DOWN):
            self.failed(record.exc_info[1])
            return False
        return True


def wait_for_redis(connect: Callable[[], redis.Redis], outage: RedisOutage) -> redis.Redis:
    """Return a client once Redis answers, retrying with backoff for as long as it takes."""
    while True:
        try:
            connection = connect()
            connection.ping()
        except REDIS_DOWN as exc:
            time.sleep(outage.failed(exc))
            continue
        outage.recovered()
        return connection


def exit_on_stop_signals() -> None:
    """SIGTERM or SIGINT while waiting for Redis: exit cleanly (rq installs its own while it works)."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: sys.exit(0))


class PacerWorker(Worker):
    """An RQ worker that survives Redis outages: it backs off at most 5 s between attempts, and
    when Redis is back without its registration (restarted empty) it registers again, so
    /healthz and /rq see it, instead of working unseen."""

    max_connection_wait_time = RedisOutage.MAX_DELAY

    def __init__(self, *args, outage: RedisOutage | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.outage = outage or RedisOutage("the worker")
        self.stopping = False

    def request_stop(self, signum, frame):
        self.stopping = True  # before rq's handler, which may fail on Redis during an outage
        super().request_stop(signum, frame)

    def heartbeat(self, timeout: int | None = None, pipeline=None):
        super().heartbeat(timeout, pipeline)
        if pipeline is not None:
            return
        self.outage.recovered()
        if not self.connection.sismember(self.redis_workers_keys, self.key):
            self.log.warning("Worker %s: Redis lost this worker's registration; registering again", self.name)
            with self.connection.pipeline() as again:
                again.hset(self.key, mapping={**self.serialize(), "state": self.get_state()})
                worker_registration.register(self, again)
                again.expire(self.key, timeout or self.worker_ttl + 60)
                again.execute()
