"""The app behind PgBouncer in transaction pooling: with DATABASE_PGBOUNCER=true (no server-side prepared
statements) a booking race through 12 client connections sharing 3 server connections takes exactly 30 seats,
and the API, a report and an export answer as usual. Skipped when PgBouncer (Debian package `pgbouncer`) is not
installed."""

import os
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from accounts.auth import issue_token
from accounts.models import Role, User
from activities.models import Session
from bookings import services
from core.config import Config
from core.errors import DomainError
from core.extensions import db
from tests import activity_factories as af
from tests import dbs
from tests import factories as f
from tests.conftest import make_app
from tests.deploy.pgcluster import free_port

pytestmark = pytest.mark.postgres
PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)


@pytest.fixture
def bouncer(app):
    if PGBOUNCER is None:
        if dbs.CI:  # `make test` installs it (browser-deps): in CI a missing PgBouncer is a failure, not a skip
            pytest.fail("CI=true needs PgBouncer (make browser-deps installs the Debian package)")
        pytest.skip("PgBouncer is not installed (apt-get install pgbouncer)")
    folder = Path(tempfile.mkdtemp(prefix="cn-pgbouncer-"))
    port = free_port()
    (folder / "users.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(
        f"[databases]\nculturenet = host=127.0.0.1 port=5432 dbname={db.engine.url.database}\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder}/users.txt\npool_mode = transaction\n"
        "default_pool_size = 3\nmax_client_conn = 100\nignore_startup_parameters = extra_float_digits\n"
        f"logfile = {folder}/pgbouncer.log\n"
    )
    args = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        shutil.chown(folder, "postgres")
        for name in ("users.txt", "pgbouncer.ini"):
            shutil.chown(folder / name, "postgres")
        args = ["runuser", "-u", "postgres", "--", *args]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                import psycopg

                psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="culturenet").close()
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/culturenet"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def test_database_pgbouncer_turns_off_prepared_statements(monkeypatch):
    monkeypatch.setenv("DATABASE_PGBOUNCER", "true")
    assert Config().SQLALCHEMY_ENGINE_OPTIONS["connect_args"] == {"prepare_threshold": None}
    monkeypatch.delenv("DATABASE_PGBOUNCER")
    assert "connect_args" not in Config().SQLALCHEMY_ENGINE_OPTIONS


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_booking_race_and_the_reports_through_pgbouncer_transaction_pooling_on_postgresql(app, bouncer, monkeypatch):
    # Without DATABASE_PGBOUNCER this race fails: "prepared statement "_pg3_0" already exists" (psycopg prepares
    # a statement on its 5th run, on a server connection another client then gets).
    monkeypatch.setenv("DATABASE_PGBOUNCER", "true")
    options = {**Config().SQLALCHEMY_ENGINE_OPTIONS, "pool_size": 12, "max_overflow": 0}
    pooled = make_app(bouncer, SQLALCHEMY_ENGINE_OPTIONS=options)
    act = af.activity(capacity=30, has_waiting_list=False, sessions=4)
    session_ids = [s.id for s in act.sessions]
    residents = [f.resident(f"1390000{i:04d}").id for i in range(60)]
    manager = f.staff(None, Role.manager)
    f.commit()
    barrier = threading.Barrier(12, timeout=60)

    def book(i: int) -> str:
        if i < 12:
            barrier.wait()
        with pooled.app_context():
            try:
                user = db.session.get(User, residents[i % 60])
                session = db.session.get(Session, session_ids[i // 60])
                services.book(
                    user, data=services.BookingRequest(activity=session.activity, session=session), actor=user
                )
                db.session.commit()
                return "ok"
            except DomainError as err:
                db.session.rollback()
                return err.code
            finally:
                db.session.remove()

    # 240 bookings, 4 sessions × 60 residents, each statement repeated far past psycopg's prepare threshold (5).
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(book, range(240)))
    assert results.count("ok") == 120, sorted(set(results))
    db.session.expire_all()
    assert [db.session.get(Session, s).seats_taken for s in session_ids] == [30, 30, 30, 30]

    client = pooled.test_client()
    bearer = {"Authorization": f"Bearer {issue_token(db.session.get(User, manager.id))[0]}"}
    for _ in range(8):
        assert client.get("/api/v1/reports/attendance", headers=bearer).status_code == 200
        assert client.get("/reports/attendance.csv", headers=bearer).status_code == 200
        assert client.get(f"/api/v1/activities/{act.id}").status_code == 200
    with pooled.app_context():
        db.session.remove()
        db.engine.dispose()
