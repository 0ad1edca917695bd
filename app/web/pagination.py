"""Page numbers and pager links: only numbers in range, and only known query arguments, reach a query or url_for."""

from __future__ import annotations

from flask import request, url_for

DEFAULT_MAX_PAGE = 100_000  # far past any real list; keeps OFFSET (page x per_page) well inside 64 bits

# Query arguments a pager link carries over from the current address; anything else is dropped.
PAGER_ARGS = (
    "q", "sort", "order", "archived", "show", "brand", "campaign", "reason", "actor", "kind",
    "date_from", "date_to", "tz",
)  # fmt: skip
# The query arguments of the pages' pagers (a page can have two lists, e.g. a brand's campaigns and records).
PAGE_ARGS = ("page", "campaigns_page")


def page_number(max_page: int = DEFAULT_MAX_PAGE) -> int:
    """``?page=`` as a number between 1 and ``max_page``; anything unreadable is page 1."""
    raw = request.args.get("page", "")
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 12 else 1
    return max(1, min(number, max_page))


def page_url(endpoint: str, page: int, param: str = "page", extra: dict | None = None) -> str:
    """``endpoint`` with the current path's arguments and ``param`` (a page's query argument) at ``page``,
    keeping known filter arguments and the other pagers' pages only, plus ``extra`` (e.g. a cursor)."""
    args = {name: request.args.get(name) for name in (*PAGER_ARGS, *PAGE_ARGS) if request.args.get(name) is not None}
    args = {name: value for name, value in args.items() if name not in (request.view_args or {})}
    return url_for(endpoint, **(request.view_args or {}), **(args | {param: page} | (extra or {})))
