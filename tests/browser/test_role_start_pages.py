"""Each demo role on a phone: signs in through the form, lands on its own start page, sees only header links and
工作台 tools it may open (each answers 200), and the staff start pages pass axe-core in normal and 大字模式."""

import os

import pytest

from tests.browser.conftest import PHONE, _context, assert_accessible, sign_in

pytestmark = pytest.mark.browser

STARTS = {
    "door": "/scan",
    "village-staff": "/staff",
    "station-staff": "/staff",
    "branch-staff": "/staff",
    "hub-staff": "/staff",
    "admin": "/staff",
    "manager": "/reports/",
    "manager-dawa": "/reports/",
}


@pytest.fixture
def phone_signed_in(chromium, live_server):
    contexts = []

    def open_page(login: str, large_text: bool = False):
        context = _context(chromium, live_server, **PHONE)
        contexts.append(context)
        if large_text:
            context.add_cookies([{"name": "large_text", "value": "1", "url": live_server.url}])
        page = context.new_page()
        sign_in(page, login, live_server.world.password)
        return page

    yield open_page
    for context in contexts:
        context.close()


def _links(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map(a => a.getAttribute('href'))")


@pytest.mark.parametrize("login", [*STARTS, "resident"])
def test_each_role_lands_on_its_start_page_and_every_link_it_sees_opens(phone_signed_in, live_server, login):
    login = live_server.world.resident_login if login == "resident" else login
    page = phone_signed_in(login)
    path = page.url.removeprefix(live_server.url)
    assert path == STARTS.get(login, "/") or path.startswith("/consent"), path
    links = _links(page, "header nav a")
    if page.locator("ul.tools").count() == 0 and login in STARTS and STARTS[login] != "/scan":
        page.goto("/staff")
    links += _links(page, "ul.tools a") if page.url.endswith("/staff") else []
    for href in sorted(set(links)):
        response = page.request.get(href)
        assert response.status == 200, f"{login} sees {href}, which answers {response.status}"
    if login == "door":
        assert "/scan" in links and "/staff" not in links and "/menu" not in links


@pytest.mark.parametrize("large_text", [False, True], ids=["normal", "large-text"])
@pytest.mark.parametrize(
    "login, path",
    [
        ("door", "/scan"),
        ("village-staff", "/staff"),
        ("branch-staff", "/orders/queue"),
        ("branch-staff", "/staff/room-reservations"),
    ],
)
def test_staff_start_pages_are_accessible(phone_signed_in, live_server, login, path, large_text):
    page = phone_signed_in(login, large_text)
    if path == "/staff/room-reservations":
        page.goto("/staff")
        page.locator("ul.tools a", has_text="活动室预约审核").click()
        page.wait_for_load_state()
    else:
        page.goto(path)
    assert ("large-text" in (page.get_attribute("html", "class") or "")) is large_text
    assert_accessible(page, f"{login} {page.url} ({'large text' if large_text else 'normal'})")
    if os.environ.get("SCREENSHOTS_DIR"):  # to look at them: SCREENSHOTS_DIR=/tmp/shots pytest …
        name = f"{login}-{path.strip('/').replace('/', '-')}-{'large' if large_text else 'normal'}.png"
        page.screenshot(path=os.path.join(os.environ["SCREENSHOTS_DIR"], name))
