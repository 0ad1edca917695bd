"""Users (admins): list, create, change role, deactivate. Your account (everyone): password and API tokens."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, HiddenField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app.extensions import db
from app.models import ROLES, User, utcnow
from app.services.signin import end_all_sessions
from app.services.users import (
    MIN_PASSWORD,
    TOKEN_LIFETIMES,
    TOKEN_NAME_MAX,
    UserError,
    change_password,
    change_role,
    create_token,
    create_user,
    deactivate,
    reactivate,
    revoke_token,
    user_tokens,
)
from app.web.auth import remember_cookie_present, requires
from app.web.pagination import page_number

bp = Blueprint("users", __name__)

PER_PAGE = 50
MAX_PAGE = 100_000  # keeps the OFFSET inside a 64-bit integer
ROLE_CHOICES = [
    SelectChoice("viewer", "Viewer — reads everything"),
    SelectChoice("manager", "Manager — edits brands, campaigns, spend"),
    SelectChoice("admin", "Admin — also users and jobs"),
]


class CreateUserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter the person's email address."), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, default="viewer")
    password = PasswordField(
        "Password",
        validators=[
            DataRequired("Choose a password."),
            Length(min=MIN_PASSWORD, message=f"Use at least {MIN_PASSWORD} characters."),
        ],
    )
    confirm = PasswordField(
        "Repeat the password",
        validators=[DataRequired("Repeat the password."), EqualTo("password", "The two passwords differ.")],
    )


class UpdateUserForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    role = SelectField("Role", choices=[SelectChoice(role) for role in ROLES], validate_choice=False)


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])
    new = PasswordField(
        "New password",
        validators=[
            DataRequired("Choose a new password."),
            Length(min=MIN_PASSWORD, message=f"Use at least {MIN_PASSWORD} characters."),
        ],
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired("Repeat the new password."), EqualTo("new", "The two passwords differ.")],
    )


def _lifetime(value) -> int | None:
    return int(value) if value not in (None, "", "never") else None


class TokenForm(FlaskForm):
    name = StringField(
        "Token name",
        validators=[
            DataRequired("Give the token a name, e.g. the script that will use it."),
            Length(max=TOKEN_NAME_MAX, message=f"Use at most {TOKEN_NAME_MAX} characters."),
        ],
    )
    lifetime = SelectField(
        "Expires",
        choices=[
            SelectChoice("never" if days is None else str(days), "Never" if days is None else f"After {days} days")
            for days in TOKEN_LIFETIMES
        ],
        default="never",
    )


def _actor() -> User:
    return current_user._get_current_object()


# --- users (admin) ----------------------------------------------------------------------------


def _render_users(form: CreateUserForm, status: int = 200):
    page = db.paginate(
        select(User).order_by(User.email), page=page_number(MAX_PAGE), per_page=PER_PAGE, error_out=False
    )
    return render_template("users/index.html", form=form, page=page, roles=ROLES, min_password=MIN_PASSWORD), status


@bp.route("/users", methods=["GET", "POST"])
@requires("admin")
def index():
    form = CreateUserForm()
    if form.validate_on_submit():
        try:
            user = create_user(db.session, form.email.data, form.password.data, form.role.data)
        except UserError as exc:
            db.session.rollback()
            message = str(exc)
            target = form.password if "password" in message else form.role if "role" in message else form.email
            target.errors.append(message[0].upper() + message[1:] + ".")
        else:
            db.session.commit()
            flash(f"Created {user.role} {user.email}. Give them their password through a safe channel.", "success")
            return redirect(url_for("users.index"))
    return _render_users(form, 400 if form.errors else 200)


@bp.post("/users/<int:user_id>")
@requires("admin")
def update(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UpdateUserForm()
    if not form.validate_on_submit() or form.action.data not in ("role", "deactivate", "reactivate", "signout"):
        flash("That change was not understood; nothing was changed.", "error")
        return redirect(url_for("users.index"))
    try:
        if form.action.data == "role":
            changed = change_role(db.session, _actor(), user, form.role.data)
            message = (
                f"{user.email} is now {_article(user.role)} {user.role}."
                if changed
                else f"{user.email} is already {_article(user.role)} {user.role}."
            )
        elif form.action.data == "signout":
            end_all_sessions(db.session, user)
            changed = True
            message = f"{user.email} is signed out everywhere: every session and “keep me signed in” cookie has ended."
        elif form.action.data == "deactivate":
            changed = deactivate(db.session, _actor(), user)
            message = (
                f"{user.email} is deactivated: they cannot sign in and their API tokens stop working."
                if changed
                else f"{user.email} was already deactivated."
            )
        else:
            changed = reactivate(db.session, user)
            message = (
                f"{user.email} can sign in again, and their unrevoked API tokens work again."
                if changed
                else f"{user.email} is already active."
            )
    except UserError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("users.index"))
    db.session.commit()
    flash(message, "success" if changed else "info")
    return redirect(url_for("users.index"))


def _article(role: str) -> str:
    return "an" if role[0] in "aeiou" else "a"


# --- your account (every role) -----------------------------------------------------------------


def _render_me(
    password_form: PasswordForm | None = None,
    token_form: TokenForm | None = None,
    new_token: str | None = None,
    status: int = 200,
):
    response = render_template(
        "users/me.html",
        password_form=password_form or PasswordForm(formdata=None),
        token_form=token_form or TokenForm(formdata=None),
        tokens=user_tokens(db.session, _actor()),
        new_token=new_token,
        min_password=MIN_PASSWORD,
        now=utcnow(),
    )
    # The page may carry a freshly created token: keep it out of every cache.
    return response, status, {"Cache-Control": "no-store"}


@bp.get("/me")
@login_required
def me():
    return _render_me()


@bp.post("/me/password", endpoint="change_password")
@login_required
def change_own_password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            change_password(db.session, _actor(), form.current.data, form.new.data)
        except UserError as exc:
            db.session.rollback()
            message = str(exc)
            target = form.current if "current" in message else form.new
            target.errors.append(message[0].upper() + message[1:].rstrip(".") + ".")
        else:
            db.session.commit()
            # Every other session and remember cookie ended with the change; this one carries on.
            login_user(_actor(), remember=remember_cookie_present(), fresh=True)
            flash("Your password is changed. Every other session of yours is signed out.", "success")
            return redirect(url_for("users.me"))
    return _render_me(password_form=form, status=400)


@bp.post("/me/tokens", endpoint="create_token")
@login_required
def create_token_view():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            _, plain = create_token(db.session, _actor(), form.name.data, utcnow(), _lifetime(form.lifetime.data))
        except UserError as exc:
            db.session.rollback()
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            # Shown in this response only: it is never stored, flashed or put in the session.
            return _render_me(new_token=plain)
    return _render_me(token_form=form, status=400)


@bp.post("/me/tokens/<int:token_id>/revoke", endpoint="revoke_token")
@login_required
def revoke_token_view(token_id: int):
    try:
        token = revoke_token(db.session, _actor(), token_id, utcnow())
    except LookupError:
        abort(404)
    db.session.commit()
    flash(f"Token “{token.name}” is revoked: requests that use it are now refused.", "success")
    return redirect(url_for("users.me"))
