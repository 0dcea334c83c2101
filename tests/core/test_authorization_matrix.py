"""Every endpoint × every kind of caller, with the status each must get (checked on the server)."""

import pytest

from accounts.models import Role
from tests import factories as f

CALLERS = ["anonymous", "resident", "other_resident", "checkin_staff", "sibling_staff", "parent_staff",
           "manager", "admin"]


@pytest.fixture
def world(app):
    net = f.network()
    people = {
        "resident": f.resident("13800000001"),
        "other_resident": f.resident("13800000002", name="李建国"),
        "station_staff": f.staff(net["station"], login="station"),
        "checkin_staff": f.staff(net["station"], Role.checkin, login="door"),
        "sibling_staff": f.staff(net["sibling"], login="sibling"),
        "parent_staff": f.staff(net["branch"], login="parent"),
        "manager": f.staff(net["hub"], Role.manager, login="manager"),
        "admin": f.staff(None, Role.admin, login="admin"),
    }
    f.commit()
    return net, people


def _login(client, people, caller):
    if caller == "anonymous":
        return
    user = people[caller]
    client.login(user.phone or user.login)


# (method, path template, form or json body, {caller: expected status}); "*" is the default.
PAGES = [
    ("GET", "/venues/{station}/edit", None,
     {"anonymous": 302, "parent_staff": 200, "manager": 200, "admin": 200, "*": 403}),
    ("POST", "/venues/{station}/edit", {"name": "改名"},
     {"anonymous": 302, "parent_staff": 302, "manager": 302, "admin": 302, "*": 403}),
    ("POST", "/venues/{station}/closures", {"closure-starts_on": "2027-01-05", "closure-ends_on": "2027-01-06"},
     {"anonymous": 302, "parent_staff": 302, "manager": 302, "admin": 302, "*": 403}),
    ("GET", "/venues/{station}/rooms/new", None,
     {"anonymous": 302, "parent_staff": 200, "manager": 200, "admin": 200, "*": 403}),
    ("GET", "/admin/users", None, {"anonymous": 302, "admin": 200, "*": 403}),
    ("GET", "/admin/venues/new", None, {"anonymous": 302, "admin": 200, "*": 403}),
    ("GET", "/account", None, {"anonymous": 302, "*": 200}),
    ("GET", "/staff", None, {"anonymous": 302, "resident": 403, "other_resident": 403, "*": 200}),
    ("GET", "/venues/{station}", None, {"*": 200}),
    ("GET", "/api/v1/me", None, {"anonymous": 401, "*": 200}),
    ("GET", "/api/v1/venues/{station}", None, {"*": 200}),
]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "template", "body", "expected"), PAGES,
                         ids=[f"{m} {p}" for m, p, _b, _e in PAGES])
def test_authorization_matrix(client, world, caller, method, template, body, expected):
    net, people = world
    _login(client, people, caller)
    path = template.format(**{k: v.id for k, v in net.items()})
    if method == "GET":
        response = client.get(path)
    elif path.startswith("/api/"):
        response = client.post(path, json=body or {})
    else:
        response = client.post(path, data=body or {})
    want = expected.get(caller, expected["*"])
    if want == 302 and response.status_code == 302 and caller == "anonymous":
        assert "/login" in response.headers["Location"]
    assert response.status_code == want, f"{caller} {method} {path}: {response.status_code}, expected {want}"
