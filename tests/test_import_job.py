"""Spend imports through real worker processes on the session's real Redis: the import job,
progress while it runs, two workers importing the same file at once, a worker killed
with SIGKILL mid-import and the retry (button and CLI), and the CLI import path.

Workers are subprocesses (`worker.py`) on the test database; everything they must see is
committed first, and their effects are read back after expiring this session.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from rq.job import Job, JobStatus
from sqlalchemy import func, select

from app.extensions import db
from app.models import BrandDaySpend, Campaign, SpendImport, SpendRecord, utcnow
from app.queue import PROGRESS_FIELDS, QUEUE_IMPORTS, enqueue, job_state, meta_saver
from app.services import imports as service
from app.services import reconcile as rec
from app.services.imports import ImportProgress, create_import, recover_imports
from app.services.spend import counted_spend
from tests.redis_fixtures import ROOT, wait_for
from tests.test_web_spend import add_user, count, flash_texts, sign_in, text_of, upload

pytestmark = pytest.mark.redis

START = datetime(2026, 11, 1, tzinfo=UTC)
BIG = 300_000  # rows: the import runs for a while, so a worker can be killed in the middle of it
WORKER_BURST = [sys.executable, "worker.py", "--burst"]
WORKER_TIMEOUT = 900  # seconds a burst worker may take: a slow shared machine imports 300,000 rows slowly


# --- helpers -----------------------------------------------------------------------------------


def write_spend_file(path: Path, rows: range, *, amount: str = "0.01", bad_every: int = 0) -> dict[date, int]:
    """Rows i in ``rows``: Acme, Search or Display, ``amount``, START + i seconds (UTC); every
    ``bad_every``-th row names an unknown campaign. Returns the expected day totals of the good rows."""
    minor = round(float(amount) * 100)
    per_day: dict[int, int] = defaultdict(int)
    lines = ["brand,campaign,amount,spent_at\n"]
    for i in rows:
        day, second = divmod(i, 86_400)  # START is midnight of a 30-day month: at most 30 days of rows
        stamp = f"2026-11-{1 + day:02d}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"
        if bad_every and i % bad_every == bad_every - 1:
            lines.append(f"Acme,Nowhere,{amount},{stamp}\n")
        else:
            lines.append(f"Acme,{'Search' if i % 2 else 'Display'},{amount},{stamp}\n")
            per_day[day] += minor
    path.write_text("".join(lines))
    return {START.date() + timedelta(days=day): total for day, total in per_day.items()}


def day_totals() -> dict[date, int]:
    db.session.expire_all()
    return dict(db.session.execute(select(BrandDaySpend.local_date, BrandDaySpend.amount_minor)).all())


def counted_records() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(SpendRecord).where(counted_spend()))


def fresh(spend_import: SpendImport) -> SpendImport:
    db.session.expire_all()
    return db.session.get(SpendImport, spend_import.id)


def assert_ran(completed) -> None:
    assert completed.returncode == 0, f"exit {completed.returncode}\n{completed.stdout}\n{completed.stderr}"


def wait_until_finished(spend_import: SpendImport, timeout: float = WORKER_TIMEOUT) -> SpendImport:
    wait_for(lambda: fresh(spend_import).status not in service.ACTIVE, timeout, f"import #{spend_import.id} to finish")
    return fresh(spend_import)


def midday_zone(now: datetime) -> str:
    """A fixed-offset zone where ``now`` is about noon, so spend "now" is on one brand-local day."""
    hours_ahead = 12 - now.hour
    return f"Etc/GMT{-hours_ahead:+d}"


def runner_pid(spend_import: SpendImport) -> int:
    return int(fresh(spend_import).runner.rpartition(" ")[2])


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def acme(session, make):
    brand = make.brand("Acme", daily="1000000", monthly="1000000")
    make.campaign(brand, "Search")
    make.campaign(brand, "Display")
    session.commit()
    return brand


@pytest.fixture
def run_process(process_env):
    """Run a burst worker to completion; imports of 300,000 rows need longer than the shared fixture allows."""

    def run(command: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            command, cwd=ROOT, env=process_env, capture_output=True, text=True, timeout=WORKER_TIMEOUT
        )

    return run


@pytest.fixture
def manager(session):
    return add_user(session, "mia@pacer.test", "manager")


@pytest.fixture
def as_manager(client, manager):
    sign_in(client, manager)
    return client


# --- the job -----------------------------------------------------------------------------------


def test_upload_is_imported_by_a_worker_and_campaigns_over_budget_pause(
    as_manager, session, make, uploads, redis_connection, run_process
):
    now = utcnow()
    brand = make.brand("Acme", daily="10", monthly="1000", timezone=midday_zone(now))
    make.campaign(brand, "Search")
    make.campaign(brand, "Display")
    session.commit()
    rec.reconcile_brands(session, now, actor="test")
    at = f"{now - timedelta(minutes=5):%Y-%m-%dT%H:%M:%SZ}"
    content = f"brand,campaign,amount,spent_at\nAcme,Search,4.00,{at}\nAcme,Search,4.00,{at}\nAcme,Display,4.00,{at}\n"
    spend_import = upload(as_manager, content.encode())
    job = Job.fetch(spend_import.job_id, connection=redis_connection)

    assert_ran(run_process(WORKER_BURST))

    spend_import = fresh(spend_import)
    assert (
        spend_import.status,
        spend_import.rows_read,
        spend_import.imported,
        spend_import.duplicates,
        spend_import.rejected,
        spend_import.brands_affected,
        spend_import.attempts,
    ) == ("done", 3, 3, 0, 0, 1, 1)
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED
    result = job.return_value()
    assert (result["status"], result["imported"]) == ("done", 3)
    assert result["enforcement"] == "Budgets and schedules are being enforced for 1 brand."
    assert {name: job.meta[name] for name in ("rows_read", "bytes_read", "bytes_total", "eta_s")} == {
        "rows_read": 3,
        "bytes_read": len(content),
        "bytes_total": len(content),
        "eta_s": 0.0,
    }
    assert job.meta["rows_per_s"] > 0
    # The same burst ran the reconcile the import asked for: 12.00 spent of a 10.00 daily budget.
    session.expire_all()
    assert sorted((c.name, c.status, c.reasons) for c in session.scalars(select(Campaign))) == [
        ("Display", "paused", ["daily_budget"]),
        ("Search", "paused", ["daily_budget"]),
    ]

    page = re.sub(r"\s+", " ", text_of(as_manager.get(f"/spend/imports/{spend_import.id}")))
    assert "Imported 3 new rows of 3 read." in page and "data-progress-url" not in page


def test_the_same_file_uploaded_again_imports_nothing_new(
    as_manager, session, uploads, acme, redis_connection, run_process, tmp_path
):
    totals = write_spend_file(tmp_path / "week.csv", range(2000))
    content = (tmp_path / "week.csv").read_bytes()
    first = upload(as_manager, content, name="week.csv")
    assert_ran(run_process(WORKER_BURST))
    second = upload(as_manager, content, name="week (copy).csv")
    assert_ran(run_process(WORKER_BURST))

    first, second = fresh(first), fresh(second)
    assert (first.status, first.imported, first.duplicates) == ("done", 2000, 0)
    assert (second.status, second.rows_read, second.imported, second.duplicates) == ("done", 2000, 0, 2000)
    assert second.sha256 == first.sha256
    assert count(SpendRecord) == 2000 and day_totals() == totals
    page = re.sub(r"\s+", " ", text_of(as_manager.get(f"/spend/imports/{second.id}")))
    assert f"This file was already imported on {first.created_at:%Y-%m-%d %H:%M} UTC as" in page
    assert "Every row was already imported: nothing new was added." in page


def test_two_imports_of_one_file_on_two_workers_at_once_count_once(
    as_manager, session, uploads, acme, redis_connection, background, tmp_path
):
    rows = 40_000
    totals = write_spend_file(tmp_path / "export.csv", range(rows))
    content = (tmp_path / "export.csv").read_bytes()
    # Two idle workers first: each takes one of the two jobs the moment it is queued.
    workers = [background.start_worker(redis_connection), background.start_worker(redis_connection)]
    first = upload(as_manager, content, name="export.csv")
    second = upload(as_manager, content, name="export-again.csv")

    first, second = wait_until_finished(first), wait_until_finished(second)
    assert all(w.poll() is None for w in workers)
    jobs = [Job.fetch(i.job_id, connection=redis_connection) for i in (first, second)]
    assert len({job.worker_name for job in jobs}) == 2, "each worker ran one import"
    assert (first.status, second.status) == ("done", "done")
    # Each row is stored by exactly one of them; on SQLite the two interleave their committed batches, so
    # which one stores a given row depends on timing.
    assert first.imported + second.imported == rows
    assert first.imported + first.duplicates == rows and second.imported + second.duplicates == rows
    assert count(SpendRecord) == rows
    assert db.session.scalar(select(func.count(func.distinct(SpendRecord.dedupe_key)))) == rows
    assert day_totals() == totals


def test_a_second_run_of_the_same_import_does_nothing(session, uploads, acme, redis_connection, run_process, tmp_path):
    totals = write_spend_file(tmp_path / "x.csv", range(500))
    spend_import = create_import(session, tmp_path / "x.csv", filename="x.csv", actor="test", skip_bad_rows=False)
    session.commit()
    # RQ runs a job at least once: the same import queued twice (a retry racing a late job).
    jobs = [
        enqueue("app.jobs.import_spend", spend_import.id, queue_name=QUEUE_IMPORTS, job_timeout=600) for _ in range(2)
    ]

    assert_ran(run_process(WORKER_BURST))

    assert jobs[0].return_value()["imported"] == 500
    assert jobs[1].return_value() == {
        "import_id": spend_import.id,
        "skipped": f"Import #{spend_import.id} is done, not queued: nothing to do.",
    }
    spend_import = fresh(spend_import)
    assert (spend_import.status, spend_import.imported, spend_import.duplicates, spend_import.attempts) == (
        "done",
        500,
        0,
        1,
    )
    assert count(SpendRecord) == 500 and day_totals() == totals


# --- progress and a worker killed mid-import ---------------------------------------------------


def kill_mid_import(client, spend_import: SpendImport, worker) -> dict:
    """Wait until the worker is importing, check the live progress, then SIGKILL the worker and its
    work horse (the process running the import). Returns the last progress seen."""

    def running_progress():
        db.session.expire_all()  # the test shares the app's session: read what the worker committed
        progress = client.get(f"/spend/imports/{spend_import.id}/progress").get_json()
        return progress if progress["status"] == "running" and progress["rows_read"] > 0 else None

    progress = wait_for(running_progress, 120, "rows to be read", worker)
    horse = runner_pid(spend_import)
    assert horse != worker.pid  # the import runs in the work horse, a child of the worker
    os.kill(worker.pid, signal.SIGKILL)
    os.kill(horse, signal.SIGKILL)
    worker.wait(timeout=30)
    wait_for(lambda: service.process_alive(fresh(spend_import).runner) is False, 30, "the work horse to die")
    return progress


def test_kill_9_mid_import_shows_failed_and_retry_imports_every_row_once(
    as_manager, session, uploads, acme, redis_connection, background, run_process, tmp_path
):
    totals = write_spend_file(tmp_path / "big.csv", range(BIG))
    size = (tmp_path / "big.csv").stat().st_size
    worker = background.start_worker(redis_connection)
    spend_import = upload(as_manager, (tmp_path / "big.csv").read_bytes(), name="big.csv")
    first_job = Job.fetch(spend_import.job_id, connection=redis_connection)

    progress = kill_mid_import(as_manager, spend_import, worker)

    # The progress the page polls, while the job ran.
    assert (progress["status"], progress["finished"], progress["bytes_total"]) == ("running", False, size)
    assert 0 < progress["rows_read"] < BIG and 0 < progress["bytes_read"] < size
    assert 0 < progress["percent"] < 100 and progress["rows_per_s"] > 0 and progress["eta_s"] > 0
    # RQ still believes the job runs: nobody was left to tell it otherwise.
    assert first_job.get_status(refresh=True) == JobStatus.STARTED

    # A page view only reads: it still shows the run as it was recorded.
    assert fresh(spend_import).status == "running"
    assert as_manager.get(f"/spend/imports/{spend_import.id}/progress").get_json()["status"] == "running"
    # The periodic sweep notices the dead run.
    assert recover_imports(db.session, utcnow()) == {"imports_failed": 1, "imports_queued": 0}
    page = text_of(as_manager.get(f"/spend/imports/{spend_import.id}"))
    assert "Failed — The worker stopped during the import, so nothing from this attempt was saved. Retry it." in page
    assert "Retry import" in page
    assert fresh(spend_import).status == "failed"
    assert count(SpendRecord) == 0 and day_totals() == {}  # all or nothing: nothing of the failed file counts

    response = as_manager.post(f"/spend/imports/{spend_import.id}/retry", follow_redirects=True)
    assert any("is queued again" in t for t in flash_texts(text_of(response)))
    assert_ran(run_process(WORKER_BURST))

    spend_import = fresh(spend_import)
    assert (
        spend_import.status,
        spend_import.rows_read,
        spend_import.imported,
        spend_import.duplicates,
        spend_import.attempts,
    ) == ("done", BIG, BIG, 0, 2)
    assert spend_import.job_id != first_job.id
    assert count(SpendRecord) == BIG and day_totals() == totals


def test_kill_9_while_skipping_bad_rows_then_cli_retry_adds_only_the_missing_rows(
    as_manager, session, uploads, acme, redis_connection, background, runner, tmp_path
):
    # The first 1,000 rows (999 good ones) were imported before, from another file.
    write_spend_file(tmp_path / "head.csv", range(1000), bad_every=1000)
    assert runner.invoke(args=["spend", "import", "--skip-bad-rows", str(tmp_path / "head.csv")]).exit_code == 0
    rows = 200_000
    totals = write_spend_file(tmp_path / "big.csv", range(rows), bad_every=1000)
    worker = background.start_worker(redis_connection)
    spend_import = upload(as_manager, (tmp_path / "big.csv").read_bytes(), name="big.csv", mode="skip")

    kill_mid_import(as_manager, spend_import, worker)

    # Only the earlier file's good rows count: the killed run published nothing (on SQLite its committed
    # batches are stored unpublished, and the retry deletes them before it writes).
    assert counted_records() == 999 and sum(day_totals().values()) == 999
    result = runner.invoke(args=["spend", "retry", str(spend_import.id)])
    assert result.exit_code == 0, result.output
    bad = rows // 1000
    assert (
        f"Import #{spend_import.id} done: {rows} rows read, {rows - bad - 999} imported, 999 duplicates, "
        f"{bad} rejected." in result.output
    )
    spend_import = fresh(spend_import)
    assert (spend_import.status, spend_import.attempts, spend_import.job_id) == ("done", 2, None)
    assert count(SpendRecord) == rows - bad and day_totals() == totals


def test_a_job_killed_by_its_timeout_marks_the_import_failed(
    session, uploads, acme, redis_connection, run_process, tmp_path
):
    # Far more than a second of work: two million rows (equal rows all count, each a new record).
    (tmp_path / "big.csv").write_text(
        "brand,campaign,amount,spent_at\n" + "Acme,Search,0.01,2026-11-01T00:00:00Z\n" * 2_000_000
    )
    spend_import = create_import(session, tmp_path / "big.csv", filename="big.csv", actor="test", skip_bad_rows=False)
    session.commit()
    job = enqueue("app.jobs.import_spend", spend_import.id, queue_name=QUEUE_IMPORTS, job_timeout=1)
    spend_import.job_id = job.id
    session.commit()

    assert_ran(run_process(WORKER_BURST))

    spend_import = fresh(spend_import)
    assert job.get_status(refresh=True) == JobStatus.FAILED
    assert (spend_import.status, spend_import.message) == (
        "failed",
        "The import failed (JobTimeoutException); nothing was imported. Try again.",
    )
    assert count(SpendRecord) == 0 and day_totals() == {}


# --- progress in the job's meta ----------------------------------------------------------------


def test_job_progress_writes_the_meta_at_most_every_half_second(redis_connection):
    job = enqueue("app.jobs.import_spend", 1, queue_name=QUEUE_IMPORTS, job_timeout=60)
    clock = [100.0]
    progress = service.ProgressReporter(meta_saver(job), clock=lambda: clock[0])

    def meta() -> dict:
        stored = Job.fetch(job.id, connection=redis_connection).meta
        return {name: stored.get(name) for name in PROGRESS_FIELDS}

    assert meta() == {"rows_read": 0, "bytes_read": 0, "bytes_total": None, "rows_per_s": None, "eta_s": None}
    clock[0] = 100.2
    progress(ImportProgress(rows_read=5000, bytes_read=200_000, bytes_total=1_000_000))
    assert meta() == {
        "rows_read": 5000,
        "bytes_read": 200_000,
        "bytes_total": 1_000_000,
        "rows_per_s": 25000.0,
        "eta_s": 0.8,
    }
    clock[0] = 100.6  # 0.4 s later: not written
    progress(ImportProgress(rows_read=10_000, bytes_read=400_000, bytes_total=1_000_000))
    assert meta()["rows_read"] == 5000
    clock[0] = 100.7  # 0.5 s after the last write
    progress(ImportProgress(rows_read=15_000, bytes_read=600_000, bytes_total=1_000_000))
    assert meta()["rows_read"] == 15_000
    clock[0] = 100.8  # the last report is always written
    progress(ImportProgress(rows_read=24_000, bytes_read=1_000_000, bytes_total=1_000_000))
    assert meta() == {
        "rows_read": 24_000,
        "bytes_read": 1_000_000,
        "bytes_total": 1_000_000,
        "rows_per_s": 30000.0,
        "eta_s": 0.0,
    }


def test_job_progress_never_fails_the_import_when_redis_is_gone(redis_unreachable):
    import redis as redis_client

    connection = redis_client.Redis.from_url(redis_unreachable, socket_connect_timeout=0.5)
    job = Job.create("app.jobs.import_spend", args=(1,), connection=connection)
    progress = service.ProgressReporter(meta_saver(job), clock=lambda: 1.0)
    progress(ImportProgress(rows_read=5000, bytes_read=10, bytes_total=10))  # no exception
    assert job.meta["rows_read"] == 5000
    connection.close()


# --- telling a lost run through Redis alone (a worker on another host) -------------------------


def lost(spend_import, reachable: bool = True):
    """Why the import's run is lost, asking the queue about its job (or, not ``reachable``, knowing nothing of it)."""
    job = job_state(spend_import.job_id) if reachable else None
    return service.lost_run_reason(spend_import, job, utcnow())


def test_lost_run_detection_from_the_job_and_its_worker(session, acme, redis_connection, tmp_path):
    write_spend_file(tmp_path / "x.csv", range(10))
    spend_import = create_import(session, tmp_path / "x.csv", filename="x.csv", actor="test", skip_bad_rows=False)
    job = enqueue("app.jobs.import_spend", spend_import.id, queue_name=QUEUE_IMPORTS, job_timeout=600)
    spend_import.job_id = job.id
    session.commit()
    assert lost(spend_import) is None  # queued, its job waits in the queue

    # Running on another host (its pid means nothing here), its job started by a worker that exists.
    spend_import.status, spend_import.runner, spend_import.started_at = (
        "running",
        "elsewhere 4026531836 12345",
        utcnow(),
    )
    redis_connection.hset("rq:worker:w-elsewhere", "birth", "now")
    job.set_status(JobStatus.STARTED)
    job.worker_name = "w-elsewhere"
    job.save()
    assert lost(spend_import) is None
    assert lost(spend_import, reachable=False) is None  # Redis unreachable: cannot tell, so not failed

    redis_connection.delete("rq:worker:w-elsewhere")  # the worker's key expired: it died
    assert lost(spend_import) == service.WORKER_STOPPED

    job.set_status(JobStatus.FAILED)
    assert lost(spend_import) == service.WORKER_STOPPED

    spend_import.started_at = utcnow() - service.STALE_AFTER - timedelta(seconds=1)
    assert lost(spend_import, reachable=False) == service.WORKER_STOPPED  # running longer than the job timeout allows

    job.delete()  # Redis lost the job (a restart of an unsaved Redis)
    spend_import.status = "queued"
    assert "no longer in the queue" in lost(spend_import)
    assert service.refresh_import_status(session, spend_import, utcnow()) is True
    assert spend_import.status == "failed" and "Retry it." in spend_import.message


# --- the CLI path ------------------------------------------------------------------------------


def test_cli_import_runs_the_same_path_with_a_progress_bar(runner, session, acme, tmp_path, redis_unreachable):
    totals = write_spend_file(tmp_path / "cli.csv", range(12_000))
    result = runner.invoke(args=["spend", "import", "--skip-bad-rows", str(tmp_path / "cli.csv")])
    assert result.exit_code == 0, result.output
    assert "Importing cli.csv" in result.stderr  # click's bar (a label only when not on a terminal)
    assert "Import #1 done: 12000 rows read, 12000 imported, 0 duplicates, 0 rejected." in result.stdout
    spend_import = fresh(session.scalars(select(SpendImport)).one())
    assert (spend_import.actor, spend_import.skip_bad_rows, spend_import.attempts, spend_import.job_id) == (
        "cli",
        True,
        1,
        None,
    )
    assert spend_import.stored_path == str((tmp_path / "cli.csv").resolve())
    assert count(SpendRecord) == 12_000 and day_totals() == totals

    again = runner.invoke(args=["spend", "import", str(tmp_path / "cli.csv")])
    assert "This file was already imported on" in again.stdout and "as import #1." in again.stdout


def test_cli_retry_refuses_what_it_cannot_retry(runner, session, acme, tmp_path, redis_unreachable):
    assert runner.invoke(args=["spend", "retry", "99"]).output.strip() == "Error: no spend import #99"
    write_spend_file(tmp_path / "x.csv", range(10))
    assert runner.invoke(args=["spend", "import", str(tmp_path / "x.csv")]).exit_code == 0
    result = runner.invoke(args=["spend", "retry", "1"])
    assert result.exit_code == 1
    assert "Import #1 has already finished (done); upload the file again to re-import it." in result.output
    assert count(SpendRecord) == 10
