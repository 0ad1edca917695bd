"""Error pages: HTML for people, JSON under /api."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "Your role does not allow this. Ask an admin if you need access."),
    404: ("Not found", "There is nothing at this address."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    413: ("File too large", "The upload is larger than the limit of {limit} MB. Split the file and upload the parts."),
    503: ("Unavailable", "A service Pacer needs is not answering. Try again shortly."),
    500: (
        "Something went wrong",
        "Pacer hit an error. It has been logged; try again, and tell an admin if it persists.",
    ),
}


def register_error_handlers(app: Flask) -> None:
    def render(code: int, detail: str | None = None):
        title, message = MESSAGES.get(code, ("Error", "Something went wrong."))
        message = detail or message.format(limit=(app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024))
        if request.path.startswith("/api/"):
            return jsonify({"error": message}), code
        return render_template("errors/error.html", code=code, title=title, message=message), code

    def handle(exc, code: int):
        # abort(400, "a sentence") shows the sentence; werkzeug's stock descriptions are replaced by ours.
        description = getattr(exc, "description", None)
        custom = description if description and description != type(exc).description else None
        return render(code, custom)

    for code in (400, 403, 404, 405, 413, 500, 503):
        app.register_error_handler(code, lambda exc, code=code: handle(exc, code))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render(
            400, "The form expired or was sent from elsewhere (CSRF check failed). Reload the page and try again."
        )
