"""JSON API under /api/v1, authenticated by per-user bearer tokens.

Viewers may read; managers and admins may also write spend. Errors are JSON
``{"error": "..."}`` with the right status code.
"""

from __future__ import annotations

import functools

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import csrf, db
from app.models import Brand, utcnow
from app.money import format_amount
from app.services.enforcement import commit_and_enforce
from app.services.spend import ApiSpendError, record_api_spend
from app.services.totals import spend_today_and_month
from app.services.users import authenticate_token
from app.web.json_body import JsonBodyError, read_json
from app.web.openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def _error(status: int, message: str):
    return jsonify({"error": message}), status


def token_required(role: str):
    """Authenticate ``Authorization: Bearer <token>``; 401 without a valid token, 403 below ``role``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return _error(401, "send an API token: Authorization: Bearer <token> (create one on your account page)")
            user = authenticate_token(db.session, token.strip(), utcnow())
            if user is None:
                return _error(401, "the API token is unknown, revoked, expired, or its user is deactivated")
            db.session.commit()  # last_used_at
            if not user.can(role):
                return _error(403, f"your role ({user.role}) may not do this; it needs {role} or above")
            g.api_user = user
            return view(*args, **kwargs)

        return wrapped

    return decorator


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API (no token needed)."""
    return jsonify(openapi_document())


def _brand_json(brand: Brand, now) -> dict:
    today, month = spend_today_and_month(db.session, brand, now)
    money = lambda minor: format_amount(minor, brand.currency)  # noqa: E731
    return {
        "id": brand.id,
        "name": brand.name,
        "timezone": brand.timezone,
        "currency": brand.currency,
        "daily_budget": money(brand.daily_budget_minor),
        "monthly_budget": money(brand.monthly_budget_minor),
        "spend_today": money(today),
        "spend_month": money(month),
    }


def _brands(name: str | None):
    stmt = select(Brand).where(Brand.archived_at.is_(None)).options(selectinload(Brand.campaigns)).order_by(Brand.name)
    if name:
        stmt = stmt.where(Brand.name == name)
    return db.session.scalars(stmt).all()


@bp.get("/brands")
@token_required("viewer")
def brands():
    now = utcnow()
    return jsonify({"brands": [_brand_json(b, now) for b in _brands(request.args.get("name"))]})


@bp.get("/campaigns")
@token_required("viewer")
def campaigns():
    now = utcnow()
    out = []
    for brand in _brands(request.args.get("brand")):
        summary = _brand_json(brand, now)
        for c in brand.campaigns:
            if c.archived_at is not None:
                continue
            out.append(
                {
                    "id": c.id,
                    "brand": brand.name,
                    "brand_id": brand.id,
                    "name": c.name,
                    "enabled": c.enabled,
                    "start_date": c.start_date.isoformat() if c.start_date else None,
                    "end_date": c.end_date.isoformat() if c.end_date else None,
                    "status": c.status,
                    "reasons": c.reasons,
                    "status_changed_at": c.status_changed_at.isoformat().replace("+00:00", "Z")
                    if c.status_changed_at
                    else None,
                    "spend_today": summary["spend_today"],
                    "spend_month": summary["spend_month"],
                    "daily_budget": summary["daily_budget"],
                    "monthly_budget": summary["monthly_budget"],
                    "currency": brand.currency,
                }
            )
    return jsonify({"campaigns": out})


@bp.post("/spend")
@token_required("manager")
def spend():
    try:
        payload = read_json(
            request,
            max_bytes=current_app.config["PACER_API_MAX_BYTES"],
            max_depth=current_app.config["PACER_JSON_MAX_DEPTH"],
        )
    except JsonBodyError as exc:
        return _error(413 if "larger than" in str(exc) else 400, str(exc))
    try:
        result = record_api_spend(db.session, payload, utcnow())
    except ApiSpendError as exc:
        db.session.rollback()
        return _error(400, str(exc))
    if not result.created and not result.duplicates and not any(result.periods.values()):
        db.session.rollback()
        body = {
            "error": f"all {result.rejected} records are invalid; nothing was written",
            "results": result.results,
            "created": 0,
            "duplicates": 0,
            "rejected": result.rejected,
        }
        return jsonify(body), 400
    enforcement = commit_and_enforce(db.session, actor=f"api:{g.api_user.email}")
    body = {
        "created": result.created,
        "duplicates": result.duplicates,
        "replaced": result.periods["replaced"],
        "corrected": result.periods["corrected"],
        "unchanged": result.periods["unchanged"],
        "rejected": result.rejected,
        "results": result.results,
        "enforcement": enforcement.state,
    }
    if enforcement.error:
        body["enforcement_message"] = enforcement.message()
    status = 207 if result.rejected else (201 if result.created else 200)
    return jsonify(body), status
