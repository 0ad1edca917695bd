"""`make run`: web, two workers (one for imports), the scheduler and (unless REDIS_URL is set) an embedded
Redis, together through honcho. Ctrl-C stops every process it started.

The embedded Redis's address is written to instance/redis.url, so `flask --app app ...`
commands in another terminal of this checkout reach the same Redis and database.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from honcho.manager import Manager

from app import ROOT, create_app
from app import embedded_redis
from app.queue import QUEUE_ENFORCE, QUEUE_IMPORTS, QUEUE_SWEEPS
from app.services.demo import DEMO_USERS

BIN = Path(sys.executable).parent


def main() -> int:
    port = int(os.environ.get("PORT", "5000"))
    app = create_app()
    instance = Path(app.instance_path)
    env = dict(os.environ, PORT=str(port), PYTHONUNBUFFERED="1")
    manager = Manager()
    redis_server = None
    if not os.environ.get("REDIS_URL"):
        # Its own session, so Ctrl-C reaches it only through us, after the worker and scheduler stop.
        redis_server, env["REDIS_URL"] = embedded_redis.start(instance / "redis", new_session=True)
        embedded_redis.write_url(instance, env["REDIS_URL"])
    manager.add_process(
        "web",
        f"{BIN / 'gunicorn'} --bind 127.0.0.1:{port} --workers 2 --threads 4 --access-logfile - 'app:create_app()'",
        env=env, cwd=str(ROOT),
    )
    # As in the Procfile: imports get a worker of their own, so a long one never delays a reconcile.
    manager.add_process("worker", f"{BIN / 'python'} worker.py --queues {QUEUE_ENFORCE},{QUEUE_SWEEPS}",
                        env=env, cwd=str(ROOT))
    manager.add_process("importer", f"{BIN / 'python'} worker.py --queues {QUEUE_IMPORTS}", env=env, cwd=str(ROOT))
    manager.add_process("scheduler", f"{BIN / 'python'} scheduler.py", env=env, cwd=str(ROOT))

    print(f"\n  Pacer is starting on http://127.0.0.1:{port}")
    print(f"  Redis: {'embedded at ' if redis_server else ''}{env['REDIS_URL']}")
    print(f"  Database: {app.config['SQLALCHEMY_DATABASE_URI']}")
    print("  Logins:")
    for email, role, password in DEMO_USERS:
        print(f"    {role:8} {email} / {password}")
    print("  Ctrl-C stops everything.\n", flush=True)
    try:
        manager.loop()
    finally:
        if redis_server is not None:
            embedded_redis.clear_url(instance)
            redis_server.terminate()
            redis_server.wait(timeout=10)
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
