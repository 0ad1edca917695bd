"""Issue 11's check: the same CLI commands on a big world and a small one, in the same run.

Two worlds, each in its own fresh database, built only through the public CLI as an operator would:
`flask --app app db upgrade`, `fixtures load` of bench/fixtures.py's document (brands x campaigns,
schedules in 12 zones), `users create` for a login, and `spend import` of a generated spend history
with the same density in both worlds (--spend-per-brand rows a brand, over the last 7 days). Each
world has an embedded Redis, as `make run` has, with no worker: the commands queue their reconciles,
and a first `jobs run reconcile` settles every brand before anything is measured (with --no-redis,
Redis is unreachable and each command enforces its brands in its own process).

Then, alternating small and big world so both see the same machine:
- the overview's p95 for each sort of bench/pages.py (gunicorn, 2 workers x 4 threads, signed in;
  each URL fetched --requests times one after another, after one unmeasured warm-up fetch);
- a 1-row `spend import` (a new file each time, naming another brand of that world): median of 5;
- `jobs run reconcile`: median of 3. A sweep revisits every brand changed within CATCH_UP_OVERLAP
  (app.services.changes, 5 minutes) before the previous sweep's start, so the settling sweep
  waits until the history import is older than that (unless --no-wait); the measured sweeps then
  see the steady state: the brands of the 1-row imports and those due.

Each command runs as a child process, so its wall time includes the interpreter and the app's
start-up, a constant of both worlds; the table also gives the time after start-up: from the moment
the child built its app to its exit (bench/cli_timing/sitecustomize.py, put on its PYTHONPATH).
Prints a table (step, small world, big world, ratio, ratio <= 3) and the verdict. Never asserts a
speed: exits 0 once it has measured, whatever the ratios.

SQLite files by default; with --database-url (or $DATABASE_URL) postgresql://…/NAME, two databases
NAME_big and NAME_small are created afresh on that server (dropped first if they exist).

    .venv/bin/python bench/scale_check.py [--brands 10000] [--small-brands 100] [--campaigns 10]
                                          [--requests 40] [--imports 5] [--reconciles 3] [--spend-per-brand 10]
                                          [--database-url URL [--analyze]] [--no-redis] [--no-wait]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, machine, percentile, start_gunicorn, stop_gunicorn, workdir
from fixtures import document
from pages import PASSWORD, SORTS, User

FLASK = [sys.executable, "-m", "flask", "--app", "app"]
EMAIL = "scale-check@pacer.test"
LIMIT = 3.0
TIMING_HOOK = Path(__file__).resolve().parent / "cli_timing"  # its sitecustomize.py


@dataclass
class World:
    """One world: its database, instance folder, child environment, embedded Redis and build figures."""

    label: str
    brands: int
    url: str
    work: Path
    env: dict[str, str] = field(default_factory=dict)
    redis: subprocess.Popen | None = None
    built: dict[str, float] = field(default_factory=dict)
    imports: int = 0

    def flask(self, *args: str) -> tuple[float, float]:
        """Run `flask --app app ARGS` in a child process: (wall seconds, seconds after its app was built).

        Exits with the command's output if it fails."""
        times = self.work / "cli-times.txt"
        times.unlink(missing_ok=True)
        env = self.env | {"PYTHONPATH": str(TIMING_HOOK), "SCALE_CHECK_TIMES": str(times)}
        started = time.perf_counter()
        done = subprocess.run([*FLASK, *args], cwd=ROOT, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if done.returncode:
            raise SystemExit(
                f"{self.label} world: flask {' '.join(args)} exited {done.returncode}:\n"
                + done.stdout[-2000:]
                + done.stderr[-2000:]
            )
        return seconds, float(times.read_text().split()[-1])


def database_urls(given: str | None, work: Path) -> tuple[str, str]:
    """(small, big): two SQLite files under ``work``, or NAME_small and NAME_big beside --database-url's NAME."""
    if not given:
        return f"sqlite:///{work / 'small.sqlite3'}", f"sqlite:///{work / 'big.sqlite3'}"
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(given)
    urls = []
    with psycopg.connect(
        host=base.host or "127.0.0.1",
        port=base.port or 5432,
        user=base.username,
        password=base.password,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        for suffix in ("small", "big"):
            name = f"{base.database}_{suffix}"
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
            urls.append(base.set(database=name).render_as_string(hide_password=False))
    return urls[0], urls[1]


def postgres_statistics(worlds: tuple[World, ...], analyze: bool) -> None:
    """Say whether the server's autovacuum will gather the planner's statistics; with ``analyze``,
    ANALYZE each world's database now, as autovacuum would soon after the build."""
    import psycopg

    for world in worlds:
        with psycopg.connect(world.url, autocommit=True) as connection:
            autovacuum = connection.execute("SHOW autovacuum").fetchone()[0]
            if analyze:
                connection.execute("ANALYZE")
        print(
            f"  {world.label}: autovacuum {autovacuum} on this server; "
            + ("ANALYZE run after the build" if analyze else "no ANALYZE run (--analyze runs one after the build)")
        )


def spend_history(path: Path, brands: int, campaigns: int, per_brand: int, now: datetime) -> int:
    """A spend CSV in Pacer's own layout: ``per_brand`` rows for each brand over the last 7 days."""
    import random

    rng = random.Random(11)
    rows = 0
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["brand", "campaign", "amount", "spent_at"])
        for b in range(brands):
            for _ in range(per_brand):
                at = now - timedelta(seconds=rng.randrange(60, 7 * 24 * 3600))
                writer.writerow(
                    [
                        f"Brand {b:05d}",
                        f"Campaign {rng.randrange(campaigns):02d}",
                        f"{rng.randrange(100, 6000) / 100:.2f}",
                        at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    ]
                )
                rows += 1
    return rows


def build(world: World, campaigns: int, per_brand: int, redis: bool, settle_after: float) -> None:
    """The world through the public CLI only; records each step's wall seconds in ``world.built``.

    The settling sweep starts ``settle_after`` seconds after the history import: a sweep's watermark is
    the instant it began, and every later sweep revisits each brand changed within CATCH_UP_OVERLAP
    before it, so a settling sweep begun sooner leaves the next one revisiting every brand again."""
    world.env = {k: v for k, v in os.environ.items() if not k.startswith(("PACER_", "REDIS_", "DATABASE_"))}
    world.env.update(PACER_INSTANCE_PATH=str(world.work / "instance"), DATABASE_URL=world.url)
    if redis:
        from app import embedded_redis

        world.redis, world.env["REDIS_URL"] = embedded_redis.start(world.work / "redis")
    fixture = world.work / "agency.json"
    fixture.write_text(json.dumps(document(world.brands, campaigns)))
    history = world.work / "spend-history.csv"
    rows = spend_history(history, world.brands, campaigns, per_brand, datetime.now(UTC))
    world.built["db upgrade"] = world.flask("db", "upgrade")[0]
    world.built["fixtures load"] = world.flask("fixtures", "load", str(fixture))[0]
    world.built["users create"] = world.flask("users", "create", EMAIL, "--role", "viewer", "--password", PASSWORD)[0]
    world.built[f"spend import ({rows:,} rows)"] = world.flask("spend", "import", str(history))[0]
    time.sleep(settle_after)
    world.built["jobs run reconcile (settles)"] = world.flask("jobs", "run", "reconcile")[0]


def one_row_import(world: World, now: datetime) -> tuple[float, float]:
    """A new 1-row file naming another brand of the world, imported by the CLI: World.flask's seconds."""
    world.imports += 1
    brand = (world.imports * 7919) % world.brands  # spread over the world's brands
    path = world.work / f"one-row-{world.imports}.csv"
    at = now - timedelta(minutes=world.imports)
    path.write_text(
        "brand,campaign,amount,spent_at\n"
        f"Brand {brand:05d},Campaign 01,{world.imports}.{world.imports:02d},{at:%Y-%m-%dT%H:%M:%SZ}\n"
    )
    return world.flask("spend", "import", str(path))


def overview_ms(base: str, url: str, requests: int) -> list[float]:
    """``requests`` sequential fetches of ``url`` by one signed-in viewer, in ms, after one unmeasured fetch."""
    user = User(base, EMAIL, [], 0, {}, [])
    user.sign_in()
    times = []
    for n in range(requests + 1):
        started = time.perf_counter()
        with user.opener.open(base + url) as response:
            response.read()
            if response.status != 200 or "/login" in response.url:
                raise SystemExit(f"{base}{url}: {response.status} {response.url}")
        if n:
            times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--brands", type=int, default=10_000, help="brands of the big world")
    parser.add_argument("--small-brands", type=int, default=100, help="brands of the small world")
    parser.add_argument("--campaigns", type=int, default=10, help="campaigns a brand")
    parser.add_argument("--requests", type=int, default=40, help="fetches of each overview sort in each world")
    parser.add_argument("--imports", type=int, default=5, help="1-row imports in each world (the median is kept)")
    parser.add_argument("--reconciles", type=int, default=3, help="`jobs run reconcile` runs in each world (median)")
    parser.add_argument("--spend-per-brand", type=int, default=10, help="spend history rows a brand")
    parser.add_argument("--database-url", default=None, help="postgresql://…/NAME: use NAME_small and NAME_big")
    parser.add_argument(
        "--analyze", action="store_true", help="PostgreSQL: ANALYZE both databases once built (as autovacuum would)"
    )
    parser.add_argument("--no-redis", action="store_true", help="Redis unreachable: commands enforce in-process")
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="settle at once: the first measured reconcile then revisits every brand (the sweep's catch-up overlap)",
    )
    args = parser.parse_args()
    print(machine(), flush=True)
    sys.path.insert(0, str(ROOT))
    from app.services.changes import CATCH_UP_OVERLAP

    settle_after = 0.0 if args.no_wait else CATCH_UP_OVERLAP.total_seconds() + 10
    if settle_after:
        print(f"each world's settling sweep waits until {settle_after:.0f} s after its history import", flush=True)
    work = workdir("pacer-scale-check-")
    given = args.database_url or os.environ.get("DATABASE_URL")
    small_url, big_url = database_urls(given, work)
    small = World("small", args.small_brands, small_url, work / "small")
    big = World("big", args.brands, big_url, work / "big")
    worlds = (small, big)
    try:
        for world in worlds:
            world.work.mkdir()
        with ThreadPoolExecutor(2) as pool:  # the two builds side by side; nothing is measured yet
            for done in [
                pool.submit(build, w, args.campaigns, args.spend_per_brand, not args.no_redis, settle_after)
                for w in worlds
            ]:
                done.result()
        backend = "PostgreSQL" if given else "SQLite"
        if given:
            postgres_statistics(worlds, args.analyze)
        redis = "no Redis: each command enforces in its own process" if args.no_redis else "embedded Redis, no worker"
        print(
            f"{backend}, {redis}; {args.campaigns} campaigns a brand, {args.spend_per_brand} spend rows a brand; "
            "built through the CLI (wall seconds):"
        )
        for world in worlds:
            steps = ", ".join(f"{step} {seconds:.1f}" for step, seconds in world.built.items())
            print(f"  {world.label} ({world.brands:,} brands): {steps}")

        rows: list[tuple[str, float, float, str]] = []  # step, small, big, unit
        overview_rows: list[tuple[str, float, float, str]] = []
        servers = {}
        try:
            for world in worlds:
                servers[world.label] = start_gunicorn(
                    {"DATABASE_URL": world.url, "PACER_INSTANCE_PATH": world.env["PACER_INSTANCE_PATH"]}
                    | ({"REDIS_URL": world.env["REDIS_URL"]} if "REDIS_URL" in world.env else {})
                )
            for url in SORTS:
                p95 = [percentile(overview_ms(servers[w.label][1], url, args.requests), 95) for w in worlds]
                overview_rows.append((f"overview p95 {url}", p95[0], p95[1], "ms"))
        finally:
            for server, _ in servers.values():
                stop_gunicorn(server)

        now = datetime.now(UTC)
        imports = {w.label: [] for w in worlds}
        for _ in range(args.imports):
            for world in worlds:
                imports[world.label].append(one_row_import(world, now))
        reconciles = {w.label: [] for w in worlds}
        for _ in range(args.reconciles):
            for world in worlds:
                reconciles[world.label].append(world.flask("jobs", "run", "reconcile"))
        for step, figures in (("spend import, 1 row", imports), ("jobs run reconcile", reconciles)):
            for part, name in ((0, "wall"), (1, "after start-up")):
                s, b = (statistics.median(t[part] for t in figures[w.label]) for w in worlds)
                rows.append((f"{step} ({name})", s, b, "s"))
        rows += overview_rows
        start_up = {
            w.label: statistics.median(t[0] - t[1] for t in imports[w.label] + reconciles[w.label]) for w in worlds
        }
    finally:
        for world in worlds:
            if world.redis is not None:
                world.redis.kill()
                world.redis.wait()

    print(
        f"1-row imports: median of {args.imports}; reconcile: median of {args.reconciles}; overview: "
        f"{args.requests} sequential fetches of each URL, one signed-in viewer, gunicorn 2 workers x 4 threads"
    )
    print(
        "after start-up: from the moment the command's app was built to its exit (bench/cli_timing); "
        f"start-up itself (median over those commands): small {start_up['small']:.2f} s, big {start_up['big']:.2f} s"
    )
    for step, figures in (("1-row imports", imports), ("reconciles", reconciles)):
        each = "; ".join(f"{w.label} " + ", ".join(f"{t[1]:.2f}" for t in figures[w.label]) for w in worlds)
        print(f"{step}, each run after start-up (s): {each}")
    header = f"{'step':44s} {f'{small.brands:,} brands':>14s} {f'{big.brands:,} brands':>14s} {'ratio':>7s}  <= 3"
    print(header)
    missed = []
    for step, s, b, unit in rows:
        ratio = b / s if s > 0 else float("nan")
        within = ratio <= LIMIT
        if not within:
            missed.append(step)
        figure = "{:12.2f} {}" if unit == "s" else "{:11.1f} {}"
        print(
            f"{step:44s} {figure.format(s, unit):>14s} {figure.format(b, unit):>14s} {ratio:7.2f}  "
            f"{'yes' if within else 'NO'}"
        )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if missed:
        print(
            f"verdict: {len(missed)} of {len(rows)} steps cost more than {LIMIT:g}x the small world's: "
            + "; ".join(missed)
        )
    else:
        print(f"verdict: every step within {LIMIT:g}x the small world's ({len(rows)} steps)")


if __name__ == "__main__":
    main()
