"""Reading a spend file into batches of rows ready to store, in this process or a second one.

A batch holds the good rows in their stored form (see STAGED_COLUMNS), their
per-brand day totals, and the bad rows. Reading and validating is Python work
and storing is mostly the database's, so for a large file the reading runs in a
forked process (``batches_from_child``) while this one writes the previous
batch: the two cores work at once. The child only reads the file and the
campaign directory it inherited; it never touches the database.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO

from app.ingest.csv_spend import CampaignDirectory, RowError, SpendFileError, SpendRow, read_spend_csv
from app.ingest.dedupe import row_dedupe_key, utc_text

BATCH_ROWS = 20_000
# Rejected rows sent per file; beyond this only the count grows.
MAX_ERRORS = 100_000
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# The order of a staged row's values: what spend_record stores for it, less the import's own columns.
STAGED_COLUMNS = ("campaign_id", "brand_id", "amount_minor", "spent_at", "local_date", "external_id", "dedupe_key")
# A period row (a platform's day or hour figure): its line, the staged values, its period. Not staged: the
# writer replaces stored figures with them (app.services.spend.write_periods).
PERIOD_COLUMNS = ("line", *STAGED_COLUMNS, "period")


@dataclass
class ParsedBatch:
    rows: list[tuple]  # values in STAGED_COLUMNS order; spent_at and local_date as text
    totals: dict[tuple[int, str], int]  # (brand id, local date text) -> amount of these rows
    periods: list[tuple]  # the period rows, in PERIOD_COLUMNS order (not in rows or totals)
    errors: list[RowError]  # the bad rows, up to MAX_ERRORS per file
    rejected: int  # bad rows in this batch, kept or not
    rows_read: int  # data rows read so far in the file
    bytes_read: int  # bytes of the file read so far


def parse_batches(
    handle: BinaryIO,
    directory: CampaignDirectory,
    latest: datetime | None,
    batch_rows: int = BATCH_ROWS,
    *,
    read: Callable[[BinaryIO, CampaignDirectory, datetime | None], Iterator[SpendRow | RowError]] | None = None,
) -> Iterator[ParsedBatch]:
    """Read ``handle`` as a spend CSV and yield it in batches; the last one (maybe empty) ends at the end of the file.

    ``latest`` is the latest spend time accepted (see read_spend_csv). ``read`` reads the rows of another report
    format (app.ingest.formats); by default the file is Pacer's own CSV.

    Raises SpendFileError for a file that cannot be read as spend, also part-way through.
    """
    occurrences: dict[tuple, int] = {}
    day_texts: dict[date, str] = {}  # a file's rows fall on a few days: each day's text is made once
    rows: list[tuple] = []
    periods: list[tuple] = []
    totals: dict[tuple[int, str], int] = defaultdict(int)
    errors: list[RowError] = []
    rows_read = rejected = errors_kept = 0
    for item in (read or read_spend_csv)(handle, directory, latest):
        rows_read += 1
        if type(item) is RowError:
            rejected += 1
            if errors_kept < MAX_ERRORS:
                errors.append(item)
                errors_kept += 1
            continue
        # Unpacked once: a named tuple's attributes cost a lookup each, and this runs for every row of a file.
        line, ref, amount, instant, local_date, external_id, period = item
        spent_at = utc_text(instant)
        day = day_texts.get(local_date)
        if day is None:
            day = day_texts[local_date] = local_date.isoformat()
        key = row_dedupe_key(item, occurrences, spent_at)
        brand_id = ref.brand_id
        if period is not None:
            periods.append((line, ref.campaign_id, brand_id, amount, spent_at, day, external_id, key, period))
        else:
            rows.append((ref.campaign_id, brand_id, amount, spent_at, day, external_id, key))
            totals[(brand_id, day)] += amount
        if len(rows) + len(periods) >= batch_rows:
            yield ParsedBatch(rows, totals, periods, errors, rejected, rows_read, handle.tell())
            rows, totals, periods, errors, rejected = [], defaultdict(int), [], [], 0
    yield ParsedBatch(rows, totals, periods, errors, rejected, rows_read, handle.tell())


def _end_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the broken pipe ends the child at its next send
        return
    if os.getppid() != multiprocessing.parent_process().pid:  # the parent died before prctl took effect
        os._exit(1)


class ReaderFailed(RuntimeError):
    """The process reading the file stopped without finishing it."""


def batches_from_child(make_batches: Callable[[], Iterator[ParsedBatch]]) -> Iterator[ParsedBatch]:
    """Run ``make_batches`` in a forked process and yield its batches here, as they come.

    The pipe holds about one batch, so the child reads at most one batch ahead. A
    SpendFileError in the child is raised here as it was; any other failure there, or
    its death, raises ReaderFailed. Stopping early (an exception in the caller) ends the child.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_produce, args=(make_batches, sender, receiver), name="pacer-import-reader", daemon=True
    )
    child.start()
    sender.close()
    try:
        while True:
            try:
                kind, payload = receiver.recv()
            except (EOFError, OSError):  # gone between messages, or in the middle of one
                child.join(5)
                raise ReaderFailed(f"the file reader process stopped (exit code {child.exitcode})") from None
            if kind == "batch":
                yield payload
            elif kind == "end":
                return
            elif kind == "file-error":
                raise SpendFileError(payload)
            else:
                raise ReaderFailed(f"the file reader process failed:\n{payload}")
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()
        child.join()


def _produce(make_batches: Callable[[], Iterator[ParsedBatch]], sender, receiver) -> None:
    # The child holds copies of the importer's descriptors, its database connection among them. If the
    # importer dies (kill -9), the child must die too, or that connection, and the import's open
    # transaction with its locks, would outlive it: end with the parent (Linux), and keep no read end
    # of the pipe, so a send to a dead importer fails at once (everywhere).
    receiver.close()
    _end_with_parent()
    try:
        for batch in make_batches():
            sender.send(("batch", batch))
        sender.send(("end", None))
    except SpendFileError as exc:
        sender.send(("file-error", str(exc)))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the importer has stopped listening: nothing to tell
    except BaseException:  # noqa: BLE001 - reported to the importer, which fails the import with it
        sender.send(("crash", traceback.format_exc()))
