"""Run an RQ worker on Pacer's queues inside the app context.

    python worker.py [--burst] [--queues pacer-enforce,pacer-sweeps]

Without --queues the worker serves every queue, most urgent first. The Procfile
and `make run` give imports a worker of their own, so a long import never holds
up the reconcile that pauses a brand's campaigns.
"""

from __future__ import annotations

import argparse
import logging
import sys

from rq import Worker
from sqlalchemy.orm import configure_mappers

from app import create_app
from app.extensions import db
from app.jobs import use_app
from app.queue import QUEUES, get_redis
from app.worker_support import wait_for_redis

# Short TTL so /healthz stops counting a killed worker within about two minutes.
WORKER_TTL = 60


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="worker.py", description="An RQ worker on Pacer's queues.")
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument("--queues", default=",".join(QUEUES),
                        help=f"comma-separated queues to serve, most urgent first (default: {','.join(QUEUES)})")
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
        connection = wait_for_redis(get_redis)
        worker = Worker(args.queues, connection=connection, worker_ttl=WORKER_TTL)
        worker.work(burst=args.burst, with_scheduler=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
