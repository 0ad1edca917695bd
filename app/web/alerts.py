"""The alerts page: every fired budget and forecast alert, newest first, filterable by brand."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from app.extensions import db
from app.models import Brand
from app.services.alerts import alerts_select, describe
from app.web.auth import requires

bp = Blueprint("alerts", __name__)

PER_PAGE = 50


@bp.get("/alerts")
@requires("viewer")
def index():
    brand_id = request.args.get("brand", type=int)
    page = db.paginate(
        alerts_select(brand_id), page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False
    )
    brands = db.session.execute(select(Brand.id, Brand.name).order_by(Brand.name)).all()
    return render_template("alerts/index.html", page=page, brands=brands, brand_id=brand_id, describe=describe)
