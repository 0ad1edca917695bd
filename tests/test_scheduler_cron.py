"""rq-scheduler's cron times: computed from an aware UTC "now", so scheduler.py starts without crontab's
FutureWarning and Pacer's UTC cron strings mean UTC whatever the host's zone."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

import rq_scheduler.scheduler
import time_machine

from app.scheduling import HEARTBEAT_KEY, next_cron_time
from tests.redis_fixtures import wait_for


def test_next_cron_time_is_utc_whatever_the_hosts_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        with time_machine.travel(datetime(2026, 11, 25, 23, 59, 30, tzinfo=UTC), tick=False):
            assert next_cron_time("* * * * *") == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
            assert next_cron_time("30 2 * * *") == datetime(2026, 11, 26, 2, 30, tzinfo=UTC)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert rq_scheduler.scheduler.get_next_scheduled_time is next_cron_time


def test_scheduler_py_starts_without_crontabs_warning(background, redis_connection):
    process = background.start([sys.executable, "scheduler.py"])  # as make run and the Procfile start it
    wait_for(lambda: redis_connection.get(HEARTBEAT_KEY), 30, "the scheduler's heartbeat", process)
    assert background.stop(process) == 0
    output = background.output(process)
    assert "registered periodic jobs" in output or "added [" in output, output
    assert "FutureWarning" not in output and "crontab" not in output, output
