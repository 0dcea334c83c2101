"""The booking flow on a phone-sized screen: find a class by district and age, book it for a grandchild,
see it in "my bookings". Real Chromium (Debian's), a live server thread, real commits."""

import os
import shutil
import threading
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from bookings.models import Booking, BookingStatus
from core.extensions import db
from tests import activity_factories as af
from tests import dbs
from tests import factories as f

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(app):
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if dbs.CI:
            pytest.fail("CI=true needs Chromium for browser tests")
        pytest.skip("Chromium is not installed")
    app.config["WTF_CSRF_SSL_STRICT"] = False
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def page(live_server):
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True,
                                      has_touch=True)
        yield context.new_page()
        context.close()
        browser.close()


def test_resident_finds_a_class_by_district_and_age_books_it_and_sees_it(app, live_server, page):
    net = f.network()
    staff = f.staff(net["hub"])
    course = af.activity(net["branch"], actor=staff, kind="course", title="少儿书法启蒙班", age_min=6, age_max=12,
                         sessions=4, capacity=20, category="calligraphy", starts_in=timedelta(days=5))
    af.activity(net["other_branch"], actor=staff, title="盘山县戏曲专场", category="drama")
    grandma = f.resident("13800000001", name="张秀兰", birth_year=1958)
    af.member(grandma, name="王小明", birth_year=af.now().year - 9)
    course_id = course.id
    f.commit()  # the server thread sees committed data only; the test touches the database again at the end

    page.goto(f"{live_server}/login")
    page.fill("input[name=login]", "13800000001")
    page.fill("input[name=password]", f.PASSWORD)
    page.click("form button[type=submit].primary")
    page.goto(f"{live_server}/activities")
    page.select_option("#f-district", "dawa")
    page.fill("#f-age", "9")
    page.click("form.filters button[type=submit]")
    assert page.locator("text=盘山县戏曲专场").count() == 0
    page.click("text=少儿书法启蒙班")
    assert page.url.endswith(f"/activities/{course_id}")
    page.uncheck("input[name=participant_ids] >> nth=0")
    page.check("input[name=participant_ids] >> nth=1")
    page.click("#book-form button[type=submit]")
    page.wait_for_url("**/my/bookings")
    assert page.locator("text=少儿书法启蒙班").first.is_visible()
    assert page.locator(".flash-success").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page must not scroll sideways on a phone"

    booking = db.session.query(Booking).one()
    assert booking.status == BookingStatus.confirmed
    assert [p.name for p in booking.participants] == ["王小明"]
