"""Streaming parser and validator for spend CSV files.

Format: ``brand,campaign,amount,spent_at[,external_id][,currency]`` with header
names matched case-insensitively, UTF-8 with or without a BOM, CRLF or LF line
ends. The file is read row by row, never whole. Whole-file problems (empty,
binary, not UTF-8, bad header) raise :class:`SpendFileError`; each bad row
yields a :class:`RowError` with its line number and a sentence.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO, Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.control import local_day
from app.ingest.timestamps import TimestampError, parse_instant
from app.models import Brand, Campaign
from app.money import MoneyError, parse_amount

REQUIRED_COLUMNS = ("brand", "campaign", "amount", "spent_at")
OPTIONAL_COLUMNS = ("external_id", "currency")
FORMAT = "brand,campaign,amount,spent_at[,external_id][,currency]"
MAX_EXTERNAL_ID = 200
# Big enough for any sane row; a larger field means a broken or binary file.
csv.field_size_limit(1 << 20)


class SpendFileError(ValueError):
    """The file as a whole cannot be read as spend; nothing from it is stored."""


@dataclass(frozen=True, slots=True)
class CampaignRef:
    campaign_id: int
    brand_id: int
    brand_name: str
    campaign_name: str
    timezone: ZoneInfo
    currency: str


@dataclass(frozen=True, slots=True)
class SpendRow:
    line: int
    campaign: CampaignRef
    amount_minor: int
    spent_at: datetime
    local_date: date
    external_id: str | None


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    message: str
    raw: str


class CampaignDirectory:
    """Brands and campaigns by name, loaded once per file. Unknown names are errors, never created.

    Names match exactly after trimming; failing that, case-insensitively when that is unambiguous.
    Archived brands and campaigns do not match.
    """

    def __init__(self, session: Session) -> None:
        self.brands: dict[str, Brand] = {}
        self.campaigns: dict[tuple[int, str], CampaignRef] = {}
        rows = session.execute(
            select(Brand, Campaign)
            .join(Campaign, Campaign.brand_id == Brand.id)
            .where(Brand.archived_at.is_(None), Campaign.archived_at.is_(None))
        ).all()
        for brand in session.scalars(select(Brand).where(Brand.archived_at.is_(None))):
            self.brands[brand.name] = brand
        zones: dict[str, ZoneInfo] = {}
        for brand, campaign in rows:
            tz = zones.setdefault(brand.timezone, ZoneInfo(brand.timezone))
            self.campaigns[(brand.id, campaign.name)] = CampaignRef(
                campaign.id, brand.id, brand.name, campaign.name, tz, brand.currency
            )
        self._brands_folded = _fold_unique(self.brands)
        self._campaigns_folded = {
            brand_id: _fold_unique({name: ref for (b, name), ref in self.campaigns.items() if b == brand_id})
            for brand_id in {b for b, _ in self.campaigns}
        }

    def brand(self, name: str) -> Brand | None:
        return self.brands.get(name) or self._brands_folded.get(name.casefold())

    def campaign(self, brand: Brand, name: str) -> CampaignRef | None:
        return self.campaigns.get((brand.id, name)) or self._campaigns_folded.get(brand.id, {}).get(
            name.casefold()
        )


def _fold_unique(by_name: dict) -> dict:
    folded: dict = {}
    clashes = set()
    for name, value in by_name.items():
        key = name.casefold()
        if key in folded:
            clashes.add(key)
        folded[key] = value
    return {k: v for k, v in folded.items() if k not in clashes}


def open_text(stream: BinaryIO) -> io.TextIOWrapper:
    """Check the start of a binary stream and wrap it as UTF-8 text (BOM stripped, newlines kept)."""
    head = stream.read(8192)
    stream.seek(0)
    if not head.strip():
        raise SpendFileError("The file is empty: expected a header line " + FORMAT + ".")
    if b"\x00" in head:
        raise SpendFileError("This is a binary file, not a CSV text file.")
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the 8 KiB boundary is fine; anything earlier is not UTF-8.
        if exc.start < len(head) - 4:
            raise SpendFileError(_not_utf8(exc, head)) from None
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


def _not_utf8(exc: UnicodeDecodeError, data: bytes) -> str:
    line = data[: exc.start].count(b"\n") + 1
    return f"The file is not UTF-8 text (invalid byte 0x{data[exc.start]:02x} on line {line}); save it as UTF-8 CSV."


def parse_header(fields: list[str]) -> dict[str, int]:
    """Column positions by canonical name; raises SpendFileError on a wrong header."""
    names = [f.strip().lower() for f in fields]
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    unknown = [f for f in names if f not in known]
    if unknown:
        shown = ", ".join(repr(f) for f in unknown)
        raise SpendFileError(f"Unknown column {shown} in the header; the columns are {FORMAT}.")
    duplicated = sorted({f for f in names if names.count(f) > 1})
    if duplicated:
        raise SpendFileError(f"Column {', '.join(duplicated)} appears twice in the header.")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise SpendFileError(f"Missing column {', '.join(missing)} in the header; the columns are {FORMAT}.")
    return {name: i for i, name in enumerate(names)}


def read_spend_csv(stream: BinaryIO, directory: CampaignDirectory) -> Iterator[SpendRow | RowError]:
    """Yield each data row of a spend CSV as a SpendRow or a RowError, in file order.

    Blank lines are skipped. Raises SpendFileError for whole-file problems, also
    part-way through (a file that stops being UTF-8 text on line 90,000).
    """
    text = open_text(stream)
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader, None)
        while header is not None and not any(f.strip() for f in header):
            header = next(reader, None)
        if header is None:
            raise SpendFileError("The file is empty: expected a header line " + FORMAT + ".")
        columns = parse_header(header)
        width = len(header)
        line = reader.line_num
        for fields in reader:
            start, line = line + 1, reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != width:
                yield RowError(start, f"has {len(fields)} fields but the header has {width}", _raw(fields))
                continue
            yield _parse_row(start, fields, columns, directory)
    except UnicodeDecodeError as exc:
        raise SpendFileError(
            f"The file is not UTF-8 text after line {reader.line_num} (invalid byte 0x{exc.object[exc.start]:02x}); "
            "save it as UTF-8 CSV."
        ) from None
    except csv.Error as exc:
        raise SpendFileError(f"Line {reader.line_num} cannot be read as CSV: {exc}.") from None
    finally:
        text.detach()


def _raw(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def _parse_row(line: int, fields: list[str], columns: dict[str, int], directory: CampaignDirectory) -> SpendRow | RowError:
    def field(name: str) -> str:
        index = columns.get(name)
        return fields[index].strip() if index is not None else ""

    problems: list[str] = []
    brand_name, campaign_name = field("brand"), field("campaign")
    ref = None
    brand = directory.brand(brand_name) if brand_name else None
    if not brand_name:
        problems.append("brand is empty")
    elif brand is None:
        problems.append(f"unknown brand {brand_name!r}")
    if not campaign_name:
        problems.append("campaign is empty")
    elif brand is not None:
        ref = directory.campaign(brand, campaign_name)
        if ref is None:
            problems.append(f"brand {brand.name!r} has no campaign {campaign_name!r}")

    currency = field("currency").upper()
    if brand is not None and currency and currency != brand.currency:
        problems.append(f"currency {currency} is not {brand.name!r}'s currency ({brand.currency})")

    amount = spent_at = None
    if brand is not None:
        try:
            amount = parse_amount(field("amount"), brand.currency)
        except MoneyError as exc:
            problems.append(str(exc))
        try:
            spent_at = parse_instant(field("spent_at"), ZoneInfo(brand.timezone))
        except TimestampError as exc:
            problems.append(str(exc))

    external_id = field("external_id") or None
    if external_id and len(external_id) > MAX_EXTERNAL_ID:
        problems.append(f"external_id is longer than {MAX_EXTERNAL_ID} characters")

    if problems or ref is None or amount is None or spent_at is None:
        return RowError(line, _sentence(problems), _raw(fields))
    return SpendRow(line, ref, amount, spent_at, local_day(spent_at, ref.timezone), external_id)


def _sentence(problems: list[str]) -> str:
    text = "; ".join(problems)
    return text[:1].upper() + text[1:] + "."
