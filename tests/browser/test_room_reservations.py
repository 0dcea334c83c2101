"""In Chromium on a phone-sized screen: a group requests a room, staff approve it, the group sees it approved."""

import os
import threading
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from core.extensions import db
from core.i18n import local_today
from tests import dbs
from tests import factories as f

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def page():
    if not os.path.exists(CHROMIUM):
        if dbs.CI:
            pytest.fail("CI=true needs Chromium at /usr/bin/chromium")
        pytest.skip("Chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
        yield context.new_page()
        context.close()
        browser.close()


def _sign_in(page, base, login):
    page.goto(f"{base}/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", f.PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit] >> nth=-1")


def _sign_out(page, base):
    page.goto(f"{base}/me")  # on a phone, 我的 holds the sign-out button
    with page.expect_navigation():
        page.click("main form[action='/logout'] button")


def test_a_group_requests_staff_approve_and_the_group_sees_it_approved(live_server, page):
    net = f.network()
    room = f.room(net["branch"], name="排练厅", capacity=40)
    resident = f.resident(name="周红")
    staff = f.staff(net["branch"])
    f.commit()
    room_id, resident_login, staff_login = room.id, resident.phone, staff.login
    # End the test's own transaction: on SQLite it would hold the write lock the server needs.
    db.session.commit()
    day = local_today() + timedelta(days=2)

    _sign_in(page, live_server, resident_login)
    page.goto(f"{live_server}/rooms/{room_id}?from={day}")
    page.locator(".week .day").first.locator(".slot.free a.button").first.click()
    page.wait_for_url(f"**/rooms/{room_id}/reserve**")
    assert page.input_value("#start") == "08:00"
    page.fill("#end", "10:00")
    page.fill("#purpose", "合唱排练")
    page.fill("#attendees", "18")
    page.fill("#group_name", "红枫合唱团")
    page.fill("#contact_phone", "13900000009")
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/my/room-reservations")
    assert page.locator("li.reservation").get_attribute("data-status") == "pending"
    _sign_out(page, live_server)

    _sign_in(page, live_server, staff_login)
    page.goto(f"{live_server}/staff/room-reservations")
    assert page.locator(".pending-request").count() == 1
    with page.expect_navigation():
        page.locator(".pending-request button").first.click()
    assert page.locator(".pending-request").count() == 0
    _sign_out(page, live_server)

    _sign_in(page, live_server, resident_login)
    page.goto(f"{live_server}/my/room-reservations")
    item = page.locator("li.reservation")
    assert item.get_attribute("data-status") == "approved"
    assert "红枫合唱团" in item.inner_text()
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_rejecting_selected_requests_asks_again_in_a_page_dialog(live_server, page):
    from core.db import utcnow
    from rooms import services
    from tests.rooms.fixtures import at, payload

    net = f.network()
    room = f.room(net["branch"], name="排练厅", capacity=40)
    resident = f.resident(name="周红")
    staff = f.staff(net["branch"])
    day = local_today() + timedelta(days=2)
    for start in (8, 14):
        services.request_reservation(
            room, data=payload(at(day, start), at(day, start + 2)), actor=resident, now=utcnow()
        )
    f.commit()
    staff_login = staff.login
    db.session.commit()

    _sign_in(page, live_server, staff_login)
    page.goto(f"{live_server}/staff/room-reservations")
    assert page.locator(".pending-request").count() == 2
    approve, reject = page.locator("button.go", has_text="通过所选"), page.locator("button.stop", has_text="拒绝所选")
    assert approve.evaluate("b => getComputedStyle(b).backgroundColor") != reject.evaluate(
        "b => getComputedStyle(b).backgroundColor"
    )
    page.locator(".pending-request input[type=checkbox]").nth(0).check()
    page.locator(".pending-request input[type=checkbox]").nth(1).check()
    page.fill("#reason", "当天排练厅维修")
    reject.click()
    dialog = page.get_by_role("dialog")
    assert "已选 2 个申请" in dialog.inner_text()
    dialog.get_by_role("button", name="返回").click()
    assert page.locator(".pending-request").count() == 2
    reject.click()
    with page.expect_navigation():
        page.get_by_role("dialog").get_by_role("button", name="确定驳回").click()
    assert page.locator(".pending-request").count() == 0
