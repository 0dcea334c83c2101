"""axe-core finds no serious problem on the report pages (phone size), as station staff and as admin;
charts are inline SVG, so the pages run under the CSP with no script of their own."""

import pytest

from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.browser

PAGES = [
    "/reports/",
    "/reports/attendance?group_by=venue&group_by=month",
    "/reports/targets",
    "/reports/coverage",
    "/reports/registry",
    "/reports/checklist",
    "/reports/exports",
    "/reports/print",
]


@pytest.mark.parametrize("who", ["staff", "admin"])
@pytest.mark.parametrize("path", PAGES)
def test_report_page_is_accessible(phone_as, world, who, path):
    page = phone_as(who)
    response = page.goto(path)
    assert response.status == 200, f"{path}: HTTP {response.status}"
    assert_accessible(page, f"{path} as {who}")
