"""rq-dashboard mounted at /rq for admins only, including its JSON and POST endpoints.

Its routes that change state (some answer GET) are refused unless the request comes from a
Pacer page, and its arguments are checked here first, so a wrong one is a 400 or 404 page
rather than an exception inside rq-dashboard.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import redis
import rq_dashboard
from flask import Flask, abort, current_app, jsonify, request
from flask_login import current_user
from rq import Queue
from rq.job import Job

from app.extensions import csrf
from app.queue import RedisUnavailable, get_redis, redis_url

STATE_CHANGING = {"delete_job_view", "requeue_job_view", "requeue_all", "empty_queue", "compact_queue"}
REGISTRIES = {"queued", "failed", "deferred", "started", "finished", "scheduled", "canceled"}
ORDERS = {"asc", "dsc"}
MAX_PER_PAGE = 1000
MAX_PAGE = 1_000_000


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
    endpoint = (request.endpoint or "").rpartition(".")[2]
    if endpoint in STATE_CHANGING and not same_origin():
        abort(403, "Job dashboard actions must come from Pacer's own pages; this request came from elsewhere.")
    url = redis_url()
    try:
        connection = get_redis()
        connection.ping()
    except (RedisUnavailable, redis.RedisError) as exc:
        abort(503, f"The job dashboard needs Redis, which is not answering ({exc}).")
    current_app.config["RQ_DASHBOARD_REDIS_URL"] = (url,)
    current_app.redis_conn = connection
    return _check_arguments(endpoint, request.view_args or {}, connection)


def same_origin() -> bool:
    """True when the browser says the request comes from a page of this site.

    Sec-Fetch-Site first (every current browser sends it), then Origin, then Referer;
    a request that carries none of them is refused.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    own = urlsplit(request.host_url)
    for header in ("Origin", "Referer"):
        value = request.headers.get(header)
        if value:
            theirs = urlsplit(value)
            return (theirs.scheme, theirs.netloc) == (own.scheme, own.netloc)
    return False


def _check_arguments(endpoint: str, args: dict, connection):
    """400 or 404 for arguments rq-dashboard would fail on; None to let its view run."""
    if args.get("instance_number", 0) != 0:
        abort(404, "There is one Redis instance; its dashboard is at /rq/.")
    if "registry_name" in args and args["registry_name"] not in REGISTRIES:
        abort(404, f"There is no job registry of that name; use one of {', '.join(sorted(REGISTRIES))}.")
    if "order" in args and args["order"] not in ORDERS:
        abort(400, "The order must be asc or dsc.")
    for name, ceiling in (("per_page", MAX_PER_PAGE), ("page", MAX_PAGE)):
        if name in args:
            value = str(args[name])
            if not (value.isascii() and value.isdigit() and 1 <= int(value) <= ceiling):
                abort(400, f"{name} must be a whole number from 1 to {ceiling}.")
    if "job_id" in args and not Job.exists(args["job_id"], connection=connection):
        abort(404, "There is no job with that id; it may have finished and expired.")
    if endpoint == "compact_queue" and Queue(args["queue_name"], connection=connection).count == 0:
        return jsonify(status="OK")  # nothing to compact (rq fails on a queue with no list)
    return None
