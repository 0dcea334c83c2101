"""The production recipe of the README works as written: gunicorn workers on PostgreSQL, one log line per request."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests import dbs

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def production_db():
    url = dbs.postgres_url()
    if url is None:
        if dbs.CI:
            pytest.fail(f"CI=true needs PostgreSQL: {dbs.postgres_error()}")
        pytest.skip(f"PostgreSQL not reachable: {dbs.postgres_error()}")
    import sqlalchemy as sa

    name = f"{dbs.PG_TEST_DB}_production"
    with sa.create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


def test_migrate_then_serve_with_gunicorn_workers(production_db, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": production_db.replace("postgresql+psycopg", "postgresql"),
        "SECRET_KEY": "production-test",
        "INSTANCE_PATH": str(tmp_path),
    }
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(bin_dir / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(bin_dir / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "info", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            body = None
            for _ in range(100):
                try:
                    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.2)
            assert body == b'{"db":"ok","status":"ok"}\n'
            page = urllib.request.urlopen(f"http://127.0.0.1:{port}/venues", timeout=5)
            assert page.status == 200
        finally:
            server.terminate()
            server.wait(timeout=20)
    text = log.read_text()
    assert "Booting worker" in text
    assert "method=GET path=/venues status=200" in text
