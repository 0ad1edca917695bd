"""The overview: every brand at a glance, sorted, searched and paginated in SQL."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from app.extensions import db
from app.models import utcnow
from app.services import overview as service
from app.services.platforms import out_of_sync
from app.web.pagination import page_number

bp = Blueprint("dashboard", __name__)

PER_PAGE = 50


@bp.get("/")
def overview():
    now = utcnow()
    q = request.args.get("q", "", type=str).strip()[:200]
    sort = request.args.get("sort", "name", type=str)
    if sort not in service.SORTS:
        sort = "name"
    order = request.args.get("order", service.SORTS[sort], type=str)
    if order not in ("asc", "desc"):
        order = service.SORTS[sort]
    archived = request.args.get("archived") == "1"
    stmt = service.brands_select(db.session, now, q=q, sort=sort, descending=order == "desc", archived=archived)
    page = db.paginate(stmt, page=page_number(), per_page=PER_PAGE, error_out=False)
    return render_template(
        "dashboard/overview.html",
        page=page,
        rows=service.brand_rows(db.session, list(page.items), now),
        actions=service.latest_automatic_actions(db.session),
        out_of_sync=out_of_sync(db.session),
        q=q,
        sort=sort,
        order=order,
        archived=archived,
        sorts=service.SORTS,
        now=now,
    )
