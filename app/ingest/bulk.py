"""Writing an import's rows in batches, fast, with exact day totals.

Each batch is first staged into a temporary table (``executemany`` on SQLite,
``COPY`` on PostgreSQL: no index, no constraint, so this is the cheap part), then
moved into ``spend_record`` by one ``INSERT … SELECT … ON CONFLICT DO NOTHING``
in file order.
Only rows actually inserted reach the day totals: PostgreSQL returns them;
on SQLite, when the insert count shows a batch had duplicates, they are read back by id
range (the transaction's first statement is a write, which holds SQLite's only write
lock until commit, so every id above the one seen at the start is this import's).
The totals are added once, in the same transaction, by ``finish``. Nothing here commits.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from app.database import is_postgres
from app.ingest.batches import STAGED_COLUMNS
from app.models import SpendRecord, utcnow
from app.services.spend import WriteResult, add_to_day_totals

_COLUMNS = ", ".join(STAGED_COLUMNS)
# ``position`` keeps the file's order, so of two rows with one key in a file the first is the one stored.
_STAGING = (
    "CREATE TEMP TABLE spend_staging (position {position}, campaign_id integer, brand_id integer,"
    " amount_minor bigint, spent_at timestamp, local_date date, external_id varchar(200), dedupe_key varchar(80))"
)
_MOVE = (
    f"INSERT INTO spend_record ({_COLUMNS}, source, import_id, created_at)"
    f" SELECT {_COLUMNS}, 'csv', :import_id, :created FROM spend_staging WHERE true ORDER BY position"
    " ON CONFLICT (dedupe_key) DO NOTHING"
)
# PostgreSQL says what went in: the day totals of exactly the inserted rows.
_MOVE_RETURNING = (
    f"WITH inserted AS ({_MOVE} RETURNING brand_id, local_date, amount_minor)"
    " SELECT brand_id, local_date, sum(amount_minor), count(*) FROM inserted GROUP BY brand_id, local_date"
)
_INSERTED_SINCE = (
    "SELECT brand_id, local_date, sum(amount_minor), count(*) FROM spend_record WHERE id > ? GROUP BY brand_id, local_date"
)


class ImportWriter:
    """Writes an import's batches; ``finish`` adds the day totals and returns the counts. Never commits."""

    def __init__(self, session: Session, import_id: int) -> None:
        self.session = session
        self.import_id = import_id
        self.started = False
        self.postgres = is_postgres(session)
        self.result = WriteResult()
        self.deltas: dict[tuple[int, date], int] = defaultdict(int)
        self.last_id = 0  # SQLite: the highest spend_record id before this import's rows
        self.move = text(_MOVE_RETURNING if self.postgres else _MOVE).bindparams(
            bindparam("import_id", import_id), bindparam("created", utcnow(), type_=SpendRecord.created_at.type)
        )

    def write(self, rows: list[tuple], totals: dict[tuple[int, str], int]) -> None:
        """Store ``rows`` (values in STAGED_COLUMNS order) whose day totals are ``totals``, skipping stored keys."""
        if not rows:
            return
        connection = self.session.connection()
        if not self.started:
            self._start(connection)
            self.started = True
        if self.postgres:
            driver = connection.connection.driver_connection
            with driver.cursor() as cursor, cursor.copy(f"COPY spend_staging ({_COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            inserted = self._add(connection.execute(self.move).all())
        else:
            connection.exec_driver_sql(f"INSERT INTO spend_staging ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            inserted = connection.execute(self.move).rowcount
            if inserted == len(rows):
                for (brand_id, day), amount in totals.items():
                    self.deltas[(brand_id, date.fromisoformat(day))] += amount
                self.result.brand_ids.update(brand_id for brand_id, _ in totals)
            elif inserted:
                self._add(connection.exec_driver_sql(_INSERTED_SINCE, (self.last_id,)).all())
            if inserted:
                self.last_id = connection.exec_driver_sql("SELECT max(id) FROM spend_record").scalar()
        connection.exec_driver_sql("DELETE FROM spend_staging")
        self.result.inserted += inserted
        self.result.duplicates += len(rows) - inserted

    def _start(self, connection) -> None:
        if self.postgres:
            connection.exec_driver_sql(_STAGING.format(position="bigint generated always as identity") + " ON COMMIT DROP")
            return
        # The index pages an import touches stay in memory: 64 MiB of page cache for this connection.
        connection.exec_driver_sql("PRAGMA cache_size = -65536")
        connection.exec_driver_sql("UPDATE spend_import SET id = id WHERE id = ?", (self.import_id,))
        self.last_id = connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM spend_record").scalar()
        connection.exec_driver_sql("DROP TABLE IF EXISTS temp.spend_staging")
        connection.exec_driver_sql(_STAGING.format(position="integer primary key"))

    def _add(self, day_totals) -> int:
        """Add rows of (brand id, local date, amount, count) to the deltas; return the count."""
        inserted = 0
        for brand_id, day, amount, count in day_totals:
            day = date.fromisoformat(day) if isinstance(day, str) else day
            self.deltas[(brand_id, day)] += int(amount)
            self.result.brand_ids.add(brand_id)
            inserted += count
        return inserted

    def finish(self) -> WriteResult:
        add_to_day_totals(self.session, self.deltas)
        return self.result
