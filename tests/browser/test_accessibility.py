"""axe-core (WCAG 2.0/2.1 A and AA) finds no serious or critical problem on the foundation's pages, at phone
size, in normal and large-text mode; and no page has duplicate ids."""

import pytest

from tests.browser.conftest import assert_accessible, run_axe

pytestmark = pytest.mark.browser

PAGES = {  # name: (who signs in, path, HTTP status)
    "home": (None, lambda w: "/", 200),
    "venue directory": (None, lambda w: "/venues", 200),
    "venue page": (None, lambda w: f"/venues/{w.station_id}", 200),
    "login": (None, lambda w: "/login", 200),
    "register": (None, lambda w: "/register", 200),
    "account": ("resident", lambda w: "/account", 200),
    "staff home": ("staff", lambda w: "/staff", 200),
    "staff venue edit": ("staff", lambda w: f"/venues/{w.station_id}/edit", 200),
    "403 page": ("staff", lambda w: f"/venues/{w.sibling_id}/edit", 403),
    "404 page": (None, lambda w: "/venues/999999", 404),
}


@pytest.mark.parametrize("large_text", [False, True], ids=["normal", "large-text"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_serious_accessibility_problems(phone_as, live_server, world, name, large_text):
    who, path, status = PAGES[name]
    page = phone_as(who)
    if large_text:
        page.context.add_cookies([{"name": "large_text", "value": "1", "url": live_server.url}])
    response = page.goto(path(world))
    assert response.status == status, f"{name}: HTTP {response.status}"
    classes = (page.get_attribute("html", "class") or "").split()
    assert ("large-text" in classes) is large_text
    assert_accessible(page, f"{name} ({'large text' if large_text else 'normal'}, phone)")


def test_axe_really_runs_under_our_csp(phone):
    """The helper must see problems when there are some (else a silent failure would pass every page)."""
    page = phone
    response = page.goto("/login")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.evaluate("""() => {
        const img = document.createElement("img");
        img.src = "/static/none.png";
        document.querySelector("main").appendChild(img);
        document.querySelector("label[for=password]").remove();
    }""")
    found = {v["id"]: v["impact"] for v in run_axe(page)}
    assert found.get("image-alt") == "critical"
    assert found.get("label") == "critical"
