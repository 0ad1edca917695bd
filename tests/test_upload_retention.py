"""Upload retention: a stored upload is deleted PACER_UPLOAD_RETENTION_DAYS after its import ended, by the
periodic sweep and by `spend prune-uploads`; the import keeps its result, counts and rejected rows, its page
says the file is gone, and a retry is refused. The clock is frozen and moved with time-machine."""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from app import jobs
from app.config import ConfigError, load_config
from app.models import SpendImport, SpendImportError
from app.services import imports as service
from tests.helpers import add_user, sign_in
from tests.test_web_spend import crashed_import

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
CONTENT = (
    b"Brand,Campaign,Amount,Spent_At\nAcme,Search,1.50,2026-10-31T10:00:00Z\nAcme,Nope,2.00,2026-10-31T10:00:00Z\n"
)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def acme(session, make):
    brand = make.brand("Acme", daily="100", monthly="3000")
    make.campaign(brand, "Search")
    session.commit()
    return brand


@pytest.fixture
def finished(session, uploads, acme, clock, redis_unreachable) -> SpendImport:
    """An upload imported at T0, skipping its one bad row."""
    uploads.mkdir()
    path = uploads / "stored.csv"
    path.write_bytes(CONTENT)
    spend_import = service.create_import(session, path, filename="october.csv", actor="test", skip_bad_rows=True)
    session.commit()
    service.run_import(session, spend_import.id)
    session.refresh(spend_import)
    assert (spend_import.status, spend_import.finished_at) == ("done", T0)
    return spend_import


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def prune(app, now):
    return service.prune_uploads(app.extensions["sqlalchemy"].session, now, **jobs.upload_retention(app))


def test_the_file_is_kept_30_days_then_deleted_and_the_result_stays(app, client, session, finished, clock):
    path = Path(finished.stored_path)
    assert app.config["UPLOAD_RETENTION_DAYS"] == 30
    assert (
        service.prune_uploads(
            session, T0 + timedelta(days=30) - timedelta(seconds=1), **jobs.upload_retention(app)
        ).deleted
        == []
    )
    assert path.read_bytes() == CONTENT

    result = service.prune_uploads(session, T0 + timedelta(days=30), **jobs.upload_retention(app))
    assert (result.deleted, result.bytes_freed) == ([finished.id], len(CONTENT))
    assert not path.exists()
    session.refresh(finished)
    assert finished.file_deleted_at == T0 + timedelta(days=30)
    assert (finished.status, finished.rows_read, finished.imported, finished.rejected) == ("done", 2, 1, 1)
    assert [e.line for e in session.query(SpendImportError).filter_by(import_id=finished.id)] == [3]
    # Running it again deletes nothing more.
    assert service.prune_uploads(session, T0 + timedelta(days=31), **jobs.upload_retention(app)).deleted == []

    sign_in(client, add_user(session, "vic@pacer.test", "viewer"))
    page = text_of(client.get(f"/spend/imports/{finished.id}"))
    assert (
        f"The file of import #{finished.id} was deleted on 2026-12-01 (stored uploads are kept for a set number "
        "of days after their import ends); its result, counts and rejected rows are kept."
    ) in page
    assert "deleted on 2026-12-01 12:00 UTC" in page
    own = client.get(f"/spend/imports/{finished.id}/rejected.csv").get_data(as_text=True)
    assert list(csv.reader(io.StringIO(own))) == [
        ["Brand", "Campaign", "Amount", "Spent_At"],
        ["Acme", "Nope", "2.00", "2026-10-31T10:00:00Z"],
    ]
    download = client.get(f"/spend/imports/{finished.id}/rejected-errors.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(download)))
    assert rows == [
        ["line", "error", "Brand", "Campaign", "Amount", "Spent_At"],
        ["3", "Brand 'Acme' has no campaign 'Nope'.", "Acme", "Nope", "2.00", "2026-10-31T10:00:00Z"],
    ]


def test_the_retention_is_configurable(app, session, finished, monkeypatch, tmp_path):
    app.config["UPLOAD_RETENTION_DAYS"] = 7
    assert prune(app, T0 + timedelta(days=6)).deleted == []
    assert prune(app, T0 + timedelta(days=7)).deleted == [finished.id]
    monkeypatch.setenv("PACER_UPLOAD_RETENTION_DAYS", "0")
    assert load_config(tmp_path)["UPLOAD_RETENTION_DAYS"] == 0
    for bad in ("-1", "thirty", "1.5", ""):
        monkeypatch.setenv("PACER_UPLOAD_RETENTION_DAYS", bad)
        with pytest.raises(ConfigError, match="PACER_UPLOAD_RETENTION_DAYS must be a whole number of days, 0 or more"):
            load_config(tmp_path)


def test_a_failed_import_whose_file_is_gone_cannot_be_retried(
    app, client, session, uploads, acme, clock, redis_unreachable
):
    uploads.mkdir()
    path = uploads / "crashed.csv"
    path.write_bytes(CONTENT)
    spend_import = crashed_import(session, path)
    assert service.recover_imports(session, T0)["imports_failed"] == 1
    session.refresh(spend_import)
    assert spend_import.status == "failed"
    assert prune(app, T0 + timedelta(days=30)).deleted == [spend_import.id]

    sign_in(client, add_user(session, "mia@pacer.test", "manager"))
    page = text_of(client.get(f"/spend/imports/{spend_import.id}"))
    assert f"Retry import #{spend_import.id}" not in page and "was deleted on 2026-12-01" in page
    refused = text_of(client.post(f"/spend/imports/{spend_import.id}/retry", follow_redirects=True))
    assert f"The file of import #{spend_import.id} was deleted on 2026-12-01" in refused
    assert "Upload it again to import it." in refused
    session.refresh(spend_import)
    assert spend_import.status == "failed"


def test_running_imports_and_files_outside_the_upload_folder_are_never_deleted(
    app, session, uploads, acme, clock, tmp_path
):
    uploads.mkdir()
    own = tmp_path / "operators-own.csv"  # `spend import FILE` registers the operator's file where it is
    own.write_bytes(CONTENT)
    outside = service.create_import(session, own, filename=own.name, actor="cli", skip_bad_rows=True)
    session.commit()
    service.run_import(session, outside.id)
    waiting = uploads / "waiting.csv"
    waiting.write_bytes(CONTENT)
    queued = service.create_import(session, waiting, filename="waiting.csv", actor="test", skip_bad_rows=True)
    session.commit()
    assert prune(app, T0 + timedelta(days=365)).deleted == []
    assert own.read_bytes() == CONTENT and waiting.read_bytes() == CONTENT
    session.refresh(outside)
    session.refresh(queued)
    assert outside.file_deleted_at is None and queued.file_deleted_at is None


def test_the_periodic_sweep_deletes_expired_uploads(app, session, finished, clock):
    import_id = finished.id
    clock.move_to(T0 + timedelta(days=29))
    assert jobs.sweep()["uploads_deleted"] == 0
    clock.move_to(T0 + timedelta(days=30, minutes=1))
    assert jobs.sweep()["uploads_deleted"] == 1
    assert session.get(SpendImport, import_id).file_deleted_at == T0 + timedelta(days=30, minutes=1)


def test_the_prune_uploads_command(app, runner, session, finished, clock):
    clock.move_to(T0 + timedelta(days=10))
    result = runner.invoke(args=["spend", "prune-uploads"])
    assert result.exit_code == 0, result.output
    assert result.output == "Deleted 0 stored uploads kept more than 30 days after their import ended.\n"
    result = runner.invoke(args=["spend", "prune-uploads", "--days", "10"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Deleted 1 stored upload kept more than 10 days after their import ended "
        f"(#{finished.id}; {len(CONTENT)} bytes freed).\n"
    )
    for bad in ("-1", "ten"):
        result = runner.invoke(args=["spend", "prune-uploads", "--days", bad])
        assert result.exit_code == 2 and "Invalid value for '--days'" in result.output


def test_a_relative_upload_folder_is_pruned_too(app, session, acme, clock, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app.config["UPLOAD_FOLDER"] = "instance/uploads"  # PACER_INSTANCE_PATH=instance
    folder = Path("instance/uploads")
    folder.mkdir(parents=True)
    (folder / "relative.csv").write_bytes(CONTENT)
    spend_import = service.create_import(
        session, folder / "relative.csv", filename="relative.csv", actor="test", skip_bad_rows=True
    )
    session.commit()
    service.run_import(session, spend_import.id)
    assert spend_import.stored_path == "instance/uploads/relative.csv"
    assert prune(app, T0 + timedelta(days=30)).deleted == [spend_import.id]
    assert not (folder / "relative.csv").exists()
