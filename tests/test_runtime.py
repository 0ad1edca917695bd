"""The runtime with real parts: a Redis server, worker and scheduler processes, rq-scheduler.

Workers run as subprocesses on the test database, so everything they should see is
committed first; their effects are read back after expiring this session.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue, Worker
from rq.job import Job, JobStatus
from rq_scheduler import Scheduler
from sqlalchemy import func, select

from app.jobs import PERIODIC_JOBS, PeriodicJob
from app.models import CampaignEvent, SpendRecord, utcnow
from app.queue import (
    PENDING_KEY,
    QUEUE_ENFORCE,
    QUEUE_IMPORTS,
    QUEUE_SWEEPS,
    QUEUE_WEBHOOKS,
    enqueue,
    enqueue_reconciles,
)
from app.scheduling import (
    HEARTBEAT_KEY,
    HEARTBEAT_STALE_AFTER,
    JOB_ID_PREFIX,
    register_periodic_jobs,
    write_heartbeat,
)
from app.services import reconcile as rec
from app.services.enforcement import commit_and_enforce
from app.services.imports import create_import
from app.services.spend import new_spend, write_spend
from tests.helpers import add_user, sign_in
from tests.redis_fixtures import ROOT, wait_for

pytestmark = pytest.mark.redis

RQ = str(ROOT / ".venv" / "bin" / "rq")


def midday_zone(now: datetime) -> str:
    """A fixed-offset zone where ``now`` is about noon, so jobs on the real clock never straddle a midnight."""
    hours_ahead = 12 - now.hour  # in -11..12; Etc/GMT names carry the opposite sign
    return f"Etc/GMT{-hours_ahead:+d}"


def spend(session, campaign, minor: int, at: datetime):
    """Write a spend and commit it, without asking for enforcement (the tests ask themselves)."""
    result = write_spend(session, [new_spend(campaign, minor, at, source="manual")])
    session.commit()
    return result


def events(session, actor: str | None = None) -> list[CampaignEvent]:
    stmt = select(CampaignEvent).order_by(CampaignEvent.id)
    if actor is not None:
        stmt = stmt.where(CampaignEvent.actor == actor)
    return list(session.scalars(stmt))


def assert_ran(completed) -> None:
    assert completed.returncode == 0, f"exit {completed.returncode}\n{completed.stdout}\n{completed.stderr}"


@pytest.fixture
def budget_brand(session, make):
    """A brand on the real clock's day with two active campaigns and a 100.00 daily budget."""
    brand = make.brand("Acme", daily="100", monthly="5000", timezone=midday_zone(utcnow()))
    search = make.campaign(brand, "Search")
    make.campaign(brand, "Display")
    session.commit()
    rec.reconcile_brands(session, utcnow(), actor="test")
    assert [c.status for c in brand.campaigns] == ["active", "active"]
    return brand, search


def assert_paused_by(session, brand, actor: str) -> None:
    session.expire_all()
    assert sorted((c.name, c.status, c.reasons) for c in brand.campaigns) == [
        ("Display", "paused", ["daily_budget"]),
        ("Search", "paused", ["daily_budget"]),
    ]
    assert [(e.old_status, e.new_status, e.new_reasons) for e in events(session, actor)] == [
        ("active", "paused", "daily_budget"),
        ("active", "paused", "daily_budget"),
    ]


# --- Which worker serves which queue -------------------------------------------------------


def test_imports_have_a_worker_of_their_own(session, budget_brand, redis_connection, run_process, tmp_path):
    brand, _ = budget_brand
    path = tmp_path / "spend.csv"
    path.write_text(f"brand,campaign,amount,spent_at\nAcme,Search,100.00,{utcnow():%Y-%m-%dT%H:%M:%SZ}\n")
    spend_import = create_import(session, path, filename="spend.csv", actor="test", skip_bad_rows=False)
    session.commit()
    import_job = enqueue("app.jobs.import_spend", spend_import.id, queue_name=QUEUE_IMPORTS, job_timeout=600)
    assert enqueue_reconciles([brand.id]) == ([brand.id], [])
    [reconcile_id] = Queue(QUEUE_ENFORCE, connection=redis_connection).job_ids
    reconcile_job = Job.fetch(reconcile_id, connection=redis_connection)

    # The Procfile's `worker` leaves the import to the `importer`...
    assert_ran(run_process([sys.executable, "worker.py", "--burst", "--queues", f"{QUEUE_ENFORCE},{QUEUE_SWEEPS}"]))
    assert reconcile_job.get_status(refresh=True) == JobStatus.FINISHED
    assert import_job.get_status(refresh=True) == JobStatus.QUEUED
    # ... which runs it (and asks for the brand's reconcile, which it leaves to the `worker`).
    assert_ran(run_process([sys.executable, "worker.py", "--burst", "--queues", QUEUE_IMPORTS]))
    assert import_job.get_status(refresh=True) == JobStatus.FINISHED
    assert Queue(QUEUE_ENFORCE, connection=redis_connection).count == 1


@pytest.mark.parametrize("queues, named", [("pacer-enforce,nope", "nope"), (",", "(none given)")])
def test_a_worker_refuses_an_unknown_queue(run_process, queues, named):
    result = run_process([sys.executable, "worker.py", "--burst", "--queues", queues])
    assert result.returncode == 2
    assert (
        f"unknown queue {named}; the queues are {QUEUE_ENFORCE}, {QUEUE_SWEEPS}, {QUEUE_IMPORTS}, {QUEUE_WEBHOOKS}"
        in result.stderr
    ), result.stderr


# --- Event-driven enforcement through a real worker -----------------------------------------


def test_worker_reconciles_the_brand_after_a_spend(session, budget_brand, redis_connection, run_process):
    brand, search = budget_brand
    write_spend(session, [new_spend(search, 10000, utcnow(), source="manual")])  # reaches the 100.00 daily budget

    enforcement = commit_and_enforce(session, actor="test")
    assert (enforcement.state, enforcement.queued, enforcement.applied) == ("queued", [brand.id], [])
    assert enqueue_reconciles([brand.id]) == ([], [brand.id])  # once while one is pending
    [job_id] = Queue(QUEUE_ENFORCE, connection=redis_connection).job_ids
    job = Job.fetch(job_id, connection=redis_connection)
    assert (job.func_name, job.args, job.timeout) == ("app.jobs.reconcile_brand", (brand.id,), 60)

    assert_ran(run_process([sys.executable, "worker.py", "--burst"]))

    assert job.get_status(refresh=True) == JobStatus.FINISHED
    assert job.return_value()["changes"] == 2
    assert_paused_by(session, brand, "reconcile_brand")
    # The job cleared the pending mark when it started: new spend queues a new run.
    assert not redis_connection.exists(PENDING_KEY.format(brand_id=brand.id))
    assert enqueue_reconciles([brand.id]) == ([brand.id], [])


def test_plain_rq_worker_runs_the_job_too(session, budget_brand, redis_url, redis_connection, run_process):
    # A plain `rq worker` never calls use_app(): the job builds its app from the environment.
    brand, search = budget_brand
    spend(session, search, 12000, utcnow())
    assert enqueue_reconciles([brand.id]) == ([brand.id], [])
    [job_id] = Queue(QUEUE_ENFORCE, connection=redis_connection).job_ids

    assert_ran(run_process([RQ, "worker", "--burst", "--url", redis_url, QUEUE_ENFORCE]))

    assert Job.fetch(job_id, connection=redis_connection).get_status() == JobStatus.FINISHED
    assert_paused_by(session, brand, "reconcile_brand")


# --- Scheduler registration on rq-scheduler --------------------------------------------------


def registered(scheduler: Scheduler) -> list[str]:
    return sorted(job.id for job in scheduler.get_jobs())


def declared_ids(jobs=PERIODIC_JOBS) -> list[str]:
    return sorted(spec.id for spec in jobs)


def test_registering_twice_leaves_each_job_once(redis_connection):
    first = register_periodic_jobs(Scheduler(queue_name=QUEUE_SWEEPS, connection=redis_connection))
    assert sorted(first.added) == declared_ids() and not (first.kept or first.replaced or first.cancelled)

    # A restarted scheduler process: a new Scheduler on the same Redis.
    scheduler = Scheduler(queue_name=QUEUE_SWEEPS, connection=redis_connection)
    second = register_periodic_jobs(scheduler)
    assert sorted(second.kept) == declared_ids() and not (second.added or second.replaced or second.cancelled)
    assert registered(scheduler) == declared_ids()
    assert scheduler.count() == len(PERIODIC_JOBS) == len(set(declared_ids()))


def test_cron_jobs_store_their_timeouts_and_queue(redis_connection):
    register_periodic_jobs(Scheduler(queue_name=QUEUE_SWEEPS, connection=redis_connection))
    for spec in PERIODIC_JOBS:
        job = Job.fetch(spec.id, connection=redis_connection)
        assert job.func_name == spec.func
        assert job.meta["cron_string"] == spec.cron
        assert (job.timeout, job.result_ttl, job.failure_ttl, job.origin) == (
            spec.timeout,
            spec.result_ttl,
            spec.failure_ttl,
            spec.queue_name,
        )
        # Every minute (or hourly, the full sweep): the timeout stays below the interval, and the job never
        # expires (rq-scheduler #42).
        minute, *rest = spec.cron.split()
        interval = 60 if minute == "*" else 3600
        assert rest == ["*"] * 4 and spec.timeout < interval and spec.result_ttl == -1


def test_a_changed_definition_replaces_its_job(redis_connection):
    scheduler = Scheduler(queue_name=QUEUE_SWEEPS, connection=redis_connection)
    register_periodic_jobs(scheduler)
    target = PERIODIC_JOBS[0]
    changed = tuple(
        dataclasses.replace(spec, cron="*/5 * * * *", timeout=40) if spec.id == target.id else spec
        for spec in PERIODIC_JOBS
    )

    result = register_periodic_jobs(scheduler, changed)
    assert result.replaced == [target.id] and not (result.added or result.cancelled)
    assert sorted(result.kept) == sorted(spec.id for spec in PERIODIC_JOBS[1:])
    assert registered(scheduler) == declared_ids()
    job = Job.fetch(target.id, connection=redis_connection)
    assert (job.meta["cron_string"], job.timeout) == ("*/5 * * * *", 40)

    # Going back to the declared list replaces it again, still once.
    assert register_periodic_jobs(scheduler).replaced == [target.id]
    assert registered(scheduler) == declared_ids()
    assert Job.fetch(target.id, connection=redis_connection).meta["cron_string"] == target.cron


def test_undeclared_pacer_jobs_are_cancelled_and_others_left_alone(redis_connection):
    scheduler = Scheduler(queue_name=QUEUE_SWEEPS, connection=redis_connection)
    scheduler.cron("0 * * * *", func="app.jobs.enforce_budgets", id=f"{JOB_ID_PREFIX}retired-hourly-sweep")
    scheduler.cron("0 3 * * *", func="app.jobs.enforce_budgets", id="another-app-nightly", queue_name="other")

    result = register_periodic_jobs(scheduler)
    assert result.cancelled == [f"{JOB_ID_PREFIX}retired-hourly-sweep"]
    assert sorted(result.added) == declared_ids()
    assert registered(scheduler) == sorted([*declared_ids(), "another-app-nightly"])
    assert not Job.exists(f"{JOB_ID_PREFIX}retired-hourly-sweep", connection=redis_connection)
    assert register_periodic_jobs(scheduler).cancelled == []


# The periodic jobs as declared before one sweep replaced the two identical ones (issue 9).
BEFORE_ONE_SWEEP = (
    PeriodicJob("pacer-periodic-1-reset-monthly", "app.jobs.reset_monthly", "* * * * *", timeout=50),
    PeriodicJob("pacer-periodic-2-reset-daily", "app.jobs.reset_daily", "* * * * *", timeout=50),
    PeriodicJob("pacer-periodic-3-enforce-budgets", "app.jobs.enforce_budgets", "* * * * *", timeout=50),
    PeriodicJob("pacer-periodic-4-apply-dayparting", "app.jobs.apply_dayparting", "* * * * *", timeout=50),
)


def test_upgrading_cancels_the_two_old_sweeps_for_the_one(redis_connection):
    scheduler = Scheduler(queue_name=QUEUE_SWEEPS, connection=redis_connection)
    register_periodic_jobs(scheduler, BEFORE_ONE_SWEEP)

    result = register_periodic_jobs(scheduler)

    assert sorted(result.cancelled) == ["pacer-periodic-3-enforce-budgets", "pacer-periodic-4-apply-dayparting"]
    assert result.added == ["pacer-periodic-3-sweep", "pacer-periodic-4-full-sweep", "pacer-periodic-5-pull-spend"]
    assert (
        registered(scheduler)
        == declared_ids()
        == [
            "pacer-periodic-1-reset-monthly",
            "pacer-periodic-2-reset-daily",
            "pacer-periodic-3-sweep",
            "pacer-periodic-4-full-sweep",
            "pacer-periodic-5-pull-spend",
        ]
    )
    assert [spec.func for spec in PERIODIC_JOBS].count("app.jobs.sweep") == 1
    for old in ("pacer-periodic-3-enforce-budgets", "pacer-periodic-4-apply-dayparting"):
        assert not Job.exists(old, connection=redis_connection)


def test_rq_dashboard_shows_the_one_sweep_by_its_id_and_purpose(app, session, redis_connection):
    scheduler = Scheduler(queue_name=QUEUE_SWEEPS, connection=redis_connection)
    register_periodic_jobs(scheduler)
    for job in scheduler.get_jobs():
        scheduler.change_execution_time(job, datetime.now(UTC) - timedelta(seconds=1))
    scheduler.enqueue_jobs()
    client = app.test_client()
    sign_in(client, add_user(session, "admin@pacer.test", "admin"))

    listed = client.get(f"/rq/0/data/jobs/{QUEUE_SWEEPS}/queued/20/asc/1.json")

    assert listed.status_code == 200
    jobs = {job["id"]: job["description"] for job in listed.get_json()["jobs"]}
    assert list(jobs) == [spec.id for spec in PERIODIC_JOBS]
    assert jobs["pacer-periodic-3-sweep"] == (
        "sweep: brands due or changed to the whole rule (enforce-budgets, apply-dayparting)"
    )
    assert jobs["pacer-periodic-4-full-sweep"].startswith("full sweep: every campaign checked")


def test_jobs_due_together_are_enqueued_resets_first(redis_connection):
    # Every periodic job fires each minute; the resets must run first so a midnight resume
    # is attributed to reset_daily, not to whichever sweep happens to run before it.
    scheduler = Scheduler(queue_name=QUEUE_SWEEPS, connection=redis_connection)
    register_periodic_jobs(scheduler)
    due = datetime.now(UTC) - timedelta(seconds=30)
    for job in scheduler.get_jobs():
        scheduler.change_execution_time(job, due)  # all due at one instant, as after each minute

    scheduler.enqueue_jobs()
    assert Queue(QUEUE_SWEEPS, connection=redis_connection).job_ids == [spec.id for spec in PERIODIC_JOBS]
    assert registered(scheduler) == declared_ids()  # each rescheduled for its next run, once


def test_periodic_jobs_survive_a_pause_in_the_workers(session, redis_connection, run_process):
    # rq expires a finished job's hash after result_ttl; if no worker runs the next enqueued
    # copy before then, rq-scheduler finds the hash gone and drops the periodic job for good.
    scheduler = Scheduler(queue_name=QUEUE_SWEEPS, connection=redis_connection)
    register_periodic_jobs(scheduler)
    due = datetime.now(UTC) - timedelta(seconds=30)
    for job in scheduler.get_jobs():
        scheduler.change_execution_time(job, due)
    scheduler.enqueue_jobs()

    assert_ran(run_process([sys.executable, "worker.py", "--burst"]))

    keys = [Job.key_for(spec.id) for spec in PERIODIC_JOBS]
    assert all(
        Job.fetch(spec.id, connection=redis_connection).get_status() == JobStatus.FINISHED for spec in PERIODIC_JOBS
    )
    # Now no worker runs for longer than any expiry the finished jobs carry (fast-forwarded).
    expiring = [key for key in keys if redis_connection.ttl(key) > 0]
    for key in expiring:
        redis_connection.pexpire(key, 1)
    wait_for(lambda: not any(redis_connection.exists(key) for key in expiring), 5, "the job hashes to expire")

    assert registered(scheduler) == declared_ids()
    assert scheduler.count() == len(PERIODIC_JOBS)


def test_restarting_scheduler_py_keeps_each_job_once(background, redis_connection, client):
    def heartbeat():
        return redis_connection.get(HEARTBEAT_KEY)

    first = background.start([sys.executable, "scheduler.py"])
    first_beat = wait_for(heartbeat, 30, "the scheduler's heartbeat", first)
    assert background.stop(first) == 0, background.output(first)

    second = background.start([sys.executable, "scheduler.py"])
    wait_for(lambda: heartbeat() != first_beat, 30, "the restarted scheduler's heartbeat", second)
    scheduler = Scheduler(queue_name=QUEUE_SWEEPS, connection=redis_connection)
    assert registered(scheduler) == declared_ids()
    assert scheduler.count() == len(PERIODIC_JOBS)
    assert "added [], replaced [], cancelled []" in background.output(second)
    assert client.get("/healthz").json["scheduler"] == "ok"  # /healthz reads the heartbeat scheduler.py writes


# --- Resets catch up after a missed midnight --------------------------------------------------


def test_reset_daily_catches_up_after_a_missed_midnight(runner, session, make):
    brand = make.brand("Kolkata", daily="10", timezone="Asia/Kolkata")  # local midnight is 18:30 UTC
    make.campaign(brand, "Search")
    make.campaign(brand, "Display")
    session.commit()
    spend(session, brand.campaigns[0], 1000, datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    enforce = runner.invoke(args=["jobs", "run", "enforce-budgets", "--at", "2026-11-25T12:00:00Z"])
    assert enforce.exit_code == 0, enforce.output
    session.expire_all()
    assert [c.reasons for c in brand.campaigns] == [["daily_budget"], ["daily_budget"]]

    before_midnight = runner.invoke(args=["jobs", "run", "reset-daily", "--at", "2026-11-25T18:00:00Z"])
    assert before_midnight.exit_code == 0 and before_midnight.output.endswith("0 changes.\n"), before_midnight.output

    # The scheduler was down from before midnight (18:30 UTC) until 03:00 local.
    late = runner.invoke(args=["jobs", "run", "reset-daily", "--at", "2026-11-25T21:30:00Z"])
    assert late.exit_code == 0, late.output
    assert late.output.count("paused -> active") == 2 and late.output.endswith("2 changes.\n")
    session.expire_all()
    assert [(c.status, c.reasons) for c in brand.campaigns] == [("active", []), ("active", [])]
    assert brand.daily_reset_on.isoformat() == "2026-11-26"
    assert [e.new_status for e in events(session, "reset_daily")] == ["active", "active"]

    count = len(events(session))
    again = runner.invoke(args=["jobs", "run", "reset-daily", "--at", "2026-11-25T21:31:00Z"])
    assert again.exit_code == 0 and again.output == "0 changes.\n", again.output
    assert len(events(session)) == count


def test_reset_daily_job_runs_in_a_worker(session, make, redis_connection, run_process):
    make.campaign(make.brand())
    session.commit()
    job = enqueue("app.jobs.reset_daily", queue_name=QUEUE_SWEEPS, job_timeout=50)

    assert_ran(run_process([sys.executable, "worker.py", "--burst"]))

    assert job.get_status(refresh=True) == JobStatus.FINISHED
    assert isinstance(job.return_value()["changes"], int)


# --- Redis down during a spend write ----------------------------------------------------------


def test_redis_down_keeps_the_spend_and_enforces_it_in_process(session, make, redis_unreachable):
    brand = make.brand(daily="10", timezone=midday_zone(utcnow()))
    campaign = make.campaign(brand)
    session.commit()

    write_spend(session, [new_spend(campaign, 1000, utcnow(), source="manual")])
    enforcement = commit_and_enforce(session, actor="spend")

    assert (enforcement.state, enforcement.applied, enforcement.queued) == ("applied", [brand.id], [])
    assert enforcement.message().startswith("Enforced at once in this process (Redis is unreachable)")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(SpendRecord)) == 1
    assert (campaign.status, campaign.reasons) == ("paused", ["daily_budget"])


def test_cli_spend_with_redis_down_enforces_in_process(runner, session, make, redis_unreachable):
    brand = make.brand("Acme", daily="10", timezone=midday_zone(utcnow()))
    make.campaign(brand, "Search")
    session.commit()

    result = runner.invoke(args=["spend", "record", "--brand", "Acme", "--campaign", "Search", "--amount", "10"])

    assert result.exit_code == 0, result.output
    assert "Redis is unreachable" in result.output
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(SpendRecord)) == 1
    [campaign] = brand.campaigns
    assert (campaign.status, campaign.reasons) == ("paused", ["daily_budget"])
    assert [e.actor for e in events(session)] == ["spend"]


# --- /healthz ---------------------------------------------------------------------------------


def scheduler_ran(connection) -> None:
    """What a running scheduler.py keeps in Redis: a fresh heartbeat and the periodic jobs."""
    write_heartbeat(connection)
    register_periodic_jobs(Scheduler(queue_name=QUEUE_SWEEPS, connection=connection))


ALL_QUEUES_FAILING = [f"queue:{name}" for name in (QUEUE_ENFORCE, QUEUE_SWEEPS, QUEUE_IMPORTS, QUEUE_WEBHOOKS)]


def test_healthz_ok_with_a_worker_on_every_queue_and_a_running_scheduler(client, background, redis_connection):
    background.start_worker(redis_connection)  # worker.py without --queues serves them all
    scheduler_ran(redis_connection)

    response = client.get("/healthz")

    assert response.status_code == 200, response.json
    body = response.json
    assert (body["database"], body["redis"], body["scheduler"], body["failing"]) == ("ok", "ok", "ok", [])
    assert body["workers"] == 1
    assert body["queues"] == {
        name: {"status": "ok", "workers": 1, "queued": 0}
        for name in (QUEUE_ENFORCE, QUEUE_SWEEPS, QUEUE_IMPORTS, QUEUE_WEBHOOKS)
    }
    assert body["webhooks"] == {"failing_endpoints": [], "undelivered": 0}


@pytest.mark.parametrize("heartbeat", ["missing", "stale"])
def test_healthz_names_the_scheduler_without_a_fresh_heartbeat(client, background, redis_connection, heartbeat):
    background.start_worker(redis_connection)
    scheduler_ran(redis_connection)
    if heartbeat == "stale":
        redis_connection.set(HEARTBEAT_KEY, f"{time.time() - HEARTBEAT_STALE_AFTER - 5:.3f}")
    else:
        redis_connection.delete(HEARTBEAT_KEY)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json["failing"] == ["scheduler"]
    assert response.json["scheduler"] != "ok" and response.json["workers"] >= 1


def test_healthz_stale_means_two_sweep_periods():
    assert HEARTBEAT_STALE_AFTER == 2 * 60


def test_healthz_names_the_periodic_jobs_that_are_not_registered(client, background, redis_connection):
    background.start_worker(redis_connection)
    scheduler_ran(redis_connection)
    scheduler = Scheduler(queue_name=QUEUE_SWEEPS, connection=redis_connection)
    scheduler.cancel("pacer-periodic-3-sweep")  # e.g. deleted from /rq, or lost with Redis's data

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json["failing"] == ["scheduler"]
    assert response.json["scheduler"] == "periodic jobs not registered: pacer-periodic-3-sweep"


def test_healthz_names_the_workers_and_every_queue_when_none_runs(client, redis_connection):
    scheduler_ran(redis_connection)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json["failing"] == ["workers", *ALL_QUEUES_FAILING]
    assert (response.json["redis"], response.json["workers"], response.json["scheduler"]) == ("ok", 0, "ok")


def test_healthz_stops_counting_a_killed_worker_once_its_key_expires(client, background, redis_connection):
    worker = background.start_worker(redis_connection)
    scheduler_ran(redis_connection)
    assert client.get("/healthz").status_code == 200
    [key] = Worker.all_keys(connection=redis_connection)

    worker.send_signal(signal.SIGKILL)  # no chance to unregister
    worker.wait(timeout=10)
    redis_connection.pexpire(key, 1)  # what worker_ttl does about a minute and a half later
    wait_for(lambda: not redis_connection.exists(key), 5, "the worker key to expire")

    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["failing"] == ["workers", *ALL_QUEUES_FAILING] and response.json["workers"] == 0


def test_healthz_names_redis_when_unreachable(client, redis_unreachable):
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json
    assert body["database"] == "ok"
    assert "redis" in body["failing"] and body["redis"].startswith("error")
