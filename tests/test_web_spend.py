"""Spend pages: the upload form and every bad-file class, the 413 page, the import page
(progress while queued, result, bad rows, rejected-rows CSV), retry, the history, and roles.

Imports run here in-process through run_import, the function the RQ job calls; the real
worker processes are in test_import_job.py. Redis is the session's real server where a
job must be queued, or a port nobody listens on.
"""

from __future__ import annotations

import csv
import gc
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.job import Job
from sqlalchemy import func, select

from app.extensions import db
from app.models import BrandDaySpend, SpendImport, SpendRecord, utcnow
from app.queue import IMPORT_FAILURE_TTL, IMPORT_RESULT_TTL, QUEUE_IMPORTS
from app.services import imports as service
from app.services.imports import file_sha256, run_import, this_process
from tests.helpers import add_user, sign_in

HEADER = "brand,campaign,amount,spent_at"


# --- helpers -----------------------------------------------------------------------------------


def text_of(response) -> str:
    return response.get_data(as_text=True)


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


BOUNDARY = "pacer-test-boundary"


def multipart(content: bytes, name: str, mode: str | None = "all") -> bytes:
    """A multipart/form-data body with the file and the mode, as a browser sends it.

    Built here rather than by the test client, which spools large bodies to an unclosed temp file.
    """
    mode_part = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="mode"\r\n\r\n{mode}\r\n' if mode is not None else ""
    )
    head = (
        f'{mode_part}--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    )
    return head.encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def post_file(client, content: bytes, *, name: str = "spend.csv", mode: str = "all", follow: bool = False):
    return client.post(
        "/spend/upload",
        data=multipart(content, name, mode),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        follow_redirects=follow,
    )


def upload(client, content: bytes, *, name: str = "spend.csv", mode: str = "all") -> SpendImport:
    """Upload through the page; returns the import it created (redirected to its page)."""
    response = post_file(client, content, name=name, mode=mode)
    assert response.status_code == 302, text_of(response)
    match = re.fullmatch(r".*/spend/imports/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    spend_import = db.session.get(SpendImport, int(match.group(1)))
    db.session.refresh(spend_import)
    return spend_import


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def day_totals() -> dict:
    return dict(db.session.execute(select(BrandDaySpend.local_date, BrandDaySpend.amount_minor)).all())


def dead_pid() -> int:
    """The pid of a process that has exited and been collected."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def flash_texts(page: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip() for m in re.findall(r'<div class="flash[^"]*"[^>]*>(.*?)</div>', page, re.S)]


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def acme(session, make):
    brand = make.brand("Acme", daily="100", monthly="3000")
    make.campaign(brand, "Search")
    make.campaign(brand, "Display")
    session.commit()
    return brand


@pytest.fixture
def manager(session):
    return add_user(session, "mia@pacer.test", "manager")


@pytest.fixture
def viewer(session):
    return add_user(session, "vic@pacer.test", "viewer")


@pytest.fixture
def as_manager(client, manager):
    sign_in(client, manager)
    return client


@pytest.fixture
def as_viewer(client, viewer):
    sign_in(client, viewer)
    return client


GOOD = csv_bytes(
    HEADER,
    "Acme,Search,1.50,2026-11-25T10:00:00Z",
    "Acme,Search,1.50,2026-11-25T10:00:00Z",
    "Acme,Display,2.25,2026-11-25 09:00",
)


# --- the upload form ---------------------------------------------------------------------------


def test_upload_form_has_a_file_input_and_all_or_nothing_by_default(as_manager):
    response = as_manager.get("/spend/upload")
    page = text_of(response)
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in page
    assert re.search(r'<input[^>]*type="file"[^>]*name="file"', page) or re.search(
        r'<input[^>]*name="file"[^>]*type="file"', page
    )
    radios = re.findall(r'<input[^>]*name="mode"[^>]*>', page)
    assert len(radios) == 2
    checked = [r for r in radios if "checked" in r]
    assert len(checked) == 1 and 'value="all"' in checked[0]
    assert "All or nothing" in page and "Skip bad rows" in page
    assert "Up to 200 MB" in page


def test_no_file_chosen_is_an_inline_error(as_manager, uploads, acme):
    response = as_manager.post(
        "/spend/upload", data=f"--{BOUNDARY}--\r\n", content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    assert response.status_code == 400
    assert "Choose a CSV file to upload." in text_of(response)
    assert count(SpendImport) == 0


def test_an_unknown_mode_is_refused(as_manager, uploads, acme):
    response = post_file(as_manager, GOOD, mode="sometimes")
    assert response.status_code == 400
    assert "Not a valid choice" in text_of(response)
    assert count(SpendImport) == 0 and not list(uploads.glob("*"))


# --- bad files store nothing -------------------------------------------------------------------

MANY_ROWS = csv_bytes(HEADER, *["Acme,Search,1.00,2026-11-25T10:00:00Z"] * 40_000)  # 1.5 MiB: past the first block
LATIN1_LATE = MANY_ROWS + "Caf\xe9,Search,1,2026-11-25T10:00Z\n".encode("latin-1")

BAD_FILES = {
    "empty": (b"", "The file is empty"),
    "blank-lines": (b"\n \r\n\t\n", "The file is empty"),
    "unknown-column": (
        csv_bytes("brand,campaign,cost,spent_at", "Acme,Search,1,2026-11-25 09:00"),
        "Unknown column &#39;cost&#39; in the header (line 1)",
    ),
    "missing-column": (
        csv_bytes("brand,campaign,amount", "Acme,Search,1"),
        "Missing column spent_at in the header (line 1)",
    ),
    "duplicate-column": (csv_bytes("brand,campaign,amount,amount,spent_at"), "Column amount appears twice"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "This is a binary file"),
    "utf-16": (
        "brand,campaign,amount,spent_at\n".encode("utf-16"),
        "This file is UTF-16 text, not UTF-8: save it again as “CSV UTF-8”",
    ),
    "latin-1-header": (
        "brand,campa\xf1a,amount,spent_at\n".encode("latin-1"),
        "The file is not UTF-8 text (invalid byte 0xf1 on line 1)",
    ),
    "latin-1-after-1MiB": (LATIN1_LATE, "The file is not UTF-8 text (invalid byte 0xe9 on line 40002)"),
    "nul-after-1MiB": (MANY_ROWS + b"Acme,Search,1\x00,2026-11-25T10:00Z\n", "a NUL byte on line 40002"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_bad_file_is_refused_before_queueing_and_stores_nothing(as_manager, uploads, acme, redis_connection, kind):
    content, message = BAD_FILES[kind]
    response = post_file(as_manager, content)
    page = text_of(response)
    assert response.status_code == 400
    assert message in page
    assert 'class="field-error"' in page  # shown at the file field
    assert count(SpendImport) == 0 and count(SpendRecord) == 0
    assert not uploads.exists() or list(uploads.iterdir()) == []
    assert Queue(QUEUE_IMPORTS, connection=redis_connection).count == 0


def test_a_file_over_the_limit_gets_the_413_page_and_stores_nothing(app, as_manager, uploads, acme):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    assert len(MANY_ROWS) > 1024 * 1024
    response = post_file(as_manager, MANY_ROWS)
    page = text_of(response)
    assert response.status_code == 413
    assert "File too large" in page and "larger than the limit of 1 MB" in page
    assert count(SpendImport) == 0 and (not uploads.exists() or list(uploads.iterdir()) == [])


# Werkzeug's form parser drops the temp file it was filling when the limit stops it, unclosed:
# CPython closes it when collected, with a ResourceWarning. Collected inside this test.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_limit_hit_mid_stream_without_a_length_gets_the_413_page(app, as_manager, uploads, acme):
    # A chunked upload has no Content-Length: the limit is found while the body is read.
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    body = multipart(MANY_ROWS, "big.csv")
    # As a server passes a chunked request on: no length, a stream the server terminates.
    response = as_manager.post(
        "/spend/upload",
        input_stream=io.BytesIO(body),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        environ_overrides={"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True},
    )
    assert response.request.content_length is None
    assert response.status_code == 413
    assert "File too large" in text_of(response)
    assert count(SpendImport) == 0 and (not uploads.exists() or list(uploads.iterdir()) == [])
    del response
    gc.collect()


# --- a good upload -----------------------------------------------------------------------------


def test_a_good_upload_is_stored_and_queued_by_id_only(as_manager, manager, uploads, acme, redis_connection):
    spend_import = upload(as_manager, GOOD, name="/home/mia/exports/November spend.csv")

    assert (spend_import.status, spend_import.filename, spend_import.skip_bad_rows) == (
        "queued",
        "November spend.csv",
        False,
    )
    assert (spend_import.user_id, spend_import.actor) == (manager.id, "user:mia@pacer.test")
    stored = Path(spend_import.stored_path)
    assert stored.parent == uploads and stored.suffix == ".csv" and stored.read_bytes() == GOOD
    assert list(uploads.iterdir()) == [stored]  # no partial file left behind
    assert spend_import.sha256 == file_sha256(stored) and spend_import.size_bytes == len(GOOD)

    [job_id] = Queue(QUEUE_IMPORTS, connection=redis_connection).job_ids
    assert spend_import.job_id == job_id
    job = Job.fetch(job_id, connection=redis_connection)
    assert (job.func_name, job.args, job.kwargs) == ("app.jobs.import_spend", (spend_import.id,), {})
    assert (job.timeout, job.result_ttl, job.failure_ttl) == (
        service.IMPORT_JOB_TIMEOUT,
        IMPORT_RESULT_TTL,
        IMPORT_FAILURE_TTL,
    )

    page = text_of(as_manager.get(f"/spend/imports/{spend_import.id}"))
    assert "Import #1 of “November spend.csv” is queued." in flash_texts(page)
    assert "Waiting for a worker to pick it up" in page
    assert f'data-progress-url="/spend/imports/{spend_import.id}/progress"' in page
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert "js/import_progress.js" in page


def test_skip_bad_rows_mode_is_stored(as_manager, uploads, acme, redis_connection):
    assert upload(as_manager, GOOD, mode="skip").skip_bad_rows is True


def test_progress_json_while_queued_and_when_done(as_manager, uploads, acme, redis_connection):
    spend_import = upload(as_manager, GOOD)
    response = as_manager.get(f"/spend/imports/{spend_import.id}/progress")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    queued = response.get_json()
    assert (queued["status"], queued["finished"], queued["percent"], queued["rows_read"]) == ("queued", False, 0.0, 0)
    assert queued["bytes_total"] == len(GOOD)

    run_import(db.session, spend_import.id)
    done = as_manager.get(f"/spend/imports/{spend_import.id}/progress").get_json()
    assert (done["status"], done["finished"], done["percent"], done["eta_s"]) == ("done", True, 100.0, 0)
    assert (done["rows_read"], done["imported"], done["duplicates"], done["rejected"]) == (3, 3, 0, 0)
    assert done["attempts"] == 1


# --- Redis unreachable at upload ---------------------------------------------------------------


def test_redis_down_keeps_the_import_queued_and_it_is_queued_once_redis_is_back(
    app, as_manager, uploads, acme, redis_unreachable, redis_server
):
    response = post_file(as_manager, GOOD, follow=True)
    page = text_of(response)
    spend_import = db.session.scalars(select(SpendImport)).one()
    assert (spend_import.status, spend_import.job_id) == ("queued", None)
    assert Path(spend_import.stored_path).read_bytes() == GOOD
    warning = next(t for t in flash_texts(page) if "could not be queued" in t)
    assert "(Redis is unreachable)" in warning and "The periodic sweep queues it as soon as Redis answers" in warning
    assert "Not queued yet: the job queue (Redis) was unreachable" in page
    assert f'action="/spend/imports/{spend_import.id}/retry"' in page

    # Retrying while Redis is still down says so and keeps the import.
    again = text_of(as_manager.post(f"/spend/imports/{spend_import.id}/retry", follow_redirects=True))
    assert any("could not be queued (Redis is unreachable)" in t for t in flash_texts(again))

    # Redis is back: a look at the import only reads; the periodic sweep queues it, once.
    connection = redis.Redis.from_url(redis_server)
    connection.flushdb()
    app.extensions.pop("pacer_redis", None)
    app.config["REDIS_URL"] = redis_server
    progress = as_manager.get(f"/spend/imports/{spend_import.id}/progress").get_json()
    assert progress["status"] == "queued"
    assert Queue(QUEUE_IMPORTS, connection=connection).count == 0
    assert service.recover_imports(db.session, utcnow()) == {"imports_failed": 0, "imports_queued": 1}
    db.session.refresh(spend_import)
    assert Queue(QUEUE_IMPORTS, connection=connection).job_ids == [spend_import.job_id]
    assert service.recover_imports(db.session, utcnow()) == {"imports_failed": 0, "imports_queued": 0}
    assert Queue(QUEUE_IMPORTS, connection=connection).count == 1  # queued once, not at every sweep
    for client in app.extensions.pop("pacer_redis", {}).values():
        client.close()
    connection.close()


# --- the finished page -------------------------------------------------------------------------


def test_done_page_shows_the_counts(as_manager, uploads, acme, redis_unreachable):
    spend_import = upload(as_manager, GOOD)
    run_import(db.session, spend_import.id)
    page = text_of(as_manager.get(f"/spend/imports/{spend_import.id}"))
    counts = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", page))
    assert {k: counts[k] for k in ("Rows read", "Imported", "Duplicates", "Rejected", "Brands affected")} == {
        "Rows read": "3",
        "Imported": "3",
        "Duplicates": "0",
        "Rejected": "0",
        "Brands affected": "1",
    }
    assert "Imported 3 new rows of 3 read." in page
    assert "data-progress-url" not in page and "http-equiv" not in page
    assert spend_import.sha256 in page
    assert "Retry import" not in page  # done: nothing to retry
    assert "Bad rows" not in page


def test_the_same_file_again_is_recognised_and_adds_nothing(as_manager, uploads, acme, redis_unreachable):
    first = upload(as_manager, GOOD)
    run_import(db.session, first.id)
    totals = day_totals()

    response = post_file(as_manager, GOOD, name="copy.csv", follow=True)
    second = db.session.scalars(select(SpendImport).where(SpendImport.id != first.id)).one()
    notice = f"This file was already imported on {first.created_at:%Y-%m-%d %H:%M} UTC as import #{first.id}"
    assert any(notice in t for t in flash_texts(text_of(response)))

    run_import(db.session, second.id)
    db.session.refresh(second)
    assert (second.status, second.rows_read, second.imported, second.duplicates) == ("done", 3, 0, 3)
    assert count(SpendRecord) == 3 and day_totals() == totals
    page = re.sub(r"\s+", " ", text_of(as_manager.get(f"/spend/imports/{second.id}")))
    assert f"This file was already imported on {first.created_at:%Y-%m-%d %H:%M} UTC as" in page
    assert f'<a href="/spend/imports/{first.id}">import #{first.id}</a>' in page
    assert "Every row was already imported: nothing new was added." in page
    # The first import's own page makes no such claim.
    assert "already imported" not in text_of(as_manager.get(f"/spend/imports/{first.id}"))


def test_bad_rows_are_listed_with_line_numbers_100_per_page(as_manager, uploads, acme, redis_unreachable):
    rows = [f"Nobody{i},Search,1.00,2026-11-25T10:00:00Z" for i in range(150)]
    spend_import = upload(as_manager, csv_bytes(HEADER, "Acme,Search,2.00,2026-11-25T10:00:00Z", *rows), mode="skip")
    run_import(db.session, spend_import.id)

    page = text_of(as_manager.get(f"/spend/imports/{spend_import.id}"))
    lines = re.findall(r'<td data-label="Line">(\d+)</td>', page)
    assert lines == [str(n) for n in range(3, 103)]
    assert "Unknown brand &#39;Nobody0&#39;." in page
    assert "Page 1 of 2 · 150 in all" in page
    second = text_of(as_manager.get(f"/spend/imports/{spend_import.id}?page=2"))
    assert re.findall(r'<td data-label="Line">(\d+)</td>', second) == [str(n) for n in range(103, 153)]
    assert "Unknown brand &#39;Nobody149&#39;." in second
    beyond = text_of(as_manager.get(f"/spend/imports/{spend_import.id}?page=9"))
    assert "No bad rows on this page" in beyond
    assert count(SpendRecord) == 1


def test_all_or_nothing_with_bad_rows_imports_nothing_and_says_so(as_manager, uploads, acme, redis_unreachable):
    content = csv_bytes(HEADER, "Acme,Search,1.00,2026-11-25T10:00:00Z", "Acme,Search,abc,2026-11-25T10:00:00Z")
    spend_import = upload(as_manager, content)
    run_import(db.session, spend_import.id)
    page = text_of(as_manager.get(f"/spend/imports/{spend_import.id}"))
    assert "1 bad row: nothing was imported (all or nothing)." in page
    assert re.findall(r'<td data-label="Line">(\d+)</td>', page) == ["3"]
    assert "Retry import" not in page  # rejected is final: fix the file and upload again
    assert count(SpendRecord) == 0 and day_totals() == {}


def test_rejected_rows_with_errors_csv_has_an_error_column_and_neutralises_formulas(as_viewer, session, uploads, acme):
    content = csv_bytes(
        "Brand,Campaign,Amount,Spent_At,External_Id",
        "Acme,Search,1.00,2026-11-25T10:00:00Z,ok-1",
        '=HYPERLINK("http://evil.test"),Search,1.00,2026-11-25T10:00:00Z,x-1',
        "Acme,+Search,1.00,2026-11-25T10:00:00Z,x-2",
        "Acme,Search,-1.00,2026-11-25T10:00:00Z,x-3",
        "Acme,Search,1.00,@SUM(A1),x-4",
        'Acme,"\tNope",1.00,2026-11-25T10:00:00Z,x-5',
        'Acme,"Sea,rch",1.00,2026-11-25T10:00:00Z,"x-6"',
        'Acme,"\rNope",1.00,2026-11-25T10:00:00Z,x-7',
    )
    path = uploads / "x.csv"
    uploads.mkdir()
    path.write_bytes(content)
    from app.services.imports import create_import

    spend_import = create_import(session, path, filename="x.csv", actor="test", skip_bad_rows=True)
    session.commit()
    run_import(session, spend_import.id)

    response = as_viewer.get(f"/spend/imports/{spend_import.id}/rejected-errors.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="import-{spend_import.id}-rejected-errors.csv"'
    )
    rows = list(csv.reader(io.StringIO(text_of(response))))
    assert rows[0] == ["line", "error", "Brand", "Campaign", "Amount", "Spent_At", "External_Id"]
    by_line = {row[0]: row for row in rows[1:]}
    assert sorted(by_line, key=int) == ["3", "4", "5", "6", "7", "8", "9"]
    assert by_line["3"][2] == '\'=HYPERLINK("http://evil.test")'
    assert by_line["3"][1].startswith("Unknown brand '=HYPERLINK")
    assert by_line["4"][3] == "'+Search"
    assert by_line["5"][4] == "-1.00"  # a plain number is not a formula: it stays as it was
    assert by_line["6"][5] == "'@SUM(A1)"
    assert by_line["7"][3] == "'\tNope"
    assert by_line["9"][3] == "'\rNope"
    assert by_line["8"][2:] == ["Acme", "Sea,rch", "1.00", "2026-11-25T10:00:00Z", "x-6"]
    for row in rows:
        for cell in row:
            assert cell == "-1.00" or not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_rejected_csv_when_the_stored_file_is_gone_keeps_the_raw_row(as_viewer, session, uploads, acme):
    uploads.mkdir()
    path = uploads / "gone.csv"
    path.write_bytes(csv_bytes(HEADER, "Acme,Nope,1.00,2026-11-25T10:00:00Z"))
    from app.services.imports import create_import

    spend_import = create_import(session, path, filename="gone.csv", actor="test", skip_bad_rows=True)
    session.commit()
    run_import(session, spend_import.id)
    path.unlink()
    own = text_of(as_viewer.get(f"/spend/imports/{spend_import.id}/rejected.csv"))
    assert own == "Acme,Nope,1.00,2026-11-25T10:00:00Z\r\n"  # no header known: the rows alone
    rows = list(
        csv.reader(io.StringIO(text_of(as_viewer.get(f"/spend/imports/{spend_import.id}/rejected-errors.csv"))))
    )
    assert rows == [
        ["line", "error", "row"],
        ["2", "Brand 'Acme' has no campaign 'Nope'.", "Acme,Nope,1.00,2026-11-25T10:00:00Z"],
    ]


# --- crashed runs and retry --------------------------------------------------------------------


def crashed_import(session, path: Path, *, skip_bad_rows: bool = False) -> SpendImport:
    """An import left 'running' by a process that is gone (as after kill -9 of its worker)."""
    from app.services.imports import create_import

    spend_import = create_import(session, path, filename=path.name, actor="test", skip_bad_rows=skip_bad_rows)
    host_ns = this_process().rpartition(" ")[0]
    spend_import.status, spend_import.runner, spend_import.attempts = "running", f"{host_ns} {dead_pid()}", 1
    spend_import.started_at = spend_import.created_at
    session.commit()
    return spend_import


def test_a_run_whose_process_died_shows_failed_and_retry_imports_it(
    as_manager, session, uploads, acme, redis_connection
):
    uploads.mkdir()
    path = uploads / "spend.csv"
    path.write_bytes(GOOD)
    spend_import = crashed_import(session, path)

    assert "Failed — " not in text_of(as_manager.get(f"/spend/imports/{spend_import.id}"))  # a GET only reads
    assert service.recover_imports(session, utcnow())["imports_failed"] == 1  # the periodic sweep's part
    page = text_of(as_manager.get(f"/spend/imports/{spend_import.id}"))
    assert "Failed — The worker stopped during the import" in page
    assert "Retry it." in page
    assert f'action="/spend/imports/{spend_import.id}/retry"' in page
    session.refresh(spend_import)
    assert spend_import.status == "failed" and spend_import.finished_at is not None

    response = as_manager.post(f"/spend/imports/{spend_import.id}/retry", follow_redirects=True)
    assert any("is queued again; it adds only the rows that are missing" in t for t in flash_texts(text_of(response)))
    session.refresh(spend_import)
    assert spend_import.status == "queued"
    assert Queue(QUEUE_IMPORTS, connection=redis_connection).job_ids == [spend_import.job_id]

    run_import(session, spend_import.id)
    session.refresh(spend_import)
    assert (spend_import.status, spend_import.imported, spend_import.attempts) == ("done", 3, 2)
    assert count(SpendRecord) == 3


def test_the_import_list_shows_a_dead_run_once_the_sweep_found_it(as_viewer, session, uploads, acme, redis_unreachable):
    uploads.mkdir()
    path = uploads / "spend.csv"
    path.write_bytes(GOOD)
    spend_import = crashed_import(session, path)
    assert "import-failed" not in text_of(as_viewer.get("/spend/imports"))
    assert service.recover_imports(session, utcnow()) == {"imports_failed": 1, "imports_queued": 0}
    page = text_of(as_viewer.get("/spend/imports"))
    assert '<span class="import-status import-failed">Failed</span>' in page
    session.refresh(spend_import)
    assert spend_import.status == "failed"


def test_a_live_run_is_left_running_and_cannot_be_retried(as_manager, session, uploads, acme, redis_unreachable):
    from app.services.imports import claim_import, create_import

    uploads.mkdir()
    path = uploads / "spend.csv"
    path.write_bytes(GOOD)
    spend_import = create_import(session, path, filename="spend.csv", actor="test", skip_bad_rows=False)
    session.commit()
    claim_import(session, spend_import.id, now=spend_import.created_at)  # this (live) process runs it
    page = text_of(as_manager.get(f"/spend/imports/{spend_import.id}"))
    assert "Reading and saving rows" in page and "Retry import" not in page
    response = as_manager.post(f"/spend/imports/{spend_import.id}/retry", follow_redirects=True)
    assert any(f"Import #{spend_import.id} is still running" in t for t in flash_texts(text_of(response)))
    session.refresh(spend_import)
    assert spend_import.status == "running"


@pytest.mark.parametrize("problem", ["done", "changed", "missing"])
def test_retry_is_refused_with_a_reason(as_manager, session, uploads, acme, redis_connection, problem):
    uploads.mkdir()
    path = uploads / "spend.csv"
    path.write_bytes(GOOD)
    spend_import = crashed_import(session, path)
    if problem == "done":
        spend_import.status = "done"
        session.commit()
        expected = f"Import #{spend_import.id} has already finished (done); upload the file again"
    elif problem == "changed":
        path.write_bytes(GOOD + b"Acme,Search,9.99,2026-11-25T11:00:00Z\n")
        expected = (
            f"The file of import #{spend_import.id} has changed since it was registered (its sha256 differs); "
            "import it again as a new file."
        )
    else:
        path.unlink()
        expected = f"The file of import #{spend_import.id} is no longer stored; upload it again."
    response = as_manager.post(f"/spend/imports/{spend_import.id}/retry", follow_redirects=True)
    assert response.status_code == 200
    assert any(expected in t for t in flash_texts(text_of(response)))
    assert Queue(QUEUE_IMPORTS, connection=redis_connection).count == 0
    assert count(SpendRecord) == 0


# --- the history -------------------------------------------------------------------------------


def test_history_lists_who_when_file_sha_mode_status_and_counts(
    as_manager, manager, session, uploads, acme, redis_unreachable
):
    first = upload(as_manager, GOOD, name="week-47.csv")
    run_import(session, first.id)
    second = upload(as_manager, csv_bytes(HEADER, "Acme,Nope,1,2026-11-25T10:00:00Z"), name="bad.csv", mode="skip")
    run_import(session, second.id)

    page = text_of(as_manager.get("/spend/imports"))
    assert page.index("bad.csv") < page.index("week-47.csv")  # newest first
    assert f'<code class="sha" title="{first.sha256}">{first.sha256[:12]}</code>' in page
    assert "mia@pacer.test" in page
    assert f"{first.created_at:%Y-%m-%d %H:%M}" in page
    assert "All or nothing" in page and "Skip bad rows" in page
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)[1:]
    cells = [re.findall(r'data-label="(\w+)" class="num">([\d,]+)<', row) for row in rows]
    assert cells == [
        [("Rows", "1"), ("Imported", "0"), ("Duplicates", "0"), ("Rejected", "1")],
        [("Rows", "3"), ("Imported", "3"), ("Duplicates", "0"), ("Rejected", "0")],
    ]
    assert page.count('<span class="import-status import-done">Done</span>') == 2
    assert f'href="/spend/imports/{first.id}"' in page and "Upload a spend file" in page


def test_history_shows_cli_imports_and_paginates(as_viewer, session, tmp_path, acme):
    from app.services.imports import create_import

    path = tmp_path / "x.csv"
    path.write_bytes(GOOD)
    for _ in range(service.HISTORY_PER_PAGE + 1):
        create_import(session, path, filename="x.csv", actor="cli", skip_bad_rows=False)
    session.commit()
    page = text_of(as_viewer.get("/spend/imports"))
    assert "command line" in page and "Page 1 of 2" in page
    assert "Upload a spend file" not in page  # viewers cannot upload
    assert page.count('<span class="import-status import-queued">Queued</span>') == service.HISTORY_PER_PAGE
    assert text_of(as_viewer.get("/spend/imports?page=2")).count("import-status import-queued") == 1


def test_empty_history_invites_an_upload(as_manager):
    page = text_of(as_manager.get("/spend/imports"))
    assert "No imports yet" in page and 'href="/spend/upload"' in page


# --- roles -------------------------------------------------------------------------------------


def test_viewer_cannot_upload_or_retry_but_can_read(as_viewer, session, uploads, acme, redis_unreachable):
    uploads.mkdir()
    path = uploads / "spend.csv"
    path.write_bytes(GOOD)
    spend_import = crashed_import(session, path)

    assert as_viewer.get("/spend/upload").status_code == 403
    assert post_file(as_viewer, GOOD).status_code == 403
    assert as_viewer.post(f"/spend/imports/{spend_import.id}/retry").status_code == 403
    assert count(SpendImport) == 1 and list(uploads.iterdir()) == [path]

    page = text_of(as_viewer.get(f"/spend/imports/{spend_import.id}"))
    assert "Retry import" not in page and "Upload another file" not in page
    assert as_viewer.get(f"/spend/imports/{spend_import.id}/progress").status_code == 200
    assert as_viewer.get(f"/spend/imports/{spend_import.id}/rejected.csv").status_code == 200
    assert as_viewer.get("/spend/imports").status_code == 200


def test_admin_can_upload(client, session, uploads, acme, redis_unreachable):
    sign_in(client, add_user(session, "ada@pacer.test", "admin"))
    assert upload(client, GOOD).status == "queued"


def test_anonymous_users_are_sent_to_login(client, acme):
    for url in (
        "/spend/upload",
        "/spend/imports",
        "/spend/imports/1",
        "/spend/imports/1/progress",
        "/spend/imports/1/rejected.csv",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    assert client.post("/spend/imports/1/retry").status_code == 302


@pytest.mark.parametrize("url", ["/spend/imports/99", "/spend/imports/99/progress", "/spend/imports/99/rejected.csv"])
def test_unknown_import_is_404(as_viewer, url):
    assert as_viewer.get(url).status_code == 404


def test_retry_of_unknown_import_is_404(as_manager):
    assert as_manager.post("/spend/imports/99/retry").status_code == 404


def test_csrf_is_enforced_on_upload_and_retry(app, as_manager, uploads, acme):
    app.config["WTF_CSRF_ENABLED"] = True
    assert post_file(as_manager, GOOD).status_code == 400
    assert as_manager.post("/spend/imports/1/retry").status_code == 400
    assert count(SpendImport) == 0 and not uploads.exists()
    # The page's own form carries the token.
    assert 'name="csrf_token"' in text_of(as_manager.get("/spend/upload"))


def test_process_alive_tells_a_dead_process_from_a_live_one_on_this_host():
    host_ns = this_process().rpartition(" ")[0]
    assert service.process_alive(this_process()) is True
    assert service.process_alive(f"{host_ns} {os.getppid()}") is True
    assert service.process_alive(f"{host_ns} {dead_pid()}") is False
    assert service.process_alive(f"elsewhere 1 {os.getpid()}") is None
    assert service.process_alive(None) is None
