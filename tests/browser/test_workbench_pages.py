"""The demonstration-zone workbench in a browser (phone size): the dashboard shows the counts and the pass
rate for the 94 standards and, with the standards page, passes axe-core with no serious problem."""

import pytest
from sqlalchemy import func, select

from core.db import utcnow
from core.extensions import db
from core.i18n import to_local
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def catalogue(live_server):
    from reports.workbench.catalogue import DEMO_FILE, import_catalogue
    from reports.workbench.models import Standard

    with live_server.app.app_context():
        year = to_local(utcnow()).year
        if not db.session.execute(select(func.count(Standard.id)).where(Standard.year == year)).scalar_one():
            import_catalogue(DEMO_FILE.name, DEMO_FILE.read_bytes(), year=year, create_units=True)
            db.session.commit()
        db.session.remove()
    return year


def test_the_dashboard_shows_the_counts_and_the_pass_rate(phone_as, catalogue):
    page = phone_as("admin")
    response = page.goto(f"/reports/workbench/?year={catalogue}")
    assert response.status == 200
    counts = page.locator("#counts")
    assert "94" in counts.inner_text()
    assert "95%" in page.locator("#pass-rate").inner_text()
    assert page.locator("#by-task tbody tr").count() == 7
    assert_accessible(page, "workbench dashboard")


@pytest.mark.parametrize(
    "path",
    [
        "/reports/workbench/standards",
        "/reports/workbench/problems",
        "/reports/workbench/archive",
        "/reports/workbench/units",
    ],
)
def test_workbench_page_is_accessible(phone_as, catalogue, path):
    page = phone_as("admin")
    response = page.goto(f"{path}?year={catalogue}")
    assert response.status == 200, f"{path}: HTTP {response.status}"
    assert_accessible(page, path)
