"""Real-browser tests: the real app served on a free localhost port with its own migrated
SQLite database and CSRF on, driven by Playwright through Debian's Chromium.

The server runs for the whole session, so tests never empty its tables: each test makes
its own brands under unique names. Users of every role are seeded once. The server has no
Redis unless a test asks for ``jobs`` (a real Redis, and real worker.py processes on demand)
or ``worker``; otherwise a spend's enforcement is deferred, and a test that needs it
reconciles in-process with ``live.run``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from flask import Flask
from playwright.sync_api import expect
from rq import Worker
from werkzeug.serving import BaseWSGIServer, make_server

from app import create_app
from app.extensions import db
from app.services.users import create_user
from tests.redis_fixtures import wait_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
PASSWORD = "browser-pass-1"
ROLES = ("viewer", "manager", "admin")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000  # any single wait; a page that needs longer is a failure


def email(role: str) -> str:
    return f"{role}@browser.test"


@dataclass
class LiveServer:
    app: Flask
    url: str
    database_url: str
    instance_path: Path

    def run(self, func: Callable, *args, **kwargs):
        """Call ``func(db.session, *args, **kwargs)`` in the server app's context, commit, return its result."""
        with self.app.app_context():
            try:
                result = func(db.session, *args, **kwargs)
                db.session.commit()
                return result
            finally:
                db.session.remove()


# Package scope, not session: Playwright's sync API refuses to start while another sync_playwright()
# is open, so ours must be closed before browser tests elsewhere in the suite start theirs.
@pytest.fixture(scope="package")
def live(tmp_path_factory) -> Iterator[LiveServer]:
    """The real app on 127.0.0.1:<free port> in a background thread, on its own migrated SQLite file."""
    from flask_migrate import upgrade

    base = tmp_path_factory.mktemp("browser")
    instance = base / "instance"
    database_url = f"sqlite:///{base / 'browser.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": str(instance),
            "REDIS_URL": None,  # no Redis unless a test starts one: spend enforcement is deferred
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
        }
    )
    assert app.config.get("WTF_CSRF_ENABLED", True), "the browser tests run with real CSRF"
    with app.app_context():
        upgrade()
        for role in ROLES:
            create_user(db.session, email(role), PASSWORD, role)
        db.session.commit()
        db.session.remove()

    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="pacer-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}", database_url, instance)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the tests of this package. Missing Chromium fails in CI and skips elsewhere."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(
                f"Chromium is not installed at {CHROMIUM}; CI must run the browser tests "
                "(.ci/run installs the chromium package)",
                pytrace=False,
            )
        pytest.skip("Chromium not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _new_context(browser, live: LiveServer, **options):
    expect.set_options(timeout=TIMEOUT_MS)
    options.setdefault("viewport", DESKTOP)
    context = browser.new_context(base_url=live.url, locale="en-GB", **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def page(browser, live):
    """A fresh context (no cookies) and page for each test, 1280x800, JavaScript on."""
    context = _new_context(browser, live)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def new_page(browser, live):
    """Make further pages in fresh contexts, e.g. ``new_page(java_script_enabled=False)``."""
    contexts = []

    def make(**options):
        context = _new_context(browser, live, **options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def login(page, role: str) -> None:
    """Sign in through the login form as the seeded user of ``role`` and land on the overview."""
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(email(role))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status").filter(has_text=f"Signed in as {email(role)}")).to_be_visible()


def unique(prefix: str) -> str:
    """A name no other test (or earlier run against the same server) uses."""
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def shoot(page, name: str) -> list[Path]:
    """Save full-page screenshots of the current page at laptop and phone size under tests/artifacts/.

    The phone shot reloads the page at that width, so scripts that lay out on load (the grid's
    sideways scroll) run as they would on a phone; the viewport goes back to laptop size after.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    saved = [ARTIFACTS / f"{name}-1280x800.png", ARTIFACTS / f"{name}-390x844.png"]
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(saved[0]), full_page=True)
    page.set_viewport_size(PHONE)
    page.reload()
    page.screenshot(path=str(saved[1]), full_page=True)
    page.set_viewport_size(DESKTOP)
    return saved


def horizontal_overflow(page) -> int:
    """How many CSS pixels the document is wider than the viewport (0 when nothing sticks out)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


class Jobs:
    """A real Redis the live server enqueues on, and real worker.py processes started on demand."""

    def __init__(self, live: LiveServer, redis_url: str, log_dir: Path) -> None:
        self.live = live
        self.redis_url = redis_url
        self.log_dir = log_dir
        self.connection = redis.Redis.from_url(redis_url)
        self.processes: list[tuple[subprocess.Popen, object]] = []

    def start_worker(self) -> subprocess.Popen:
        """Start ``python worker.py`` on the server's database and Redis; return once it has registered."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PACER_", "REDIS_", "DATABASE_"))}
        env.update(
            DATABASE_URL=self.live.database_url,
            REDIS_URL=self.redis_url,
            PACER_INSTANCE_PATH=str(self.live.instance_path),
        )
        before = Worker.count(connection=self.connection)
        log = open(self.log_dir / f"worker-{len(self.processes)}.log", "w")  # noqa: SIM115 - closed in stop
        process = subprocess.Popen(
            [sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes.append((process, log))
        wait_for(lambda: Worker.count(connection=self.connection) > before, 30, "the worker to register", process)
        return process

    def stop(self) -> None:
        for process, log in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
            log.close()
        self.connection.close()


@pytest.fixture
def jobs(live, redis_server, tmp_path) -> Iterator[Jobs]:
    """Point the live server at the session's real Redis (emptied) for this test; no worker yet."""
    jobs = Jobs(live, redis_server, tmp_path)
    jobs.connection.flushdb()
    _close_redis_clients(live.app)
    live.app.config["REDIS_URL"] = redis_server
    try:
        yield jobs
    finally:
        live.app.config["REDIS_URL"] = None
        _close_redis_clients(live.app)
        jobs.stop()


@pytest.fixture
def worker(jobs) -> subprocess.Popen:
    """A real worker.py process on a real Redis, the live server enqueueing there for this test."""
    return jobs.start_worker()


def _close_redis_clients(app: Flask) -> None:
    for client in app.extensions.pop("pacer_redis", {}).values():
        client.close()


@dataclass
class Seeded:
    brand_id: int
    name: str
    campaign_ids: dict[str, int]


def seed_brand(
    live: LiveServer,
    name: str,
    *,
    campaigns=("Search",),
    timezone: str = "UTC",
    daily: str = "100",
    monthly: str = "2000",
    actor: str = "user:manager@browser.test",
) -> Seeded:
    """Add a brand and its campaigns through the services, as the forms do (each reconciled, logged)."""
    from app.models import utcnow
    from app.services.brands import create_brand
    from app.services.campaigns import create_campaign

    def build(session) -> Seeded:
        now = utcnow()
        brand = create_brand(
            session,
            now,
            actor=actor,
            name=name,
            timezone=timezone,
            currency="USD",
            daily_budget=daily,
            monthly_budget=monthly,
        )
        ids = {}
        for campaign_name in campaigns:
            outcome = create_campaign(
                session, brand, name=campaign_name, enabled=True, start_date=None, end_date=None, now=now, actor=actor
            )
            session.flush()
            ids[campaign_name] = outcome.campaign.id
        return Seeded(brand.id, name, ids)

    return live.run(build)
