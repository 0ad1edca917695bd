"""Live pages: an ETag from what a page depends on, a 304 for a page that has not changed.

A live page's view asks :func:`not_modified` with its version (app.services.live) before it reads or
renders anything; the poller (static/js/live.js) re-requests the page every few seconds with the ETag it
has, and swaps the page's ``data-live-region`` elements when the answer is a new page. The ETag also
covers the viewer (what they may do changes the page), the address (filters, sort, page) and the UTC
minute (local times and "N min ago" move with the clock), so an idle page costs one small query and an
empty 304 per poll, and is re-rendered at most once a minute.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import Response, g, make_response, request
from flask_login import current_user

from app.models import utcnow


def page_etag(version: tuple, now: datetime | None = None) -> str:
    """The ETag of the current request's page at ``version`` (see the module's docstring)."""
    minute = (now or utcnow()).strftime("%Y-%m-%dT%H:%M")
    viewer = (current_user.get_id(), getattr(current_user, "role", None)) if current_user.is_authenticated else None
    text = repr((request.endpoint, request.full_path, viewer, minute, version))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def not_modified(version: tuple, now: datetime | None = None) -> Response | None:
    """A 304 when the request's If-None-Match holds this page's ETag; else None, and the ETag is kept in
    ``g`` for :func:`tagged` and the page's live status line."""
    now = now or utcnow()
    etag = page_etag(version, now)
    g.live_etag, g.live_loaded_at = etag, now
    if request.method == "GET" and request.if_none_match.contains(etag):
        response = Response(status=304)
        return _headers(response, etag)
    return None


def tagged(result) -> Response:
    """The rendered page (anything a view may return) with the ETag chosen by :func:`not_modified`."""
    response = make_response(result)
    etag = g.get("live_etag")
    if etag and response.status_code == 200:
        _headers(response, etag)
    return response


def _headers(response: Response, etag: str) -> Response:
    # Signed-in pages stay "no-store" (app.web.security): the poller sends its ETag itself, no cache keeps it.
    response.set_etag(etag)
    return response
