"""Import a spend CSV: validate every row, write the good ones, record the outcome.

One file is one database transaction for its rows, so a crash never leaves it
half written, and "all or nothing" really is. The SpendImport row is updated in
that same transaction. Rows are written in batches (app.ingest.bulk), which
skip rows already stored, so a retry or a re-upload adds only what is missing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.ingest.batches import batches_from_child, parse_batches
from app.ingest.csv_spend import CampaignDirectory, RowError, SpendFileError
from app.models import SpendImport, SpendImportError, utcnow
from app.ingest.bulk import ImportWriter

log = logging.getLogger(__name__)

# Files this big are read by a second process while this one writes (app.ingest.batches).
READER_PROCESS_MIN_BYTES = 1 << 20


@dataclass
class ImportProgress:
    rows_read: int
    bytes_read: int
    bytes_total: int


@dataclass
class ImportOutcome:
    status: str
    rows_read: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    brand_ids: set[int] = field(default_factory=set)
    errors: list[RowError] = field(default_factory=list)
    message: str | None = None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def create_import(session: Session, path: Path, *, filename: str, actor: str, skip_bad_rows: bool,
                  user_id: int | None = None, sha256: str | None = None) -> SpendImport:
    """Register a file for import (status ``queued``); does not commit.

    ``sha256`` is the file's digest when the caller already computed it while storing the file.
    """
    spend_import = SpendImport(
        filename=filename[:255],
        sha256=sha256 or file_sha256(path),
        stored_path=str(path),
        size_bytes=path.stat().st_size,
        actor=actor,
        user_id=user_id,
        skip_bad_rows=skip_bad_rows,
        status="queued",
    )
    session.add(spend_import)
    session.flush()
    return spend_import


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
        .values(status="running", started_at=now, finished_at=None, message=None, runner=this_process(),
                attempts=SpendImport.attempts + 1)
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
    claim_import(session, import_id, now=now or utcnow())
    try:
        return _run_claimed(session, import_id, progress)
    except BaseException as exc:
        # A crash (database, I/O, progress reporting, a bug, a job timeout, Ctrl-C), wherever it lands
        # after the claim: drop the written rows before anything else can commit them, mark the
        # import failed, and let the caller see it.
        _mark_failed(session, import_id, exc)
        raise


def _run_claimed(session: Session, import_id: int, progress: Callable[[ImportProgress], None] | None) -> ImportOutcome:
    spend_import = session.get(SpendImport, import_id)

    outcome = ImportOutcome(status="done")
    path = Path(spend_import.stored_path or "")
    try:
        handle = open(path, "rb")
    except OSError as exc:
        outcome.status = "rejected"
        outcome.message = f"The file cannot be read: {exc.strerror}."
        return _finish(session, import_id, outcome)
    try:
        total = os.fstat(handle.fileno()).st_size
        directory = CampaignDirectory(session)
        writer = ImportWriter(session, import_id)
        with handle:
            if total >= READER_PROCESS_MIN_BYTES:
                batches = batches_from_child(lambda: parse_batches(handle, directory))
            else:
                batches = parse_batches(handle, directory)
            with closing(batches):  # ends the reading (and a reader process) before the file closes, also on an error
                for batch in batches:
                    outcome.rows_read = batch.rows_read
                    outcome.rejected += batch.rejected
                    outcome.errors.extend(batch.errors)
                    if spend_import.skip_bad_rows or not outcome.rejected:  # all or nothing: no use writing after a bad row
                        writer.write(batch.rows, batch.totals)
                    if progress:
                        progress(ImportProgress(batch.rows_read, batch.bytes_read, total))
            written = writer.finish()
    except SpendFileError as exc:
        session.rollback()
        outcome.status = "rejected"
        outcome.message = str(exc)
        outcome.errors = []
        return _finish(session, import_id, outcome)

    if outcome.rejected and not spend_import.skip_bad_rows:
        session.rollback()
        outcome.status = "rejected"
        outcome.message = (
            f"{outcome.rejected} bad row{'s' if outcome.rejected != 1 else ''}: nothing was imported "
            "(all or nothing). Fix them, or import again skipping bad rows."
        )
        return _finish(session, import_id, outcome)

    outcome.imported = written.inserted
    outcome.duplicates = written.duplicates
    outcome.brand_ids = written.brand_ids
    if outcome.duplicates and not outcome.imported and outcome.rows_read:
        outcome.message = "Every row was already imported: nothing new was added."
    return _finish(session, import_id, outcome)


def _mark_failed(session: Session, import_id: int, exc: BaseException) -> None:
    """Record a crashed run as failed, on a fresh connection: an interrupted statement can leave
    the session's own connection unusable. A run that had already finished is left as it is."""
    # SQLAlchemy wraps what interrupts a statement (a job timeout, Ctrl-C); name the cause.
    cause = exc.orig if isinstance(getattr(exc, "orig", None), BaseException) else exc
    try:
        session.close()  # rolls back the rows written so far
    except Exception:  # noqa: BLE001 - the pool discards a connection it cannot reset
        pass
    try:
        with Session(bind=session.get_bind()) as fresh:
            fresh.execute(
                update(SpendImport)
                .where(SpendImport.id == import_id, SpendImport.status == "running")
                .values(status="failed", finished_at=utcnow(),
                        message=f"The import failed ({type(cause).__name__}); nothing was imported. Try again.")
            )
            fresh.commit()
    except Exception:  # noqa: BLE001 - the original error matters more; reading the import detects the dead run
        log.exception("could not mark import %s failed", import_id)


def _finish(session: Session, import_id: int, outcome: ImportOutcome) -> ImportOutcome:
    """Write the outcome and errors onto the import row, in the same transaction as its rows; commit."""
    spend_import = session.get(SpendImport, import_id)
    spend_import.status = outcome.status
    spend_import.rows_read = outcome.rows_read
    spend_import.imported = outcome.imported
    spend_import.duplicates = outcome.duplicates
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


def import_file(session: Session, path: Path, *, actor: str, skip_bad_rows: bool, user_id: int | None = None,
                progress: Callable[[ImportProgress], None] | None = None) -> tuple[SpendImport, ImportOutcome]:
    """Register and run an import of ``path`` in this process (the CLI's path)."""
    spend_import = create_import(
        session, path, filename=os.path.basename(path), actor=actor, skip_bad_rows=skip_bad_rows, user_id=user_id
    )
    session.commit()
    outcome = run_import(session, spend_import.id, progress=progress)
    return spend_import, outcome
