"""Scope is checked on the server: staff reach their venue and everything below it, nothing else."""

import pytest

from accounts.models import Role
from tests import factories as f


@pytest.fixture
def net(app):
    network = f.network()
    network["station_staff"] = f.staff(network["station"], login="station")
    network["branch_staff"] = f.staff(network["branch"], login="branch")
    network["door"] = f.staff(network["hub"], Role.checkin, login="door")
    network["admin"] = f.staff(None, Role.admin, login="admin")
    f.commit()
    return network


def test_station_staff_reach_their_station_and_its_villages_only(net):
    staff = net["station_staff"]
    assert staff.reaches(net["station"]) and staff.reaches(net["community"])
    assert not staff.reaches(net["sibling"])
    assert not staff.reaches(net["branch"]) and not staff.reaches(net["hub"])


def test_branch_staff_reach_their_whole_district_subtree(net):
    staff = net["branch_staff"]
    assert all(staff.reaches(net[k]) for k in ("branch", "station", "sibling", "community"))
    assert not staff.reaches(net["other_branch"]) and not staff.reaches(net["hub"])


def test_checkin_only_staff_cannot_manage_venues(net):
    door = net["door"]
    assert not door.reaches(net["hub"])
    assert door.reaches(net["community"], (Role.checkin,))


@pytest.mark.parametrize("target", ["sibling", "branch", "hub"])
def test_station_staff_cannot_edit_a_sibling_or_a_parent(client, net, target):
    client.login("station")
    venue = net[target]
    assert client.get(f"/venues/{venue.id}/edit").status_code == 403
    response = client.post(f"/venues/{venue.id}/edit", data={"name": "hijacked"})
    assert response.status_code == 403
    assert venue.name != "hijacked"


def test_station_staff_can_edit_their_own_station_and_its_village(client, net):
    client.login("station")
    for key in ("station", "community"):
        venue = net[key]
        response = client.post(f"/venues/{venue.id}/edit", data={"name": f"{venue.name}（新）", "floor_area": "260"})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]


def test_checkin_staff_get_403_on_venue_editing(client, net):
    client.login("door")
    assert client.get(f"/venues/{net['hub'].id}/edit").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in_or_refused(client, net):
    assert client.get(f"/venues/{net['station'].id}/edit").status_code in (302, 401)
    response = client.post(f"/venues/{net['station'].id}/edit", data={"name": "x"})
    assert response.status_code in (302, 401)


def test_only_admins_reach_the_admin_pages(client, net):
    client.login("branch")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/venues/new").status_code == 403
    client.post("/logout")
    client.login("admin")
    assert client.get("/admin/users").status_code == 200


def test_staff_home_lists_only_venues_in_scope(client, net):
    client.login("station")
    page = client.get("/staff").get_data(as_text=True)
    assert net["community"].name in page
    assert net["sibling"].name not in page
