"""Shared by the benchmarks: the machine's description, a fresh database, and big worlds built with
bulk inserts (SQLAlchemy Core; COPY on PostgreSQL) instead of the slow per-object path.

A world: B brands in 12 zones, C campaigns each with a mix of schedules (none, weekdays, every day,
weekends, at varied hours), and S spend records over the last 40 days with their day totals.
The day totals use each zone's offset at ``now`` for a record's local date (close enough for timing).
"""

from __future__ import annotations

import io
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ZONES = [
    "UTC",
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Paris",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Asia/Kathmandu",
    "Pacific/Auckland",
]
BATCH = 50_000


def machine() -> str:
    """One line: cores, memory, Python, platform."""
    memory = "unknown memory"
    try:
        with open("/proc/meminfo") as handle:
            kib = int(next(line for line in handle if line.startswith("MemTotal")).split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"machine: {os.cpu_count()} cores, {memory}, Python {platform.python_version()}, {platform.system()}, "
        f"load average {load:.1f} at start"
    )


def database_url(given: str | None, work: Path) -> str:
    """--database-url, else $DATABASE_URL, else a temporary SQLite file."""
    return given or os.environ.get("DATABASE_URL") or f"sqlite:///{work / 'bench.sqlite3'}"


def fresh_app(url: str, work: Path):
    """An app on ``url`` with an empty, migrated schema (PostgreSQL: the public schema is dropped first)."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(work / "instance"), "WTF_CSRF_ENABLED": False}
    )
    with app.app_context():
        if url.startswith("postgres"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
    return app


def workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def _insert(session, table, rows: list[dict]) -> None:
    """Bulk insert: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        columns = list(rows[0])
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join(r"\N" if row[c] is None else str(row[c]) for c in columns) + "\n")
        raw = session.connection().connection.driver_connection
        with raw.cursor().copy(f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN') as copy:
            copy.write(buffer.getvalue())
    else:
        from sqlalchemy import insert

        session.execute(insert(table), rows)


def _windows(rng: random.Random) -> list[tuple[int, int, int]]:
    start = rng.choice([6, 7, 8, 9, 10]) * 60 + rng.choice([0, 15, 30, 45])
    kind = rng.random()
    if kind < 0.4:
        return []  # runs at any hour
    if kind < 0.7:
        return [(day, start, start + 8 * 60) for day in range(5)]
    if kind < 0.9:
        return [(day, start, min(1440, start + 14 * 60)) for day in range(7)]
    return [(day, start, start + 4 * 60) for day in (5, 6)]


def build_world(session, *, brands: int, campaigns: int, spend_rows: int, now: datetime, seed: int = 7) -> dict:
    """Insert the world described in the module's docstring; returns counts and the seconds it took."""
    from app.models import Brand, BrandDaySpend, Campaign, ScheduleWindow, SpendRecord

    rng = random.Random(seed)
    started = time.perf_counter()
    created = now
    brand_rows = [
        {
            "id": b,
            "name": f"Brand {b:05d} {rng.choice(['Shoes', 'Hats', 'Cars', 'Food', 'Travel'])}",
            "timezone": ZONES[b % len(ZONES)],
            "currency": "USD",
            "daily_budget_minor": rng.randrange(20_000, 200_000),
            "monthly_budget_minor": rng.randrange(400_000, 5_000_000),
            "created_at": created,
        }
        for b in range(1, brands + 1)
    ]
    _insert(session, Brand.__table__, brand_rows)
    per_brand = max(1, campaigns // max(1, brands))
    campaign_rows, window_rows = [], []
    window_id = 0
    for b in range(1, brands + 1):
        for n in range(per_brand):
            cid = (b - 1) * per_brand + n + 1
            campaign_rows.append(
                {
                    "id": cid,
                    "brand_id": b,
                    "name": f"Campaign {n:02d}",
                    "enabled": rng.random() < 0.95,
                    "status": "paused",
                    "reasons": "",
                    "created_at": created,
                }
            )
            for day, start, end in _windows(rng):
                window_id += 1
                window_rows.append(
                    {"id": window_id, "campaign_id": cid, "day_of_week": day, "start_minute": start, "end_minute": end}
                )
        if len(campaign_rows) >= BATCH or len(window_rows) >= BATCH:  # campaigns first: windows refer to them
            _insert(session, Campaign.__table__, campaign_rows)
            _insert(session, ScheduleWindow.__table__, window_rows)
            campaign_rows, window_rows = [], []
    _insert(session, Campaign.__table__, campaign_rows)
    _insert(session, ScheduleWindow.__table__, window_rows)
    total_campaigns = brands * per_brand

    offsets = {zone: now.astimezone(ZoneInfo(zone)).utcoffset() for zone in ZONES}
    days: dict[tuple[int, object], int] = defaultdict(int)
    span = 40 * 24 * 3600
    # About 600.00 a brand-day whatever the row count, so some brands are over a budget and most are not.
    mean = max(1, 60_000 * brands * 40 // max(1, spend_rows))
    for first in range(0, spend_rows, BATCH):
        rows = []
        for i in range(first, min(spend_rows, first + BATCH)):
            cid = rng.randrange(1, total_campaigns + 1)
            brand_id = (cid - 1) // per_brand + 1
            spent = now - timedelta(seconds=rng.randrange(span))
            local_date = (spent + offsets[ZONES[brand_id % len(ZONES)]]).date()
            amount = rng.randrange(1, 2 * mean + 2)
            days[(brand_id, local_date)] += amount
            rows.append(
                {
                    "id": i + 1,
                    "campaign_id": cid,
                    "brand_id": brand_id,
                    "amount_minor": amount,
                    "spent_at": spent,
                    "local_date": local_date,
                    "source": "csv",
                    "external_id": None,
                    "dedupe_key": f"b:{i}",
                    "import_id": None,
                    "created_at": created,
                }
            )
        _insert(session, SpendRecord.__table__, rows)
    day_rows = [{"brand_id": b, "local_date": d, "amount_minor": a} for (b, d), a in days.items()]
    for first in range(0, len(day_rows), BATCH):
        _insert(session, BrandDaySpend.__table__, day_rows[first : first + BATCH])
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import text

        for table in ("brand", "campaign", "schedule", "spend_record", "brand_day_spend"):
            session.execute(text(f"ANALYZE {table}"))
            session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                if table != "brand_day_spend"
                else text("SELECT 1")
            )
        session.commit()
    else:
        from sqlalchemy import text

        session.execute(text("ANALYZE"))
        session.commit()
    return {
        "brands": brands,
        "campaigns": total_campaigns,
        "windows": window_id,
        "spend_rows": spend_rows,
        "day_totals": len(day_rows),
        "seconds": time.perf_counter() - started,
    }


def now_utc() -> datetime:
    return datetime.now(UTC)


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank ``pct`` percentile of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict[str, str], *, workers: int = 2, threads: int = 4) -> tuple[subprocess.Popen, str]:
    """gunicorn (``workers`` x ``threads``) on a free port of 127.0.0.1 with ``env`` (DATABASE_URL,
    PACER_INSTANCE_PATH); returns the process and its base URL once /login answers."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "app:create_app()",
        ],
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)} | env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/login").read()
            break
        except OSError:
            time.sleep(0.2)
    return server, base


def stop_gunicorn(server: subprocess.Popen) -> None:
    """Stop a server of :func:`start_gunicorn` and its workers."""
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)
