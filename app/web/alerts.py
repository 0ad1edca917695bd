"""The alerts page: every fired budget and forecast alert, newest first, filterable by brand."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from app.extensions import db
from app.models import Brand
from app.services.alerts import alerts_select, describe
from app.web.auth import requires
from app.web.brand_picker import BRAND_SELECT_MAX, typed_brand

bp = Blueprint("alerts", __name__)

PER_PAGE = 50


@bp.get("/alerts")
@requires("viewer")
def index():
    brand_id = request.args.get("brand", type=int)
    brands = db.session.execute(select(Brand.id, Brand.name).order_by(Brand.name).limit(BRAND_SELECT_MAX + 1)).all()
    many = len(brands) > BRAND_SELECT_MAX  # then the brand is a name to type (app.web.brand_picker)
    brand_name, problem = request.args.get("brand_name", "").strip(), None
    if many and brand_name:
        brand, problem = typed_brand(db.session, brand_name)
        brand_id, brand_name = (brand.id, brand.name) if brand is not None else (None, brand_name)
    elif many and brand_id is not None:
        brand_name = db.session.scalar(select(Brand.name).where(Brand.id == brand_id)) or ""
    if problem:
        page = None
    else:
        page = db.paginate(
            alerts_select(brand_id), page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False
        )
    return render_template(
        "alerts/index.html",
        page=page,
        brands=None if many else brands,
        brand_id=brand_id,
        brand_name=brand_name,
        problem=problem,
        describe=describe,
    ), (400 if problem else 200)
