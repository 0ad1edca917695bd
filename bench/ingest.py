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
            row = [brand_name(b), f"Campaign {rnd.randrange(campaigns_per_brand):02d}",
                   f"{rnd.randrange(1, 50000) / 100:.2f}", at.strftime("%Y-%m-%dT%H:%M:%SZ")]
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
    from app.services.imports import import_file
    from app.models import Brand, Campaign
    from app.money import to_minor

    app = create_app()
    with app.app_context():
        if database_url.startswith("postgres"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        for b in range(brands):
            brand = Brand(name=brand_name(b), timezone=ZONES[b % len(ZONES)], currency="USD",
                          daily_budget_minor=to_minor(Decimal("1000000"), "USD"),
                          monthly_budget_minor=to_minor(Decimal("10000000"), "USD"))
            db.session.add(brand)
            for c in range(campaigns_per_brand):
                db.session.add(Campaign(brand=brand, name=f"Campaign {c:02d}"))
        db.session.commit()
        started = time.perf_counter()
        _, outcome = import_file(db.session, path, actor="bench", skip_bad_rows=False)
        elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "imported": outcome.imported, "rows": outcome.rows_read, "status": outcome.status,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            # the forked reader process of a large file (the largest child, if several)
            "reader_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


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


def child(kind: str, args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, *args], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


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
            result = run_pacer(Path(path), args.database_url or f"sqlite:///{work / 'pacer.sqlite3'}",
                               args.brands, args.campaigns_per_brand, work)
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
    pacer = child("pacer", [str(path), *common])
    ceiling = child("ceiling", [str(path), *common])
    if pacer["imported"] != args.rows or pacer["status"] != "done":
        raise SystemExit(f"import did not take every row: {pacer}")
    pacer_rate = args.rows / pacer["seconds"]
    ceiling_rate = args.rows / ceiling["seconds"]
    backend = "PostgreSQL" if args.database_url else "SQLite"
    ids = "without" if args.no_external_ids else "with"
    print(f"{args.rows:,} rows ({size_mb:.0f} MB, {args.brands} brands, {args.brands * args.campaigns_per_brand:,} campaigns, {ids} external ids), Pacer on {backend}")
    print(f"  Pacer import     {pacer_rate:>10,.0f} rows/s  ({pacer['seconds']:.2f} s)  peak RSS {pacer['peak_rss_mb']:.0f} MB, its reader {pacer['reader_peak_rss_mb']:.0f} MB")
    print(f"  csv -> sqlite3   {ceiling_rate:>10,.0f} rows/s  ({ceiling['seconds']:.2f} s)  peak RSS {ceiling['peak_rss_mb']:.0f} MB")
    print(f"  ratio            {pacer_rate / ceiling_rate:>10.2f}   (goal >= 0.35; target >= 250,000 rows/s on SQLite)")


if __name__ == "__main__":
    main()
