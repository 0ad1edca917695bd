"""Report formats of spend files: the built-in ones and the column mappings saved by managers.

A file is read in one format: Pacer's own CSV (``pacer``), a platform's report download
(``google_ads``, ``meta``) or a saved mapping (a ``SpendFormat`` row, by name). The format is
recognised from the file's header, or forced by name; app.ingest.formats does the reading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.ingest.csv_spend import BrandRef, CampaignDirectory, RowError, SpendFileError, SpendRow
from app.ingest.formats import (
    BUILT_IN,
    BUILT_IN_NAMES,
    DATE_FORMATS,
    FIELD_LABELS,
    FIELDS,
    NUMBER_FORMATS,
    PACER,
    Layout,
    ReportFormat,
    check_brand_source,
    find_layout,
    format_problems,
    preview,
    read_report_csv,
)
from app.models import Brand, SpendFormat, SpendImport

MAX_NAME = 80
IGNORE = "ignore"

RowReader = Callable[[BinaryIO, CampaignDirectory, datetime | None], Iterator[SpendRow | RowError]]


class FormatError(ValueError):
    """A format name or mapping that cannot be used; the message is a sentence for the person."""


def saved_formats(session: Session) -> list[SpendFormat]:
    return list(session.scalars(select(SpendFormat).order_by(func.lower(SpendFormat.name))))


def format_choices(session: Session) -> list[tuple[str, str]]:
    """(name, label) of every format a file can be read in: Pacer's, the built-in platform layouts, the saved ones."""
    choices = [(PACER, "Pacer CSV (brand,campaign,amount,spent_at)")]
    choices += [(f.name, f.label) for f in BUILT_IN.values()]
    choices += [(f.name, f"{f.name} (saved mapping)") for f in saved_formats(session)]
    return choices


def report_format(saved: SpendFormat) -> ReportFormat:
    """A saved mapping as the parser's format: each field read from the one column named in the mapping."""
    return ReportFormat(
        name=saved.name,
        label=f"saved format {saved.name!r}",
        columns={name: (header,) for name, header in saved.mapping.items()},
        number_format=saved.number_format,
        date_format=saved.date_format,
    )


def resolve_format(session: Session, name: str) -> ReportFormat | None:
    """The format called ``name`` (None for Pacer's own CSV); raises FormatError for an unknown name."""
    key = name.strip()
    if key.casefold() == PACER:
        return None
    if key.casefold() in BUILT_IN:
        return BUILT_IN[key.casefold()]
    saved = _named(session, key) if "\x00" not in key else None
    if saved is None:
        known = ", ".join(name for name, _ in format_choices(session))
        raise FormatError(f"There is no spend format {key!r}; the formats are {known}.")
    return report_format(saved)


def _named(session: Session, name: str) -> SpendFormat | None:
    """The saved format called ``name`` ignoring case (exactly too: SQLite's lower() folds ASCII only)."""
    same = or_(SpendFormat.name == name, func.lower(SpendFormat.name) == name.lower())
    return session.scalars(select(SpendFormat).where(same).order_by(SpendFormat.id)).first()


def detect_layout(session: Session, path: Path) -> Layout | None:
    """The layout of a stored file: Pacer's CSV, then the built-in platform layouts, then the saved mappings,
    the first whose header the file has; None when none fits. Raises SpendFileError for a file that is not CSV."""
    formats: list[ReportFormat | None] = [None, *BUILT_IN.values(), *map(report_format, saved_formats(session))]
    with open(path, "rb") as handle:
        return find_layout(handle, formats)


def forced_layout(session: Session, path: Path, name: str) -> Layout:
    """The layout of a stored file read as format ``name``; raises FormatError (unknown name) or SpendFileError
    (the file does not have that format's header)."""
    fmt = resolve_format(session, name)
    with open(path, "rb") as handle:
        layout = find_layout(handle, [fmt])
    if layout is None:
        if fmt is None:
            raise SpendFileError("The file's first line is not Pacer's spend header brand,campaign,amount,spent_at.")
        needed = "; ".join(
            f"{field}: {' or '.join(repr(h) for h in fmt.columns[field])}"
            for field in ("campaign", "amount", "day", "timestamp")
            if fmt.columns.get(field)
        )
        raise SpendFileError(f"The file has no header of format {fmt.name!r} (it needs the columns {needed}).")
    return layout


def import_layout(session: Session, spend_import: SpendImport) -> Layout | None:
    """Where the header of an import's stored file is, in its format: the header's line number and fields and
    the preamble lines before it (for writing its rejected rows in the file's own layout). None when the file
    is gone, its format unknown, or the header not found."""
    if spend_import.status == "mapping" or not spend_import.stored_path:
        return None
    try:
        fmt = resolve_format(session, spend_import.format_name or PACER)
        with open(spend_import.stored_path, "rb") as handle:
            return find_layout(handle, [fmt])
    except (FormatError, SpendFileError, OSError):
        return None


def brand_ref(brand: Brand) -> BrandRef:
    return BrandRef(brand.id, brand.name, ZoneInfo(brand.timezone), brand.currency)


def check_layout_brand(layout: Layout, brand: Brand | None) -> None:
    """Raise SpendFileError when the file's rows cannot be given a brand or its header's currency is not the
    brand's (the same check the reader makes)."""
    check_brand_source(layout, brand_ref(brand) if brand is not None else None)


def row_reader(session: Session, spend_import: SpendImport) -> RowReader | None:
    """How to read an import's file: None for Pacer's own CSV (its fast reader), else a reader of its format
    with its chosen brand. Raises FormatError when its saved format has since been deleted or renamed."""
    name = spend_import.format_name or PACER
    fmt = resolve_format(session, name)
    if fmt is None:
        return None
    brand = session.get(Brand, spend_import.brand_id) if spend_import.brand_id else None
    brand_name = brand.name if brand is not None else None

    def read(stream: BinaryIO, directory: CampaignDirectory, latest: datetime | None):
        given = directory.brand(brand_name) if brand_name else None
        if brand_name and given is None:
            raise SpendFileError(f"The brand {brand_name!r} chosen for this file is archived or gone.")
        return read_report_csv(stream, fmt, directory, latest, brand=given)

    return read


def file_preview(path: Path, rows: int = 5) -> tuple[int, list[list[str]]]:
    """The first rows of a stored file and which of them is taken for its header (for the mapping page).
    Raises SpendFileError when the file is gone or cannot be read."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError:
        raise SpendFileError("The stored file of this upload is gone; upload it again.") from None
    with handle:
        header_index, shown = preview(handle, rows)
    return header_index, shown


def mapping_from_columns(header: list[str], choices: list[str]) -> dict[str, str]:
    """The mapping (field -> header name) from the page's choice for each column; raises FormatError when a
    field is chosen for two columns or a column has no header name."""
    mapping: dict[str, str] = {}
    for column, choice in zip(header, choices, strict=False):
        if choice == IGNORE or not choice:
            continue
        if choice not in FIELDS:
            raise FormatError(f"Unknown field {choice!r}.")
        if choice in mapping:
            raise FormatError(f"Two columns ({mapping[choice]!r} and {column!r}) are mapped to the {choice}.")
        if not column.strip():
            raise FormatError(f"A column without a header name cannot be mapped to the {choice}.")
        mapping[choice] = column.strip()
    return mapping


def save_format(
    session: Session,
    *,
    name: str,
    mapping: dict[str, str],
    number_format: str,
    date_format: str,
    actor: str,
    now: datetime,
    existing: SpendFormat | None = None,
) -> SpendFormat:
    """Create a saved format (or change ``existing``) after checking it; raises FormatError. Does not commit."""
    name = " ".join(name.split())
    problems = []
    if any("\x00" in text for text in (name, *mapping.values())):
        raise FormatError("Names cannot hold a NUL character.")
    if not name:
        problems.append("give the format a name")
    elif len(name) > MAX_NAME:
        problems.append(f"the name is longer than {MAX_NAME} characters")
    elif name.casefold() in BUILT_IN_NAMES:
        problems.append(f"{name!r} is the name of a built-in format")
    else:
        clash = _named(session, name)
        if clash is not None and clash is not existing:
            problems.append(f"a format named {clash.name!r} already exists")
    cleaned = {f: " ".join(h.split()) for f, h in mapping.items() if h and h.strip()}
    problems += format_problems({f: (h,) for f, h in cleaned.items()}, number_format, date_format)
    if problems:
        text = "; ".join(problems)
        raise FormatError(text[:1].upper() + text[1:] + ".")
    row = existing or SpendFormat(created_by=actor, created_at=now)
    row.name = name
    row.mapping = cleaned
    row.number_format = number_format
    row.date_format = date_format
    row.updated_by = actor
    row.updated_at = now
    if existing is None:
        session.add(row)
    session.flush()
    return row


NUMBER_FORMAT_CHOICES = list(NUMBER_FORMATS)


def brand_choices(session: Session, *, limit: int | None = None) -> list[tuple[str, str]]:
    """(id, name) of every live brand, for the brand a file is for (the first ``limit`` when given)."""
    live = select(Brand.id, Brand.name).where(Brand.archived_at.is_(None)).order_by(Brand.name).limit(limit)
    rows = session.execute(live)
    return [(str(brand_id), name) for brand_id, name in rows]


def list_view(session: Session) -> dict:
    """The formats page: the built-in layouts (with the header names they recognise) and the saved mappings."""
    return {
        "built_in": [
            {
                "name": PACER,
                "label": "Pacer CSV",
                "columns": {
                    "brand": "brand",
                    "campaign": "campaign",
                    "amount": "amount",
                    "timestamp": "spent_at",
                    "external_id": "external_id",
                    "currency": "currency",
                },
            },
            *(
                {"name": f.name, "label": f.label, "columns": {k: " / ".join(v) for k, v in f.columns.items() if v}}
                for f in BUILT_IN.values()
            ),
        ],
        "saved": saved_formats(session),
        "labels": FIELD_LABELS,
    }


DATE_FORMAT_CHOICES = list(DATE_FORMATS)
