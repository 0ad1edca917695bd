"""Activity pages."""

from flask import Blueprint

bp = Blueprint("activity", __name__)


@bp.get("/activity")
def index():
    from flask import render_template_string

    return render_template_string('{% extends "base.html" %}{% block content %}<h1>Activity</h1>{% endblock %}')
