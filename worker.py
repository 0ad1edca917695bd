"""Run an RQ worker on Pacer's queues inside the app context.

    python worker.py [--burst]
"""

from __future__ import annotations

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


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    app = create_app()
    use_app(app)
    with app.app_context():
        configure_mappers()
        db.engine.dispose()  # no pooled connection may cross the fork into a work horse
        connection = wait_for_redis(get_redis)
        worker = Worker(list(QUEUES), connection=connection, worker_ttl=WORKER_TTL)
        worker.work(burst="--burst" in argv, with_scheduler=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
