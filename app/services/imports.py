"""The life of a spend import: register a file, queue or run it, report progress, tell a
crashed run from a live one, retry, and read the history and the rejected rows.

The file is parsed by app.ingest and its rows are written by app.services.spend; the job
queue is reached through app.queue only. Functions that commit say so.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from app import queue
from app.ingest.batches import batches_from_child, parse_batches

# Re-exported for the pages and commands that register files: the CSV's format and its whole-file error.
from app.ingest.csv_spend import FORMAT as FORMAT
from app.ingest.csv_spend import RowError, open_text, unknown_campaign
from app.ingest.csv_spend import SpendFileError as SpendFileError
from app.ingest.spend_values import latest_spend
from app.ingest.upload import store_upload
from app.models import Brand, Campaign, SpendImport, SpendImportError, utcnow
from app.money import exponent, format_amount
from app.queue import JobState
from app.services import spend_formats
from app.services.aliases import live_campaigns
from app.services.brands import brands_named
from app.services.demo import DEMO_FIXTURES
from app.services.spend import ImportWriter, campaign_directory, discard_unpublished
from app.services.spend_formats import FormatError as FormatError

log = logging.getLogger(__name__)

# The RQ job of one import: long enough for a 200 MB file on a slow database.
IMPORT_JOB_TIMEOUT = 3600
# A run still "running" this long after the job timeout has certainly stopped (RQ kills it at the timeout).
STALE_AFTER = timedelta(seconds=IMPORT_JOB_TIMEOUT + 120)
PROGRESS_EVERY = 0.5  # seconds between writes of the job's meta
# Files this big are read by a second process while this one writes (app.ingest.batches).
READER_PROCESS_MIN_BYTES = 1 << 20

ACTIVE = ("queued", "running")
# An upload whose layout was not recognised: stored and registered, waiting for its columns to be mapped.
AWAITING_MAPPING = "mapping"
RETRYABLE = ("queued", "failed")
ERRORS_PER_PAGE = 100
HISTORY_PER_PAGE = 50

WORKER_STOPPED = "The worker stopped during the import, so nothing from this attempt was saved. Retry it."


class RetryRefused(ValueError):
    """The import cannot be retried as asked; the message says why and what to do instead."""


# --- progress ----------------------------------------------------------------------------------


@dataclass
class ImportProgress:
    rows_read: int
    bytes_read: int
    bytes_total: int


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


class ProgressReporter:
    """A run_import progress callback that hands the figures (queue.PROGRESS_FIELDS) to ``save``.

    Saves at most every PROGRESS_EVERY seconds (and always the last report), so a fast
    import is not slowed by whatever ``save`` writes to (the job's meta in Redis).
    """

    def __init__(self, save: Callable[[dict], None], clock: Callable[[], float] = time.monotonic) -> None:
        self.save = save
        self.clock = clock
        self.started = clock()
        self.last_write: float | None = None
        save({"rows_read": 0, "bytes_read": 0, "bytes_total": None, "rows_per_s": None, "eta_s": None})

    def __call__(self, progress: ImportProgress) -> None:
        now = self.clock()
        last_report = progress.bytes_read >= progress.bytes_total
        if self.last_write is not None and now - self.last_write < PROGRESS_EVERY and not last_report:
            return
        self.last_write = now
        self.save(progress_figures(progress, now - self.started))


def read_progress(spend_import: SpendImport) -> dict:
    """What the page shows: the import's status and counts, and while it runs the job's live figures."""
    figures: dict = {
        "rows_read": spend_import.rows_read,
        "bytes_read": None,
        "bytes_total": spend_import.size_bytes,
        "rows_per_s": None,
        "eta_s": None,
    }
    if spend_import.status == "running" and spend_import.job_id:
        job = queue.job_state(spend_import.job_id)
        if job is not None:
            figures.update({name: job.meta[name] for name in queue.PROGRESS_FIELDS if job.meta.get(name) is not None})
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
        "replaced": spend_import.replaced,
        "corrected": spend_import.corrected,
        "unchanged": spend_import.unchanged,
        "rejected": spend_import.rejected,
        "message": spend_import.message,
        "attempts": spend_import.attempts,
    }


# --- registering and queueing --------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def create_import(
    session: Session,
    path: Path,
    *,
    filename: str,
    actor: str,
    skip_bad_rows: bool,
    user_id: int | None = None,
    sha256: str | None = None,
    format_name: str | None = None,
    brand_id: int | None = None,
    status: str = "queued",
) -> SpendImport:
    """Register a file for import (status ``queued``, or ``mapping`` while it waits for its columns to be
    mapped); does not commit.

    ``sha256`` is the file's digest when the caller already computed it while storing the file;
    ``format_name`` its report format (None: Pacer's CSV), ``brand_id`` the brand chosen for its rows.
    """
    spend_import = SpendImport(
        format_name=format_name,
        brand_id=brand_id,
        filename=filename[:255],
        sha256=sha256 or file_sha256(path),
        stored_path=str(path),
        size_bytes=path.stat().st_size,
        actor=actor,
        user_id=user_id,
        skip_bad_rows=skip_bad_rows,
        status=status,
    )
    session.add(spend_import)
    session.flush()
    return spend_import


def register_upload(
    session: Session,
    stream: BinaryIO,
    folder: Path,
    *,
    filename: str,
    actor: str,
    user_id: int | None,
    skip_bad_rows: bool,
    format_name: str | None = None,
    brand_id: int | None = None,
) -> SpendImport:
    """Store an uploaded file under ``folder`` (checked as it streams in) and register it; commits.

    Its report format is ``format_name`` or else recognised from its header (spend_formats); a file
    whose layout is not recognised is kept and registered as ``mapping`` (not queued) until its
    columns are mapped (:func:`apply_mapping`). ``brand_id`` is the brand chosen for its rows.
    Raises SpendFileError for a bad file, FormatError for an unknown format name; keeps nothing then.
    """
    if format_name:
        spend_formats.resolve_format(session, format_name)  # an unknown name fails before the file is stored
    brand = session.get(Brand, brand_id) if brand_id else None
    stored = store_upload(stream, folder, header=False)
    try:
        if format_name:
            layout = spend_formats.forced_layout(session, stored.path, format_name)
        else:
            layout = spend_formats.detect_layout(session, stored.path)
        if layout is not None:
            spend_formats.check_layout_brand(layout, brand)
        spend_import = create_import(
            session,
            stored.path,
            filename=filename,
            actor=actor,
            user_id=user_id,
            skip_bad_rows=skip_bad_rows,
            sha256=stored.sha256,
            format_name=layout.format_name if layout is not None else None,
            brand_id=brand_id,
            status="queued" if layout is not None else AWAITING_MAPPING,
        )
        session.commit()
    except BaseException:
        session.rollback()
        stored.path.unlink(missing_ok=True)
        raise
    return spend_import


def apply_mapping(
    session: Session,
    spend_import: SpendImport,
    *,
    name: str,
    columns: list[str],
    number_format: str,
    date_format: str,
    brand_id: int | None,
    actor: str,
    now: datetime,
) -> None:
    """Save the column mapping of an upload waiting in ``mapping`` as a named format, and queue the upload
    to be read with it (status ``queued``; the caller then calls queue_import). ``columns`` is the field
    chosen for each column of the file's header (or "ignore"). Raises FormatError (the mapping, a second
    save) or SpendFileError (the file does not fit it); commits only when it all holds.
    """
    if spend_import.status != AWAITING_MAPPING:
        raise spend_formats.FormatError(f"Import #{spend_import.id} is {spend_import.status}: its format is chosen.")
    header_index, rows = spend_formats.file_preview(Path(spend_import.stored_path or ""))
    mapping = spend_formats.mapping_from_columns(rows[header_index], columns)
    try:
        saved = spend_formats.save_format(
            session,
            name=name,
            mapping=mapping,
            number_format=number_format,
            date_format=date_format,
            actor=actor,
            now=now,
        )
        layout = spend_formats.forced_layout(session, Path(spend_import.stored_path), saved.name)
        spend_formats.check_layout_brand(layout, session.get(Brand, brand_id) if brand_id else None)
    except BaseException:
        session.rollback()
        raise
    spend_import.format_name = saved.name
    spend_import.brand_id = brand_id
    spend_import.status = "queued"
    session.commit()


def queue_import(session: Session, spend_import: SpendImport) -> str | None:
    """Queue the import's job (its id only) and commit the job's id; returns why not when Redis is
    unreachable (the periodic sweep queues it once Redis answers)."""
    try:
        job_id = queue.enqueue_import(spend_import.id, job_timeout=IMPORT_JOB_TIMEOUT)
    except queue.RedisUnavailable as exc:
        return str(exc)
    spend_import.job_id = job_id
    session.commit()
    return None


# --- running ---------------------------------------------------------------------------------------


@dataclass
class ImportOutcome:
    status: str
    rows_read: int = 0
    imported: int = 0
    duplicates: int = 0
    # Period rows whose stored figure was raised, lowered, or left as it was (app.services.spend.write_periods).
    replaced: int = 0
    corrected: int = 0
    unchanged: int = 0
    rejected: int = 0
    brand_ids: set[int] = field(default_factory=set)
    errors: list[RowError] = field(default_factory=list)
    message: str | None = None


class ImportNotQueued(RuntimeError):
    """The import is not waiting to run (another run has it, or it has finished): nothing to do."""


def this_process() -> str:
    """Who runs an import: "host pid-namespace pid", so a reader on the same host can tell a dead run."""
    try:
        namespace = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        namespace = "-"
    return f"{socket.gethostname()[:80]} {namespace} {os.getpid()}"


def claim_import(session: Session, import_id: int, *, now: datetime) -> None:
    """Move a ``queued`` import to ``running`` for this process and commit.

    Atomic: of two runs started for the same import (RQ is at-least-once, or a retry
    raced a late job), exactly one claims it; the other gets ImportNotQueued.
    """
    claimed = session.execute(
        update(SpendImport)
        .where(SpendImport.id == import_id, SpendImport.status == "queued")
        .values(
            status="running",
            started_at=now,
            finished_at=None,
            message=None,
            runner=this_process(),
            attempts=SpendImport.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if claimed:
        return
    spend_import = session.get(SpendImport, import_id)
    if spend_import is None:
        raise LookupError(f"no spend import {import_id}")
    raise ImportNotQueued(f"Import #{import_id} is {spend_import.status}, not queued: nothing to do.")


def run_import(
    session: Session,
    import_id: int,
    *,
    now: datetime | None = None,
    progress: Callable[[ImportProgress], None] | None = None,
) -> ImportOutcome:
    """Run a registered import to completion and commit its outcome.

    Status afterwards: ``done`` (rows written, bad ones skipped if allowed),
    ``rejected`` (bad rows in all-or-nothing mode, or a bad file: nothing written),
    ``failed`` (an unexpected error, re-raised after rolling back: nothing written).
    """
    now = now or utcnow()
    claim_import(session, import_id, now=now)
    try:
        return _run_claimed(session, import_id, now, progress)
    except BaseException as exc:
        # A crash (database, I/O, progress reporting, a bug, a job timeout, Ctrl-C), wherever it lands
        # after the claim: drop the written rows before anything else can commit them, mark the
        # import failed, and let the caller see it.
        _mark_failed(session, import_id, exc)
        raise


def _run_claimed(
    session: Session, import_id: int, now: datetime, progress: Callable[[ImportProgress], None] | None
) -> ImportOutcome:
    spend_import = session.get(SpendImport, import_id)
    skip_bad_rows = spend_import.skip_bad_rows  # read once: the writer commits between batches on SQLite
    # Rows an earlier attempt stored unpublished (a killed run) go first, so this one counts every row once.
    discard_unpublished(session, import_id, statuses=("running",))

    outcome = ImportOutcome(status="done")
    path = Path(spend_import.stored_path or "")
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the `with handle` below, after the size is read
    except OSError as exc:
        outcome.status = "rejected"
        outcome.message = f"The file cannot be read: {exc.strerror}."
        return _finish(session, import_id, outcome)
    try:
        read = spend_formats.row_reader(session, spend_import)
    except spend_formats.FormatError as exc:
        handle.close()
        outcome.status = "rejected"
        outcome.message = str(exc)
        return _finish(session, import_id, outcome)
    try:
        total = os.fstat(handle.fileno()).st_size
        latest = latest_spend(now)
        writer = ImportWriter(session, import_id)
        with handle:
            if total >= READER_PROCESS_MIN_BYTES:
                directory = campaign_directory(session)  # whole: the forked reader must not touch the database
                batches = batches_from_child(lambda: parse_batches(handle, directory, latest, read=read))
            else:
                # Read as the file names brands, so a small file's import does not grow with the brands stored.
                batches = parse_batches(handle, campaign_directory(session, lazy=True), latest, read=read)
            with closing(batches):  # ends the reading (and a reader process) before the file closes, also on an error
                for batch in batches:
                    outcome.rows_read = batch.rows_read
                    outcome.rejected += batch.rejected
                    outcome.errors.extend(batch.errors)
                    if skip_bad_rows or not outcome.rejected:  # all or nothing: no use writing after a bad row
                        writer.write(batch.rows, batch.totals, batch.periods)
                    if progress:
                        progress(ImportProgress(batch.rows_read, batch.bytes_read, total))
            written = writer.finish()
            # Period rows refused at the write (the day is kept at the other granularity) are bad rows too.
            outcome.rejected += len(writer.mixed_lines)
            outcome.errors.extend(
                RowError(line, why[:1].upper() + why[1:] + ".", "") for line, why in writer.mixed_lines
            )
    except SpendFileError as exc:
        session.rollback()
        discard_unpublished(session, import_id, statuses=("running",))
        outcome.status = "rejected"
        outcome.message = str(exc)
        outcome.errors = []
        return _finish(session, import_id, outcome)

    if outcome.rejected and not skip_bad_rows:
        session.rollback()
        discard_unpublished(session, import_id, statuses=("running",))
        outcome.status = "rejected"
        outcome.message = (
            f"{outcome.rejected} bad row{'s' if outcome.rejected != 1 else ''}: nothing was imported "
            "(all or nothing). Fix them, or import again skipping bad rows."
        )
        return _finish(session, import_id, outcome)

    outcome.imported = written.inserted
    outcome.duplicates = written.duplicates
    outcome.replaced, outcome.corrected, outcome.unchanged = written.replaced, written.corrected, written.unchanged
    outcome.brand_ids = written.brand_ids
    if (
        (outcome.duplicates or outcome.unchanged)
        and not (outcome.imported or outcome.replaced or outcome.corrected)
        and outcome.rows_read
    ):
        outcome.message = "Every row was already imported: nothing new was added."
    return _finish(session, import_id, outcome)


def _mark_failed(session: Session, import_id: int, exc: BaseException) -> None:
    """Record a crashed run as failed, on a fresh connection: an interrupted statement can leave
    the session's own connection unusable. A run that had already finished is left as it is."""
    # SQLAlchemy wraps what interrupts a statement (a job timeout, Ctrl-C); name the cause.
    cause = exc.orig if isinstance(getattr(exc, "orig", None), BaseException) else exc
    with contextlib.suppress(Exception):  # the pool discards a connection it cannot reset
        session.close()  # rolls back the rows written so far
    try:
        with Session(bind=session.get_bind()) as fresh:
            fresh.execute(
                update(SpendImport)
                .where(SpendImport.id == import_id, SpendImport.status == "running")
                .values(
                    status="failed",
                    finished_at=utcnow(),
                    message=f"The import failed ({type(cause).__name__}); nothing was imported. Try again.",
                )
            )
            fresh.commit()
            discard_unpublished(fresh, import_id, statuses=("failed",))
    except Exception:  # noqa: BLE001 - the original error matters more; reading the import detects the dead run
        log.exception("could not mark import %s failed", import_id)


def _finish(session: Session, import_id: int, outcome: ImportOutcome) -> ImportOutcome:
    """Write the outcome and errors onto the import row, in the same transaction as its rows; commit."""
    spend_import = session.get(SpendImport, import_id)
    spend_import.status = outcome.status
    spend_import.rows_read = outcome.rows_read
    spend_import.imported = outcome.imported
    spend_import.duplicates = outcome.duplicates
    spend_import.replaced = outcome.replaced
    spend_import.corrected = outcome.corrected
    spend_import.unchanged = outcome.unchanged
    spend_import.rejected = outcome.rejected
    spend_import.brands_affected = len(outcome.brand_ids)
    spend_import.message = outcome.message
    spend_import.finished_at = utcnow()
    session.query(SpendImportError).filter_by(import_id=import_id).delete()
    session.add_all(
        SpendImportError(import_id=import_id, line=e.line, message=e.message, raw=e.raw) for e in outcome.errors
    )
    session.commit()
    return outcome


def file_format(
    session: Session, path: Path, *, format_name: str | None, brand_name: str | None
) -> tuple[str | None, int | None]:
    """The report format and chosen brand id of a file about to be imported from disk (the CLI): ``format_name``
    forces one, else it is recognised from the header. Raises FormatError (unknown format or brand, or a layout
    not recognised) or SpendFileError (the file does not fit, no brand, wrong currency). A file that names
    Pacer's columns wrongly gets None, and the import rejects it with the header's message.
    """
    brand = None
    if brand_name:
        named = [b for b in brands_named(session, brand_name) if b.archived_at is None]
        if not named:
            raise FormatError(f"There is no brand named {brand_name!r}.")
        brand = named[0]
    if format_name:
        layout = spend_formats.forced_layout(session, path, format_name)
    else:
        try:
            layout = spend_formats.detect_layout(session, path)
        except SpendFileError:
            return None, brand.id if brand else None
        if layout is None:
            raise FormatError(
                "The file's header is not one Pacer knows (Pacer's CSV, Google Ads, Meta or a saved format): "
                "map its columns once on the upload page, then import it with --format NAME."
            )
    spend_formats.check_layout_brand(layout, brand)
    return layout.format_name, (brand.id if brand else None)


def import_file(
    session: Session,
    path: Path,
    *,
    actor: str,
    skip_bad_rows: bool,
    user_id: int | None = None,
    progress: Callable[[ImportProgress], None] | None = None,
    format_name: str | None = None,
    brand_id: int | None = None,
) -> tuple[SpendImport, ImportOutcome]:
    """Register and run an import of ``path`` in this process (the CLI's path)."""
    spend_import = create_import(
        session,
        path,
        filename=os.path.basename(path),
        actor=actor,
        skip_bad_rows=skip_bad_rows,
        user_id=user_id,
        format_name=format_name,
        brand_id=brand_id,
    )
    session.commit()
    outcome = run_import(session, spend_import.id, progress=progress)
    return spend_import, outcome


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


def lost_run_reason(spend_import: SpendImport, job: JobState | None, now: datetime) -> str | None:
    """Why an import that says ``queued`` or ``running`` has no run any more, or None if it may still run.

    ``job`` is what the queue knows of its job (None when the queue cannot be asked). Checked in
    order: the local process that claimed it is gone; its job is missing, ended or its worker is
    gone; it has been running longer than the job timeout allows.
    """
    if spend_import.status not in ACTIVE:
        return None
    running = spend_import.status == "running"
    if running and process_alive(spend_import.runner) is False:
        return WORKER_STOPPED
    if spend_import.job_id and job is not None:
        if job.missing:
            return "The import's job is no longer in the queue (Redis lost it), so it will not run. Retry it."
        if job.ended or job.worker_gone:
            return WORKER_STOPPED if running else "The import's job ended before it started the import. Retry it."
    if running and spend_import.started_at and now - spend_import.started_at > STALE_AFTER:
        return WORKER_STOPPED
    return None


def refresh_import_status(session: Session, spend_import: SpendImport, now: datetime) -> bool:
    """Mark a queued or running import ``failed`` if its run is gone (see lost_run_reason); True if it did.

    Only the attempt that was looked at is marked, so a retry that claimed the import
    meanwhile is left alone. Does not commit.
    """
    job = queue.job_state(spend_import.job_id) if spend_import.job_id else None
    reason = lost_run_reason(spend_import, job, now)
    if reason is None:
        return False
    changed = session.execute(
        update(SpendImport)
        .where(
            SpendImport.id == spend_import.id,
            SpendImport.status == spend_import.status,
            SpendImport.attempts == spend_import.attempts,
        )
        .values(status="failed", message=reason, finished_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(spend_import)
    return bool(changed)


def recover_imports(session: Session, now: datetime) -> dict:
    """The sweep's part for imports: mark lost runs failed, and queue the imports registered while
    Redis was unreachable. Commits. Returns the counts."""
    failed = queued = 0
    for spend_import in session.scalars(select(SpendImport).where(SpendImport.status.in_(ACTIVE))).all():
        if refresh_import_status(session, spend_import, now):
            failed += 1
        elif spend_import.status == "queued" and not spend_import.job_id:
            session.commit()
            queued += queue_import(session, spend_import) is None
    session.commit()
    # Rows a crashed run stored unpublished (SQLite) never counted; delete them now.
    for import_id in session.scalars(
        select(SpendImport.id).where(
            SpendImport.status.in_(("failed", "rejected")), SpendImport.unpublished_from_id.is_not(None)
        )
    ).all():
        discard_unpublished(session, import_id, statuses=("failed", "rejected"))
    return {"imports_failed": failed, "imports_queued": queued}


# --- retries -----------------------------------------------------------------------------------


def offers_retry(spend_import: SpendImport, now: datetime) -> bool:
    """Whether the import's page offers Retry: a failed import, or a queued one that no job will run
    (never queued, or its job lost or ended), with its file still stored. Never while it runs or waits for
    a worker: Retry would only be refused (prepare_retry). Reads the queue; writes nothing."""
    if spend_import.file_deleted_at is not None or spend_import.status not in RETRYABLE:
        return False
    if spend_import.status == "failed" or not spend_import.job_id:
        return True
    job = queue.job_state(spend_import.job_id)
    return job is not None and lost_run_reason(spend_import, job, now) is not None


def prepare_retry(session: Session, spend_import: SpendImport, now: datetime) -> None:
    """Put a failed (or never started) import back to ``queued`` to run its stored file again; commits.

    First marks a run that is gone as failed. Raises RetryRefused while it runs, once it has
    finished, or if its stored file is gone or has changed. A retry imports exactly the rows
    that are missing: rows are keyed, and a failed attempt wrote nothing. The caller then
    queues it (queue_import: the page) or runs it (run_import: the CLI).
    """
    refresh_import_status(session, spend_import, now)
    session.commit()
    number = f"Import #{spend_import.id}"
    if spend_import.status == "running":
        raise RetryRefused(f"{number} is still running; wait for it to finish or fail.")
    if spend_import.status not in RETRYABLE:
        raise RetryRefused(
            f"{number} has already finished ({spend_import.status}); upload the file again to re-import it."
        )
    if spend_import.file_deleted_at is not None:
        raise RetryRefused(deleted_file_words(spend_import) + " Upload it again to import it.")
    path = Path(spend_import.stored_path or "")
    if not spend_import.stored_path or not path.is_file():
        raise RetryRefused(f"The file of import #{spend_import.id} is no longer stored; upload it again.")
    if file_sha256(path) != spend_import.sha256:
        raise RetryRefused(
            f"The file of import #{spend_import.id} has changed since it was registered "
            "(its sha256 differs); import it again as a new file."
        )
    changed = session.execute(
        update(SpendImport)
        .where(
            SpendImport.id == spend_import.id, SpendImport.status.in_(RETRYABLE), SpendImport.file_deleted_at.is_(None)
        )
        .values(status="queued", job_id=None, message=None, finished_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    session.refresh(spend_import)
    if not changed:
        raise RetryRefused(f"{number} changed meanwhile (now {spend_import.status}); reload the page.")


# --- reading -----------------------------------------------------------------------------------


def earlier_import(session: Session, spend_import: SpendImport) -> SpendImport | None:
    """The first earlier import of the same file (by sha256) that finished ``done``, if any."""
    return session.scalar(
        select(SpendImport)
        .where(
            SpendImport.sha256 == spend_import.sha256, SpendImport.id < spend_import.id, SpendImport.status == "done"
        )
        .order_by(SpendImport.id)
        .limit(1)
    )


def history_query() -> Select:
    """Every import, newest first."""
    return select(SpendImport).options(selectinload(SpendImport.user)).order_by(SpendImport.id.desc())


def errors_query(import_id: int) -> Select:
    """The rejected rows of an import in file order."""
    return (
        select(SpendImportError)
        .where(SpendImportError.import_id == import_id)
        .order_by(SpendImportError.line, SpendImportError.id)
    )


@dataclass(frozen=True)
class RejectedRows:
    header: list[str]
    rows: Iterator[list[str]]


def rejected_rows(session: Session, spend_import: SpendImport) -> RejectedRows:
    """The rejected rows with their explanations, as table rows: line, error, then the row's own fields
    under the file's header (read from the stored file; a single ``row`` column if it is gone). Lazy:
    rows are read from the database as they are consumed."""
    file_header = _stored_header(session, spend_import) or _kept_header(spend_import)
    header = ["line", "error", *(file_header or ["row"])]

    def rows() -> Iterator[list[str]]:
        stmt = errors_query(spend_import.id).execution_options(yield_per=1000)
        for error in session.scalars(stmt):
            fields = _fields(error.raw) if file_header else [error.raw]
            yield [str(error.line), error.message, *fields]

    return RejectedRows(header, rows())


def rejected_file(session: Session, spend_import: SpendImport) -> RejectedRows:
    """The rejected rows in the uploaded file's own layout, to fix and upload again as they are: the
    file's lines up to its header (``header`` is the first of them, ``rows`` go on with the rest),
    then each rejected row's fields exactly as uploaded, in file order, with no column added.

    The layout is read from the stored file, or from the header kept when retention deleted it; with
    neither, ``header`` is empty and only the rows are given. Lazy, like :func:`rejected_rows`.
    """
    layout = _layout_lines(session, spend_import)

    def rows() -> Iterator[list[str]]:
        yield from layout[1:]
        stmt = errors_query(spend_import.id).execution_options(yield_per=1000)
        for error in session.scalars(stmt):
            yield _fields(error.raw)

    return RejectedRows(layout[0] if layout else [], rows())


def _layout_lines(session: Session, spend_import: SpendImport) -> list[list[str]]:
    """The fields of the file's lines before its rows: any preamble, then the header (last)."""
    stored = _stored_layout(spend_import.stored_path, _header_line(session, spend_import))
    if stored:
        return stored
    kept = _kept_header(spend_import)
    return [kept] if kept else []


def _stored_layout(stored_path: str | None, header_line: int | None) -> list[list[str]] | None:
    """The file's non-blank lines up to its header: line ``header_line`` when the import stored one
    (a platform export with a title before it), else the first non-blank line (Pacer's CSV)."""
    if not stored_path:
        return None
    lines: list[list[str]] = []
    try:
        with open(stored_path, "rb") as handle:
            text = open_text(handle)
            try:
                reader = csv.reader(text, strict=True)
                for fields in reader:
                    if any(f.strip() for f in fields) or header_line:
                        lines.append(fields)
                    if lines and (header_line is None or reader.line_num >= header_line):
                        return lines
            finally:
                text.detach()
    except (OSError, ValueError, csv.Error, UnicodeDecodeError):
        return None
    return None


def write_rejected_file(session: Session, spend_import: SpendImport, out: BinaryIO) -> int:
    """Write the rejected rows in the file's own layout (see :func:`rejected_file`) to ``out`` as UTF-8 CSV,
    each rejected row byte for byte as it was read; returns how many rows were written."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        for fields in _layout_lines(session, spend_import):
            writer.writerow(fields)
        count = 0
        for error in session.scalars(errors_query(spend_import.id).execution_options(yield_per=1000)):
            text.write(error.raw + "\r\n")
            count += 1
        text.flush()
    finally:
        text.detach()
    return count


# --- importing again -----------------------------------------------------------------------------


class ImportAgainRefused(ValueError):
    """The import cannot be imported again; the message says why and what to do."""


def import_again(
    session: Session,
    spend_import: SpendImport,
    folder: Path,
    *,
    only_rejected: bool,
    skip_bad_rows: bool,
    actor: str,
    user_id: int | None,
) -> SpendImport:
    """Register a new import (queued, like an upload; commits) of the finished import's stored file, or,
    with ``only_rejected``, of its rejected rows in the file's own layout (what the rejected-rows download
    holds): after an all-or-nothing rejection, the whole file again skipping bad rows; after new aliases
    or campaigns, the rows that named them. Rows already imported count as duplicates, never twice.

    Raises ImportAgainRefused while the import is queued or running, when there are no rejected rows to
    import, or when the whole file is wanted and its stored copy is gone; SpendFileError (nothing kept)
    when the file no longer reads as spend.
    """
    number = f"Import #{spend_import.id}"
    if spend_import.status in ACTIVE:
        raise ImportAgainRefused(f"{number} is still {spend_import.status}; wait for it to finish.")
    if only_rejected:
        if not spend_import.rejected or session.scalar(errors_query(spend_import.id).limit(1)) is None:
            raise ImportAgainRefused(f"{number} has no rejected rows to import again.")
        if not _layout_lines(session, spend_import):
            raise ImportAgainRefused(
                f"The header of the file of {number.lower()} is no longer known, so its rejected rows cannot be "
                "imported again as they are: download them, add the header line, and upload that."
            )
        with tempfile.TemporaryFile() as rows:
            write_rejected_file(session, spend_import, rows)
            rows.seek(0)
            return register_upload(
                session,
                rows,
                folder,
                filename=f"import-{spend_import.id}-rejected.csv",
                actor=actor,
                user_id=user_id,
                skip_bad_rows=skip_bad_rows,
                format_name=spend_import.format_name,
                brand_id=spend_import.brand_id,
            )
    if spend_import.file_deleted_at is not None:
        raise ImportAgainRefused(deleted_file_words(spend_import) + " Upload it again to import it.")
    path = Path(spend_import.stored_path or "")
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError:
        raise ImportAgainRefused(f"The file of {number.lower()} is no longer stored; upload it again.") from None
    with handle:
        return register_upload(
            session,
            handle,
            folder,
            filename=spend_import.filename,
            actor=actor,
            user_id=user_id,
            skip_bad_rows=skip_bad_rows,
            format_name=spend_import.format_name,
            brand_id=spend_import.brand_id,
        )


# --- unknown campaigns -----------------------------------------------------------------------------

UNKNOWN_GROUPS_SHOWN = 100


@dataclass(frozen=True)
class UnknownCampaign:
    """Rows of an import rejected because their brand has no campaign so named, grouped by that name."""

    brand_id: int
    brand_name: str
    name: str
    rows: int
    # The campaign the name leads to now (an alias or a campaign added since), else None.
    now_goes_to: str | None
    # The brand's live campaigns (id, name): what the name may be mapped to.
    campaigns: list[tuple[int, str]]


def unknown_campaigns(session: Session, spend_import: SpendImport) -> list[UnknownCampaign]:
    """The import's rejected rows that name a campaign their brand does not have, grouped by (brand,
    name) with counts, most rows first (at most UNKNOWN_GROUPS_SHOWN groups), each with where the name
    leads now and the brand's campaigns to choose from. Brands archived or gone since are left out."""
    counts: dict[tuple[str, str], int] = {}
    # Rows with the same unknown name and no other problem have the same message: counted by the database.
    stmt = (
        select(SpendImportError.message, func.count())
        .where(SpendImportError.import_id == spend_import.id, SpendImportError.message.contains("has no campaign"))
        .group_by(SpendImportError.message)
    )
    for message, rows in session.execute(stmt.execution_options(yield_per=1000)):
        found = unknown_campaign(message)
        if found is not None:
            counts[found] = counts.get(found, 0) + rows
    if not counts:
        return []
    directory = campaign_directory(session, lazy=True)
    choices: dict[int, list[tuple[int, str]]] = {}
    groups = []
    for (brand_name, name), rows in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        brand = directory.exact_brand(brand_name)
        if brand is None:
            continue
        if brand.brand_id not in choices:
            choices[brand.brand_id] = live_campaigns(session, brand.brand_id)
        ref = directory.campaign(brand, name)
        groups.append(
            UnknownCampaign(
                brand.brand_id, brand.name, name, rows, ref.campaign_name if ref else None, choices[brand.brand_id]
            )
        )
        if len(groups) >= UNKNOWN_GROUPS_SHOWN:
            break
    return groups


# --- the template --------------------------------------------------------------------------------

TEMPLATE_COLUMNS = ("brand", "campaign", "amount", "spent_at", "external_id", "currency")


def spend_template(session: Session, brand_name: str | None, now: datetime) -> RejectedRows:
    """A spend CSV to start from: the header with every column, then one example row for the brand named
    ``brand_name`` (as typed, or ignoring case; its first campaign, the start of this hour in its zone, an
    amount in its currency), or for the demo data's first brand when no name is given.

    Raises LookupError with a sentence when no live brand has that name.
    """
    brand = None
    if brand_name and brand_name.strip():
        wanted = brand_name.strip()
        live = select(Brand).where(Brand.archived_at.is_(None))
        brand = session.scalar(live.where(Brand.name == wanted)) or next(
            (
                b
                for b in session.scalars(live.where(func.lower(Brand.name) == wanted.lower()))
                if b.name.casefold() == wanted.casefold()
            ),
            None,
        )
        if brand is None:
            raise LookupError(
                f"There is no brand named {wanted!r}: leave the name empty for an example with the demo names."
            )
    if brand is not None:
        campaign = session.scalar(
            select(Campaign.name)
            .where(Campaign.brand_id == brand.id, Campaign.archived_at.is_(None))
            .order_by(Campaign.name)
            .limit(1)
        )
        name, zone, currency = brand.name, brand.timezone, brand.currency
        campaign = campaign or "Your campaign"
    else:
        example = DEMO_FIXTURES["brands"][0]
        name, zone, currency = example["name"], example["timezone"], example["currency"]
        campaign = example["campaigns"][0]["name"]
    local = now.astimezone(ZoneInfo(zone)).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    amount = format_amount(1250 * 10 ** exponent(currency) // 100, currency)
    row = [name, campaign, amount, local.isoformat(sep=" ", timespec="minutes"), "example-1", currency]
    return RejectedRows(list(TEMPLATE_COLUMNS), iter([row]))


def _fields(raw: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(raw, newline="")), [])
    except csv.Error:
        return [raw]


def _header_line(session: Session, spend_import: SpendImport) -> int | None:
    """The line number of the stored file's header in its format (a platform export has a title before it),
    or None to take the first non-blank line."""
    layout = spend_formats.import_layout(session, spend_import)
    return layout.header_line if layout is not None else None


def _stored_header(session: Session, spend_import: SpendImport) -> list[str] | None:
    layout = _stored_layout(spend_import.stored_path, _header_line(session, spend_import))
    return [f.strip() for f in layout[-1]] if layout else None


def _kept_header(spend_import: SpendImport) -> list[str] | None:
    return json.loads(spend_import.file_header) if spend_import.file_header else None


# --- retention ---------------------------------------------------------------------------------


def deleted_file_words(spend_import: SpendImport) -> str:
    """The sentence the import's page and a refused retry give once retention deleted its file."""
    return (
        f"The file of import #{spend_import.id} was deleted on {spend_import.file_deleted_at:%Y-%m-%d} "
        "(stored uploads are kept for a set number of days after their import ends); its result, counts "
        "and rejected rows are kept."
    )


@dataclass
class PruneResult:
    deleted: list[int] = field(default_factory=list)  # the imports whose stored file was deleted
    bytes_freed: int = 0


def prune_uploads(session: Session, now: datetime, *, retention_days: int, folder: Path) -> PruneResult:
    """Delete each stored upload under ``folder`` whose import ended (done, rejected or failed) at least
    ``retention_days`` days before ``now``; commits. The import keeps its result, counts and rejected
    rows (and the file's header, for their download); a retry of it is refused from then on.

    Files outside ``folder`` (a CLI import of the operator's own file) are never touched. Idempotent.
    """
    result = PruneResult()
    # Stored paths are the folder as configured joined with a file name; a relative folder is matched both ways.
    prefixes = {str(folder) + os.sep, str(folder.resolve()) + os.sep}
    due = session.scalars(
        select(SpendImport)
        .where(
            SpendImport.status.not_in(ACTIVE),
            SpendImport.file_deleted_at.is_(None),
            SpendImport.finished_at <= now - timedelta(days=retention_days),
            or_(*(SpendImport.stored_path.startswith(prefix, autoescape=True) for prefix in prefixes)),
        )
        .order_by(SpendImport.id)
    ).all()
    for spend_import in due:
        path = Path(spend_import.stored_path)
        header = _stored_header(session, spend_import)
        # Only while it is still finished and not deleted: a retry that queued it meanwhile keeps its file.
        marked = session.execute(
            update(SpendImport)
            .where(
                SpendImport.id == spend_import.id,
                SpendImport.status.not_in(ACTIVE),
                SpendImport.file_deleted_at.is_(None),
            )
            .values(file_deleted_at=now, file_header=json.dumps(header) if header else None)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
        if not marked:
            continue
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            size = 0
        except OSError:
            log.exception("could not delete the stored upload of import %s (%s)", spend_import.id, path)
            continue
        result.deleted.append(spend_import.id)
        result.bytes_freed += size
    return result
