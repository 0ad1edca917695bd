"""Login, logout, the login guard on every page, and role checks."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired

from app.extensions import db, login_manager
from app.models import User, utcnow
from app.services.signin import Outcome, end_all_sessions, sign_in, user_for_session

bp = Blueprint("auth", __name__)

# Endpoints anyone may reach; everything else needs a login (the API authenticates by token).
PUBLIC_ENDPOINTS = {"auth.login", "health.healthz", "static"}
PUBLIC_BLUEPRINTS = {"api"}


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in")


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    # Checked on every request: a session or remember cookie from before the user's sessions ended is refused.
    return user_for_session(db.session, session_id)


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
    """A same-site path to go to after signing in; anything else (other hosts, CR/LF, backslashes) is ignored."""
    if (
        target
        and len(target) <= 2000
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
        and urlsplit(target).netloc == ""
    ):
        return target
    return url_for("dashboard.overview")


def remember_cookie_present() -> bool:
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        result = sign_in(db.session, form.email.data, form.password.data, request.remote_addr, utcnow())
        db.session.commit()  # the failure counts must outlive this request
        if result.outcome is Outcome.THROTTLED:
            form.password.errors.append(result.wait_message())
            return render_template("auth/login.html", form=form), 429
        if result.outcome is Outcome.WRONG:
            form.password.errors.append("That email and password do not match an account.")
        elif result.outcome is Outcome.DEACTIVATED:
            form.email.errors.append("This account has been deactivated; ask an admin.")
        else:
            login_user(result.user, remember=form.remember.data)
            flash(f"Signed in as {result.user.email}.", "success")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 400


@bp.post("/logout")
@login_required
def logout():
    # Every session and remember cookie of this user ends, including copies taken before now.
    end_all_sessions(db.session, current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login"))
