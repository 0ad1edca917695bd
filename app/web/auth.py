"""Login, logout, the login guard on every page, and role checks."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired

from app.extensions import db, login_manager
from app.models import User
from app.services.users import find_user

bp = Blueprint("auth", __name__)

# Endpoints anyone may reach; everything else needs a login (the API authenticates by token).
PUBLIC_ENDPOINTS = {"auth.login", "health.healthz", "static"}
PUBLIC_BLUEPRINTS = {"api"}


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"


def install_login_guard(app: Flask) -> None:
    @app.before_request
    def require_login():
        if request.endpoint in PUBLIC_ENDPOINTS or request.blueprint in PUBLIC_BLUEPRINTS:
            return None
        if request.endpoint is None:  # a 404: let the error page answer
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return None


def requires(role: str):
    """View decorator: the signed-in user must hold ``role`` or above, else 403."""

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.can(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _safe_next(target: str | None) -> str:
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("dashboard.overview")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = find_user(db.session, form.email.data)
        if user is None or not user.check_password(form.password.data):
            form.password.errors.append("That email and password do not match an account.")
        elif not user.active:
            form.email.errors.append("This account has been deactivated; ask an admin.")
        else:
            login_user(user, remember=form.remember.data)
            flash(f"Signed in as {user.email}.", "success")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 400


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login"))
