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
