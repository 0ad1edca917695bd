"""The Makefile's operator targets: each a thin call of the flask CLI, listed by `make help`, stopping at once
with an example when a variable is missing or wrong. Dry runs (`make -n`) print the command; a few cheap
targets run for real against the test database."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLASK = ".venv/bin/flask --app app"


def make(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    # stdin is not a terminal, even when pytest runs in one: db-reset must refuse, not ask.
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def commands(result: subprocess.CompletedProcess) -> list[str]:
    """The flask commands a dry run would run (not the set-up steps before them)."""
    return [line.strip() for line in result.stdout.splitlines() if line.startswith(FLASK) and " db upgrade" not in line]


REPLACED_SYSTEM_TARGETS = (
    "setup",
    "health",
    "db-reset",
    "shell",
    "superuser",
    "simulate-spend",
    "simulate-time",
    "task-budget-check",
    "task-dayparting",
    "task-daily-reset",
    "task-monthly-reset",
    "demo",
    "import-spend",
    "replay",
    "test-spend",
    "prune-uploads",
)


def test_help_lists_every_target():
    result = make("help")
    assert result.returncode == 0
    listed = re.findall(r"^  make (\S+)", result.stdout, re.M)
    assert set(REPLACED_SYSTEM_TARGETS) <= set(listed)
    assert "make simulate-spend MIN=5 MAX=50" in result.stdout and "make simulate-time HOUR=9 DAY=mon" in result.stdout


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["setup"], f"{FLASK} seed-demo"),
        (["demo"], f"{FLASK} demo run"),
        (["health"], f"{FLASK} health"),
        (["shell"], f"{FLASK} shell"),
        (["superuser", "EMAIL=ops@example.com"], f'{FLASK} users create "ops@example.com" --role admin'),
        (["db-reset"], f"{FLASK} reset-database"),
        (["db-reset", "CONFIRM=yes"], f"{FLASK} reset-database --yes"),
        (["simulate-spend", "MIN=5", "MAX=50"], f'{FLASK} spend simulate --min "5" --max "50"'),
        (["import-spend", "FILE=spend.csv"], f'{FLASK} spend import "spend.csv"'),
        (
            ["import-spend", "FILE=r.csv", "FORMAT=meta", "BRAND=Acme"],
            f'{FLASK} spend import "r.csv" --format "meta" --brand "Acme"',
        ),
        (["simulate-time", "HOUR=9", "DAY=mon"], f'{FLASK} simulate-time --hour "9" --day "mon"'),
        (
            ["replay", "FROM=2026-11-01T00:00Z", "TO=2026-11-02T00:00Z"],
            f'{FLASK} simulate --from "2026-11-01T00:00Z" --to "2026-11-02T00:00Z"',
        ),
        (["task-budget-check"], f"{FLASK} jobs run enforce-budgets"),
        (["task-dayparting", "AT=2026-11-25T15:00Z"], f'{FLASK} jobs run apply-dayparting --at "2026-11-25T15:00Z"'),
        (["task-daily-reset"], f"{FLASK} jobs run reset-daily"),
        (["task-monthly-reset"], f"{FLASK} jobs run reset-monthly"),
        (["prune-uploads"], f"{FLASK} spend prune-uploads"),
        (["run"], f"{FLASK} seed-demo --no-logins"),
    ],
)
def test_each_target_is_a_thin_call_of_the_flask_cli(args, command):
    result = make("-n", *args)
    assert result.returncode == 0, result.stderr
    assert commands(result)[0] == command


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate-spend"], "make simulate-spend needs MIN=...; for example: make simulate-spend MIN=5 MAX=50."),
        (
            ["simulate-spend", "MIN=5"],
            "make simulate-spend needs MAX=...; for example: make simulate-spend MIN=5 MAX=50.",
        ),
        (
            ["simulate-time", "DAY=mon"],
            "make simulate-time needs HOUR=...; for example: make simulate-time HOUR=9 DAY=mon.",
        ),
        (["import-spend"], "make import-spend needs FILE=...; for example: make import-spend FILE=spend.csv."),
        (["replay", "FROM=2026-11-01"], "make replay needs TO=..."),
        (["superuser"], "make superuser needs EMAIL=...; for example: make superuser EMAIL=you@example.com."),
        (["test-spend", "BRAND=Acme"], "make test-spend needs CAMPAIGN=..."),
        (["db-reset", "CONFIRM=no"], "make db-reset takes CONFIRM=yes or nothing (it then asks), not CONFIRM=no."),
    ],
)
def test_a_missing_or_wrong_variable_stops_before_anything_runs(args, message):
    result = make("-n", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""  # not even the set-up steps


@pytest.fixture
def stack_env(database_url, instance_path) -> dict[str, str]:
    """The test database and instance folder, and a Redis nobody listens on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACER_", "REDIS_", "DATABASE_", "MAKE"))}
    env.update(DATABASE_URL=database_url, PACER_INSTANCE_PATH=str(instance_path), REDIS_URL="redis://127.0.0.1:1/0")
    return env


def test_make_simulate_time_runs_and_a_bad_day_is_named(app, stack_env):
    result = make("simulate-time", "HOUR=9", "DAY=mon", env=stack_env)
    assert result.returncode == 0, result.stderr
    assert "0 of 0 campaigns would change (nothing written)." in result.stdout
    bad = make("simulate-time", "HOUR=9", "DAY=funday", env=stack_env)
    assert bad.returncode == 2
    assert "Invalid value for --day: 'funday' is not a weekday: use mon..sun, monday..sunday or 0..6" in bad.stderr


def test_make_health_fails_naming_what_is_down(app, stack_env):
    result = make("health", env=stack_env)
    assert result.returncode == 2
    assert "database   ok" in result.stdout and "FAILING: redis" in result.stdout


def test_make_db_reset_without_a_terminal_refuses(app, stack_env):
    result = make("db-reset", env=stack_env)
    assert result.returncode == 2
    assert "refusing to reset the database without a terminal to ask on" in result.stderr
