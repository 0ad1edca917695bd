"""Spend sent as JSON records (the API's path), parsed with the CSV's rules: a row or an error per record.

A record is an object with ``brand``, ``campaign``, ``amount``, ``spent_at`` and optional
``external_id`` and ``currency``. Writing the good ones is app.services.spend's job.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from app.ingest.csv_spend import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    CampaignDirectory,
    RowError,
    SpendRow,
    parse_spend_values,
)

MAX_RECORDS = 10_000
FIELDS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


class ApiSpendError(ValueError):
    """The request as a whole is unusable (not a list, empty, too long)."""


def _text(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f"{name} must be a string{' or number' if name == 'amount' else ''}")
    if name != "amount" and not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return str(value)


def parse_api_records(payload: Any, directory: CampaignDirectory, latest: datetime | None) -> list[SpendRow | RowError]:
    """One SpendRow or RowError per record, in order; a row's ``line`` is the record's index.

    Raises ApiSpendError for a payload that is not a non-empty list of at most MAX_RECORDS
    (or an object holding one under ``records``).
    """
    records = payload.get("records") if isinstance(payload, dict) else payload
    if not isinstance(records, list):
        raise ApiSpendError('send a JSON list of spend records (or {"records": [...]})')
    if not records:
        raise ApiSpendError("the list of records is empty")
    if len(records) > MAX_RECORDS:
        raise ApiSpendError(f"at most {MAX_RECORDS} records per request, got {len(records)}")
    parsed: list[SpendRow | RowError] = []
    for index, record in enumerate(records):
        try:
            if not isinstance(record, dict):
                raise ValueError("record must be an object")
            unknown = sorted(set(record) - set(FIELDS))
            if unknown:
                raise ValueError(f"unknown field {', '.join(map(repr, unknown))}; the fields are {', '.join(FIELDS)}")
            values = {name: _text(name, record.get(name)) for name in FIELDS}
            parsed.append(parse_spend_values(index, values, directory, latest))
        except ValueError as exc:
            message = str(exc)
            parsed.append(RowError(index, message[:1].upper() + message[1:] + ".", ""))
    return parsed
