"""Spend sent as JSON records (the API's path): the CSV's rules, a result per record.

A record is an object with ``brand``, ``campaign``, ``amount``, ``spent_at`` and optional
``external_id`` and ``currency``. A retried request adds nothing: records are deduped by
``external_id`` when given, else by campaign, instant, amount and occurrence within the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.ingest.csv_spend import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, CampaignDirectory, RowError, parse_spend_values
from app.ingest.batches import dedupe_keys_for_rows
from app.services.spend import NewSpend, write_spend

MAX_RECORDS = 10_000
FIELDS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


class ApiSpendError(ValueError):
    """The request as a whole is unusable (not a list, empty, too long)."""


@dataclass
class ApiSpendResult:
    results: list[dict] = field(default_factory=list)
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    brand_ids: set[int] = field(default_factory=set)


def _text(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f"{name} must be a string{' or number' if name == 'amount' else ''}")
    if name != "amount" and not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return str(value)


def record_spend_records(session: Session, payload: Any) -> ApiSpendResult:
    """Validate every record and write the good ones (unless all are bad); does not commit.

    Raises ApiSpendError for a payload that is not a non-empty list of at most MAX_RECORDS.
    """
    records = payload.get("records") if isinstance(payload, dict) else payload
    if not isinstance(records, list):
        raise ApiSpendError('send a JSON list of spend records (or {"records": [...]})')
    if not records:
        raise ApiSpendError("the list of records is empty")
    if len(records) > MAX_RECORDS:
        raise ApiSpendError(f"at most {MAX_RECORDS} records per request, got {len(records)}")

    directory = CampaignDirectory(session)
    result = ApiSpendResult(results=[{} for _ in records])
    good = []
    for index, record in enumerate(records):
        try:
            if not isinstance(record, dict):
                raise ValueError("record must be an object")
            unknown = sorted(set(record) - set(FIELDS))
            if unknown:
                raise ValueError(f"unknown field {', '.join(map(repr, unknown))}; the fields are {', '.join(FIELDS)}")
            parsed = parse_spend_values(index, {name: _text(name, record.get(name)) for name in FIELDS}, directory)
        except ValueError as exc:
            message = str(exc)
            parsed = RowError(index, message[:1].upper() + message[1:] + ".", "")
        if isinstance(parsed, RowError):
            result.results[index] = {"index": index, "status": "error", "error": parsed.message}
            result.rejected += 1
        else:
            good.append(parsed)
    if not good:
        return result

    keys = dedupe_keys_for_rows(good)
    new = [
        NewSpend(row.campaign.campaign_id, row.campaign.brand_id, row.amount_minor, row.spent_at, row.local_date,
                 "api", key, row.external_id)
        for row, key in zip(good, keys)
    ]
    written = write_spend(session, new, with_keys=True)
    result.brand_ids = written.brand_ids
    seen: set[str] = set()
    for row, key in zip(good, keys):
        created = key in written.inserted_keys and key not in seen  # a repeated external id counts once
        seen.add(key)
        result.results[row.line] = {"index": row.line, "status": "created" if created else "duplicate"}
        result.created += created
        result.duplicates += not created
    return result
