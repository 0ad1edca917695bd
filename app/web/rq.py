"""rq-dashboard mounted at /rq for admins only, including its JSON and POST endpoints."""

from __future__ import annotations

import redis
import rq_dashboard
from flask import Flask, abort, current_app, request
from flask_login import current_user

from app.extensions import csrf
from app.queue import RedisUnavailable, get_redis, redis_url


def mount_rq_dashboard(app: Flask) -> None:
    # Its own JavaScript cannot send our CSRF token: instead its POSTs must come from our own origin.
    csrf.exempt(rq_dashboard.blueprint)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix="/rq")
    app.before_request_funcs.setdefault("rq_dashboard", []).insert(0, _admin_only)


def _admin_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not current_user.can("admin"):
        abort(403)
    if request.method == "POST" and request.origin and request.origin != request.host_url.rstrip("/"):
        abort(403)
    url = redis_url()
    try:
        connection = get_redis()
        connection.ping()
    except (RedisUnavailable, redis.RedisError) as exc:
        abort(503, f"The job dashboard needs Redis, which is not answering ({exc}).")
    current_app.config["RQ_DASHBOARD_REDIS_URL"] = (url,)
    current_app.redis_conn = connection
    return None
