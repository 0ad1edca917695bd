"""Shared fixtures: an app on a migrated database (SQLite by default, PostgreSQL when
PACER_TEST_DATABASE_URL is set), a fixed clock, and builders for brands and campaigns."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import text

from app import create_app
from app.control import Window
from app.extensions import db
from app.models import Brand, Campaign, ScheduleWindow
from app.money import to_minor

pytest_plugins = ["tests.redis_fixtures"]

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("PACER_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'pacer-test.sqlite3'}"


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def _migrated(database_url, instance_path):
    """Run the real Alembic migrations once per session (downgrade first so a reused database starts clean)."""
    from flask_migrate import downgrade, upgrade

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(instance_path)})
    with app.app_context():
        if database_url.startswith("postgres"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        yield
        downgrade(revision="base")
        db.engine.dispose()


@pytest.fixture
def app(_migrated, database_url, instance_path):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": str(instance_path),
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "pacer.test",
        }
    )
    # The test keeps one app context open and requests reuse it: drop Flask-Login's cached user
    # per request, as a fresh request context would, so two clients never act as one user.
    app.url_value_preprocessor(lambda endpoint, values: g.pop("_login_user", None))
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def session(app):
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def uploads(app, tmp_path) -> Path:
    """A per-test folder for stored uploads."""
    folder = tmp_path / "uploads"
    app.config["UPLOAD_FOLDER"] = str(folder)
    return folder


@pytest.fixture
def now() -> datetime:
    return NOW


class Builders:
    """Make brands and campaigns with readable defaults; amounts are Decimal strings."""

    def __init__(self, session) -> None:
        self.session = session

    def brand(
        self,
        name: str = "Acme",
        *,
        timezone: str = "UTC",
        currency: str = "USD",
        daily: str = "100",
        monthly: str = "2000",
    ) -> Brand:
        brand = Brand(
            name=name,
            timezone=timezone,
            currency=currency,
            daily_budget_minor=to_minor(Decimal(daily), currency),
            monthly_budget_minor=to_minor(Decimal(monthly), currency),
        )
        self.session.add(brand)
        self.session.flush()
        return brand

    def campaign(
        self,
        brand: Brand,
        name: str = "Search",
        *,
        enabled: bool = True,
        start: date | None = None,
        end: date | None = None,
        windows: tuple[Window, ...] = (),
    ) -> Campaign:
        campaign = Campaign(brand=brand, name=name, enabled=enabled, start_date=start, end_date=end)
        campaign.windows = [ScheduleWindow(day_of_week=w.day, start_minute=w.start, end_minute=w.end) for w in windows]
        self.session.add(campaign)
        self.session.flush()
        return campaign


@pytest.fixture
def make(session) -> Builders:
    return Builders(session)
