"""Reports read a PostgreSQL streaming replica when REPORTS_DATABASE_URL is set; every write goes to the primary.

The test starts its own primary and hot-standby replica (tests/deploy/pgcluster.py). Pausing the replica's
replay makes the two differ: a report then shows what the replica has (not what the primary has), an export
made meanwhile is logged on the primary, and after the replay resumes the report shows the new row.
"""

import os
import shutil
from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts.auth import issue_token
from accounts.models import Role
from core.db import REPLICA_READS, utcnow
from core.extensions import db
from core.i18n import to_local
from reports.workbench.models import Standard
from tests import dbs
from tests import factories as f
from tests.conftest import make_app
from tests.deploy import pgcluster

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pair():
    problem = None
    if pgcluster.pg_bin() is None:
        problem = "no PostgreSQL server binaries (initdb) on this machine; set PG_BIN"
    elif os.geteuid() == 0 and shutil.which("runuser") is None:
        problem = "running as root without runuser: cannot start a server as the postgres user"
    if problem:
        if dbs.CI:
            pytest.fail(f"CI=true needs a PostgreSQL replica: {problem}")
        pytest.skip(problem)
    with pgcluster.streaming_pair() as p:
        yield p


@pytest.fixture(scope="module")
def replica_app(pair):
    app = make_app(pair.primary.url(), REPORTS_DATABASE_URL=pair.replica.url())
    with app.app_context():
        db.create_all()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        if REPLICA_READS in app.extensions:
            app.extensions[REPLICA_READS].dispose()


@pytest.fixture
def world(replica_app, pair):
    with replica_app.app_context():
        manager = f.staff(None, Role.manager)
        year = to_local(utcnow()).year
        db.session.add(_standard(year, "1.1"))
        f.commit()
        pair.wait_for_replay()
        yield {"token": issue_token(manager)[0], "year": year, "login": manager.login}
        pair.replica.scalar("SELECT pg_wal_replay_resume()::text")
        dbs.clear_tables(db)


def _standard(year: int, number: str) -> Standard:
    return Standard(
        year=year, task_no="1", task="任务", indicator_no="1.1", indicator="指标", number=number, text=f"标准{number}"
    )


def _numbers(client, year: int, **headers) -> list[str]:
    answer = client.get(f"/api/v1/reports/standards?year={year}", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [s["number"] for t in answer.get_json()["tasks"] for i in t["indicators"] for s in i["standards"]]


def _exports_on(node) -> int:
    return node.scalar("SELECT count(*) FROM export_logs")


def test_reports_read_the_postgresql_replica_and_exports_log_on_the_primary(replica_app, pair, world):
    client = replica_app.test_client()
    bearer = {"Authorization": f"Bearer {world['token']}"}
    year = world["year"]
    assert pair.replica.scalar("SELECT pg_is_in_recovery()") is True
    assert _numbers(client, year, **bearer) == ["1.1"]

    pair.replica.scalar("SELECT pg_wal_replay_pause()::text")  # from here the replica stays behind
    db.session.add(_standard(year, "1.2"))
    f.commit()
    assert pair.primary.scalar("SELECT count(*) FROM standards") == 2

    seen: list[tuple[int, str]] = []

    def record(conn, _cursor, statement, *_args):
        seen.append((conn.engine.url.port, statement.split(None, 1)[0].upper()))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        # The report answers what the replica has: the standard written since the pause is not there yet.
        assert _numbers(client, year, **bearer) == ["1.1"]
        # An export reads the replica and logs itself on the primary (a write on a hot standby would fail).
        answer = client.get(f"/reports/attendance.csv?from={year}-01-01&to={year}-12-31", headers=bearer)
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    assert _exports_on(pair.primary) == 1
    assert _exports_on(pair.replica) == 0
    replica_kinds = {kind for port, kind in seen if port == pair.replica.port}
    primary_kinds = {kind for port, kind in seen if port == pair.primary.port}
    assert replica_kinds == {"SELECT"}, seen
    assert "INSERT" in primary_kinds and "INSERT" not in replica_kinds
    # Everything that is not a report (the export log page, sign-in) reads the primary.
    log_page = client.get("/reports/exports", headers=bearer)
    assert log_page.status_code == 200 and "attendance" in log_page.get_data(as_text=True)

    pair.replica.scalar("SELECT pg_wal_replay_resume()::text")
    pair.wait_for_replay()
    assert _numbers(client, year, **bearer) == ["1.1", "1.2"]
    assert _exports_on(pair.replica) == 1


def test_a_browser_that_just_wrote_reads_the_postgresql_primary_for_a_few_seconds(replica_app, pair, world, travel):
    client = replica_app.test_client()
    client.login(world["login"])
    year = world["year"]
    pair.replica.scalar("SELECT pg_wal_replay_pause()::text")
    db.session.add(_standard(year, "1.2"))
    f.commit()
    # The export is a write: the same person's next report reads the primary, which has the new standard.
    assert client.get(f"/reports/attendance.csv?from={year}-01-01&to={year}-12-31").status_code == 200
    assert _numbers(client, year) == ["1.1", "1.2"]
    travel(utcnow() + timedelta(seconds=11))
    assert _numbers(client, year) == ["1.1"]  # past the window: the replica again, still paused
