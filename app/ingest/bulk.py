"""Writing an import's rows in batches, fast, with exact day totals.

On SQLite the rows go through one prepared INSERT … ON CONFLICT DO NOTHING
executemany per batch (SQLAlchemy Core's driver-level execution, no per-row
compilation), and what was inserted is read back by id range: the transaction's
first statement is a write, which holds SQLite's only write lock until commit, so
every id above the one seen at the start is this import's. Elsewhere (PostgreSQL)
each batch goes through ``write_spend``'s INSERT … RETURNING. Either way the day
totals are added in the same transaction, only for rows actually inserted.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy.orm import Session

from app.database import is_postgres
from app.ingest.csv_spend import SpendRow
from app.models import utcnow
from app.services.spend import NewSpend, WriteResult, add_to_day_totals, write_spend

_INSERT = (
    "INSERT INTO spend_record (campaign_id, brand_id, amount_minor, spent_at, local_date, source, external_id,"
    " dedupe_key, import_id, created_at) VALUES (?, ?, ?, ?, ?, 'csv', ?, ?, ?, ?)"
    " ON CONFLICT (dedupe_key) DO NOTHING"
)
_INSERTED = (
    "SELECT brand_id, local_date, sum(amount_minor), count(*), max(id) FROM spend_record"
    " WHERE id > ? GROUP BY brand_id, local_date"
)


class ImportWriter:
    """Accumulates an import's writes; ``finish`` adds the day totals and returns the counts. Never commits."""

    def __init__(self, session: Session, import_id: int) -> None:
        self.session = session
        self.import_id = import_id
        self.sqlite = not is_postgres(session)
        self.result = WriteResult()
        self.deltas: dict[tuple[int, date], int] = defaultdict(int)
        self.last_id: int | None = None
        self.created = utcnow().replace(tzinfo=None).isoformat(" ", "microseconds")

    def write(self, rows: list[SpendRow], keys: list[str]) -> None:
        if not rows:
            return
        if not self.sqlite:
            new = [NewSpend(r.campaign.campaign_id, r.campaign.brand_id, r.amount_minor, r.spent_at, r.local_date,
                            "csv", key, r.external_id, self.import_id) for r, key in zip(rows, keys)]
            self.result.add(write_spend(self.session, new, add_totals=False, deltas=self.deltas))
            return
        connection = self.session.connection()
        if self.last_id is None:
            # The unique dedupe index takes random inserts: keep its pages in memory (64 MiB, this connection).
            connection.exec_driver_sql("PRAGMA cache_size = -65536")
            connection.exec_driver_sql("UPDATE spend_import SET id = id WHERE id = ?", (self.import_id,))
            self.last_id = connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM spend_record").scalar()
        import_id, created = self.import_id, self.created  # spent_at is UTC: its first 26 characters are the naive form
        connection.exec_driver_sql(
            _INSERT,
            [
                (r.campaign.campaign_id, r.campaign.brand_id, r.amount_minor,
                 r.spent_at.isoformat(" ", "microseconds")[:26], r.local_date.isoformat(),
                 r.external_id, key, import_id, created)
                for r, key in zip(rows, keys)
            ],
        )
        inserted = 0
        for brand_id, day, amount, count, top in connection.exec_driver_sql(_INSERTED, (self.last_id,)).all():
            self.deltas[(brand_id, date.fromisoformat(day))] += amount
            self.result.brand_ids.add(brand_id)
            inserted += count
            self.last_id = max(self.last_id, top)
        self.result.inserted += inserted
        self.result.duplicates += len(rows) - inserted

    def finish(self) -> WriteResult:
        add_to_day_totals(self.session, self.deltas)
        return self.result
