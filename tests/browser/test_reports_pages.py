"""axe-core finds no serious problem on the report pages (phone size), as station staff and as admin;
charts are inline SVG, so the pages run under the CSP with no script of their own."""

import os
from pathlib import Path

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
    "/reports/sessions?group_by=venue",
]
SHOTS = Path(os.environ.get("CULTURENET_SHOTS", "/tmp/culturenet-shots"))


@pytest.mark.parametrize("who", ["staff", "admin"])
@pytest.mark.parametrize("path", PAGES)
def test_report_page_is_accessible(phone_as, world, who, path):
    page = phone_as(who)
    response = page.goto(path)
    assert response.status == 200, f"{path}: HTTP {response.status}"
    assert_accessible(page, f"{path} as {who}")


@pytest.mark.parametrize("path", PAGES)
def test_report_page_is_accessible_on_a_desktop(desktop_as, path):
    page = desktop_as("admin")
    assert page.goto(path).status == 200
    assert_accessible(page, f"{path} on a desktop")
    assert page.locator(".freshness").first.is_visible(), "数据更新于 on every report page"


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"{page.url} scrolls sideways: {width}px"


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_coverage_map_draws_every_district_with_its_name_and_a_legend(phone_as, desktop_as, size):
    page = (phone_as if size == "phone" else desktop_as)("admin")
    assert page.goto("/reports/coverage").status == 200
    svg = page.locator("svg.map")
    assert svg.locator("path").count() == 4  # 双台子区, 兴隆台区, 大洼区, 盘山县 outlines
    labels = svg.locator("text").evaluate_all("els => els.map(e => e.textContent)")
    for name in ("双台子区", "兴隆台区", "大洼区", "盘山县"):
        assert name in labels
    assert any("未达标" in t for t in labels) and any("已达标" in t for t in labels)  # the legend
    box = svg.bounding_box()
    assert box["width"] >= page.viewport_size["width"] * 0.8 or box["width"] >= 700
    font = svg.locator("text").first.evaluate("el => el.getBoundingClientRect().height")
    assert font >= 11, f"district names {font}px high"
    _no_sideways_scroll(page)
    assert_accessible(page, f"coverage map ({size})")
    SHOTS.mkdir(parents=True, exist_ok=True)
    svg.screenshot(path=str(SHOTS / f"reports-coverage-map-{size}.png"))  # the long gap table is not needed


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_dashboard_reads_on_a_phone_and_a_projector(phone_as, desktop_as, size):
    page = (phone_as if size == "phone" else desktop_as)("admin")
    assert page.goto("/reports/").status == 200
    month = page.locator("svg.chart text").first.evaluate("el => el.getBoundingClientRect().height")
    assert month >= 9, f"month labels {month}px high"
    assert page.locator(".freshness").first.is_visible()
    _no_sideways_scroll(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"reports-dashboard-{size}.png"))


def test_the_venue_is_chosen_by_typing_its_name(phone_as):
    page = phone_as("admin")
    page.goto("/reports/")
    field = page.locator("#f-venue")
    assert field.evaluate("el => el.tagName") == "INPUT" and page.locator("select#f-venue").count() == 0
    name = page.locator("#f-venue-list option").nth(1).get_attribute("value")
    field.fill(name)
    page.locator("form.report-filter button[type=submit]").click()
    page.wait_for_load_state()
    assert name in page.locator("h1").inner_text()
    assert page.locator("#f-venue").input_value() == name
    page.locator("#f-venue").fill("没有这个场馆")
    page.locator("form.report-filter button[type=submit]").click()
    page.wait_for_load_state()
    assert "没有名为" in page.content()
