"""CSV downloads: streamed row by row, with spreadsheet formula injection neutralised.

A cell that starts with = + - @ (or a tab or carriage return) is run as a formula by
Excel, LibreOffice and Google Sheets; brand and campaign names are user text, so every
such cell gets a leading single quote, which spreadsheets show as plain text. A plain number
(``-5.00``, ``+3``, ``-1e3``) is left as it is: a spreadsheet reads it as that number, and a
file downloaded to be fixed and uploaded again must keep its amounts.

Numbers stay machine-readable here: amounts are plain decimals with the currency's decimals
("12000.00", "18000"), never grouped; grouping is for pages and the CLI's human output
(app/money.py's format_money), which people read rather than parse.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from flask import Response, stream_with_context

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def neutralise_formula(value: Any) -> Any:
    """``value`` with a leading ``'`` if it is text a spreadsheet would read as a formula (it starts with
    a trigger and is not a plain number); else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


class _Line:
    """A file-like sink that hands back what csv.writer wrote, one row at a time."""

    def write(self, text: str) -> str:
        return text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text of the header and then each row, one line per item, every cell neutralised."""
    writer = csv.writer(_Line())
    if header:  # a file downloaded in its own layout may have no header line to give
        yield writer.writerow([neutralise_formula(cell) for cell in header])
    for row in rows:
        yield writer.writerow(["" if cell is None else neutralise_formula(cell) for cell in row])


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A streamed ``text/csv`` attachment; ``rows`` is consumed lazily while the response is sent,
    inside the request's context (so it may read the database as it goes)."""
    response = Response(stream_with_context(csv_lines(header, rows)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
