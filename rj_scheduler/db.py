"""The declarative base, the constraint naming convention, and the UTC datetime type.

Every timestamp is stored as UTC and comes back timezone-aware, on SQLite as on
PostgreSQL; ``now()`` is the one clock the code asks, so tests can freeze it.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def now() -> dt.datetime:
    """The current time, timezone-aware UTC. Every rule that needs the clock asks here."""
    return dt.datetime.now(dt.UTC)


def public_id() -> str:
    """A random identifier to show in URLs, separate from primary keys."""
    return secrets.token_hex(16)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A datetime stored as UTC; refuses naive values so no local time slips in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware UTC datetime")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dt.datetime: UTCDateTime()},
    )


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    """SQLite: foreign keys on, WAL, a busy timeout, and transactions we control."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_on_begin): pysqlite's own
    # transaction handling breaks savepoints and defers locks too late.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn) -> None:
    """SQLite: take the write lock at the start of every transaction.

    Nearly every request writes (the audit log records reads too), and rules
    such as "no double booking" check then write; BEGIN IMMEDIATE makes the
    check and the write one serialised step instead of failing later with
    SQLITE_BUSY. PostgreSQL uses row locks and constraints instead.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
