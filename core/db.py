"""The declarative base: naming convention, UTC datetimes, time helpers, and the session that sends the reports' reads
to a replica when `REPORTS_DATABASE_URL` is set."""

import functools
import logging
import threading
import time
from datetime import UTC, datetime

import flask
import flask_sqlalchemy.session
import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.selectable import GenerativeSelect

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


# --- Reads of the reports from a replica (REPORTS_DATABASE_URL) -------------------------------------------------

REPLICA_READS = "culturenet.replica_reads"  # session.info: this request's plain reads may go to the replica
WROTE = "culturenet.wrote"  # session.info: this request has written; its later reads stay on the primary
RECENT_WRITE = "_rw"  # the browser session: until when this person reads the primary (their own last write)
READ_YOUR_WRITES_SECONDS = 10  # far above a healthy replica's lag (milliseconds), far below a page visit


def _plain_read(clause) -> bool:
    """A SELECT that takes no row lock: the only statement a read-only replica may answer."""
    return isinstance(clause, GenerativeSelect) and clause._for_update_arg is None


class RoutingSession(flask_sqlalchemy.session.Session):
    """The app's session: every statement goes to the primary (`DATABASE_URL`), except the plain SELECTs of a
    view marked `reads_replica` when `REPORTS_DATABASE_URL` is set.

    Inside such a view a flush (ORM inserts, updates, deletes), a Core INSERT/UPDATE/DELETE, a SELECT … FOR
    UPDATE, raw SQL and `session.connection()` all still go to the primary, and once the request has written,
    its later reads go there too (it reads its own writes: a row just flushed is not on the replica yet).
    A browser that wrote reads the primary for the next READ_YOUR_WRITES_SECONDS as well, so the page a form
    redirects to shows what was just saved. Each engine's transaction ends with the request's one commit.
    """

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and clause is not None:
            if not _plain_read(clause):
                note_write(self)  # a write, a lock or raw SQL
            elif self.info.get(REPLICA_READS) and not self.info.get(WROTE):
                engine = replica_engine()
                if engine is not None:
                    return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


@sa.event.listens_for(RoutingSession, "after_flush")
def _flushed(session, _flush_context) -> None:
    note_write(session)


def only_read(session) -> bool:
    """Whether this request's open transaction has done nothing but plain reads: no flush, no Core write, lock or
    raw SQL (`note_write`), nothing pending in the session, and the transaction still usable. Then its COMMIT
    and its ROLLBACK leave the database the same (core.transaction ends a refused request so)."""
    if not flask.has_request_context():
        return False
    transaction = session.get_transaction()
    if transaction is None or not transaction.is_active:
        return False
    if session.info.get(WROTE) is flask.request._get_current_object():
        return False
    return not (session.new or session.dirty or session.deleted)


def note_write(session) -> None:
    """Remember that this request (or job) wrote: its later reads, and a browser's next few seconds, stay on the
    primary. Once per request: the rest of a hot path's writes pay one identity check."""
    request = flask.request._get_current_object() if flask.has_request_context() else None
    if request is not None and session.info.get(WROTE) is request:
        return
    session.info[WROTE] = request if request is not None else True
    if request is None or not flask.current_app.config.get("REPORTS_DATABASE_URL"):
        return
    if request.cookies.get(flask.current_app.config.get("SESSION_COOKIE_NAME", "session")):  # a browser, not a token
        flask.session[RECENT_WRITE] = int(time.time()) + READ_YOUR_WRITES_SECONDS


_replica_lock = threading.Lock()
REPLICA_DOWN = "culturenet.replica_down_until"  # app.extensions: monotonic time until which the primary answers
REPLICA_RETRY_SECONDS = 30
log = logging.getLogger("culturenet.db")


def replica_engine() -> sa.engine.Engine | None:
    """The engine of `REPORTS_DATABASE_URL` for the current app (made on first use, with the primary's engine
    options and a 3 s connect timeout), or None when it is not set or was found down in the last 30 s."""
    app = flask.current_app
    url = app.config.get("REPORTS_DATABASE_URL")
    if not url or app.extensions.get(REPLICA_DOWN, 0) > time.monotonic():
        return None
    engine = app.extensions.get(REPLICA_READS)
    if engine is None:
        from core.config import normalise_database_url

        with _replica_lock:
            engine = app.extensions.get(REPLICA_READS)
            if engine is None:
                options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
                options["connect_args"] = {"connect_timeout": 3, **options.get("connect_args", {})}
                engine = sa.create_engine(normalise_database_url(url), **options)
                app.extensions[REPLICA_READS] = engine
    return engine


def reads_replica(view):
    """Mark a read-only view (a report page, a report API call, an export): on GET its plain reads go to the
    replica when `REPORTS_DATABASE_URL` is set (see RoutingSession). Authentication ran before it, on the
    primary; its writes (the export log, the audit row) go to the primary."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        session = flask.current_app.extensions["sqlalchemy"].session()
        recent = flask.session.get(RECENT_WRITE, 0) if flask.request.cookies else 0
        if flask.request.method in ("GET", "HEAD") and recent < time.time():
            session.info[REPLICA_READS] = True
        session.info.pop(WROTE, None)
        try:
            return view(*args, **kwargs)
        except sa.exc.OperationalError:
            # The replica is out of reach (or failed mid-read) before the view wrote anything: answer from the
            # primary, and leave the replica alone for REPLICA_RETRY_SECONDS.
            if not session.info.get(REPLICA_READS) or session.info.get(WROTE):
                raise
            flask.current_app.extensions[REPLICA_DOWN] = time.monotonic() + REPLICA_RETRY_SECONDS
            log.warning("reports replica unreachable: reading the primary for %s s", REPLICA_RETRY_SECONDS)
            session.rollback()
            session.info.pop(REPLICA_READS, None)
            return view(*args, **kwargs)
        finally:
            session.info.pop(REPLICA_READS, None)

    return wrapper
