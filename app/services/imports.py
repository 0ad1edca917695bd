"""The life of a spend import around its run: progress in the RQ job's meta, telling a
crashed run from a live one, retries, the history, and the rejected rows.

Plain functions taking a session (and a Redis connection where the RQ job matters);
none commits. The run itself is app.ingest.importer.run_import.
"""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.worker import Worker
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, selectinload

from app.ingest.csv_spend import open_text
from app.ingest.importer import ImportProgress, file_sha256, this_process
from app.models import SpendImport, SpendImportError

# The RQ job of one import: long enough for a 200 MB file on a slow database.
IMPORT_JOB_TIMEOUT = 3600
IMPORT_RESULT_TTL = 24 * 3600
IMPORT_FAILURE_TTL = 7 * 24 * 3600
# A run still "running" this long after the job timeout has certainly stopped (RQ kills it at the timeout).
STALE_AFTER = timedelta(seconds=IMPORT_JOB_TIMEOUT + 120)
PROGRESS_EVERY = 0.5  # seconds between writes of the job's meta
# What an import job keeps in its meta while it runs.
PROGRESS_FIELDS = ("rows_read", "bytes_read", "bytes_total", "rows_per_s", "eta_s")

ACTIVE = ("queued", "running")
RETRYABLE = ("queued", "failed")
ERRORS_PER_PAGE = 100
HISTORY_PER_PAGE = 50

WORKER_STOPPED = "The worker stopped during the import, so nothing from this attempt was saved. Retry it."


class RetryRefused(ValueError):
    """The import cannot be retried as asked; the message says why and what to do instead."""


# --- progress ----------------------------------------------------------------------------------


def progress_figures(progress: ImportProgress, elapsed_s: float) -> dict:
    """Rows and bytes read, the row rate and the seconds left (from the byte rate; None until known)."""
    rate = progress.rows_read / elapsed_s if elapsed_s > 0 else None
    byte_rate = progress.bytes_read / elapsed_s if elapsed_s > 0 else 0
    left = max(progress.bytes_total - progress.bytes_read, 0)
    return {
        "rows_read": progress.rows_read,
        "bytes_read": progress.bytes_read,
        "bytes_total": progress.bytes_total,
        "rows_per_s": round(rate, 1) if rate is not None else None,
        "eta_s": round(left / byte_rate, 1) if byte_rate > 0 else None,
    }


class JobProgress:
    """A run_import progress callback that keeps the figures (PROGRESS_FIELDS) in an RQ job's meta.

    Writes at most every PROGRESS_EVERY seconds (and always the last report), so a fast
    import is not slowed by Redis. Progress is shown, never needed: a Redis error is ignored
    rather than failing the import.
    """

    def __init__(self, job: Job | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.job = job
        self.clock = clock
        self.started = clock()
        self.last_write: float | None = None
        if job is not None:
            self._save({"rows_read": 0, "bytes_read": 0, "bytes_total": None, "rows_per_s": None, "eta_s": None})

    def __call__(self, progress: ImportProgress) -> None:
        now = self.clock()
        last_report = progress.bytes_read >= progress.bytes_total
        if self.last_write is not None and now - self.last_write < PROGRESS_EVERY and not last_report:
            return
        self.last_write = now
        self._save(progress_figures(progress, now - self.started))

    def _save(self, figures: dict) -> None:
        if self.job is None:
            return
        self.job.meta.update(figures)
        try:
            self.job.save_meta()
        except (redis.RedisError, OSError):
            pass


def read_progress(spend_import: SpendImport, connection: redis.Redis | None) -> dict:
    """What the page shows: the import's status and counts, and while it runs the job's live figures."""
    figures: dict = {"rows_read": spend_import.rows_read, "bytes_read": None,
                     "bytes_total": spend_import.size_bytes, "rows_per_s": None, "eta_s": None}
    if spend_import.status == "running" and spend_import.job_id and connection is not None:
        try:
            meta = Job.fetch(spend_import.job_id, connection=connection).meta
            figures.update({name: meta[name] for name in PROGRESS_FIELDS if meta.get(name) is not None})
        except (NoSuchJobError, redis.RedisError, OSError):
            pass
    finished = spend_import.status not in ACTIVE
    if finished:
        figures.update(bytes_read=spend_import.size_bytes, eta_s=0)
    total, done = figures.get("bytes_total") or 0, figures.get("bytes_read") or 0
    return {
        "id": spend_import.id,
        "status": spend_import.status,
        "finished": finished,
        "saving": spend_import.status == "running" and total > 0 and done >= total,
        "percent": 100.0 if finished else (round(min(done * 100 / total, 100.0), 1) if total else 0.0),
        **figures,
        "imported": spend_import.imported,
        "duplicates": spend_import.duplicates,
        "rejected": spend_import.rejected,
        "message": spend_import.message,
        "attempts": spend_import.attempts,
    }


# --- telling a crashed run from a live one -----------------------------------------------------


def process_alive(runner: str | None) -> bool | None:
    """Whether the process named by an import's ``runner`` lives: True, False, or None if this
    host cannot tell (another host or PID namespace, or no runner recorded)."""
    if not runner:
        return None
    host_ns, _, pid_text = runner.rpartition(" ")
    if host_ns != this_process().rpartition(" ")[0] or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited; only its parent has not collected it yet
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def lost_run_reason(spend_import: SpendImport, connection: redis.Redis | None, now: datetime) -> str | None:
    """Why an import that says ``queued`` or ``running`` has no run any more, or None if it may still run.

    Checked in order: the local process that claimed it is gone; its RQ job is missing,
    failed, stopped or cancelled; the job's worker no longer exists; it has been running
    longer than the job timeout allows.
    """
    if spend_import.status not in ACTIVE:
        return None
    running = spend_import.status == "running"
    if running and process_alive(spend_import.runner) is False:
        return WORKER_STOPPED
    if spend_import.job_id and connection is not None:
        try:
            job = Job.fetch(spend_import.job_id, connection=connection)
            status = job.get_status(refresh=False)
            worker_gone = (
                status == JobStatus.STARTED and bool(job.worker_name)
                and not connection.exists(Worker.redis_worker_namespace_prefix + job.worker_name)
            )
        except NoSuchJobError:
            return "The import's job is no longer in the queue (Redis lost it), so it will not run. Retry it."
        except (redis.RedisError, OSError):
            status, worker_gone = None, False  # cannot tell now; the next read will
        if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED) or worker_gone:
            return WORKER_STOPPED if running else "The import's job ended before it started the import. Retry it."
    if running and spend_import.started_at and now - spend_import.started_at > STALE_AFTER:
        return WORKER_STOPPED
    return None


def refresh_import_status(session: Session, spend_import: SpendImport, connection: redis.Redis | None,
                          now: datetime) -> bool:
    """Mark a queued or running import ``failed`` if its run is gone (see lost_run_reason); True if it did.

    Only the attempt that was looked at is marked, so a retry that claimed the import
    meanwhile is left alone. Does not commit.
    """
    reason = lost_run_reason(spend_import, connection, now)
    if reason is None:
        return False
    changed = session.execute(
        update(SpendImport)
        .where(SpendImport.id == spend_import.id, SpendImport.status == spend_import.status,
               SpendImport.attempts == spend_import.attempts)
        .values(status="failed", message=reason, finished_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(spend_import)
    return bool(changed)


# --- retries -----------------------------------------------------------------------------------


def prepare_retry(session: Session, spend_import: SpendImport) -> None:
    """Put a failed (or never started) import back to ``queued`` to run its stored file again.

    Raises RetryRefused while it runs, once it has finished, or if its stored file is gone
    or has changed. A retry imports exactly the rows that are missing: rows are keyed, and a
    failed attempt wrote nothing. Does not commit; the caller then enqueues or runs it.
    """
    number = f"Import #{spend_import.id}"
    if spend_import.status == "running":
        raise RetryRefused(f"{number} is still running; wait for it to finish or fail.")
    if spend_import.status not in RETRYABLE:
        raise RetryRefused(f"{number} has already finished ({spend_import.status}); upload the file again to re-import it.")
    path = Path(spend_import.stored_path or "")
    if not spend_import.stored_path or not path.is_file():
        raise RetryRefused(f"The file of import #{spend_import.id} is no longer stored; upload it again.")
    if file_sha256(path) != spend_import.sha256:
        raise RetryRefused(f"The file of import #{spend_import.id} has changed since it was registered "
                           "(its sha256 differs); import it again as a new file.")
    changed = session.execute(
        update(SpendImport)
        .where(SpendImport.id == spend_import.id, SpendImport.status.in_(RETRYABLE))
        .values(status="queued", job_id=None, message=None, finished_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(spend_import)
    if not changed:
        raise RetryRefused(f"{number} changed meanwhile (now {spend_import.status}); reload the page.")


def record_job(session: Session, spend_import: SpendImport, job_id: str) -> None:
    """Remember the RQ job that will run the import's next attempt. Does not commit."""
    spend_import.job_id = job_id


def needs_enqueue(spend_import: SpendImport) -> bool:
    """A queued import that no job will pick up (Redis was unreachable when it was queued)."""
    return spend_import.status == "queued" and not spend_import.job_id


# --- reading -----------------------------------------------------------------------------------


def earlier_import(session: Session, spend_import: SpendImport) -> SpendImport | None:
    """The first earlier import of the same file (by sha256) that finished ``done``, if any."""
    return session.scalar(
        select(SpendImport)
        .where(SpendImport.sha256 == spend_import.sha256, SpendImport.id < spend_import.id,
               SpendImport.status == "done")
        .order_by(SpendImport.id)
        .limit(1)
    )


def history_query() -> Select:
    """Every import, newest first."""
    return select(SpendImport).options(selectinload(SpendImport.user)).order_by(SpendImport.id.desc())


def errors_query(import_id: int) -> Select:
    """The rejected rows of an import in file order."""
    return select(SpendImportError).where(SpendImportError.import_id == import_id).order_by(
        SpendImportError.line, SpendImportError.id
    )


@dataclass(frozen=True)
class RejectedRows:
    header: list[str]
    rows: Iterator[list[str]]


def rejected_rows(session: Session, spend_import: SpendImport) -> RejectedRows:
    """The rejected rows as table rows: line, error, then the row's own fields under the file's
    header (read from the stored file; a single ``row`` column if it is gone). Lazy: rows are
    read from the database as they are consumed."""
    file_header = _stored_header(spend_import.stored_path)
    header = ["line", "error", *(file_header or ["row"])]

    def rows() -> Iterator[list[str]]:
        stmt = errors_query(spend_import.id).execution_options(yield_per=1000)
        for error in session.scalars(stmt):
            fields = _fields(error.raw) if file_header else [error.raw]
            yield [str(error.line), error.message, *fields]

    return RejectedRows(header, rows())


def _fields(raw: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(raw, newline="")), [])
    except csv.Error:
        return [raw]


def _stored_header(stored_path: str | None) -> list[str] | None:
    if not stored_path:
        return None
    try:
        with open(stored_path, "rb") as handle:
            text = open_text(handle)
            try:
                for fields in csv.reader(text, strict=True):
                    if any(f.strip() for f in fields):
                        return [f.strip() for f in fields]
            finally:
                text.detach()
    except (OSError, ValueError, csv.Error, UnicodeDecodeError):
        return None
    return None
