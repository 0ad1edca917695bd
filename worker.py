"""Run an RQ worker on Pacer's queues inside the app context.

    python worker.py [--burst] [--queues pacer-enforce,pacer-sweeps]

Without --queues the worker serves every queue, most urgent first. The Procfile
and `make run` give imports and webhooks workers of their own, so a long import or a
slow receiver never holds up the reconcile that pauses a brand's campaigns.

It never exits because Redis went away: it logs one line, retries with backoff, and
when Redis is back (even empty) registers again and carries on.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from sqlalchemy.orm import configure_mappers

from app import create_app
from app.extensions import db
from app.jobs import use_app
from app.queue import QUEUES, get_redis
from app.worker_support import (
    REDIS_DOWN,
    WORKER_TTL,
    PacerWorker,
    RedisOutage,
    exit_on_stop_signals,
    wait_for_redis,
)

log = logging.getLogger("pacer.worker")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="worker.py", description="An RQ worker on Pacer's queues.")
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument(
        "--queues",
        default=",".join(QUEUES),
        help=f"comma-separated queues to serve, most urgent first (default: {','.join(QUEUES)})",
    )
    args = parser.parse_args(argv)
    args.queues = [name.strip() for name in args.queues.split(",") if name.strip()]
    unknown = [name for name in args.queues if name not in QUEUES]
    if unknown or not args.queues:
        parser.error(f"unknown queue {', '.join(unknown) or '(none given)'}; the queues are {', '.join(QUEUES)}")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    app = create_app()
    use_app(app)
    with app.app_context():
        configure_mappers()
        db.engine.dispose()  # no pooled connection may cross the fork into a work horse
        return serve(args.queues, burst=args.burst)


def serve(queues: list[str], *, burst: bool) -> int:
    """Work until asked to stop (or, with ``burst``, until the queues are empty), through any outage."""
    outage = RedisOutage("the worker", log)
    logging.getLogger("rq.worker").addFilter(outage)
    while True:
        exit_on_stop_signals()
        connection = wait_for_redis(get_redis, outage)
        worker = PacerWorker(queues, connection=connection, worker_ttl=WORKER_TTL, outage=outage)
        try:
            worker.work(burst=burst, with_scheduler=False)
        except REDIS_DOWN as exc:  # rq's own loop retries, but not everywhere (e.g. while a job runs)
            exit_on_stop_signals()
            if worker.stopping:
                return 0
            time.sleep(outage.failed(exc))
            continue
        if burst or worker.stopping:
            return 0
        # rq leaves its loop on a Redis timeout or an unexpected error; a fresh worker takes over.
        log.warning("the worker loop ended without a stop request; starting a fresh worker")
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
