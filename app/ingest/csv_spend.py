"""Streaming parser and validator for spend CSV files.

Format: ``brand,campaign,amount,spent_at[,external_id][,currency][,period]`` with header
names matched case-insensitively, UTF-8 with or without a BOM, CRLF or LF line
ends. The file is read row by row, never whole. Whole-file problems (empty,
binary, not UTF-8, bad header) raise :class:`SpendFileError`; each bad row
yields a :class:`RowError` with its line number and a sentence.
"""

from __future__ import annotations

import ast
import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO, NamedTuple
from zoneinfo import ZoneInfo

from app.control import local_day
from app.ingest.spend_values import EARLIEST_SPEND, MAX_EXTERNAL_ID, external_id_problem, spent_at_problem
from app.ingest.timestamps import TimestampError, local_to_utc, parse_instant, parse_period_start
from app.money import MAX_MINOR, MoneyError, exponent, parse_amount

REQUIRED_COLUMNS = ("brand", "campaign", "amount", "spent_at")
OPTIONAL_COLUMNS = ("external_id", "currency", "period")
FORMAT = "brand,campaign,amount,spent_at[,external_id][,currency][,period]"
# Big enough for any sane row; a larger field means a broken or binary file.
csv.field_size_limit(1 << 20)


class SpendFileError(ValueError):
    """The file as a whole cannot be read as spend; nothing from it is stored."""


@dataclass(frozen=True, slots=True)
class BrandRef:
    brand_id: int
    name: str
    timezone: ZoneInfo
    currency: str


@dataclass(frozen=True, slots=True)
class CampaignRef:
    campaign_id: int
    brand_id: int
    brand_name: str
    campaign_name: str
    timezone: ZoneInfo
    currency: str


class AliasRef(NamedTuple):
    """Another name of a campaign in spend files (a platform's campaign name or id); a tuple: cheap to build
    by the ten thousand."""

    name: str
    campaign: CampaignRef


class SpendRow(NamedTuple):
    """A good row (a tuple: cheap to build and to send between processes)."""

    line: int
    campaign: CampaignRef
    amount_minor: int
    spent_at: datetime
    local_date: date
    external_id: str | None
    # None: an instant (spent_at is when). "day" or "hour": a platform's running total for the brand-local
    # day or hour starting at spent_at (local_date is that day); keyed by app.ingest.dedupe.period_key,
    # and a later figure for the same period replaces the earlier one.
    period: str | None = None


PERIODS = ("day", "hour")


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    message: str
    raw: str


class CampaignDirectory:
    """The brands and campaigns spend may name, by name. Unknown names are errors, never created.

    Names match exactly after trimming; failing that, case-insensitively when that is unambiguous.
    A campaign name that matches no campaign so is then looked up among the brand's aliases
    (a platform's name or id for a campaign), exactly, then case-insensitively when unambiguous.
    Plain data (the services build it from the database), so a forked reader can use it as is.
    """

    def __init__(
        self,
        brands: Iterable[BrandRef],
        campaigns: Iterable[CampaignRef],
        lookup: Callable[[str], tuple[list[BrandRef], list[CampaignRef], list[AliasRef]]] | None = None,
        aliases: Iterable[AliasRef] = (),
        accounts: dict[str, str] | None = None,
        account_lookup: Callable[[str], str | None] | None = None,
    ) -> None:
        """``lookup``, when given, is asked on a miss for the brands named so ignoring case, their
        campaigns and their aliases (a directory filled lazily, for the brands a file names); it must
        not be used across a fork. ``accounts`` names the brand linked to each ad account id (by
        :func:`account_key`; an id linked to two brands names neither), and ``account_lookup``, when
        given, is asked for the one brand name of an id not in it (the lazy form, also not across a fork)."""
        self._accounts: dict[str, str | None] = dict(accounts or {})
        self._account_lookup = account_lookup
        self.brands: dict[str, BrandRef] = {}
        self.campaigns: dict[tuple[int, str], CampaignRef] = {}
        self._by_brand: dict[int, dict[str, CampaignRef]] = defaultdict(dict)
        self._aliases: dict[int, dict[str, CampaignRef]] = defaultdict(dict)
        self._lookup = lookup
        self._looked_up: set[str] = set()
        self._add(brands, campaigns, aliases)

    def _add(self, brands: Iterable[BrandRef], campaigns: Iterable[CampaignRef], aliases: Iterable[AliasRef]) -> None:
        self.brands.update((brand.name, brand) for brand in brands)
        for ref in campaigns:
            self.campaigns[(ref.brand_id, ref.campaign_name)] = ref
            self._by_brand[ref.brand_id][ref.campaign_name] = ref
        for alias in aliases:
            self._aliases[alias.campaign.brand_id][alias.name] = alias.campaign
        self._brands_folded = _fold_unique(self.brands)
        self._campaigns_folded = {brand_id: _fold_unique(named) for brand_id, named in self._by_brand.items()}
        self._aliases_folded = {brand_id: _fold_unique(named) for brand_id, named in self._aliases.items()}

    def _looks_up(self, name: str) -> bool:
        """Ask ``lookup`` about ``name`` once; True if that added anything."""
        key = name.strip().casefold()
        if self._lookup is None or not key or key in self._looked_up:
            return False
        self._looked_up.add(key)
        brands, campaigns, aliases = self._lookup(name.strip())
        if brands:
            self._add(brands, campaigns, aliases)
        return bool(brands)

    def brand_by_account(self, account_id: str) -> BrandRef | None:
        """The brand linked to the ad account ``account_id`` (as an export writes it: 123-456-7890, act_1234)
        by one of its ad-platform connections, or None (not linked, or linked to more than one brand)."""
        key = account_key(account_id)
        if not key:
            return None
        if key not in self._accounts and self._account_lookup is not None:
            self._accounts[key] = self._account_lookup(key)
        name = self._accounts.get(key)
        return self.brand(name) if name else None

    def exact_brand(self, name: str) -> BrandRef | None:
        """The brand named exactly ``name`` (the fast path's lookup)."""
        found = self.brands.get(name)
        if found is None and self._looks_up(name):
            found = self.brands.get(name)
        return found

    def brand(self, name: str) -> BrandRef | None:
        found = self.brands.get(name) or self._brands_folded.get(name.casefold())
        if found is None and self._looks_up(name):
            found = self.brands.get(name) or self._brands_folded.get(name.casefold())
        return found

    def campaign(self, brand: BrandRef, name: str) -> CampaignRef | None:
        """The campaign of ``brand`` that ``name`` means: its exact name, its name ignoring case (when only
        one campaign has it), an alias as written, an alias ignoring case (when only one alias has it)."""
        folded = name.casefold()
        aliases = self._aliases.get(brand.brand_id)
        return (
            self.campaigns.get((brand.brand_id, name))
            or self._campaigns_folded.get(brand.brand_id, {}).get(folded)
            or (aliases and (aliases.get(name) or self._aliases_folded[brand.brand_id].get(folded)))
            or None
        )


def account_key(account_id: str) -> str:
    """An ad account id reduced to what connections store: its digits (Google's 123-456-7890, Meta's act_1234)."""
    return account_id.strip().removeprefix("act_").replace("-", "").replace(" ", "")


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
        raise SpendFileError(utf16_message(head) or binary_file_message(head[: head.index(b"\x00")].count(b"\n") + 1))
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the 8 KiB boundary is fine; anything earlier is not UTF-8.
        if exc.start < len(head) - 4:
            raise SpendFileError(not_utf8_message(exc, 1)) from None
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


def utf16_message(head: bytes) -> str | None:
    """The message for a file that starts as UTF-16 text (a BOM, or NULs in every other byte), else None."""
    sample = head[:200]
    if sample[:2] in (b"\xff\xfe", b"\xfe\xff") or (
        len(sample) >= 4 and (sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4)
    ):
        return (
            "This file is UTF-16 text, not UTF-8: save it again as “CSV UTF-8” "
            "(in Excel: File › Save As › CSV UTF-8) and upload that."
        )
    return None


def binary_file_message(line: int) -> str:
    return f"This is a binary file, not a CSV text file (a NUL byte on line {line})."


def not_utf8_message(exc: UnicodeDecodeError, first_line: int) -> str:
    """The message for undecodable bytes; ``first_line`` is the line on which ``exc.object`` starts.

    ``exc.object`` is the data the decoder was given (without a BOM it stripped), so the
    offending byte and its line are found in it, not in the caller's buffer.
    """
    data = exc.object
    line = first_line + data[: exc.start].count(b"\n")
    return f"The file is not UTF-8 text (invalid byte 0x{data[exc.start]:02x} on line {line}); save it as UTF-8 CSV."


def parse_header(fields: list[str], line: int = 1) -> dict[str, int]:
    """Column positions by canonical name; raises SpendFileError on a wrong header (on ``line``)."""
    names = [f.strip().lower() for f in fields]
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    where = f"in the header (line {line})"
    unknown = [f for f in names if f not in known]
    if unknown:
        shown = ", ".join(repr(f) for f in unknown)
        raise SpendFileError(f"Unknown column {shown} {where}; the columns are {FORMAT}.")
    duplicated = sorted({f for f in names if names.count(f) > 1})
    if duplicated:
        raise SpendFileError(f"Column {', '.join(duplicated)} appears twice {where}.")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise SpendFileError(f"Missing column {', '.join(missing)} {where}; the columns are {FORMAT}.")
    return {name: i for i, name in enumerate(names)}


def read_spend_csv(
    stream: BinaryIO, directory: CampaignDirectory, latest: datetime | None
) -> Iterator[SpendRow | RowError]:
    """Yield each data row of a spend CSV as a SpendRow or a RowError, in file order.

    ``latest`` is the latest spend time accepted (app.ingest.spend_values.latest_spend), None for any.

    Blank lines are skipped; line numbers are physical lines of the file (a row whose
    quoted field spans lines has the number of its first line). Raises SpendFileError
    for whole-file problems, also part-way through (a file that stops being UTF-8 text
    on line 90,000).
    """
    text = open_text(stream)
    reader = csv.reader(text, strict=True)
    start = 1  # the first physical line of the row being read
    try:
        columns: dict[str, int] | None = None
        width = 0
        fast_parse = None
        for fields in reader:
            line, start = start, reader.line_num + 1
            if fast_parse is not None and len(fields) == width:
                row = fast_parse(line, fields)
                if row is not None:
                    yield row
                    continue
            if any("\x00" in f for f in fields):
                raise SpendFileError(binary_file_message(line))
            if not any(f.strip() for f in fields):
                continue
            if columns is None:
                columns, width = parse_header(fields, line), len(fields)
                fast_parse = _fast_parser(columns, directory, latest)
                continue
            if len(fields) != width:
                yield RowError(line, f"The row has {len(fields)} fields but the header has {width}.", _raw(fields))
                continue
            yield _parse_row(line, fields, columns, directory, latest)
        if columns is None:
            raise SpendFileError("The file is empty: expected a header line " + FORMAT + ".")
    except UnicodeDecodeError as exc:
        # The decoder failed on a chunk that starts inside the line after the last one read.
        raise SpendFileError(not_utf8_message(exc, reader.line_num + 1)) from None
    except csv.Error as exc:
        raise SpendFileError(f"Line {start} cannot be read as CSV: {exc}.") from None
    finally:
        text.detach()


_POWERS = tuple(10**n for n in range(8))
_QUARTER = 900


def _fast_parser(columns: dict[str, int], directory: CampaignDirectory, latest: datetime | None):
    """A parser for the common, well-formed row, several times faster than ``_parse_row``.

    It accepts only rows whose every field is already in canonical form (exact names,
    a plain ASCII amount, an ISO timestamp ending in Z, or a brand-local one with seconds)
    and returns None for anything else, so every irregular row, good or bad, goes through
    ``_parse_row`` and gets exactly its answer and message.
    """
    i_brand, i_campaign, i_amount, i_time = (columns[c] for c in REQUIRED_COLUMNS)
    i_external, i_currency, i_period = columns.get("external_id"), columns.get("currency"), columns.get("period")
    targets: dict[tuple[str, str], tuple | None] = {}
    zones: dict[str, int] = {}
    # (UTC quarter hour, zone number) -> the brand-local date all through it, or None if it changes inside it.
    local_dates: dict[int, date | None] = {}

    def target(brand_name: str, campaign_name: str) -> tuple | None:
        brand = directory.exact_brand(brand_name)
        ref = directory.campaign(brand, campaign_name) if brand is not None else None
        if ref is None:
            return None
        digits = exponent(ref.currency)
        zone_number = zones.setdefault(ref.timezone.key, len(zones))
        return ref, digits, _POWERS[digits], ref.currency, zone_number

    def quarter_local_date(zone: ZoneInfo, quarter: int) -> date | None:
        first = datetime.fromtimestamp(quarter * _QUARTER, zone)
        last = datetime.fromtimestamp(quarter * _QUARTER + _QUARTER - 1, zone)
        return first.date() if first.date() == last.date() and first.utcoffset() == last.utcoffset() else None

    def parse(line: int, fields: list[str]) -> SpendRow | None:
        key = (fields[i_brand], fields[i_campaign])
        found = targets.get(key, False)
        if found is False:
            found = targets[key] = target(*key)
        if found is None:
            return None
        ref, digits, scale, currency, zone_number = found
        if i_period is not None and fields[i_period]:
            return None  # a period row: the full parser reads its start
        if i_currency is not None and fields[i_currency] and fields[i_currency].upper() != currency:
            return None
        whole, dot, frac = fields[i_amount].partition(".")
        if not (whole.isascii() and whole.isdigit() and len(whole) <= 12):
            return None
        if dot:
            if not (frac.isascii() and frac.isdigit() and len(frac) <= digits):
                return None
            amount = int(whole) * scale + int(frac) * _POWERS[digits - len(frac)]
        else:
            amount = int(whole) * scale
        if amount > MAX_MINOR:
            return None
        text = fields[i_time]
        try:
            if len(text) == 20 and text[19] == "Z" and text[10] == "T":
                spent_at = datetime.fromisoformat(text)
            elif len(text) == 19 and text[10] in "T ":
                spent_at = local_to_utc(datetime.fromisoformat(text), ref.timezone)
            else:
                return None
        except (ValueError, OverflowError):
            return None
        # Year 9999 is left to the full parser, whose zone arithmetic there says "out of range".
        if spent_at < EARLIEST_SPEND or spent_at.year >= 9999 or (latest is not None and spent_at > latest):
            return None
        external_id = fields[i_external] if i_external is not None else ""
        if external_id and (
            len(external_id) > MAX_EXTERNAL_ID or "\x00" in external_id or external_id != external_id.strip()
        ):
            return None
        quarter = int(spent_at.timestamp()) // _QUARTER
        cache_key = quarter * 1024 + zone_number
        local_date = local_dates.get(cache_key, False)
        if local_date is False:
            local_date = local_dates[cache_key] = quarter_local_date(ref.timezone, quarter)
        if local_date is None:
            local_date = local_day(spent_at, ref.timezone)
        return SpendRow(line, ref, amount, spent_at, local_date, external_id or None)

    return parse


def _raw(fields: list[str]) -> str:
    # The CRLF terminator makes the writer quote fields holding a CR or LF, so the raw row reads back as the same
    # fields.
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(fields)
    return out.getvalue()[:-2]


def _parse_row(
    line: int, fields: list[str], columns: dict[str, int], directory: CampaignDirectory, latest: datetime | None
) -> SpendRow | RowError:
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
            problems.append(unknown_campaign_problem(brand.name, campaign_name))

    currency = field("currency").upper()
    if brand is not None and currency and currency != brand.currency:
        problems.append(f"currency {currency} is not the currency of brand {brand.name!r} ({brand.currency})")

    period = field("period").lower() or None
    period_ok = period is None or period in PERIODS
    if not period_ok:
        problems.append(f"period {field('period')!r} is not day or hour (or empty for a spend at an instant)")

    amount = spent_at = None
    if brand is not None:
        try:
            amount = parse_amount(field("amount"), brand.currency)
        except MoneyError as exc:
            problems.append(str(exc))
        try:
            if period is None:
                spent_at = parse_instant(field("spent_at"), brand.timezone)
            elif period_ok:  # the time is read as the period says: an unknown one has no reading
                spent_at = parse_period_start(field("spent_at"), period, brand.timezone)
        except TimestampError as exc:
            problems.append(str(exc))
        else:
            if spent_at is not None and (problem := spent_at_problem(spent_at, latest)):
                problems.append(problem)
                spent_at = None

    external_id = field("external_id") or None
    if external_id and (problem := external_id_problem(external_id)):
        problems.append(problem)

    if problems or ref is None or amount is None or spent_at is None:
        return RowError(line, _sentence(problems), _raw(fields))
    return SpendRow(line, ref, amount, spent_at, local_day(spent_at, ref.timezone), external_id, period)


def unknown_campaign_problem(brand_name: str, campaign_name: str) -> str:
    """The problem of a row naming a campaign its brand does not have (read back by :func:`unknown_campaign`)."""
    return f"brand {brand_name!r} has no campaign {campaign_name!r}"


_QUOTED = r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_UNKNOWN_CAMPAIGN = re.compile(rf"(?:^|; )[Bb]rand {_QUOTED} has no campaign {_QUOTED}(?:;|\.$)")


def unknown_campaign(message: str) -> tuple[str, str] | None:
    """(brand name, campaign name) when a row's message says its brand has no such campaign, else None."""
    found = _UNKNOWN_CAMPAIGN.search(message)
    if found is None:
        return None
    try:
        return ast.literal_eval(found.group(1)), ast.literal_eval(found.group(2))
    except (ValueError, SyntaxError):
        return None


def _sentence(problems: list[str]) -> str:
    text = "; ".join(problems)
    return text[:1].upper() + text[1:] + "."


def parse_spend_values(
    number: int, values: dict[str, str], directory: CampaignDirectory, latest: datetime | None
) -> SpendRow | RowError:
    """Validate one record given as column name -> text (the API's path), with a CSV row's rules and messages.

    ``number`` stands where a CSV row has its line number (the API passes the record's index).
    """
    names = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    return _parse_row(
        number, [values.get(name) or "" for name in names], {n: i for i, n in enumerate(names)}, directory, latest
    )
