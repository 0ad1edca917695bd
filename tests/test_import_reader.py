"""The forked reader process of a large import (app.ingest.batches): its death or failure fails
the import and stores nothing; it never outlives the import."""

from __future__ import annotations

import multiprocessing
import os
import signal

import pytest
from sqlalchemy import func, select

from app.ingest.batches import BATCH_ROWS, ReaderFailed
from app.models import BrandDaySpend, SpendImport, SpendRecord
from app.services import imports as importer
from app.services.imports import create_import, import_file, run_import


@pytest.fixture
def big_file(session, make, tmp_path, monkeypatch):
    """A file of a few batches, read by a reader process (the size threshold lowered to 0)."""
    make.campaign(make.brand("Acme", timezone="America/New_York"), "Search")
    session.commit()
    monkeypatch.setattr(importer, "READER_PROCESS_MIN_BYTES", 0)
    rows = [
        f"Acme,Search,1.00,2026-07-{1 + i % 28:02d}T{i // 60 % 24:02d}:{i % 60:02d}:00Z,tx-{i}"
        for i in range(3 * BATCH_ROWS)
    ]
    path = tmp_path / "big.csv"
    path.write_text("brand,campaign,amount,spent_at,external_id\n" + "\n".join(rows) + "\n")
    return path


def stored(session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(SpendRecord)),
        session.scalar(select(func.coalesce(func.sum(BrandDaySpend.amount_minor), 0))),
    )


def test_a_killed_reader_process_fails_the_import_and_a_retry_imports_every_row_once(session, big_file):
    spend_import = create_import(session, big_file, filename="big.csv", actor="test", skip_bad_rows=False)
    session.commit()
    killed = []

    def kill_the_reader(progress) -> None:
        if not killed:
            (reader,) = multiprocessing.active_children()
            os.kill(reader.pid, signal.SIGKILL)
            killed.append(reader.pid)

    with pytest.raises(ReaderFailed, match=r"stopped \(exit code -9\)"):
        run_import(session, spend_import.id, progress=kill_the_reader)
    session.expire_all()
    assert session.get(SpendImport, spend_import.id).status == "failed"
    assert stored(session) == (0, 0)
    assert multiprocessing.active_children() == []

    _, outcome = import_file(session, big_file, actor="test", skip_bad_rows=False)
    assert (outcome.status, outcome.imported, outcome.duplicates, outcome.message) == ("done", 3 * BATCH_ROWS, 0, None)
    assert stored(session) == (3 * BATCH_ROWS, 3 * BATCH_ROWS * 100)


def test_an_importer_that_stops_early_ends_its_reader_process(session, big_file):
    spend_import = create_import(session, big_file, filename="big.csv", actor="test", skip_bad_rows=False)
    session.commit()

    def stop(progress) -> None:
        raise KeyboardInterrupt  # Ctrl-C in the CLI, or a job timeout

    with pytest.raises(KeyboardInterrupt):
        run_import(session, spend_import.id, progress=stop)
    assert multiprocessing.active_children() == []
    session.expire_all()
    assert session.get(SpendImport, spend_import.id).status == "failed"
    assert stored(session) == (0, 0)
