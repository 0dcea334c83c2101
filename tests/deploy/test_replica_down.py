"""A report whose replica is out of reach is answered from the primary, and the replica is left alone for 30 s."""

import pytest

from accounts.auth import issue_token
from accounts.models import Role
from core.db import REPLICA_DOWN, utcnow
from core.extensions import db
from core.i18n import to_local
from reports.workbench.models import Standard
from tests import factories as f
from tests.conftest import make_app
from tests.deploy.pgcluster import free_port

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_report_reads_the_postgresql_primary_when_the_replica_is_down(app):
    dead = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/culturenet"  # nothing listens there
    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"], REPORTS_DATABASE_URL=dead)
    year = to_local(utcnow()).year
    manager = f.staff(None, Role.manager)
    db.session.add(
        Standard(year=year, task_no="1", task="任务", indicator_no="1.1", indicator="指标", number="1.1", text="标准")
    )
    f.commit()
    bearer = {"Authorization": f"Bearer {issue_token(manager)[0]}"}
    client = other.test_client()
    with other.app_context():
        for _ in range(2):
            answer = client.get(f"/api/v1/reports/standards?year={year}", headers=bearer)
            assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
            assert answer.get_json()["tasks"][0]["indicators"][0]["standards"][0]["number"] == "1.1"
            assert other.extensions[REPLICA_DOWN] > 0
        export = client.get(f"/reports/attendance.csv?from={year}-01-01&to={year}-12-31", headers=bearer)
        assert export.status_code == 200
        db.session.remove()
        db.engine.dispose()
