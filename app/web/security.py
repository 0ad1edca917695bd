"""Security headers on every response (error pages and static files included), and the checks
every request passes before a view sees it: no NUL bytes or lone surrogates in any text."""

from __future__ import annotations

from flask import Flask, Response, abort, request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

# Pacer's pages load scripts and styles only from static/: no inline script, no eval.
# Inline style *attributes* stay allowed (bar widths computed on the server); they cannot run code.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# rq-dashboard (a third-party page, admins only) writes inline scripts and compiles underscore
# templates with eval; it gets those two allowances and nothing else (still same-origin only, never framed).
RQ_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def bad_text(value: str) -> str | None:
    """Why ``value`` cannot be stored as text (a NUL byte or a lone surrogate), or None when it can."""
    if "\x00" in value:
        return "contains a NUL byte (\\0)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone UTF-16 surrogate, which is not a character"
    return None


def _check_request_text() -> None:
    """400 with a sentence for NUL bytes or surrogates in the path, the query string or form fields."""
    sources = [("address", (request.view_args or {}).items()), ("query argument", request.args.items(multi=True))]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(("form field", request.form.items(multi=True)))
    for kind, pairs in sources:
        for name, value in pairs:
            for text in (name, value):
                problem = bad_text(text) if isinstance(text, str) else None
                if problem:
                    label = f"{kind} “{name}”" if isinstance(name, str) and not bad_text(name) else f"name of a {kind}"
                    abort(400, f"The {label} {problem}; remove it and try again.")


def install_security(app: Flask) -> None:
    production = app.config.get("PACER_ENV") == "production"

    @app.before_request
    def refuse_unstorable_text():
        _check_request_text()

    @app.after_request
    def security_headers(response: Response) -> Response:
        on_rq = request.blueprint == "rq_dashboard" or request.path.startswith("/rq/")
        response.headers["Content-Security-Policy"] = RQ_CONTENT_SECURITY_POLICY if on_rq else CONTENT_SECURITY_POLICY
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if production:
            response.headers["Strict-Transport-Security"] = HSTS
        static = request.endpoint is not None and request.endpoint.endswith("static")
        if not static and _signed_in():
            response.headers["Cache-Control"] = "no-store"
        return response


def _signed_in() -> bool:
    try:
        return bool(current_user and current_user.is_authenticated)
    except SQLAlchemyError:  # an error page for a failing database must still be served
        return False
