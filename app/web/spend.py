"""Spend pages."""

from flask import Blueprint

bp = Blueprint("spend", __name__)


@bp.get("/spend/imports")
def imports():
    from flask import render_template_string

    return render_template_string('{% extends "base.html" %}{% block content %}<h1>Spend imports</h1>{% endblock %}')
