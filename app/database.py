"""Database helpers shared by the services: SQLite settings, dialect-aware inserts, brand locks."""

from __future__ import annotations

import sqlite3
import time

from sqlalchemy import Table, event, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.models import Brand

# SQLite: how long one attempt at the write lock may wait; short, so a free moment between an import's
# committed batches is seen at once (SQLite's own busy handler sleeps up to 100 ms between tries).
_SQLITE_TRY_MS = 5
_SQLITE_BUSY_MS = 30000  # the connection's busy timeout (see _sqlite_pragmas), restored after a timed lock


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    # WAL lets pages read while a job writes; the busy timeout makes writers queue instead of failing.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def upsert_insert(session: Session, table):
    """An INSERT that supports ON CONFLICT on the session's dialect (SQLite or PostgreSQL)."""
    return (postgresql.insert if is_postgres(session) else sqlite.insert)(table)


class BrandLockTimeout(RuntimeError):
    """The brand's lock was not free within the time asked for; the caller gives up and tries again later."""


def lock_brand(session: Session, brand_id: int, *, timeout: float | None = None) -> Brand | None:
    """Take the brand's write lock for the rest of the transaction and return it fresh.

    PostgreSQL locks the brand's row FOR NO KEY UPDATE, which does not conflict with the key-share
    locks that inserts referencing the brand (an import's spend records) take, so it never waits
    for an import. SQLite has one writer at a time, and a no-op UPDATE as the transaction's first
    write takes that lock before anything is read (an import releases it between its batches).

    With ``timeout`` (seconds), raises BrandLockTimeout when the lock is not had by then; the
    transaction is then left for the caller to roll back.
    """
    if is_postgres(session):
        if timeout is not None:
            session.execute(text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": f"{int(timeout * 1000)}ms"})
        stmt = select(Brand).where(Brand.id == brand_id).with_for_update(key_share=True)
        try:
            brand = session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
                raise BrandLockTimeout(f"brand {brand_id} stayed locked for {timeout} s") from exc
            raise
        if timeout is not None:
            session.execute(text("SELECT set_config('lock_timeout', '0', true)"))
        return brand
    if timeout is None:
        session.execute(text("UPDATE brand SET id = id WHERE id = :id"), {"id": brand_id})
    else:
        _sqlite_write_lock(session, brand_id, timeout)
    return session.scalars(
        select(Brand).where(Brand.id == brand_id).execution_options(populate_existing=True)
    ).one_or_none()


def _sqlite_write_lock(session: Session, brand_id: int, timeout: float) -> None:
    """The no-op UPDATE, tried every few milliseconds until ``timeout``: SQLite's busy handler backs
    off to 100 ms sleeps and could keep missing an importer's short gaps between batches."""
    connection = session.connection()
    deadline = time.monotonic() + timeout
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {_SQLITE_TRY_MS}")
    try:
        while True:
            try:
                connection.execute(text("UPDATE brand SET id = id WHERE id = :id"), {"id": brand_id})
                return
            except OperationalError as exc:
                if "locked" not in str(exc.orig) or time.monotonic() >= deadline:
                    if "locked" in str(exc.orig):
                        raise BrandLockTimeout(f"the database stayed locked for {timeout} s") from exc
                    raise
                time.sleep(0.002)
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {_SQLITE_BUSY_MS}")


def insert_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """Insert many rows of ``table`` (dicts with the same keys; the columns' defaults fill the rest).

    PostgreSQL: one ``COPY … FROM STDIN`` in the session's transaction, after the columns' bind
    processing (a ``UTCDateTime`` refuses a naive value as in any insert); the Python-side defaults
    are evaluated once, as for one INSERT, and the server's fill the columns left out. An unnest
    INSERT cost about a second of client CPU more per 250,000 rows binding its arrays, and psycopg's
    executemany sends one INSERT per row. SQLite: ``executemany``, which its driver runs fast in process.
    """
    if not rows:
        return
    if not is_postgres(session):
        session.execute(insert(table), rows)
        return
    names = list(rows[0])
    defaults = _python_defaults(table, names)
    columns = [*names, *defaults]
    dialect = session.get_bind().dialect
    processors = [table.c[name].type.bind_processor(dialect) for name in columns]
    convert = [(i, process) for i, process in enumerate(processors[: len(names)]) if process is not None]
    fixed = [
        process(defaults[name]) if process else defaults[name]
        for name, process in zip(defaults, processors[len(names) :], strict=True)
    ]
    quoted = ", ".join(dialect.identifier_preparer.quote(name) for name in columns)
    statement = f"COPY {dialect.identifier_preparer.format_table(table)} ({quoted}) FROM STDIN"
    with session.connection().connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = [row[name] for name in names]
            for i, process in convert:
                values[i] = process(values[i])
            copy.write_row(values + fixed)


def _python_defaults(table: Table, given: list[str]) -> dict:
    """The values of the Python-side defaults (scalars and plain callables) of the columns not ``given``."""
    defaults = {}
    for column in table.columns:
        if column.name in given or column.default is None:
            continue
        default = column.default
        if default.is_scalar:
            defaults[column.name] = default.arg
        elif default.is_callable:
            defaults[column.name] = default.arg(None)
        else:
            raise NotImplementedError(f"insert_rows cannot evaluate the default of {table.name}.{column.name}")
    return defaults


class IdBlock:
    """Primary keys handed out before the rows are written, so the ORM can insert many rows of ``model``
    in one ``executemany`` (it writes rows one statement at a time when it must read each new id back).

    PostgreSQL draws them from the table's sequence, ``block`` at a time (unused ones leave a gap, as a
    rolled-back insert does). SQLite takes the write lock first (held to the end of the transaction,
    so no other writer can insert meanwhile) and counts on from the largest id stored: every row of
    ``model`` the transaction adds must then take its id here, or SQLite could give it one handed out.
    """

    def __init__(self, session: Session, model, block: int = 1000) -> None:
        self.session, self.table, self.block = session, model.__table__, block
        self.postgres = is_postgres(session)
        self.free: list[int] = []
        self.next_sqlite: int | None = None
        self.sequence: str | None = None

    def take(self) -> int:
        if self.postgres:
            if not self.free:
                if self.sequence is None:
                    self.sequence = self.session.scalar(
                        text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": self.table.name}
                    )
                # The sequence by its oid, not pg_get_serial_sequence per row: that catalog lookup cost
                # more than nextval itself (1.8 s of SQL for the 360,000 ids of a 10,000-brand fixtures load).
                self.free = list(
                    self.session.scalars(
                        text("SELECT nextval(CAST(:sequence AS regclass)) FROM generate_series(1, :n)"),
                        {"sequence": self.sequence, "n": self.block},
                    )
                )[::-1]
            return self.free.pop()
        if self.next_sqlite is None:
            name = self.table.name
            self.session.execute(text(f'UPDATE "{name}" SET id = id WHERE id = -1'))  # the write lock, first
            self.next_sqlite = (self.session.scalar(text(f'SELECT max(id) FROM "{name}"')) or 0) + 1
        self.next_sqlite += 1
        return self.next_sqlite - 1
