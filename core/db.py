"""The declarative base: naming convention, UTC datetimes, and time helpers."""

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.orm import DeclarativeBase

# The largest id an INTEGER primary key holds (PostgreSQL and SQLite alike): routes and API bodies stop there.
MAX_ID = 2**31 - 1

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (use as a callable default, never evaluated once)."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL stores `timestamptz`; SQLite stores naive UTC text. Naive input is refused, so a
    local time can never be stored by mistake as if it were UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every model; constraint names are stable on SQLite and PostgreSQL alike."""

    registry = sa.orm.registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION), type_annotation_map={datetime: UTCDateTime()}
    )


_sqlite_hooks_installed = False


def install_sqlite_hooks() -> None:
    """Make SQLite behave: foreign keys on, WAL, a busy timeout, and every transaction BEGIN IMMEDIATE.

    pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; taking the write lock at
    the start of each transaction serialises writers, which is what makes capacity checks and
    overlap checks safe on the embedded database.
    """
    global _sqlite_hooks_installed
    if _sqlite_hooks_installed:
        return
    _sqlite_hooks_installed = True

    @sa.event.listens_for(sa.engine.Engine, "connect")
    def _connect(dbapi_connection, _record):
        import sqlite3

        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(sa.engine.Engine, "begin")
    def _begin(connection):
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
