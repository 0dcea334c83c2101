"""The booking flow on a phone (390×844): find a class by district and age, book it for a grandchild, see it
in "my bookings"; the page passes axe's WCAG A/AA checks on the way."""

from datetime import timedelta

import pytest

from accounts.models import Participant, Relation
from accounts.services import find_by_login
from bookings.models import Booking, BookingStatus
from core.extensions import db
from tests import activity_factories as af
from tests.browser.conftest import BLOCKING, click_and_wait, describe, run_axe
from venues.models import Venue

pytestmark = pytest.mark.browser
TITLE = "少儿书法启蒙班（浏览器）"
ELSEWHERE = "戏曲专场（浏览器）"


def _seed_class(live_server) -> dict:
    """A children's class at the branch, an event in another district, a grandchild for the resident."""
    world = live_server.world
    with live_server.app.app_context():
        branch = db.session.get(Venue, world.branch_id)
        admin = find_by_login(world.admin_login)
        course = af.activity(
            branch,
            actor=admin,
            kind="course",
            title=TITLE,
            age_min=6,
            age_max=12,
            sessions=4,
            capacity=20,
            category="calligraphy",
            starts_in=timedelta(days=5),
        )
        other = db.session.query(Venue).filter(Venue.district_code != branch.district_code).first()
        if other is not None:
            af.activity(other, actor=admin, title=ELSEWHERE, category="drama")
        resident = find_by_login(world.resident_login)
        kid = next((p for p in resident.participants if p.relation != Relation.self), None)
        if kid is None:
            kid = af.member(resident, name="王小明", birth_year=af.now().year - 9)
        kid.birth_year = af.now().year - 9
        ids = {
            "course": course.id,
            "district": branch.district_code,
            "kid": kid.id,
            "kid_name": kid.name,
            "resident": resident.id,
        }
        db.session.commit()
        db.session.remove()
    return ids


def test_resident_finds_a_class_by_district_and_age_books_it_and_sees_it(live_server, phone_as):
    ids = _seed_class(live_server)
    page = phone_as("resident")
    page.goto("/activities")
    page.locator("details.filter-fold > summary").click()  # the filters fold into one 筛选 control
    page.select_option("#f-district", ids["district"])
    page.fill("#f-age", "9")
    click_and_wait(page.locator("form.filters button[type=submit]"))
    assert page.get_by_text(ELSEWHERE).count() == 0
    click_and_wait(page.get_by_role("link", name=TITLE))
    assert page.url.endswith(f"/activities/{ids['course']}")
    violations = [v for v in run_axe(page) if v["impact"] in BLOCKING]
    assert not violations, describe(violations)

    for box in page.locator("input[name=participant_ids]").all():
        box.uncheck()
    page.check(f"#p{ids['kid']}")
    click_and_wait(page.locator("#book-form button[type=submit]"))
    assert "/done" in page.url  # the confirmation page, with the ticket
    assert page.locator(".flash-success").is_visible()
    click_and_wait(page.get_by_role("link", name="我的预约").last)
    assert page.get_by_role("link", name=TITLE).first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling on a phone"

    with live_server.app.app_context():
        booking = db.session.query(Booking).filter_by(activity_id=ids["course"], user_id=ids["resident"]).one()
        assert booking.status == BookingStatus.confirmed
        assert [p.id for p in booking.participants] == [ids["kid"]]
        assert db.session.get(Participant, ids["kid"]).name == ids["kid_name"]
        db.session.remove()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_booking_pages_pass_axe(live_server, phone_as, desktop_as, size):
    world = live_server.world
    with live_server.app.app_context():
        station = db.session.get(Venue, world.station_id)
        staff = find_by_login(world.staff_login)
        act = af.activity(station, actor=staff, title=f"文化站讲座（{size}）", policy="lottery", capacity=5)
        activity_id, session_id = act.id, act.sessions[0].id
        db.session.commit()
        db.session.remove()
    open_as = phone_as if size == "phone" else desktop_as
    resident, staff_page = open_as("resident"), open_as("staff")
    pages = [
        (resident, "/activities"),
        (resident, f"/activities/{activity_id}"),
        (resident, "/my/bookings"),
        (resident, "/activities/calendar"),
        (resident, "/lottery/how-to-verify"),
        (staff_page, f"/staff/activities/{activity_id}"),
        (staff_page, "/staff/activities/new"),
        (staff_page, "/staff/activities/quick"),
        (staff_page, f"/staff/sessions/{session_id}/roster"),
        (staff_page, "/staff/book?caller=" + world.resident_login),
        (staff_page, "/staff/credit?resident=" + world.resident_login),
    ]
    for page, path in pages:
        response = page.goto(path)
        assert response.status == 200, path
        violations = [v for v in run_axe(page) if v["impact"] in BLOCKING]
        assert not violations, f"{path}: {describe(violations)}"
