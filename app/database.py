"""Database helpers shared by the services: SQLite settings, dialect-aware inserts, brand locks."""

from __future__ import annotations

import sqlite3

from sqlalchemy import event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.models import Brand


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    # WAL lets pages read while a job writes; the busy timeout makes writers queue instead of failing.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def upsert_insert(session: Session, table):
    """An INSERT that supports ON CONFLICT on the session's dialect (SQLite or PostgreSQL)."""
    return (postgresql.insert if is_postgres(session) else sqlite.insert)(table)


def lock_brand(session: Session, brand_id: int) -> Brand | None:
    """Take the brand's write lock for the rest of the transaction and return it fresh.

    PostgreSQL locks the brand's row; SQLite has one writer at a time, and a no-op
    UPDATE as the transaction's first write takes that lock before anything is read.
    """
    if is_postgres(session):
        stmt = select(Brand).where(Brand.id == brand_id).with_for_update()
        return session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()
    session.execute(text("UPDATE brand SET id = id WHERE id = :id"), {"id": brand_id})
    return session.scalars(
        select(Brand).where(Brand.id == brand_id).execution_options(populate_existing=True)
    ).one_or_none()
