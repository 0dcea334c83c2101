"""Every demo role lands on its own start page after signing in and sees only links it may open.

For each demo account: the sign-in redirects to the role's start page (a safe `next` wins, an off-site one does
not), and every link of the header ("main") and of the 工作台 tools ("staff") that the role sees answers 200 —
no link leads to 无权访问. The check-in-only account sees the scanner and nothing of the staff tools.
"""

import pytest
from flask import url_for
from flask_login import login_user

from accounts import services as accounts
from core import nav
from core.extensions import db
from venues import demo

STARTS = {
    "admin": "/staff",
    "manager": "/reports/",
    "manager-dawa": "/reports/",
    "hub-staff": "/staff",
    "branch-staff": "/staff",
    "station-staff": "/staff",
    "village-staff": "/staff",
    "door": "/scan",
}
RESIDENT = demo.RESIDENTS[0][0]


@pytest.fixture
def seeded(app):
    demo.seed(1)
    db.session.commit()


def _visible(app, login: str, menu: str, urls: bool = True) -> list[str]:
    user = accounts.find_by_login(login)
    with app.test_request_context("/"):
        login_user(user)
        return [url_for(link.endpoint) if urls else link.endpoint for link in nav.links(menu)]


def _landing(client, login: str, **extra) -> str:
    response = client.post("/login", data={"login": login, "password": demo.PASSWORD, **extra})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    client._token = None
    return response.headers["Location"]


@pytest.mark.parametrize("login", [*STARTS, RESIDENT])
def test_each_role_lands_on_its_start_page_and_every_link_opens(app, client, seeded, login):
    landing = _landing(client, login)
    expected = STARTS.get(login, "/")
    assert landing == expected or landing.startswith("/consent"), landing
    links = set(_visible(app, login, "main")) | set(_visible(app, login, "staff"))
    assert links, login
    for url in sorted(links):
        response = client.get(url)
        assert response.status_code == 200, f"{login} sees a link to {url} that answers {response.status_code}"
    if login == "door":
        assert _visible(app, login, "staff") == ["/scan"]
        header = _visible(app, login, "main", urls=False)
        assert "checkin.scan" in header
        assert not {"bookings.mine", "orders.menu", "venues.staff_home", "reports.dashboard"} & set(header)


def test_the_tools_page_lists_only_the_tools_of_the_role(app, client, seeded):
    _landing(client, "village-staff")
    html = client.get("/staff").get_data(as_text=True)
    for url in _visible(app, "village-staff", "staff"):
        assert f'href="{url}"' in html
    assert 'href="/reports/"' in html  # venue staff may read their venues' reports
    client.post("/logout")
    _landing(client, "door")
    html = client.get("/staff").get_data(as_text=True)
    assert 'href="/scan"' in html and 'href="/orders/queue"' not in html and 'href="/reports/"' not in html


def test_a_safe_next_wins_and_an_off_site_one_does_not(client, seeded):
    assert _landing(client, "door", next="/inbox?page=2") == "/inbox?page=2"
    client.post("/logout")
    assert _landing(client, "door", next="https://evil.example/scan") == "/scan"
