"""`make run`: web, three workers (enforcement, imports, webhooks), the scheduler and (unless REDIS_URL is
set) an embedded Redis, together through honcho. Ctrl-C stops every process it started.

The embedded Redis's address is written to instance/redis.url, so `flask --app app ...`
commands in another terminal of this checkout reach the same Redis and database. If that Redis
exits, it is started again on the same port (empty, as it keeps nothing on disk); the workers
and the scheduler ride out the gap and register again by themselves.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

from honcho.manager import Manager

from app import ROOT, create_app, embedded_redis
from app.queue import QUEUE_ENFORCE, QUEUE_IMPORTS, QUEUE_SWEEPS, QUEUE_WEBHOOKS
from app.services.demo import DEMO_USERS

BIN = Path(sys.executable).parent


class RedisKeeper(threading.Thread):
    """Keeps the embedded Redis running: restarts it on its port when it exits, with backoff."""

    def __init__(self, process: subprocess.Popen, url: str, data_dir: Path) -> None:
        super().__init__(name="redis-keeper", daemon=True)
        self.process = process
        self.port = urlparse(url).port
        self.data_dir = data_dir
        self.stopping = threading.Event()

    def run(self) -> None:
        delay = 0.5
        while not self.stopping.wait(0.5):
            if self.process.poll() is None:
                continue
            say(
                f"the embedded Redis exited (code {self.process.returncode}); starting it again on port "
                f"{self.port}, empty: the workers and the scheduler register again by themselves"
            )
            while not self.stopping.is_set():
                try:
                    self.process, _ = embedded_redis.start(self.data_dir, port=self.port, new_session=True)
                except (RuntimeError, OSError) as exc:
                    say(f"the embedded Redis did not start ({exc}); trying again in {delay:.0f}s")
                    self.stopping.wait(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                say("the embedded Redis is back")
                delay = 0.5
                break

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=20)
        self.process.terminate()
        self.process.wait(timeout=10)


def say(message: str) -> None:
    print(f"supervisor | {message}", flush=True)


def main() -> int:
    port = int(os.environ.get("PORT", "5000"))
    app = create_app()
    instance = Path(app.instance_path)
    env = dict(os.environ, PORT=str(port), PYTHONUNBUFFERED="1")
    manager = Manager()
    keeper = None
    if not os.environ.get("REDIS_URL"):
        # Its own session, so Ctrl-C reaches it only through us, after the worker and scheduler stop.
        redis_server, env["REDIS_URL"] = embedded_redis.start(instance / "redis", new_session=True)
        embedded_redis.write_url(instance, env["REDIS_URL"])
        keeper = RedisKeeper(redis_server, env["REDIS_URL"], instance / "redis")
        keeper.start()
    manager.add_process(
        "web",
        f"{BIN / 'gunicorn'} --bind 127.0.0.1:{port} --workers 2 --threads 4 --access-logfile - 'app:create_app()'",
        env=env,
        cwd=str(ROOT),
    )
    # As in the Procfile: imports get a worker of their own, so a long one never delays a reconcile.
    manager.add_process(
        "worker", f"{BIN / 'python'} worker.py --queues {QUEUE_ENFORCE},{QUEUE_SWEEPS}", env=env, cwd=str(ROOT)
    )
    manager.add_process("importer", f"{BIN / 'python'} worker.py --queues {QUEUE_IMPORTS}", env=env, cwd=str(ROOT))
    # Webhooks too: a slow or failing receiver never holds up enforcement.
    manager.add_process("webhooks", f"{BIN / 'python'} worker.py --queues {QUEUE_WEBHOOKS}", env=env, cwd=str(ROOT))
    manager.add_process("scheduler", f"{BIN / 'python'} scheduler.py", env=env, cwd=str(ROOT))

    print(f"\n  Pacer is starting on http://127.0.0.1:{port}")
    print(f"  Redis: {'embedded at ' if keeper else ''}{env['REDIS_URL']}")
    print(f"  Database: {app.config['SQLALCHEMY_DATABASE_URI']}")
    print("  Logins:")
    for email, role, password in DEMO_USERS:
        print(f"    {role:8} {email} / {password}")
    print("  Ctrl-C stops everything.\n", flush=True)
    try:
        manager.loop()
    finally:
        if keeper is not None:
            embedded_redis.clear_url(instance)
            keeper.stop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
