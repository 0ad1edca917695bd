"""Run Pacer's scheduler: register the periodic jobs (stable ids, UTC cron), then run rq-scheduler.

    python scheduler.py

It never exits because Redis went away: it logs one line, retries with backoff, and when Redis
is back registers again whatever Redis lost (see app.scheduling.run_scheduler).
"""

from __future__ import annotations

import logging
import os
import time

# rq-scheduler reads cron strings in the host's local time (#247, #259): make that UTC.
os.environ["TZ"] = "UTC"
time.tzset()

from app import create_app  # noqa: E402
from app.queue import get_redis  # noqa: E402
from app.scheduling import run_scheduler  # noqa: E402


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s scheduler %(message)s")
    app = create_app()
    with app.app_context():
        run_scheduler(get_redis)


if __name__ == "__main__":
    main()
