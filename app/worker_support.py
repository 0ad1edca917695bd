"""Start-up helpers shared by worker.py and scheduler.py."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis

log = logging.getLogger("pacer")


def wait_for_redis(connect: Callable[[], redis.Redis], timeout: float = 60.0) -> redis.Redis:
    """Return a connected client, retrying while Redis starts (honcho starts everything at once)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection = connect()
            connection.ping()
            return connection
        except Exception as exc:  # noqa: BLE001 - any failure to reach Redis is retried until the deadline
            if time.monotonic() > deadline:
                raise SystemExit(f"Redis did not answer within {timeout:.0f}s: {exc}") from None
            log.info("waiting for Redis: %s", exc)
            time.sleep(0.5)
