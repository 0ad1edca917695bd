"""Money: integer minor units of an ISO 4217 currency in storage, Decimal at the edges.

Never float. The exponent (number of decimals) comes from ISO 4217:
JPY 0, USD 2, KWD 3.
"""

from __future__ import annotations

import re
from decimal import Decimal

# Active ISO 4217 codes whose minor unit is not 2 decimals.
_EXPONENT_NOT_TWO = {
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    "CLF": 4,
    "UYW": 4,
}

# Active ISO 4217 codes with a 2-decimal minor unit.
_EXPONENT_TWO = [
    "AED",
    "AFN",
    "ALL",
    "AMD",
    "ANG",
    "AOA",
    "ARS",
    "AUD",
    "AWG",
    "AZN",
    "BAM",
    "BBD",
    "BDT",
    "BGN",
    "BMD",
    "BND",
    "BOB",
    "BOV",
    "BRL",
    "BSD",
    "BTN",
    "BWP",
    "BYN",
    "BZD",
    "CAD",
    "CDF",
    "CHE",
    "CHF",
    "CHW",
    "CNY",
    "COP",
    "COU",
    "CRC",
    "CUP",
    "CVE",
    "CZK",
    "DKK",
    "DOP",
    "DZD",
    "EGP",
    "ERN",
    "ETB",
    "EUR",
    "FJD",
    "FKP",
    "GBP",
    "GEL",
    "GHS",
    "GIP",
    "GMD",
    "GTQ",
    "GYD",
    "HKD",
    "HNL",
    "HTG",
    "HUF",
    "IDR",
    "ILS",
    "INR",
    "IRR",
    "JMD",
    "KES",
    "KGS",
    "KHR",
    "KPW",
    "KYD",
    "KZT",
    "LAK",
    "LBP",
    "LKR",
    "LRD",
    "LSL",
    "MAD",
    "MDL",
    "MGA",
    "MKD",
    "MMK",
    "MNT",
    "MOP",
    "MRU",
    "MUR",
    "MVR",
    "MWK",
    "MXN",
    "MXV",
    "MYR",
    "MZN",
    "NAD",
    "NGN",
    "NIO",
    "NOK",
    "NPR",
    "NZD",
    "PAB",
    "PEN",
    "PGK",
    "PHP",
    "PKR",
    "PLN",
    "QAR",
    "RON",
    "RSD",
    "RUB",
    "SAR",
    "SBD",
    "SCR",
    "SDG",
    "SEK",
    "SGD",
    "SHP",
    "SLE",
    "SOS",
    "SRD",
    "SSP",
    "STN",
    "SVC",
    "SYP",
    "SZL",
    "THB",
    "TJS",
    "TMT",
    "TOP",
    "TRY",
    "TTD",
    "TWD",
    "TZS",
    "UAH",
    "USD",
    "USN",
    "UYU",
    "UZS",
    "VED",
    "VES",
    "WST",
    "XCD",
    "XCG",
    "YER",
    "ZAR",
    "ZMW",
    "ZWG",
]

EXPONENTS: dict[str, int] = {code: 2 for code in _EXPONENT_TWO} | _EXPONENT_NOT_TWO
CURRENCIES: tuple[str, ...] = tuple(sorted(EXPONENTS))

_PLAIN_DECIMAL = re.compile(r"^(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?$")
# The largest amount accepted, in minor units: far above any real spend or budget, and far
# enough below the 64-bit columns' limit that day and month totals cannot overflow.
MAX_MINOR = 10**15


class MoneyError(ValueError):
    """An amount that cannot be money in the given currency; the message is a sentence.

    ``kind`` names the problem ("empty", "negative", "format", "decimals", "too_large",
    "not_finite", "currency"), so a caller can word it for its own field (e.g. a budget).
    """

    def __init__(self, message: str, kind: str = "format") -> None:
        super().__init__(message)
        self.kind = kind


def exponent(currency: str) -> int:
    try:
        return EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"{currency!r} is not an ISO 4217 currency code", "currency") from None


def is_currency(code: str) -> bool:
    return code in EXPONENTS


def parse_amount(text: str, currency: str) -> int:
    """Parse a plain decimal string into minor units of ``currency``.

    Accepts only digits with an optional decimal point: no sign, exponent,
    NaN, infinity or thousands separators, and no more decimals than the
    currency has. Raises MoneyError with a sentence.
    """
    raw = text.strip()
    if not raw:
        raise MoneyError("amount is empty", "empty")
    if raw.startswith("-"):
        raise MoneyError(f"amount {raw!r} is negative; spend must be zero or more", "negative")
    match = _PLAIN_DECIMAL.match(raw)
    if not match or not (match.group("int") or match.group("frac")):
        raise MoneyError(f"amount {raw!r} is not a plain decimal number like 12.34")
    digits = exponent(currency)
    frac = match.group("frac") or ""
    if len(frac) > digits:
        allowed = "no decimals" if digits == 0 else f"at most {digits} decimal{'s' if digits > 1 else ''}"
        places = f"{len(frac)} decimal{'s' if len(frac) > 1 else ''}"
        raise MoneyError(f"amount {raw!r} has {places}; {currency} allows {allowed}", "decimals")
    whole = match.group("int").lstrip("0")
    if len(whole) > 18:  # checked before int(): Python refuses to convert very long digit strings
        raise MoneyError(_too_large(currency), "too_large")
    minor = int(whole or "0") * 10**digits + int(frac.ljust(digits, "0") or "0")
    if minor > MAX_MINOR:
        raise MoneyError(_too_large(currency), "too_large")
    return minor


def _too_large(currency: str) -> str:
    return f"amount is too large: at most {format_amount(MAX_MINOR, currency)} {currency}"


def to_minor(amount: Decimal, currency: str) -> int:
    """A Decimal in major units to exact minor units; raises MoneyError if it needs rounding."""
    if not amount.is_finite():
        raise MoneyError("amount must be a finite number", "not_finite")
    if amount < 0:
        raise MoneyError("amount must not be negative", "negative")
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{amount} has more decimals than {currency} allows ({exponent(currency)})", "decimals")
    if scaled > MAX_MINOR:
        raise MoneyError(_too_large(currency), "too_large")
    return int(scaled)


def to_decimal(minor: int, currency: str) -> Decimal:
    """Minor units to a Decimal in major units with the currency's exact number of decimals."""
    digits = exponent(currency)
    return Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))


def format_amount(minor: int, currency: str) -> str:
    """'15.00' for 1500 USD, '1200' for 1200 JPY: the decimal string in major units."""
    return str(to_decimal(minor, currency))


def group_digits(amount: str) -> str:
    """'12,000.00' for '12000.00': a plain decimal string (as format_amount gives) with its whole part
    grouped in threes. For people only; files and JSON keep the plain string."""
    sign = "-" if amount.startswith("-") else ""
    whole, dot, frac = amount.lstrip("-").partition(".")
    return f"{sign}{int(whole or '0'):,}{dot}{frac}"


def display_amount(value: object) -> str:
    """A stored decimal string (an event's or alert's facts, e.g. '12000.00') grouped for people;
    anything that is not a plain decimal is shown as it was stored, and nothing as '—'."""
    if value is None or value == "":
        return "—"
    text = str(value)
    if not _PLAIN_DECIMAL.match(text.lstrip("-")):
        return text
    return group_digits(text)


def format_grouped(minor: int, currency: str) -> str:
    """'12,000.00' for 1200000 USD, '18,000' for 18000 JPY: the currency's decimals, grouped."""
    return group_digits(format_amount(minor, currency))


def format_money(minor: int, currency: str) -> str:
    """'12,000.00 USD': the one way pages and the CLI's human output show an amount."""
    return f"{format_grouped(minor, currency)} {currency}"


def format_count(count: int) -> str:
    """'16,001': counts (rows, events, pages) grouped like amounts."""
    return f"{count:,}"
