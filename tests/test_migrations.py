"""The Alembic chain builds the same schema as the models, on SQLite and on PostgreSQL."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from core.extensions import db
from tests import dbs
from tests.conftest import make_app


def _fresh_url(backend_url: str) -> str:
    if backend_url.startswith("sqlite"):
        return dbs.sqlite_url("migrations")
    name = f"{dbs.PG_TEST_DB}_migrations"
    with sa.create_engine(backend_url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return backend_url.rsplit("/", 1)[0] + "/" + name


def test_migrations_build_the_schema_of_the_models(backend):
    app = make_app(_fresh_url(backend))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_the_stored_schedule_migration_keeps_activities_writable_on_a_large_table(backend):
    """Bookings write to `activities` (seat counters) while `flask db upgrade` adds and backfills the stored
    schedule on 200,000 activities: no write waits long, because the columns are committed at once and the
    backfill runs in batches of its own transactions (a single-transaction backfill would stall them all)."""
    import threading
    import time

    import psycopg
    import pytest

    if not backend.startswith("postgresql"):
        pytest.skip("lock behaviour of an online migration: PostgreSQL only")
    url = _fresh_url(backend)
    app = make_app(url)
    with app.app_context():
        upgrade(revision="1a7d61fe0303")
        db.engine.dispose()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO districts (code, name, position) VALUES ('d1', '大洼区', 1)")
        conn.execute(
            "INSERT INTO venues (name, kind, path, district_code, address, phone, description, is_active,"
            " created_at, updated_at) VALUES ('文化馆', 'hub', '/1/', 'd1', '', '', '', true, now(), now())"
        )
        conn.execute("""INSERT INTO activities (kind, status, venue_id, place, category, title, summary, description,
            series, is_real_name_required, policy, has_waiting_list, capacity, seats_taken, max_party_size,
            cancel_hours, confirm_hours, reserved_quota, created_at, updated_at)
            SELECT 'event', 'published', (SELECT min(id) FROM venues), '', 'music', '活动 ' || g, '', '', '', false,
                   'first_come', false, 1000000, 0, 1, 2, 48, 0, now(), now() FROM generate_series(1, 200000) g""")
        conn.execute("""INSERT INTO sessions (activity_id, starts_at, ends_at, capacity, seats_taken, status, note,
            created_at) SELECT id, now() + id * interval '1 minute',
            now() + id * interval '1 minute' + interval '1 hour', 10, 0, 'scheduled', '', now() FROM activities""")
        conn.execute("ANALYZE")

    stalls, done = [], threading.Event()

    def book_seats():
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '20s'")
            n = 0
            while not done.is_set():
                n += 1
                started = time.perf_counter()
                conn.execute(
                    "UPDATE activities SET seats_taken = seats_taken + 1 WHERE id = %s", (n * 7919 % 200000 + 1,)
                )
                stalls.append(time.perf_counter() - started)
                time.sleep(0.005)

    writer = threading.Thread(target=book_seats)
    writer.start()
    time.sleep(0.3)
    started = time.perf_counter()
    try:
        with app.app_context():
            upgrade()
            db.engine.dispose()
    finally:
        took = time.perf_counter() - started
        done.set()
        writer.join()
    with psycopg.connect(dsn) as conn:
        wrong = conn.execute(
            "SELECT count(*) FROM activities a JOIN sessions s ON s.activity_id = a.id "
            "WHERE a.live_until IS DISTINCT FROM s.ends_at"
        ).fetchone()[0]
    assert wrong == 0
    assert len(stalls) > 20, "the writer should have been writing throughout the migration"
    assert max(stalls) < min(2.0, took / 2), f"a seat write waited {max(stalls):.2f} s during a {took:.1f} s migration"


def test_district_slugs_become_gbt2260_codes_in_every_referencing_row(backend):
    """5e1a2b3c4d60 rewrites `dawa` → 211104 in districts, venues, the menu's districts and service orders;
    a district of another network keeps its key; the downgrade moves everything back."""
    from flask_migrate import downgrade

    app = make_app(_fresh_url(backend))
    with app.app_context():
        upgrade(revision="d54d1a339931")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO districts (code, name, name_en, position) VALUES ('dawa', '大洼区', 'Dawa', 2),"
                    " ('elsewhere', '别处', NULL, 9)"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO venues (name, kind, path, district_code, address, phone, description, is_active,"
                    " created_at, updated_at) VALUES ('大洼区文化馆', 'branch', '/1/', 'dawa', '', '', '', true,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), ('别处馆', 'branch', '/2/', 'elsewhere', '', '', '',"
                    " true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        upgrade()
        with db.engine.connect() as conn:
            districts = dict(conn.execute(sa.text("SELECT code, name FROM districts")).all())
            venues = dict(conn.execute(sa.text("SELECT name, district_code FROM venues")).all())
        assert districts == {"211104": "大洼区", "elsewhere": "别处"}
        assert venues == {"大洼区文化馆": "211104", "别处馆": "elsewhere"}
        downgrade(revision="d54d1a339931")
        with db.engine.connect() as conn:
            venues = dict(conn.execute(sa.text("SELECT name, district_code FROM venues")).all())
        assert venues == {"大洼区文化馆": "dawa", "别处馆": "elsewhere"}
        db.engine.dispose()
