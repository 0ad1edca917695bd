"""/rq (rq-dashboard): state changes only from Pacer's own pages, and wrong arguments are 400/404 (issue 12)."""

from __future__ import annotations

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry

from app.queue import QUEUE_IMPORTS, QUEUE_SWEEPS
from tests.helpers import add_user, sign_in

pytestmark = pytest.mark.redis
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


@pytest.fixture
def admin_client(client, session, redis_connection):
    sign_in(client, add_user(session, "admin@pacer.test", "admin"))
    return client


def failed_job(connection) -> Job:
    """A job in the imports queue's failed registry, as a crashed import leaves it."""
    queue = Queue(QUEUE_IMPORTS, connection=connection)
    job = queue.enqueue("builtins.print", "x")
    queue.remove(job)
    FailedJobRegistry(QUEUE_IMPORTS, connection=connection).add(job, ttl=600, exc_string="boom")
    return job


def test_a_cross_site_get_cannot_requeue_failed_jobs(admin_client, redis_connection):
    failed_job(redis_connection)
    registry = FailedJobRegistry(QUEUE_IMPORTS, connection=redis_connection)
    for headers in (
        {"Sec-Fetch-Site": "cross-site"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "https://evil.example"},
        {},
    ):
        response = admin_client.get(f"/rq/requeue/{QUEUE_IMPORTS}", headers=headers)
        assert response.status_code == 403, headers
        assert "own pages; this request came from elsewhere" in response.get_data(as_text=True)
    assert registry.count == 1
    assert Queue(QUEUE_IMPORTS, connection=redis_connection).count == 0
    allowed = admin_client.post(f"/rq/requeue/{QUEUE_IMPORTS}", headers={"Referer": "http://pacer.test/rq/"})
    assert allowed.status_code == 200 and allowed.get_json()["count"] == 1
    assert Queue(QUEUE_IMPORTS, connection=redis_connection).count == 1


def test_reading_pages_need_no_origin(admin_client):
    assert admin_client.get("/rq/").status_code == 200
    assert admin_client.get("/rq/0/data/queues.json").status_code == 200


def test_the_dashboard_has_its_own_looser_policy_and_is_never_framed(admin_client):
    response = admin_client.get("/rq/")
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/rq/0/view/job/no-such-job", 404),
        ("GET", "/rq/0/data/job/no-such-job.json", 404),
        ("POST", "/rq/job/no-such-job/requeue", 404),
        ("POST", "/rq/job/no-such-job/delete", 404),
        ("GET", f"/rq/0/data/jobs/{QUEUE_SWEEPS}/queued/abc/asc/1.json", 400),
        ("GET", f"/rq/0/data/jobs/{QUEUE_SWEEPS}/queued/0/asc/1.json", 400),
        ("GET", f"/rq/0/data/jobs/{QUEUE_SWEEPS}/queued/8/asc/zz.json", 400),
        ("GET", f"/rq/0/data/jobs/{QUEUE_SWEEPS}/queued/8/sideways/1.json", 400),
        ("GET", f"/rq/0/view/jobs/{QUEUE_SWEEPS}/queued/0/asc/1", 400),
        ("GET", f"/rq/0/data/jobs/{QUEUE_SWEEPS}/nonsense/8/asc/1.json", 404),
        ("GET", f"/rq/0/view/jobs/{QUEUE_SWEEPS}/nonsense/8/asc/1", 404),
        ("POST", f"/rq/queue/{QUEUE_SWEEPS}/nonsense/empty", 404),
        ("GET", "/rq/1/", 404),
        ("GET", "/rq/7/data/queues.json", 404),
    ],
)
def test_wrong_arguments_are_clear_errors(admin_client, method, path, status):
    response = admin_client.open(path, method=method, headers=SAME_ORIGIN)
    assert response.status_code == status
    assert "<h1" in response.get_data(as_text=True) or response.is_json


def test_compacting_an_empty_queue_is_a_no_op(admin_client, redis_connection):
    response = admin_client.post("/rq/queue/never-used/compact", headers=SAME_ORIGIN)
    assert response.status_code == 200 and response.get_json() == {"status": "OK"}
    job = Queue(QUEUE_SWEEPS, connection=redis_connection).enqueue("builtins.print", "x")
    assert admin_client.post(f"/rq/queue/{QUEUE_SWEEPS}/compact", headers=SAME_ORIGIN).status_code == 200
    assert Queue(QUEUE_SWEEPS, connection=redis_connection).job_ids == [job.id]


def test_the_dashboard_leads_back_to_pacer(admin_client):
    # Finding 12 of issue 16: Pacer's copy of the dashboard's navbar, with Pacer's stylesheet for phones.
    for path in ("/rq/", "/rq/0/view/workers", "/rq/0/view/jobs"):
        page = admin_client.get(path).get_data(as_text=True)
        assert '<a href="/">← Back to Pacer</a>' in page, path
        assert "/static/css/rq.css" in page
