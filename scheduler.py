"""Run Pacer's scheduler: register the periodic jobs (stable ids, UTC cron), then run rq-scheduler.

    python scheduler.py
"""

from __future__ import annotations

import logging
import os
import time

# rq-scheduler reads cron strings in the host's local time (#247, #259): make that UTC.
os.environ["TZ"] = "UTC"
time.tzset()

from app import create_app  # noqa: E402
from app.queue import QUEUE_SWEEPS, get_redis  # noqa: E402
from app.scheduling import HEARTBEAT_INTERVAL, HeartbeatScheduler, register_periodic_jobs  # noqa: E402
from app.worker_support import wait_for_redis  # noqa: E402

log = logging.getLogger("pacer.scheduler")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s scheduler %(message)s")
    app = create_app()
    with app.app_context():
        connection = wait_for_redis(get_redis)
        scheduler = HeartbeatScheduler(queue_name=QUEUE_SWEEPS, connection=connection, interval=HEARTBEAT_INTERVAL)
        result = register_periodic_jobs(scheduler)
        log.info("periodic jobs: added %s, replaced %s, cancelled %s, kept %s",
                 result.added, result.replaced, result.cancelled, result.kept)
        scheduler.run()


if __name__ == "__main__":
    main()
