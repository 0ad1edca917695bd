"""Fault drills with real processes (issue 10): Redis killed and started again empty under the
scheduler and both workers, the enforcement worker killed, and a reconcile whose work horse dies.

Every wait polls a real condition with a bound; nothing sleeps a fixed time or asserts a duration.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from rq import Worker
from rq.job import Job, JobStatus
from sqlalchemy import select, text

from app.embedded_redis import free_port
from app.health import live_workers
from app.models import Brand, CampaignEvent, utcnow
from app.queue import (
    QUEUE_ENFORCE,
    QUEUE_IMPORTS,
    QUEUE_SWEEPS,
    QUEUE_WEBHOOKS,
    RECONCILE_RETRY,
    RedisUnavailable,
    enqueue_reconciles,
)
from app.scheduling import HEARTBEAT_KEY, missing_periodic_jobs
from app.services import reconcile as rec
from app.services.changes import mark_brands_changed
from app.services.spend import new_spend, write_spend
from app.worker_support import WORKER_SILENT_AFTER
from tests.redis_fixtures import wait_for

pytestmark = pytest.mark.redis

ENFORCER = [sys.executable, "worker.py", "--queues", f"{QUEUE_ENFORCE},{QUEUE_SWEEPS}"]
IMPORTER = [sys.executable, "worker.py", "--queues", QUEUE_IMPORTS]
WEBHOOKS = [sys.executable, "worker.py", "--queues", QUEUE_WEBHOOKS]
SCHEDULER = [sys.executable, "scheduler.py"]
OUTAGE_LINE = "Redis is unreachable"
BACK_LINE = "Redis answers again"


def midday_zone(now: datetime) -> str:
    """A fixed-offset zone where ``now`` is about noon, so a drill never straddles a local midnight."""
    return f"Etc/GMT{-(12 - now.hour):+d}"  # Etc/GMT names carry the opposite sign


@pytest.fixture
def acme(session, make):
    """A brand on the real clock's day with two active campaigns and a 100.00 daily budget."""
    brand = make.brand("Acme", daily="100", monthly="5000", timezone=midday_zone(utcnow()))
    make.campaign(brand, "Search")
    make.campaign(brand, "Display")
    session.commit()
    rec.reconcile_brands(session, utcnow(), actor="test")
    assert [c.status for c in brand.campaigns] == ["active", "active"]
    return brand


def statuses(session, brand) -> list[str]:
    session.expire_all()
    return [c.status for c in session.get(Brand, brand.id).campaigns]


def spend_to_the_budget(session, brand) -> list[int]:
    """A spend that reaches the daily budget, written as every write path writes: rows and the
    change mark in one transaction."""
    written = write_spend(session, [new_spend(brand.campaigns[0], 10000, utcnow(), source="api")])
    mark_brands_changed(session, written.brand_ids, utcnow())
    session.commit()
    return written.brand_ids


def workers_on(connection) -> dict[str, int]:
    live = live_workers(connection)
    return {
        name: sum(name in w.queue_names() for w in live)
        for name in (QUEUE_ENFORCE, QUEUE_SWEEPS, QUEUE_IMPORTS, QUEUE_WEBHOOKS)
    }


def stack_is_up(connection) -> bool:
    return (
        workers_on(connection) == {QUEUE_ENFORCE: 1, QUEUE_SWEEPS: 1, QUEUE_IMPORTS: 1, QUEUE_WEBHOOKS: 1}
        and not missing_periodic_jobs(connection)
        and connection.exists(HEARTBEAT_KEY)
    )


def alive(background, *processes) -> None:
    for process in processes:
        assert process.poll() is None, f"exited with {process.returncode}:\n{background.output(process)}"


def test_the_stack_rides_out_redis_restarted_empty_and_enforces_the_deferred_spend(
    session, acme, restartable_redis, background, client
):
    connection = redis.Redis.from_url(restartable_redis.url)
    enforcer, importer, webhooks, scheduler = (background.start(c) for c in (ENFORCER, IMPORTER, WEBHOOKS, SCHEDULER))
    wait_for(lambda: stack_is_up(connection), 60, "the workers and the scheduler to register", scheduler)
    wait_for(lambda: statuses(session, acme) == ["active", "active"], 5, "the brand to stay active")

    restartable_redis.kill()
    for process in (enforcer, importer, webhooks, scheduler):
        wait_for(lambda p=process: OUTAGE_LINE in background.output(p), 30, "the outage to be logged", process)
    # A spend that reaches the budget is committed with its change mark, and its request for enforcement
    # is lost (Redis is gone, and the writer died before it could enforce in-process).
    brand_ids = spend_to_the_budget(session, acme)
    with pytest.raises(RedisUnavailable):
        enqueue_reconciles(brand_ids)

    restartable_redis.start()  # empty: no jobs, no registrations, no heartbeat

    wait_for(lambda: statuses(session, acme) == ["paused", "paused"], 60, "the deferred spend to be enforced")
    wait_for(lambda: stack_is_up(connection), 30, "the workers and the periodic jobs to be registered again")
    response = client.get("/healthz")
    assert response.status_code == 200, response.json
    alive(background, enforcer, importer, webhooks, scheduler)
    for process in (enforcer, importer, webhooks, scheduler):
        output = background.output(process)
        assert output.count(OUTAGE_LINE) == 1 and output.count(BACK_LINE) == 1, output
    connection.close()


def test_healthz_names_the_queue_whose_worker_was_killed(session, restartable_redis, background, client):
    connection = redis.Redis.from_url(restartable_redis.url)
    enforcer = background.start(ENFORCER)
    importer = background.start(IMPORTER)
    webhooks = background.start(WEBHOOKS)
    scheduler = background.start(SCHEDULER)
    wait_for(lambda: stack_is_up(connection), 60, "the workers and the scheduler to register", scheduler)
    assert client.get("/healthz").status_code == 200

    enforcer.send_signal(signal.SIGKILL)  # no chance to unregister
    enforcer.wait(timeout=10)
    # What a minute of silence looks like: its last heartbeat grows old (fast-forwarded).
    [key] = [w.key for w in Worker.all(connection=connection) if QUEUE_ENFORCE in w.queue_names()]
    old = datetime.now(UTC) - timedelta(seconds=WORKER_SILENT_AFTER + 1)
    connection.hset(key, "last_heartbeat", old.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json
    assert body["failing"] == [f"queue:{QUEUE_ENFORCE}", f"queue:{QUEUE_SWEEPS}"]
    assert body["queues"][QUEUE_ENFORCE]["status"] == "no live worker"
    assert body["queues"][QUEUE_IMPORTS] == {"status": "ok", "workers": 1, "queued": 0}
    assert body["workers"] == 2 and body["scheduler"] == "ok"
    alive(background, importer, webhooks, scheduler)
    connection.close()


def work_horses(worker_pid: int) -> list[int]:
    children = Path(f"/proc/{worker_pid}/task/{worker_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def test_a_reconcile_whose_work_horse_dies_is_retried(session, acme, restartable_redis, background):
    connection = redis.Redis.from_url(restartable_redis.url)
    # Only reconciles on this worker: no sweep may take the brand's lock before the job we kill.
    enforcer = background.start([sys.executable, "worker.py", "--queues", QUEUE_ENFORCE])
    scheduler = background.start(SCHEDULER)  # moves the scheduled retry to the queue
    wait_for(
        lambda: workers_on(connection)[QUEUE_ENFORCE] == 1 and connection.exists(HEARTBEAT_KEY),
        60,
        "the worker and the scheduler",
        scheduler,
    )
    brand_ids = spend_to_the_budget(session, acme)

    # Hold the brand's lock, so the reconcile's work horse waits in it until we kill it.
    session.execute(text("UPDATE brand SET name = name WHERE id = :id"), {"id": acme.id})
    assert enqueue_reconciles(brand_ids) == ([acme.id], [])
    [worker] = Worker.all(connection=connection)
    job_id = wait_for(worker.get_current_job_id, 30, "the worker to take the reconcile", enforcer)
    job = Job.fetch(job_id, connection=connection)
    assert (job.func_name, job.args) == ("app.jobs.reconcile_brand", (acme.id,))
    [horse] = wait_for(lambda: work_horses(enforcer.pid), 30, "its work horse", enforcer)
    os.kill(horse, signal.SIGKILL)
    session.rollback()  # release the lock

    wait_for(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, 60, "the retried reconcile to finish")
    job.refresh()
    assert job.retries_left == RECONCILE_RETRY.max - 1  # one retry ran it
    assert statuses(session, acme) == ["paused", "paused"]
    # Idempotent: the killed attempt wrote nothing, the retry one event per campaign.
    events = session.scalars(select(CampaignEvent).where(CampaignEvent.actor == "reconcile_brand")).all()
    assert sorted(e.campaign.name for e in events) == ["Display", "Search"]
    assert "Work-horse terminated unexpectedly" in background.output(enforcer)
    alive(background, enforcer, scheduler)
    connection.close()


def test_make_run_starts_its_embedded_redis_again_and_the_stack_comes_back(
    session, background, instance_path, tmp_path
):
    # `make run`'s supervisor with no REDIS_URL: it owns an embedded Redis, and must not go down with it.
    instance = tmp_path / "instance"
    background.env.pop("REDIS_URL")
    background.env.update(PACER_INSTANCE_PATH=str(instance), PORT=str(free_port()))
    supervisor = background.start([sys.executable, "-m", "app.devserver"])
    url = wait_for(
        lambda: (instance / "redis.url").exists() and (instance / "redis.url").read_text().strip(),
        60,
        "the embedded Redis",
        supervisor,
    )
    connection = redis.Redis.from_url(url, socket_connect_timeout=1)
    wait_for(lambda: stack_is_up(connection), 90, "the workers and the scheduler to register", supervisor)
    first = connection.info("server")["process_id"]

    os.kill(first, signal.SIGKILL)

    def restarted() -> bool:
        try:
            return connection.info("server")["process_id"] != first
        except redis.ConnectionError:
            return False

    wait_for(restarted, 30, "the supervisor to start Redis again", supervisor)
    wait_for(
        lambda: stack_is_up(connection), 60, "the workers and the periodic jobs to be registered again", supervisor
    )
    assert "starting it again on port" in background.output(supervisor)
    supervisor.send_signal(signal.SIGINT)  # Ctrl-C
    assert supervisor.wait(timeout=60) == 130, background.output(supervisor)  # honcho's exit on Ctrl-C
    assert not (instance / "redis.url").exists()
    connection.close()


def test_workers_and_the_scheduler_still_stop_cleanly_while_redis_is_down(restartable_redis, background):
    connection = redis.Redis.from_url(restartable_redis.url)
    enforcer, importer, webhooks, scheduler = (background.start(c) for c in (ENFORCER, IMPORTER, WEBHOOKS, SCHEDULER))
    wait_for(lambda: stack_is_up(connection), 60, "the workers and the scheduler to register", scheduler)
    restartable_redis.kill()
    for process in (enforcer, importer, webhooks, scheduler):
        wait_for(lambda p=process: OUTAGE_LINE in background.output(p), 30, "the outage to be logged", process)

    for process in (enforcer, importer, webhooks, scheduler):
        process.terminate()  # a deploy during the outage
    for process in (enforcer, importer, webhooks, scheduler):
        assert process.wait(timeout=30) == 0, background.output(process)
    connection.close()
