"""The overview: every brand at a glance, sorted, searched and paginated in SQL."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from app.extensions import db
from app.models import utcnow
from app.services import live as live_service
from app.services import overview as service
from app.services.platforms import out_of_sync
from app.web import live
from app.web.pagination import page_number

bp = Blueprint("dashboard", __name__)

PER_PAGE = 50


@bp.get("/")
def overview():
    now = utcnow()
    if (unchanged := live.not_modified(live_service.overview_version(db.session), now)) is not None:
        return unchanged
    q = request.args.get("q", "", type=str).strip()[:200]
    sort = request.args.get("sort", "name", type=str)
    if sort not in service.SORTS:
        sort = "name"
    order = request.args.get("order", service.SORTS[sort], type=str)
    if order not in ("asc", "desc"):
        order = service.SORTS[sort]
    archived = request.args.get("archived") == "1"
    triage = request.args.get("show", "", type=str)
    triage = triage if triage in service.TRIAGE and not archived else None
    stmt = service.brands_select(
        db.session, now, q=q, sort=sort, descending=order == "desc", archived=archived, triage=triage
    )
    page = db.paginate(stmt, page=page_number(), per_page=PER_PAGE, error_out=False)
    return live.tagged(
        render_template(
            "dashboard/overview.html",
            page=page,
            rows=service.brand_rows(db.session, list(page.items), now),
            actions=service.latest_automatic_actions(db.session),
            out_of_sync=out_of_sync(db.session),
            q=q,
            sort=sort,
            order=order,
            archived=archived,
            triage=triage,
            triage_words={key: words for key, (words, _) in service.TRIAGE.items()},
            triage_counts=None if archived else service.triage_counts(db.session),
            sorts=service.SORTS,
            now=now,
        )
    )
