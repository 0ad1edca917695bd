"""`flask --app app fixtures load` of a large agency: brands x campaigns with schedules in 12 zones.

Generates the JSON document, migrates a fresh database (SQLite by default, PostgreSQL with
--database-url, whose schema is dropped first), then times the real command in a child process,
as an operator runs it, with an embedded Redis as `make run` has (so the command queues one
reconcile per brand for the workers). With --no-redis, Redis is unreachable and the command
enforces every brand in its own process. Prints the seconds.

    .venv/bin/python bench/fixtures.py [--brands 10000] [--campaigns 10] [--database-url URL] [--no-redis]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import machine

ROOT = Path(__file__).resolve().parent.parent
ZONES = [
    "UTC",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Sao_Paulo",
]


def document(brands: int, campaigns: int) -> dict:
    return {
        "brands": [
            {
                "name": f"Brand {b:05d}",
                "timezone": ZONES[b % len(ZONES)],
                "currency": "USD",
                "daily_budget": "1000.00",
                "monthly_budget": "25000.00",
                "campaigns": [
                    {
                        "name": f"Campaign {c:02d}",
                        "enabled": True,
                        "schedule": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "20:00"}]
                        if c % 2
                        else [],
                    }
                    for c in range(campaigns)
                ],
            }
            for b in range(brands)
        ]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--brands", type=int, default=10_000)
    parser.add_argument("--campaigns", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-redis", action="store_true", help="Redis unreachable: enforce in the command's process")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pacer-fixtures-"))
    path = work / "agency.json"
    path.write_text(json.dumps(document(args.brands, args.campaigns)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACER_", "REDIS_", "DATABASE_"))}
    env.update(
        PACER_INSTANCE_PATH=str(work / "instance"),
        DATABASE_URL=args.database_url or f"sqlite:///{work / 'pacer.sqlite3'}",
    )
    redis_server = None
    if not args.no_redis:
        sys.path.insert(0, str(ROOT))
        from app import embedded_redis

        redis_server, env["REDIS_URL"] = embedded_redis.start(work / "redis")
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    if args.database_url:
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from app import create_app; from app.extensions import db; "
                "from sqlalchemy import text; app = create_app(); ctx = app.app_context(); ctx.push(); "
                "db.session.execute(text('DROP SCHEMA public CASCADE; CREATE SCHEMA public')); "
                "db.session.commit()",
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run([*flask, "fixtures", "load", str(path)], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    if redis_server is not None:
        redis_server.kill()
    if out.returncode:
        raise SystemExit(out.stdout[-2000:] + out.stderr[-2000:])
    backend = "PostgreSQL" if args.database_url else "SQLite"
    enforcement = "enforced in-process (no Redis)" if args.no_redis else "reconciles queued on Redis"
    print(
        f"fixtures load: {args.brands:,} brands x {args.campaigns} campaigns on {backend}, {enforcement} ({machine()})"
    )
    print(f"  {seconds:.1f} s wall, {cpu:.1f} s CPU of the command   ({out.stdout.strip().splitlines()[0]})")
    print(f"  load average {os.getloadavg()[0]:.1f} (a busy machine stretches the wall time, not the CPU time)")


if __name__ == "__main__":
    main()
