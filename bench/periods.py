"""Import speed of period rows (a platform's hour figures) beside instant rows, in one run.

A file of every campaign's 24 hour figures of one day is imported new, then restated with raised figures
(every one replaced), then once more unchanged; a file of as many instant rows is the yardstick. Prints
rows/s of each and the ratio restated/instant (compare ratios, not seconds: the machine is shared).

    .venv/bin/python bench/periods.py [--campaigns 2000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from common import database_url, fresh_app, machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BRANDS = 20


def write_export(path: Path, campaigns: int, cents: int, period: str) -> Path:
    """Every campaign's 24 hours of 2026-11-24 (New York): hour figures, or instants inside those hours."""
    with path.open("w") as handle:
        handle.write("brand,campaign,amount,spent_at,period\n")
        for c in range(campaigns):
            for hour in range(24):
                at = f"2026-11-24 {hour:02d}:00" if period else f"2026-11-24 {hour:02d}:{c % 60:02d}:00"
                handle.write(f"Brand {c % BRANDS},Campaign {c},{cents}.{hour:02d},{at},{period}\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=2000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    print(machine())
    work = Path(tempfile.mkdtemp(prefix="pacer-periods-"))
    app = fresh_app(database_url(args.database_url, work), work)

    from app.extensions import db
    from app.models import Brand, Campaign
    from app.services.imports import import_file

    with app.app_context():
        brands = [
            Brand(
                name=f"Brand {b}",
                timezone="America/New_York",
                currency="USD",
                daily_budget_minor=10**12,
                monthly_budget_minor=10**13,
            )
            for b in range(BRANDS)
        ]
        db.session.add_all(brands)
        db.session.add_all(Campaign(brand=brands[c % BRANDS], name=f"Campaign {c}") for c in range(args.campaigns))
        db.session.commit()
        speed = {}
        for label, cents, period in [
            ("instants", 3, ""),
            ("periods new", 1, "hour"),
            ("periods raised", 2, "hour"),
            ("periods equal", 2, "hour"),
        ]:
            path = write_export(work / f"{label.replace(' ', '-')}.csv", args.campaigns, cents, period)
            start = time.perf_counter()
            _, outcome = import_file(db.session, path, actor="bench", skip_bad_rows=False)
            elapsed = time.perf_counter() - start
            speed[label] = outcome.rows_read / elapsed
            print(
                f"{label:15s} {outcome.rows_read:,} rows in {elapsed:.2f} s: {speed[label]:,.0f} rows/s "
                f"(new {outcome.imported:,}, replaced {outcome.replaced:,}, unchanged {outcome.unchanged:,})"
            )
        print(f"restated period rows / instant rows, rows/s: {speed['periods raised'] / speed['instants']:.2f}")


if __name__ == "__main__":
    main()
