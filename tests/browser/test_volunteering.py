"""Volunteering and feedback in a real browser, on a phone in Chinese (and in large-text mode): a resident
registers as a volunteer, staff approve, the resident signs up and opens the task ticket, the door checks them
in; the satisfaction page; axe finds nothing serious on any of these pages."""

from datetime import timedelta
from pathlib import Path

import pytest

from tests.browser.conftest import assert_accessible, click_and_wait

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/volunteer-shots")


def _shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def task(live_server, world):
    """A task at the staff member's station in two days, with places."""
    from accounts.services import find_by_login
    from core.db import utcnow
    from core.extensions import db
    from venues.models import Venue
    from volunteers import services

    with live_server.app.app_context():
        staff = find_by_login(world.staff_login)
        start = utcnow().replace(second=0, microsecond=0) + timedelta(days=2)
        created = services.create_task(
            data={
                "venue": db.session.get(Venue, world.station_id),
                "title": "非遗展厅讲解",
                "duties": "为观众讲解剪纸作品",
                "starts_at": start,
                "ends_at": start + timedelta(hours=3),
                "places": 3,
                "skills": ["guiding"],
            },
            actor=staff,
        )
        db.session.commit()
        task_id = created.id
        db.session.remove()
    return task_id


def test_a_resident_registers_signs_up_and_shows_the_ticket(phone_as, live_server, world, task):
    page = phone_as("resident")
    page.goto(f"{live_server.url}/volunteering")
    assert_accessible(page, "volunteering (new)")
    click_and_wait(page.locator("a.button.primary"))
    page.select_option("#venue_id", str(world.station_id))
    page.check("#skill-guiding")
    page.check("#slot-weekend")
    assert_accessible(page, "register")
    _shot(page, "register")
    click_and_wait(page.locator("form.card button[type=submit]"))
    assert page.locator("#volunteer-status").is_visible()
    _shot(page, "mine-pending")

    staff = phone_as("staff")
    staff.goto(f"{live_server.url}/staff/volunteers")
    assert_accessible(staff, "staff volunteers")
    _shot(staff, "staff")
    click_and_wait(staff.locator("#pending-list li").first.locator("button.primary"))

    page.goto(f"{live_server.url}/volunteering/tasks")
    assert_accessible(page, "tasks")
    _shot(page, "tasks")
    click_and_wait(page.locator("#task-list button.primary").first)
    assert page.locator("#ticket-code").is_visible()
    assert_accessible(page, "ticket")
    _shot(page, "ticket")
    page.context.add_cookies([{"name": "large_text", "value": "1", "url": live_server.url}])
    page.goto(f"{live_server.url}/volunteering")
    assert_accessible(page, "volunteering (large text)")
    _shot(page, "mine-large")
    page.context.clear_cookies(name="large_text")
    page.goto(f"{live_server.url}/volunteering/certificate")
    assert_accessible(page, "certificate")
    _shot(page, "certificate")


def test_the_volunteer_door_and_the_satisfaction_page(phone_as, live_server):
    staff = phone_as("staff")
    staff.goto(f"{live_server.url}/staff/volunteers/door")
    assert_accessible(staff, "door")
    staff.fill("#door-payload", "CN1:V999999:AAAAAAAAAAAAAAAA")
    staff.click("#door-form button[type=submit]")
    staff.wait_for_function("() => document.getElementById('door-result').getAttribute('data-state') === 'bad'")
    _shot(staff, "door")
    staff.goto(f"{live_server.url}/reports/satisfaction")
    assert_accessible(staff, "satisfaction")
    _shot(staff, "satisfaction")
