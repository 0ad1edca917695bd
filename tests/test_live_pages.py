"""Live pages (app/web/live.py, static/js/live.js): each live page carries an ETag derived from what it
shows; asked again with it, an unchanged page answers 304 without rendering, and a change (a spend, a
pause, a new event, an import that starts) answers 200 with the new content and a new ETag. Also the
overview's triage strip and filters, and an import's status and Retry while it waits or runs."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rq import Queue
from sqlalchemy import event

from app.extensions import db
from app.models import BrandFigure
from app.queue import QUEUE_IMPORTS
from app.services import imports as import_service
from app.services.campaigns import record_manual_spend
from app.services.enforcement import commit_and_enforce
from app.services.overview import TRIAGE, brands_select, triage_counts
from app.services.reconcile import reconcile_brands
from tests.helpers import add_user, sign_in

NOW = datetime(2026, 11, 25, 15, 0, 10, tzinfo=UTC)  # a Wednesday, ten seconds into a minute


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def viewer(session):
    return add_user(session, "vera@pacer.test", "viewer")


@pytest.fixture
def as_viewer(client, viewer):
    sign_in(client, viewer)
    return client


@pytest.fixture
def acme(session, make):
    brand = make.brand("Acme", daily="100", monthly="3000")
    brand.created_at = datetime(2026, 10, 1, tzinfo=UTC)
    make.campaign(brand, "Search")
    session.commit()
    reconcile_brands(session, NOW, actor="test")
    session.commit()
    return brand


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def statements_during(fn) -> tuple[object, list[str]]:
    seen: list[str] = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        return fn(), seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


def record_spend(session, campaign, amount: str) -> None:
    """A spend from the form's service, committed and enforced (in-process: Redis is unreachable here)."""
    record_manual_spend(session, campaign, amount=amount, now=NOW)
    commit_and_enforce(session, actor="user:test")


def assert_live(client, url: str, change, *, before: str, after: str) -> None:
    """``url`` answers 304 to its own ETag until ``change()``, then 200 with ``after`` and a new ETag."""
    first = client.get(url)
    assert first.status_code == 200 and first.headers["ETag"] and before in text_of(first)
    assert first.headers["Cache-Control"] == "no-store"  # no cache keeps a signed-in page; the poller sends the ETag
    etag = first.headers["ETag"]
    assert f'data-live-etag="{etag}"' in text_of(first)  # the poller starts from the page's own ETag
    assert "data-live-refresh" in first.get_data(as_text=True)  # and without JavaScript, a refresh link

    again, statements = statements_during(lambda: client.get(url, headers={"If-None-Match": etag}))
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    # Not rendered: the signed-in user and the one version read, nothing of the page itself.
    assert len(statements) <= 2, statements

    change()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert after in text_of(changed)


def test_overview_is_304_until_a_spend_reaches_the_budget_then_shows_it(as_viewer, session, acme, redis_unreachable):
    campaign = acme.campaigns[0]
    assert_live(
        as_viewer,
        "/",
        lambda: record_spend(session, campaign, "100"),
        before="1 active",
        after="100.00 USD / 100.00 USD (100%)",
    )
    page = text_of(as_viewer.get("/"))
    assert "0 active" in page and "1 daily budget" in page and "has-paused" in page


def test_brand_page_follows_spend_and_pauses(as_viewer, session, acme, redis_unreachable):
    campaign = acme.campaigns[0]
    assert_live(
        as_viewer,
        f"/brands/{acme.id}",
        lambda: record_spend(session, campaign, "100"),
        before="badge-active",
        after="Daily budget reached",
    )


def test_campaign_page_follows_its_status(as_viewer, session, acme, redis_unreachable):
    campaign = acme.campaigns[0]
    assert_live(
        as_viewer,
        f"/campaigns/{campaign.id}",
        lambda: record_spend(session, campaign, "100"),
        before="badge-active",
        after="badge-paused",
    )


def test_activity_follows_new_events(as_viewer, session, acme, redis_unreachable):
    campaign = acme.campaigns[0]
    assert_live(
        as_viewer,
        "/activity",
        lambda: record_spend(session, campaign, "100"),
        before="1 event",
        after="2 events",
    )


def test_import_list_and_page_follow_an_import_that_starts(as_viewer, session, acme, uploads, redis_unreachable):
    uploads.mkdir()
    path = uploads / "spend.csv"
    path.write_text("brand,campaign,amount,spent_at\nAcme,Search,1.50,2026-11-25T10:00:00Z\n")
    spend_import = import_service.create_import(session, path, filename="spend.csv", actor="test", skip_bad_rows=False)
    session.commit()

    def start():
        import_service.claim_import(session, spend_import.id, now=NOW)

    assert_live(as_viewer, "/spend/imports", start, before="Queued", after="Running")
    session.execute(db.update(BrandFigure).values(paused=0))  # unrelated writes do not touch the import page
    session.commit()
    page = as_viewer.get(f"/spend/imports/{spend_import.id}")
    assert as_viewer.get(page.request.path, headers={"If-None-Match": page.headers["ETag"]}).status_code == 304


def test_a_rename_shows_at_the_next_poll(as_viewer, session, acme):
    campaign = acme.campaigns[0]
    for url, rename in [
        (f"/brands/{acme.id}", lambda: setattr(acme, "name", "Acme Renamed")),
        (f"/campaigns/{campaign.id}", lambda: setattr(campaign, "name", "Search Renamed")),
    ]:
        etag = as_viewer.get(url).headers["ETag"]
        assert as_viewer.get(url, headers={"If-None-Match": etag}).status_code == 304
        rename()
        session.commit()
        assert as_viewer.get(url, headers={"If-None-Match": etag}).status_code == 200


def test_the_etag_moves_with_the_minute_the_viewer_and_the_address(client, session, acme, clock, redis_unreachable):
    viewer = add_user(session, "vera@pacer.test", "viewer")
    manager = add_user(session, "max@pacer.test", "manager")
    sign_in(client, viewer)
    etag = client.get("/").headers["ETag"]
    assert client.get("/?sort=daily").headers["ETag"] != etag  # another address, another page
    clock.shift(timedelta(seconds=30))  # same minute: local times and "N min ago" have not moved
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 304
    clock.shift(timedelta(seconds=30))
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 200
    etag = client.get("/").headers["ETag"]
    sign_in(client, manager)  # a manager's page has the buttons a viewer's lacks
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 200


def test_a_poll_leaves_flashed_messages_for_their_page(as_viewer, session, acme):
    with as_viewer.session_transaction() as browser_session:
        browser_session["_flashes"] = [("success", "Saved in another tab.")]
    assert "Saved in another tab." not in text_of(as_viewer.get("/", headers={"X-Pacer-Live": "1"}))
    assert "Saved in another tab." in text_of(as_viewer.get("/"))


def test_a_page_answered_with_an_error_has_no_etag(as_viewer, session, acme):
    assert "ETag" not in as_viewer.get("/brands/999").headers
    bad_filter = as_viewer.get("/activity?date_from=nonsense")
    assert bad_filter.status_code == 400 and "ETag" not in bad_filter.headers
    assert 'id="live-status"' not in bad_filter.get_data(as_text=True)  # no poller on an error page


# --- triage -------------------------------------------------------------------------------------


@pytest.fixture
def world(session, make):
    """Five brands, one per triage case, and a quiet one; created last month, reconciled at NOW."""
    old = datetime(2026, 10, 1, tzinfo=UTC)
    brands = {}
    for name, daily, monthly in [
        ("Capped", "10", "3000"),  # today's spend reaches its daily budget
        ("Hot", "1000", "1000"),  # 950 by the 25th: projected past 110 % of the monthly budget
        ("Slow", "100", "30000"),  # 100 by the 25th of a 30,000 month
        ("Night", "100", "3000"),  # two campaigns run 00:00-01:00 on Wednesdays only; no spend yet
        ("Quiet", "100", "3000"),  # on track; one campaign switched off
        ("New", "100", "30000"),  # created a minute ago with a little spend: not started, not behind
    ]:
        brand = make.brand(name, daily=daily, monthly=monthly)
        brand.created_at = NOW - timedelta(minutes=1) if name == "New" else old
        brands[name] = brand
    from app.control import Window

    campaigns = {name: make.campaign(brand, "Search") for name, brand in brands.items()}
    make.campaign(brands["Night"], "Late", windows=(Window(2, 0, 60),))
    make.campaign(brands["Night"], "Later", windows=(Window(2, 0, 60),))
    make.campaign(brands["Quiet"], "Off", enabled=False)
    session.commit()
    early = "2026-11-10T09:00:00Z"
    for name, amount, when in [
        ("Capped", "10", "2026-11-25T09:00:00Z"),
        ("Hot", "950", early),
        ("Slow", "100", early),
        ("Quiet", "2300", early),
        ("New", "5", "2026-11-25T14:59:00Z"),
    ]:
        record_manual_spend(session, campaigns[name], amount=amount, spent_at=when, now=NOW)
    session.commit()
    reconcile_brands(session, NOW, actor="test")
    session.commit()
    return brands


def names_of(response) -> list[str]:
    return re.findall(r'class="brand-name">([^<]+)</a>', text_of(response))


def test_triage_counts_and_filters(as_viewer, session, world, redis_unreachable):
    counts = triage_counts(session)
    assert counts == {"capped": 1, "at-risk": 1, "behind": 1, "budget": 1, "hours": 1}
    expected = {"capped": ["Capped"], "at-risk": ["Hot"], "behind": ["Slow"], "budget": ["Capped"], "hours": ["Night"]}
    for key, names in expected.items():
        assert names_of(as_viewer.get(f"/?show={key}")) == names
        assert [b.name for b in session.scalars(brands_select(session, NOW, triage=key))] == names

    page = text_of(as_viewer.get("/"))
    assert names_of(as_viewer.get("/")) == ["Capped", "Hot", "New", "Night", "Quiet", "Slow"]
    for key, (words, _) in TRIAGE.items():
        assert re.search(rf'data-triage-count="{key}">1</strong> {words}</a>', page), key
    # Each row says why its campaigns are paused; red only for a budget.
    rows = dict(re.findall(r'class="brand-name">([^<]+)</a>(.*?)</tr>', page, re.S))
    assert "2 out of hours" in rows["Night"] and "has-paused" not in rows["Night"]
    assert "1 switched off" in rows["Quiet"] and "has-paused" not in rows["Quiet"]
    assert "1 daily budget" in rows["Capped"] and "has-paused" in rows["Capped"]
    assert 'pace-not-started">not started' in rows["New"]
    assert 'pace-behind">behind' in rows["Slow"]

    # A filter keeps its place through a search, a sort and the pager; an unknown one shows every brand.
    assert names_of(as_viewer.get("/?show=hours&q=nig&sort=daily")) == ["Night"]
    assert names_of(as_viewer.get("/?show=nonsense")) == names_of(as_viewer.get("/"))
    empty = text_of(as_viewer.get("/?show=hours&q=zzz"))
    assert "No brand is out of hours matching “zzz”" in empty and "Show every brand" in empty


def test_triage_counts_leave_out_archived_brands_and_follow_reconcile(session, world, redis_unreachable):
    from app.services.brands import archive_brand

    archive_brand(session, world["Night"].id, NOW, actor="test")
    commit_and_enforce(session, actor="test")
    assert triage_counts(session)["hours"] == 0
    # The budget is raised: reconcile resumes the campaign; 10 of 3,000 by the 25th is behind.
    world["Capped"].daily_budget_minor = 100_000
    session.commit()
    reconcile_brands(session, NOW, actor="test")
    session.commit()
    assert triage_counts(session) == {"capped": 0, "at-risk": 1, "behind": 2, "budget": 0, "hours": 0}


# --- an import's status and Retry (finding 4) -----------------------------------------------------


def test_a_queued_import_waiting_for_a_worker_then_running_never_offers_retry(
    client, session, acme, uploads, redis_connection
):
    manager = add_user(session, "max@pacer.test", "manager")
    sign_in(client, manager)
    uploads.mkdir()
    path = uploads / "spend.csv"
    path.write_text("brand,campaign,amount,spent_at\nAcme,Search,1.50,2026-11-25T10:00:00Z\n")
    spend_import = import_service.create_import(session, path, filename="spend.csv", actor="test", skip_bad_rows=False)
    session.commit()
    assert import_service.queue_import(session, spend_import) is None  # a job waits in Redis, no worker yet
    assert Queue(QUEUE_IMPORTS, connection=redis_connection).job_ids == [spend_import.job_id]

    url = f"/spend/imports/{spend_import.id}"
    queued = client.get(url)
    page = text_of(queued)
    assert "import-queued" in page and "Waiting for a worker" in page and "Retry import" not in page

    import_service.claim_import(session, spend_import.id, now=NOW)
    running = client.get(url, headers={"If-None-Match": queued.headers["ETag"]})
    assert running.status_code == 200
    page = text_of(running)
    assert '<span class="import-status import-running">Running</span>' in page
    assert 'data-status="running"' in page and 'id="import-bar"' in page and "Reading and saving rows" in page
    assert "import-queued" not in page and "Retry import" not in page


def test_a_queued_import_whose_job_is_lost_offers_retry(client, session, acme, uploads, redis_connection):
    manager = add_user(session, "max@pacer.test", "manager")
    sign_in(client, manager)
    uploads.mkdir()
    path = uploads / "spend.csv"
    path.write_text("brand,campaign,amount,spent_at\nAcme,Search,1.50,2026-11-25T10:00:00Z\n")
    spend_import = import_service.create_import(session, path, filename="spend.csv", actor="test", skip_bad_rows=False)
    session.commit()
    assert import_service.queue_import(session, spend_import) is None
    redis_connection.flushdb()  # Redis lost the job
    page = text_of(client.get(f"/spend/imports/{spend_import.id}"))
    assert "import-queued" in page and f"Retry import #{spend_import.id}" in page
