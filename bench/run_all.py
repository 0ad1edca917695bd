"""Run every benchmark: `make bench` (full size; rewrites the figures section of docs/benchmarks.md with
the date, machine and commands) or `make bench-smoke` (each at a tiny size; only checks they complete).

Each benchmark runs in its own process with this interpreter; $DATABASE_URL (PostgreSQL) is passed on.
Exits non-zero when any benchmark fails, never because of a figure.

    .venv/bin/python bench/run_all.py [--smoke] [--no-docs] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from common import ROOT, machine

FULL = [
    ["bench/sweep.py"],
    ["bench/pages.py"],
    ["bench/enforcement_latency.py", "--import-rows", "500000"],
    ["bench/ingest.py", "--rows", "1000000"],
    ["bench/periods.py"],
    ["bench/report_formats.py"],
    ["bench/live_poll.py"],
    ["bench/connectors.py"],
    ["bench/scale_check.py"],
]
SMOKE = [
    ["bench/sweep.py", "--brands", "30", "--campaigns", "150", "--spend-rows", "1000"],
    [
        "bench/pages.py",
        "--brands",
        "30",
        "--campaigns",
        "150",
        "--spend-rows",
        "1000",
        "--events",
        "500",
        "--big-brand-campaigns",
        "20",
        "--users",
        "2",
        "--seconds",
        "2",
    ],
    [
        "bench/enforcement_latency.py",
        "--brands",
        "20",
        "--campaigns",
        "3",
        "--sample",
        "3",
        "--spend-rows",
        "300",
        "--import-rows",
        "200",
    ],
    ["bench/ingest.py", "--rows", "2000"],
    ["bench/periods.py", "--campaigns", "20"],
    ["bench/report_formats.py", "--rows", "2000"],
    ["bench/live_poll.py", "--brands", "20", "--campaigns", "60", "--spend-rows", "500", "--asks", "3"],
    ["bench/connectors.py", "--campaigns", "3", "--pushes", "5"],
    [
        "bench/scale_check.py",
        "--brands",
        "200",
        "--small-brands",
        "20",
        "--requests",
        "3",
        "--imports",
        "1",
        "--reconciles",
        "1",
        "--no-wait",
    ],
]
BEGIN, END = "<!-- make bench: begin -->", "<!-- make bench: end -->"
DOCS = ROOT / "docs" / "benchmarks.md"
NOISE = re.compile(
    r"^(INFO  \[alembic|so a run|\(what the last|brand changed since|so the minute|projection, active|"
    r"and an index on|\(every brand is due)"
)


def run(command: list[str], url: str | None) -> tuple[int, str, float]:
    argv = [sys.executable, *command]
    if url and command[0] == "bench/ingest.py":
        argv += ["--database-url", url]
    print("$", " ".join(["python", *command]), flush=True)
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    output = "\n".join(line for line in (done.stdout + done.stderr).splitlines() if not NOISE.match(line))
    print(output, flush=True)
    return done.returncode, output, seconds


def write_docs(sections: list[tuple[list[str], str, float]], url: str | None) -> None:
    backend = "PostgreSQL ($DATABASE_URL)" if url else "SQLite"
    lines = [
        BEGIN,
        f"## Latest `make bench` run ({backend})",
        "",
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}.",
        "",
    ]
    for command, output, seconds in sections:
        lines += [
            f"    $ .venv/bin/python {' '.join(command)}    # {seconds:.0f} s",
            "",
            *("    " + line for line in output.splitlines()),
            "",
        ]
    lines.append(END)
    text = DOCS.read_text()
    block = "\n".join(lines)
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOCS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="each benchmark at a tiny size; docs untouched")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument(
        "--only",
        nargs="+",
        default=None,
        metavar="NAME",
        help="only these benchmarks, by script name (e.g. scale_check); docs untouched",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    print(machine(), flush=True)
    sections, failed = [], []
    commands = SMOKE if args.smoke else FULL
    if args.only:
        unknown = set(args.only) - {Path(command[0]).stem for command in commands}
        if unknown:
            parser.error(f"no benchmark named {', '.join(sorted(unknown))}")
        commands = [command for command in commands if Path(command[0]).stem in args.only]
    for command in commands:
        code, output, seconds = run(command, url)
        sections.append((command, output, seconds))
        if code:
            failed.append(f"{command[0]} exited {code}")
    if not args.smoke and not args.no_docs and not args.only and not failed:
        write_docs(sections, url)
    if failed:
        sys.exit("benchmarks failed: " + "; ".join(failed))
    print("every benchmark completed")


if __name__ == "__main__":
    main()
