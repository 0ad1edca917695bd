"""Report formats: the ad platforms' own CSV downloads (and layouts mapped by hand) read as spend rows.

A :class:`ReportFormat` says which header names hold which field (matched case-insensitively, a
currency in the header such as ``Amount spent (USD)`` taken apart), how numbers and days are
written, and which rows are totals. The header is looked for in the first lines of the file, so
title and date-range lines before it (the preamble) are skipped. A row with a day and no hour is
a "day" period row, with an hour-of-day column an "hour" row; a row with a timestamp is an instant.

Pacer's own CSV (``pacer``) is not read here: it keeps its own, faster reader
(app.ingest.csv_spend). Rows come out exactly as that reader's: SpendRow or RowError, so dedupe,
storage, progress and the rejected-rows report work unchanged. Pure Python: no framework, no database.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import BinaryIO

from app.control import local_day
from app.ingest.csv_spend import (
    BrandRef,
    CampaignDirectory,
    RowError,
    SpendFileError,
    SpendRow,
    _raw,
    _sentence,
    binary_file_message,
    not_utf8_message,
    open_text,
    parse_header,
    unknown_campaign_problem,
)
from app.ingest.spend_values import external_id_problem, spent_at_problem
from app.ingest.timestamps import TimestampError, local_to_utc, parse_instant
from app.money import MoneyError, parse_amount

PACER = "pacer"
# The fields a column can hold; "ignore" is what a mapping gives every other column.
FIELDS = ("campaign", "amount", "day", "timestamp", "hour", "external_id", "brand", "account_id", "currency")
FIELD_LABELS = {
    "campaign": "Campaign",
    "amount": "Amount",
    "day": "Day (date)",
    "timestamp": "Timestamp (date and time)",
    "hour": "Hour of the day",
    "external_id": "External id",
    "brand": "Brand / account name",
    "account_id": "Account id",
    "currency": "Currency",
}
# Number formats by the way they write one thousand two hundred and thirty-four and a bit: (thousands, decimal).
NUMBER_FORMATS = {"1,234.56": (",", "."), "1.234,56": (".", ","), "1 234,56": (" ", ","), "1234.56": ("", ".")}
DATE_FORMATS = {
    "YYYY-MM-DD": "%Y-%m-%d",
    "DD/MM/YYYY": "%d/%m/%Y",
    "MM/DD/YYYY": "%m/%d/%Y",
    "DD.MM.YYYY": "%d.%m.%Y",
    "YYYY/MM/DD": "%Y/%m/%d",
    "DD-MM-YYYY": "%d-%m-%Y",
}
# Lines looked at for the header: a platform's title and date-range lines come before it.
HEADER_SEARCH_LINES = 30
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009")
_SYMBOLS = "$€£¥₹₩₽₺₪₫฿₱"
_HEADER_CURRENCY = re.compile(r"^(?P<name>.*?)\s*\((?P<currency>[A-Za-z]{3})\)$")
_HOUR = re.compile(r"^(?P<hour>\d{1,2})(?::00(?::00)?)?(?:\s*-\s*\d{1,2}:\d{2}(?::\d{2})?)?$")


@dataclass(frozen=True)
class ReportFormat:
    """How one layout of report is read. ``columns`` maps a field to the header names that hold it."""

    name: str
    label: str
    columns: Mapping[str, tuple[str, ...]]
    number_format: str = "1,234.56"
    date_format: str = "YYYY-MM-DD"
    # A row whose first non-empty cell is "Total" or starts with one of these is a totals row ("Total: Account");
    # a campaign named "Totally new" is not.
    total_prefixes: tuple[str, ...] = ("total:",)
    # A row without a campaign that is the first under the header, or has no day either, is the report's summary
    # row (Meta's "include summary row"), skipped; any other row without a campaign is an error.
    summary_without_campaign: bool = True
    # Header names of a column that must hold the same day as the day column (Meta's "Reporting ends": a row
    # covering several days is a range total, not a day).
    day_end: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = format_problems(self.columns, self.number_format, self.date_format)
        if problems:
            raise ValueError(f"format {self.name!r}: " + "; ".join(problems))


def format_problems(columns: Mapping[str, tuple[str, ...]], number_format: str, date_format: str) -> list[str]:
    """What is wrong with a layout (phrases), empty when it can be read. The one check for built-in and saved
    formats alike."""
    problems = []
    unknown = sorted(set(columns) - set(FIELDS))
    if unknown:
        problems.append(f"unknown field {', '.join(unknown)}")
    named = {f for f, names in columns.items() if names and any(n.strip() for n in names)}
    if "campaign" not in named:
        problems.append("no column is mapped to the campaign")
    if "amount" not in named:
        problems.append("no column is mapped to the amount")
    if "day" not in named and "timestamp" not in named:
        problems.append("no column is mapped to the day or the timestamp")
    if "day" in named and "timestamp" in named:
        problems.append("map either a day or a timestamp column, not both")
    if "hour" in named and "day" not in named:
        problems.append("an hour column needs a day column")
    headers = [_folded(n) for names in columns.values() for n in names if n.strip()]
    twice = sorted({h for h in headers if headers.count(h) > 1})
    if twice:
        problems.append(f"column {', '.join(repr(h) for h in twice)} is mapped twice")
    if number_format not in NUMBER_FORMATS:
        problems.append(f"unknown number format {number_format!r} (one of {', '.join(NUMBER_FORMATS)})")
    if date_format not in DATE_FORMATS:
        problems.append(f"unknown date format {date_format!r} (one of {', '.join(DATE_FORMATS)})")
    return problems


def _folded(header: str) -> str:
    return " ".join(header.split()).casefold()


# The built-in layouts. Where each comes from: tests/fixtures/exports/README.md.
GOOGLE_ADS = ReportFormat(
    name="google_ads",
    label="Google Ads campaign report (downloaded from the Google Ads UI as CSV)",
    columns={
        "campaign": ("campaign",),
        "amount": ("cost",),
        "day": ("day", "date"),
        "hour": ("hour of the day", "hour of day"),
        "currency": ("currency code", "currency"),
        "brand": ("account", "account name"),
        "account_id": ("customer id", "account id"),
        "external_id": (),
    },
)
META = ReportFormat(
    name="meta",
    label="Meta Ads Manager export (CSV)",
    columns={
        "campaign": ("campaign name",),
        "amount": ("amount spent",),
        "day": ("day", "reporting starts"),
        "hour": (
            "hour of day (ad account time zone)",
            "time of day (ad account time zone)",
            "hour of day (viewer's time zone)",
        ),
        "currency": ("currency",),
        "brand": ("account name",),
        "account_id": ("account id",),
    },
    day_end=("reporting ends",),
)
BUILT_IN = {f.name: f for f in (GOOGLE_ADS, META)}
BUILT_IN_NAMES = (PACER, *BUILT_IN)


@dataclass
class Layout:
    """Where a format's header is in a file: its line number, its fields, and the raw preamble lines before it
    (so a rejected-rows file can be written in the file's own layout)."""

    format: ReportFormat | None  # None: Pacer's own CSV
    header_line: int
    header: list[str]
    preamble: list[str] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)  # field -> column index
    header_currency: str | None = None  # the currency named in a header, e.g. "Amount spent (USD)"

    @property
    def format_name(self) -> str:
        return self.format.name if self.format is not None else PACER


def match_header(fmt: ReportFormat, fields: list[str]) -> tuple[dict[str, int], str | None] | None:
    """The column of each field of ``fmt`` in a header row, and the currency named in the header, or None if
    the row is not this format's header (a field it needs is missing)."""
    # header name -> (field, rank): of two columns for one field, the name listed first wins ("Day" over
    # "Reporting starts").
    wanted = {
        _folded(name): (f, rank) for f, names in fmt.columns.items() for rank, name in enumerate(names) if name.strip()
    }
    wanted.update({_folded(name): ("day_end", 0) for name in fmt.day_end})
    positions: dict[str, int] = {}
    ranks: dict[str, int] = {}
    currencies = set()
    for index, cell in enumerate(fields):
        text = _folded(cell)
        found = wanted.get(text)
        named = _HEADER_CURRENCY.match(text)
        if found is None and named:
            found = wanted.get(named.group("name").strip())
        if found is not None and found[0] == "amount" and named:
            currencies.add(named.group("currency").upper())
        if found is not None and found[1] < ranks.get(found[0], len(FIELDS) + 99):
            positions[found[0]], ranks[found[0]] = index, found[1]
    if "campaign" not in positions or "amount" not in positions:
        return None
    if "day" not in positions and "timestamp" not in positions:
        return None
    if len(currencies) > 1:
        return None
    return positions, (currencies.pop() if currencies else None)


def _records(text) -> Iterator[tuple[int, list[str]]]:
    """(first line, fields) of each CSV record; raises SpendFileError on a NUL byte or broken CSV."""
    reader = csv.reader(text, strict=True)
    start = 1
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if any("\x00" in f for f in fields):
                raise SpendFileError(binary_file_message(line))
            yield line, fields
    except UnicodeDecodeError as exc:
        raise SpendFileError(not_utf8_message(exc, reader.line_num + 1)) from None
    except csv.Error as exc:
        raise SpendFileError(f"Line {start} cannot be read as CSV: {exc}.") from None


def find_layout(stream: BinaryIO, formats: list[ReportFormat | None]) -> Layout | None:
    """The first of ``formats`` whose header is in the first lines of ``stream`` (None in the list stands for
    Pacer's own CSV, whose header must be the first non-blank line), or None if none is. Rewinds ``stream``.

    Raises SpendFileError for a file that is not CSV text.
    """
    stream.seek(0)
    text = open_text(stream)
    try:
        preamble: list[str] = []
        for count, (line, fields) in enumerate(_records(text)):
            if count >= HEADER_SEARCH_LINES:
                break
            if not any(f.strip() for f in fields):
                continue
            for fmt in formats:
                if fmt is None:
                    if not preamble and _is_pacer_header(fields, line):
                        return Layout(None, line, [f.strip() for f in fields])
                    continue
                matched = match_header(fmt, fields)
                if matched is not None:
                    positions, currency = matched
                    return Layout(fmt, line, [f.strip() for f in fields], list(preamble), positions, currency)
            preamble.append(_raw(fields))
    finally:
        text.detach()
        stream.seek(0)
    return None


def _is_pacer_header(fields: list[str], line: int) -> bool:
    """Whether a first line is Pacer's header; one that names Pacer's columns (brand and campaign, or spent_at)
    but is wrong raises that header's SpendFileError, as Pacer's reader would."""
    names = {f.strip().lower() for f in fields}
    if not ({"brand", "campaign"} <= names or "spent_at" in names):
        return False
    parse_header(fields, line)
    return True


def preview(stream: BinaryIO, rows: int = 6) -> tuple[int, list[list[str]]]:
    """The likely header's index in the returned rows and the first non-blank rows of a file of unknown layout,
    for the page that maps its columns: the header is taken to be the first of the widest rows (a title or
    date-range line above it is narrower). Rewinds ``stream``."""
    stream.seek(0)
    text = open_text(stream)
    seen: list[list[str]] = []
    try:
        for count, (_line, fields) in enumerate(_records(text)):
            if count >= HEADER_SEARCH_LINES or len(seen) >= HEADER_SEARCH_LINES:
                break
            if any(f.strip() for f in fields):
                seen.append([f.strip() for f in fields])
    finally:
        text.detach()
        stream.seek(0)
    if not seen:
        raise SpendFileError("The file is empty: expected a header line.")
    widest = max(sum(1 for f in r if f) for r in seen)
    start = next(i for i, r in enumerate(seen) if sum(1 for f in r if f) == widest)
    first = max(0, start - 2)
    return start - first, seen[first : start + 1 + rows]


def parse_report_amount(text: str, number_format: str, currency: str) -> int:
    """An amount as a report writes it ("$1,234.56", "1.234,56 €", "--") in minor units of ``currency``.

    "--" (and "-") is zero, as the platforms write an empty metric. Raises MoneyError with a phrase.
    """
    raw = text.strip()
    if raw in ("--", "-", "—"):
        return 0
    cleaned = raw
    upper = cleaned.upper()
    if upper.startswith(currency):
        cleaned = cleaned[len(currency) :]
    elif upper.endswith(currency):
        cleaned = cleaned[: -len(currency)]
    cleaned = cleaned.strip().strip(_SYMBOLS).strip()
    thousands, decimal = NUMBER_FORMATS[number_format]
    if thousands and decimal in cleaned and cleaned.rfind(thousands) > cleaned.find(decimal):
        raise MoneyError(f"amount {raw!r} is not a number written as {number_format}")
    if thousands == " ":
        cleaned = cleaned.translate(_SPACES)
    elif thousands:
        cleaned = cleaned.replace(thousands, "")
    if decimal != ".":
        if "." in cleaned:
            raise MoneyError(f"amount {raw!r} is not a number written as {number_format}")
        cleaned = cleaned.replace(decimal, ".")
    if not cleaned or cleaned.startswith("-"):
        return parse_amount(cleaned or raw, currency)
    try:
        return parse_amount(cleaned, currency)
    except MoneyError as exc:
        if exc.args and "plain decimal" in str(exc):
            raise MoneyError(f"amount {raw!r} is not a number written as {number_format}") from None
        raise


def parse_hour(text: str) -> int | None:
    """The hour of the day 0-23 from "7", "07", "07:00" or Meta's "07:00:00 - 07:59:59"; None if it is not one."""
    match = _HOUR.match(text.strip())
    if not match:
        return None
    hour = int(match.group("hour"))
    return hour if hour < 24 else None


def read_report_csv(
    stream: BinaryIO,
    fmt: ReportFormat,
    directory: CampaignDirectory,
    latest: datetime | None,
    *,
    brand: BrandRef | None = None,
) -> Iterator[SpendRow | RowError]:
    """Yield each data row of a report in ``fmt`` as a SpendRow or a RowError, in file order.

    ``brand`` is the brand every row belongs to (chosen on the upload form or with --brand); without it the
    brand is the one named by the row's brand/account name column. Raises SpendFileError for whole-file
    problems: the header not found, no way to tell the brand, a currency in the header that is not the brand's.
    Totals and summary rows are skipped, not errors; line numbers are physical lines of the file.
    """
    layout = find_layout(stream, [fmt])
    if layout is None:
        expected = ", ".join(f"{f}: {' or '.join(repr(n) for n in names)}" for f, names in fmt.columns.items() if names)
        raise SpendFileError(
            f"No {fmt.label} header found in the first {HEADER_SEARCH_LINES} lines; it needs the columns {expected}."
        )
    check_brand_source(layout, brand)
    positions = layout.positions
    strptime_format = DATE_FORMATS[fmt.date_format]
    text = open_text(stream)
    first_row = True
    periods: dict[tuple, tuple] = {}
    try:
        for line, fields in _records(text):
            if line <= layout.header_line or not any(f.strip() for f in fields):
                continue
            skip = _is_total(fmt, fields, positions, first_row)
            first_row = False
            if skip:
                continue
            yield _parse_report_row(line, fields, fmt, layout, strptime_format, directory, latest, brand, periods)
    finally:
        text.detach()


def check_brand_source(layout: Layout, brand: BrandRef | None) -> None:
    """Raise SpendFileError when the file's rows cannot be given a brand, or the header's currency is not the
    chosen brand's."""
    if layout.format is None:
        return
    if brand is None and "brand" not in layout.positions and "account_id" not in layout.positions:
        raise SpendFileError(
            "The file has no brand, account name or account id column: choose its brand (on the upload form, "
            f"or --brand NAME with spend import) to import it as {layout.format.label}."
        )
    if brand is not None and layout.header_currency and layout.header_currency != brand.currency:
        raise SpendFileError(
            f"The file's amounts are in {layout.header_currency} (its header says so) but brand {brand.name!r} "
            f"is in {brand.currency}."
        )


def _is_total(fmt: ReportFormat, fields: list[str], positions: dict[str, int], first_row: bool) -> bool:
    """A totals row ("Total: Account"), or the summary row: no campaign, and no day or first under the header."""
    first = next((f.strip() for f in fields if f.strip()), "")
    if first.casefold() == "total" or first.casefold().startswith(fmt.total_prefixes):
        return True
    if not fmt.summary_without_campaign or _cell(fields, positions, "campaign"):
        return False
    return first_row or all(_cell(fields, positions, name) == "" for name in ("day", "timestamp") if name in positions)


def _cell(fields: list[str], positions: dict[str, int], name: str) -> str:
    index = positions.get(name)
    return fields[index].strip() if index is not None and index < len(fields) else ""


def _parse_report_row(
    line: int,
    fields: list[str],
    fmt: ReportFormat,
    layout: Layout,
    strptime_format: str,
    directory: CampaignDirectory,
    latest: datetime | None,
    given: BrandRef | None,
    periods: dict[tuple, tuple],
) -> SpendRow | RowError:
    positions = layout.positions
    if len(fields) != len(layout.header):
        return RowError(
            line, f"The row has {len(fields)} fields but the header has {len(layout.header)}.", _raw(fields)
        )

    def cell(name: str) -> str:
        return _cell(fields, positions, name)

    problems: list[str] = []
    brand = given
    if brand is None:
        # The account id first (a brand's ad-platform connection names it), then the account name.
        account, account_id = cell("brand"), cell("account_id")
        brand = directory.brand_by_account(account_id) if account_id else None
        if brand is None and account:
            brand = directory.brand(account)
        if brand is None:
            named = [f"named {account!r} (the account name)"] if account else []
            named += [f"linked to the ad account {account_id!r}"] if account_id else []
            if not named:
                problems.append("the account name is empty and no brand was chosen for the file")
            else:
                problems.append(f"no brand is {' or '.join(named)}; choose the brand for the file")
    ref = None
    campaign_name = cell("campaign")
    if not campaign_name:
        problems.append("campaign is empty")
    elif brand is not None:
        ref = directory.campaign(brand, campaign_name)
        if ref is None:
            problems.append(unknown_campaign_problem(brand.name, campaign_name))

    amount = spent_at = local_date = None
    period = None
    if brand is not None:
        currency = cell("currency").upper() or (layout.header_currency or "")
        if currency and currency != brand.currency:
            problems.append(f"currency {currency} is not the currency of brand {brand.name!r} ({brand.currency})")
        try:
            amount = parse_report_amount(cell("amount"), fmt.number_format, brand.currency)
        except MoneyError as exc:
            problems.append(str(exc))
        if "timestamp" in positions:
            try:
                spent_at = parse_instant(cell("timestamp"), brand.timezone)
            except TimestampError as exc:
                problems.append(str(exc))
        else:
            key = (brand.brand_id, cell("day"), cell("day_end"), cell("hour"))
            when = periods.get(key)
            if when is None:
                if len(periods) > 10_000:  # a report names a few days or hours; a file of odd ones stays small
                    periods.clear()
                when = periods[key] = _period(key[1], key[2], key[3], positions, fmt, strptime_format, brand)
            local_date, spent_at, period, found = when
            problems.extend(found)
        if spent_at is not None and (problem := spent_at_problem(spent_at, latest)):
            problems.append(problem)
            spent_at = None

    external_id = cell("external_id") or None
    if external_id and (problem := external_id_problem(external_id)):
        problems.append(problem)

    if problems or ref is None or amount is None or spent_at is None:
        return RowError(line, _sentence(problems or ["the row cannot be read"]), _raw(fields))
    if local_date is None:
        local_date = local_day(spent_at, ref.timezone)
    return SpendRow(line, ref, amount, spent_at, local_date, external_id, period)


def _period(
    day_text: str,
    end_text: str,
    hour_text: str,
    positions: dict[str, int],
    fmt: ReportFormat,
    strptime_format: str,
    brand: BrandRef,
) -> tuple[date | None, datetime | None, str | None, tuple[str, ...]]:
    """The local day, first instant and kind of the period a row's day (and hour) cells name, and the problems
    with them. Pure: the reader keeps the answers, since a report repeats each day for every campaign."""
    problems = []
    spent_at = period = None
    try:
        local_date = datetime.strptime(day_text, strptime_format).date() if day_text else None
    except ValueError:
        local_date = None
    if local_date is None:
        problems.append(
            f"the day {day_text!r} is not a date written as {fmt.date_format}" if day_text else "the day is empty"
        )
    if local_date is not None and "day_end" in positions and end_text != day_text:
        problems.append(f"the row covers {day_text} to {end_text}, not one day: export it broken down by day")
        local_date = None
    hour = None
    if "hour" in positions:
        hour = parse_hour(hour_text)
        if hour is None:
            problems.append(f"the hour {hour_text!r} is not an hour of the day (0 to 23, or 07:00:00 - 07:59:59)")
    if local_date is not None and ("hour" not in positions or hour is not None):
        period = "hour" if hour is not None else "day"
        try:
            spent_at = _period_start(local_date, hour, brand)
        except TimestampError as exc:
            problems.append(str(exc))
    return local_date, spent_at, period, tuple(problems)


def _period_start(day: date, hour: int | None, brand: BrandRef) -> datetime:
    """The first instant of a brand-local day or hour, in UTC (midnight skipped by DST: the day's first instant)."""
    if hour is None:
        try:
            return local_to_utc(datetime.combine(day, time()), brand.timezone)
        except TimestampError:
            # A zone whose clocks skip midnight (e.g. America/Santiago): the day starts at 01:00.
            return local_to_utc(datetime.combine(day, time(1)), brand.timezone)
    try:
        return local_to_utc(datetime.combine(day, time(hour)), brand.timezone)
    except TimestampError:
        raise TimestampError(
            f"hour {hour} of {day.isoformat()} does not exist in {brand.timezone.key}: the clocks skip it"
        ) from None
