"""The overview: every brand at a glance."""

from flask import Blueprint, render_template

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def overview():
    return render_template("dashboard/overview.html")
