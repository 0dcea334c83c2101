"""Test databases: a file SQLite per run, and a dedicated PostgreSQL database when one is reachable."""

import os
import tempfile
from contextlib import contextmanager

import psycopg
import sqlalchemy as sa

CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_DSN = os.environ.get("TEST_PG_ADMIN_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test")
# One database per pytest-xdist worker, so parallel workers never share tables.
PG_TEST_DB = os.environ.get("TEST_PG_DATABASE", "culturenet_test") + (
    f"_{os.environ['PYTEST_XDIST_WORKER']}" if os.environ.get("PYTEST_XDIST_WORKER") else ""
)
_pg_state: dict = {}


def sqlite_url(name: str = "culturenet-test") -> str:
    folder = tempfile.mkdtemp(prefix=f"{name}-")
    return f"sqlite:///{folder}/test.sqlite3"


def postgres_url() -> str | None:
    """A URL to a PostgreSQL database for tests (created on first use), or None when unreachable."""
    if "url" not in _pg_state:
        _pg_state["url"] = _prepare_postgres()
    return _pg_state["url"]


def _prepare_postgres() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_TEST_DB,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{PG_TEST_DB}"')
    except psycopg.OperationalError as exc:
        _pg_state["error"] = str(exc)
        return None
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_TEST_DB}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS btree_gist")
    engine.dispose()
    return url


def postgres_error() -> str:
    return _pg_state.get("error", "PostgreSQL is not reachable")


def clear_tables(db) -> None:
    """Empty every table (fast), keeping the schema; identities restart on PostgreSQL."""
    db.session.remove()
    tables = [t.name for t in db.metadata.sorted_tables]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for name in reversed(tables):
                conn.exec_driver_sql(f'DELETE FROM "{name}"')


@contextmanager
def recorded_statements(db):
    """The SQL statements sent inside the block (a list, filled as they run): for tests that count queries."""
    from sqlalchemy import event

    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
