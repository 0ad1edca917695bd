"""Users pages."""

from flask import Blueprint

bp = Blueprint("users", __name__)


@bp.get("/users")
def index():
    from flask import render_template_string

    return render_template_string('{% extends "base.html" %}{% block content %}<h1>Users</h1>{% endblock %}')


@bp.get("/me")
def me():
    from flask import render_template_string

    return render_template_string('{% extends "base.html" %}{% block content %}<h1>Your account</h1>{% endblock %}')
