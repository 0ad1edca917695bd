"""/healthz: JSON for load balancers and operators; no login."""

from flask import Blueprint, jsonify

from app.extensions import csrf, db
from app.health import check_health

bp = Blueprint("health", __name__)
csrf.exempt(bp)


@bp.get("/healthz")
def healthz():
    healthy, report = check_health(db.session)
    return jsonify(report), 200 if healthy else 503
