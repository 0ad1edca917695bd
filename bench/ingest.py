"""Spend CSV import speed and memory, beside a bare csv -> sqlite3.executemany ceiling.

Generates a spend file (100 brands, 2,000 campaigns by default), loads the brands and
campaigns into a fresh database, and runs Pacer's real import path (the one the CLI and
the upload job use: create_import + run_import) in a child process, so its peak RSS is
its own. Then, in another child process, the ceiling: the same file read with `csv` and
written with `sqlite3.executemany` into a plain table, no validation. Prints rows/s,
peak RSS, and the ratio.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--database-url URL] [--no-external-ids]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ZONES = ["America/New_York", "Europe/London", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney", "UTC"]


def brand_name(i: int) -> str:
    return f"Brand {i:03d}"


def generate(path: Path, rows: int, brands: int, campaigns_per_brand: int, external_ids: bool) -> None:
    rnd = random.Random(20261125)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["brand", "campaign", "amount", "spent_at"] + (["external_id"] if external_ids else []))
        for i in range(rows):
            b = rnd.randrange(brands)
            at = start + timedelta(seconds=rnd.randrange(29 * 24 * 3600))
            row = [
                brand_name(b),
                f"Campaign {rnd.randrange(campaigns_per_brand):02d}",
                f"{rnd.randrange(1, 50000) / 100:.2f}",
                at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            ]
            if external_ids:
                row.append(f"px-{i}")
            writer.writerow(row)


def run_pacer(path: Path, database_url: str, brands: int, campaigns_per_brand: int, work: Path) -> dict:
    os.environ.update(DATABASE_URL=database_url, PACER_INSTANCE_PATH=str(work / "instance"))
    from decimal import Decimal

    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    from app.models import Brand, Campaign
    from app.money import to_minor
    from app.services.imports import import_file

    app = create_app()
    with app.app_context():
        if database_url.startswith("postgres"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        for b in range(brands):
            brand = Brand(
                name=brand_name(b),
                timezone=ZONES[b % len(ZONES)],
                currency="USD",
                daily_budget_minor=to_minor(Decimal("1000000"), "USD"),
                monthly_budget_minor=to_minor(Decimal("10000000"), "USD"),
            )
            db.session.add(brand)
            for c in range(campaigns_per_brand):
                db.session.add(Campaign(brand=brand, name=f"Campaign {c:02d}"))
        db.session.commit()
        started = time.perf_counter()
        _, outcome = import_file(db.session, path, actor="bench", skip_bad_rows=False)
        elapsed = time.perf_counter() - started
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the floors hold every row
        floors = table_floors(db.session, path)
    return {
        "floors": floors,
        "seconds": elapsed,
        "imported": outcome.imported,
        "rows": outcome.rows_read,
        "status": outcome.status,
        "peak_rss_mb": peak_rss_mb,
        # the forked reader process of a large file (the largest child, if several)
        "reader_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def table_floors(session, path: Path) -> dict[str, float]:
    """Seconds to write the file's rows, already read, validated and keyed by Pacer's reader (not timed), into a
    fresh copy of spend_record (its indexes and constraints) in one transaction: what the table itself accepts,
    whatever the importer does. PostgreSQL: a COPY, with the table's foreign keys and without them."""
    from sqlalchemy import text

    from app.database import is_postgres
    from app.ingest.batches import STAGED_COLUMNS, parse_batches
    from app.services.spend import campaign_directory

    with open(path, "rb") as handle:
        rows = [row for batch in parse_batches(handle, campaign_directory(session), None) for row in batch.rows]
    import_id = session.execute(text("SELECT max(id) FROM spend_import")).scalar()
    columns = ", ".join((*STAGED_COLUMNS, "source", "import_id", "created_at"))
    connection = session.connection().connection.driver_connection
    session.commit()
    floors = {}
    if not is_postgres(session):
        ddl = [
            sql
            for (sql,) in connection.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'spend_record' AND sql IS NOT NULL"
            )
        ]
        for statement in ddl:
            connection.execute(statement.replace("spend_record", "floor_record"))
        connection.commit()
        started = time.perf_counter()
        connection.executemany(
            f"INSERT INTO floor_record ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, 'csv', {import_id}, '2026-12-01') "
            "ON CONFLICT (dedupe_key) DO NOTHING",
            rows,
        )
        connection.commit()
        floors["typed table, one transaction"] = time.perf_counter() - started
        connection.execute("DROP TABLE floor_record")
        connection.commit()
        return floors
    keys = [
        d
        for (d,) in connection.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'spend_record'::regclass AND contype = 'f'"
        )
    ]
    for label, foreign in (("COPY into the typed table, with its foreign keys", keys), ("… without them", [])):
        connection.execute("CREATE TABLE floor_record (LIKE spend_record INCLUDING ALL)")
        for key in foreign:
            connection.execute(f"ALTER TABLE floor_record ADD {key}")
        connection.commit()
        started = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(f"COPY floor_record ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, "csv", import_id, "2026-12-01"))
        connection.commit()
        floors[label] = time.perf_counter() - started
        connection.execute("DROP TABLE floor_record")
        connection.commit()
    return floors


def run_ceiling(path: Path, work: Path) -> dict:
    db_path = work / "ceiling.sqlite3"
    connection = sqlite3.connect(db_path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        connection.execute(f"CREATE TABLE spend ({', '.join(header)})")
        started = time.perf_counter()
        connection.executemany(f"INSERT INTO spend VALUES ({', '.join('?' * len(header))})", reader)
        connection.commit()
        elapsed = time.perf_counter() - started
    rows = connection.execute("SELECT count(*) FROM spend").fetchone()[0]
    return {"seconds": elapsed, "rows": rows, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_copy_ceiling(path: Path, database_url: str) -> dict:
    """PostgreSQL's floor: the file COPYed as it is into a text table without index or constraint."""
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as connection:
        with open(path, newline="") as handle:
            header = next(csv.reader(handle))
        connection.execute("DROP TABLE IF EXISTS bench_copy_ceiling")
        connection.execute(f"CREATE TABLE bench_copy_ceiling ({', '.join(f'{name} text' for name in header)})")
        started = time.perf_counter()
        copy_sql = "COPY bench_copy_ceiling FROM STDIN WITH (FORMAT csv, HEADER true)"
        with connection.cursor() as cursor, open(path, "rb") as handle, cursor.copy(copy_sql) as copy:
            for block in iter(lambda: handle.read(1 << 20), b""):
                copy.write(block)
        elapsed = time.perf_counter() - started
        rows = connection.execute("SELECT count(*) FROM bench_copy_ceiling").fetchone()[0]
        connection.execute("DROP TABLE bench_copy_ceiling")
    return {"seconds": elapsed, "rows": rows, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_lock_probe(database_url: str, work: Path) -> dict:
    """While the import runs, take brand 1's lock as a reconcile does (lock_brand) every 50 ms and
    record how long each wait was: what enforcement waits for an import at most."""
    os.environ.update(DATABASE_URL=database_url, PACER_INSTANCE_PATH=str(work / "instance-probe"))
    from sqlalchemy import select

    from app import create_app
    from app.database import lock_brand
    from app.extensions import db
    from app.models import Brand, SpendImport

    waits: list[float] = []
    app = create_app()
    with app.app_context():
        deadline = time.monotonic() + 600
        while True:
            try:
                if db.session.scalar(select(SpendImport.status)) == "running":
                    break
            except Exception:  # noqa: BLE001 - the importer has not migrated the database yet
                pass
            db.session.rollback()
            if time.monotonic() > deadline:
                return {"waits": 0, "max_ms": None, "p99_ms": None}
            time.sleep(0.05)
        db.session.rollback()
        brand_id = db.session.scalar(select(Brand.id).order_by(Brand.id).limit(1))
        db.session.rollback()
        while True:
            db.session.rollback()
            if db.session.scalar(select(SpendImport.status)) != "running":
                break
            db.session.rollback()
            started = time.perf_counter()
            lock_brand(db.session, brand_id, timeout=60)
            waits.append(time.perf_counter() - started)
            db.session.rollback()
            time.sleep(0.05)
    waits.sort()
    return {
        "waits": len(waits),
        "max_ms": waits[-1] * 1000 if waits else None,
        "p99_ms": waits[int(len(waits) * 0.99)] * 1000 if waits else None,
    }


def child(kind: str, args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, *args], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_child(kind: str, args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, __file__, "--child", kind, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def finish_child(process: subprocess.Popen) -> dict:
    out, err = process.communicate()
    if process.returncode:
        raise SystemExit(err[-3000:])
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--brands", type=int, default=100)
    parser.add_argument("--campaigns-per-brand", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--no-external-ids", action="store_true", help="rows without external_id (fingerprint dedupe)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, path = args.child
        work = Path(args.work)
        if kind == "pacer":
            result = run_pacer(
                Path(path),
                args.database_url or f"sqlite:///{work / 'pacer.sqlite3'}",
                args.brands,
                args.campaigns_per_brand,
                work,
            )
        elif kind == "probe":
            result = run_lock_probe(args.database_url or f"sqlite:///{work / 'pacer.sqlite3'}", work)
        elif kind == "copy":
            result = run_copy_ceiling(Path(path), args.database_url)
        else:
            result = run_ceiling(Path(path), work)
        print(json.dumps(result))
        return

    work = Path(tempfile.mkdtemp(prefix="pacer-ingest-"))
    path = work / "spend.csv"
    generate(path, args.rows, args.brands, args.campaigns_per_brand, not args.no_external_ids)
    size_mb = path.stat().st_size / 1e6
    common = ["--work", str(work), "--brands", str(args.brands), "--campaigns-per-brand", str(args.campaigns_per_brand)]
    if args.database_url:
        common += ["--database-url", args.database_url]
    importing = start_child("pacer", [str(path), *common])
    probe = start_child("probe", [str(path), *common])
    pacer = finish_child(importing)
    lock = finish_child(probe)
    ceiling = child("ceiling", [str(path), *common])
    copy = child("copy", [str(path), *common]) if args.database_url else None
    if pacer["imported"] != args.rows or pacer["status"] != "done":
        raise SystemExit(f"import did not take every row: {pacer}")
    pacer_rate = args.rows / pacer["seconds"]
    ceiling_rate = args.rows / ceiling["seconds"]
    backend = "PostgreSQL" if args.database_url else "SQLite"
    ids = "without" if args.no_external_ids else "with"
    print(
        f"{args.rows:,} rows ({size_mb:.0f} MB, {args.brands} brands, {args.brands * args.campaigns_per_brand:,} "
        f"campaigns, {ids} external ids), Pacer on {backend}, {machine()}"
    )
    print(
        f"  Pacer import     {pacer_rate:>10,.0f} rows/s  ({pacer['seconds']:.2f} s)  "
        f"peak RSS {pacer['peak_rss_mb']:.0f} MB, its reader {pacer['reader_peak_rss_mb']:.0f} MB"
    )
    print(
        f"  csv -> sqlite3   {ceiling_rate:>10,.0f} rows/s  ({ceiling['seconds']:.2f} s)  "
        f"peak RSS {ceiling['peak_rss_mb']:.0f} MB"
    )
    print(f"  ratio            {pacer_rate / ceiling_rate:>10.2f}   (SQLite: goal >= 0.35)")
    if copy is not None:
        copy_rate = args.rows / copy["seconds"]
        print(f"  bare COPY (text) {copy_rate:>10,.0f} rows/s  ({copy['seconds']:.2f} s)")
        print(f"  ratio to COPY    {pacer_rate / copy_rate:>10.2f}   (PostgreSQL: goal >= 0.06)")
    bare = args.rows / (copy["seconds"] if copy is not None else ceiling["seconds"])
    for label, seconds in pacer["floors"].items():
        rate = args.rows / seconds
        print(f"  floor: {label}: {rate:,.0f} rows/s, ratio {rate / bare:.2f} (the same rows, read and not timed)")
    if lock["max_ms"] is not None:
        print(
            f"  brand lock while importing: {lock['waits']} takes, longest wait {lock['max_ms']:.0f} ms, "
            f"p99 {lock['p99_ms']:.0f} ms"
        )


if __name__ == "__main__":
    main()
