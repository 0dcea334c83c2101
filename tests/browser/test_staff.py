"""A station's staff member edits their station and its hours, and is refused the sibling and the parent."""

import pytest

from tests.browser.conftest import click_and_wait, sign_in

pytestmark = pytest.mark.browser


def test_station_staff_edits_their_station(desktop, world):
    page = desktop
    sign_in(page, world.staff_login, world.password)
    page.goto("/staff")
    click_and_wait(page.get_by_role("link", name=world.station_name).first)

    page.goto(f"/venues/{world.station_id}/edit")
    assert page.locator("h1").inner_text().startswith("编辑")
    page.fill("#address", "东风镇文化路 18 号")
    page.fill("#phone", "0427-6612345")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url(f"**/venues/{world.station_id}")
    assert "已保存" in page.locator(".flashes").inner_text()
    main = page.locator("main").inner_text()
    assert "东风镇文化路 18 号" in main and "0427-6612345" in main

    page.goto(f"/venues/{world.station_id}/edit")
    page.fill("#hours-mon", "")
    page.fill("#hours-tue", "08:30-11:30, 14:00-17:30")
    click_and_wait(page.get_by_role("button", name="保存开放时间"))
    assert page.url.endswith(f"/venues/{world.station_id}/edit")
    assert "开放时间已保存" in page.locator(".flashes").inner_text()
    assert page.input_value("#hours-tue") == "08:30-11:30, 14:00-17:30"
    assert page.input_value("#hours-mon") == ""

    page.goto(f"/venues/{world.station_id}")
    hours = page.locator("table.hours").inner_text()
    assert "08:30" in hours and "11:30" in hours and "14:00" in hours and "17:30" in hours
    monday = page.locator("table.hours tr", has_text="星期一").inner_text()
    assert "闭馆" in monday


def test_bad_hours_show_a_clear_error(desktop_as, world):
    page = desktop_as("staff")
    page.goto(f"/venues/{world.station_id}/edit")
    page.fill("#hours-wed", "nine to five")
    click_and_wait(page.get_by_role("button", name="保存开放时间"))
    error = page.locator("#hours-wed-error")
    assert "09:00-12:00" in error.inner_text()
    assert page.get_attribute("#hours-wed", "aria-invalid") == "true"


@pytest.mark.parametrize("target", ["sibling_id", "branch_id"])
def test_station_staff_cannot_edit_sibling_or_parent(desktop_as, world, target):
    page = desktop_as("staff")
    response = page.goto(f"/venues/{getattr(world, target)}/edit")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "无权访问"
    assert page.locator("form #name").count() == 0
