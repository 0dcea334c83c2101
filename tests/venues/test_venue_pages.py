"""Public directory and venue pages, and the staff editing pages."""

from datetime import UTC, date, datetime, time

import pytest

from accounts.models import Role
from core.errors import Invalid
from core.extensions import db
from tests import factories as f
from venues import services
from venues.models import Venue, VenueKind


def test_directory_filters_by_district_and_kind(client):
    net = f.network()
    f.commit()
    page = client.get("/venues?district=211122").get_data(as_text=True)
    assert net["other_branch"].name in page and net["station"].name not in page
    page = client.get("/venues?kind=station").get_data(as_text=True)
    assert net["station"].name in page and net["hub"].name not in page


def test_venue_page_shows_rooms_hours_and_open_state(client):
    net = f.network()
    f.room(net["hub"], name="舞蹈室", capacity=30)
    f.commit()
    page = client.get(f"/venues/{net['hub'].id}").get_data(as_text=True)
    assert "舞蹈室" in page and "08:00" in page


def test_unknown_venue_is_a_404(client):
    assert client.get("/venues/999999").status_code == 404


def test_open_now_follows_hours_in_the_network_zone(app):
    v = f.venue(VenueKind.hub, hours=False)
    services.set_opening_hours(v, intervals=[(0, time(9), time(17))], actor=f.staff(v))
    monday_10_beijing = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai, a Monday
    monday_18_beijing = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert v.is_open_at(monday_10_beijing)
    assert not v.is_open_at(monday_18_beijing)


def test_closure_shuts_the_venue_for_whole_days(app):
    v = f.venue(VenueKind.hub)
    services.add_closure(v, starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 2), reason="检修", actor=f.staff(v))
    assert v.hours_on(date(2026, 12, 1)) == []
    assert v.hours_on(date(2026, 12, 3)) != []


def test_overlapping_opening_hours_are_refused_and_old_hours_kept(app):
    v = f.venue(VenueKind.hub)
    staff = f.staff(v)
    with pytest.raises(Invalid):
        services.set_opening_hours(v, intervals=[(0, time(9), time(12)), (0, time(11), time(14))], actor=staff)
    assert len(v.hours) == 7


def test_staff_save_opening_hours_through_the_page(client):
    net = f.network()
    f.staff(net["station"], login="station")
    f.commit()
    client.login("station")
    form = {f"hours-{d}": "" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    form.update({"hours-mon": "09:00-12:00, 14:00-17:30", "hours-sat": "09:00-16:00"})
    response = client.post(f"/venues/{net['station'].id}/hours", data=form)
    assert response.status_code == 302
    station = db.session.get(Venue, net["station"].id)
    db.session.refresh(station)
    assert station.weekly_hours == pytest.approx(3 + 3.5 + 7)


def test_bad_hours_text_is_a_field_error_not_a_500(client):
    net = f.network()
    f.staff(net["station"], login="station")
    f.commit()
    client.login("station")
    response = client.post(f"/venues/{net['station'].id}/hours", data={"hours-mon": "9点到12点"})
    assert response.status_code == 422


def test_staff_add_and_remove_a_closure(client):
    net = f.network()
    f.staff(net["station"], login="station")
    f.commit()
    client.login("station")
    response = client.post(
        f"/venues/{net['station'].id}/closures",
        data={"closure-starts_on": "2027-02-16", "closure-ends_on": "2027-02-19", "closure-reason": "春节"},
    )
    assert response.status_code == 302
    closure = db.session.get(Venue, net["station"].id).closures[0]
    assert client.post(f"/closures/{closure.id}/delete").status_code == 302


def test_closure_ending_before_it_starts_is_refused(client):
    net = f.network()
    f.staff(net["station"], login="station")
    f.commit()
    client.login("station")
    response = client.post(
        f"/venues/{net['station'].id}/closures",
        data={"closure-starts_on": "2027-02-19", "closure-ends_on": "2027-02-16"},
    )
    assert response.status_code == 422
    assert db.session.get(Venue, net["station"].id).closures == []


def test_staff_add_a_room(client):
    net = f.network()
    f.staff(net["station"], login="station")
    f.commit()
    client.login("station")
    response = client.post(
        f"/venues/{net['station'].id}/rooms/new",
        data={"name": "多功能活动室", "kind": "hall", "capacity": "80", "max_hours": "4", "is_bookable": "y"},
    )
    assert response.status_code == 302
    assert [r.name for r in db.session.get(Venue, net["station"].id).rooms] == ["多功能活动室"]


def test_admin_creates_a_venue_under_a_station_and_grants_a_role(client):
    net = f.network()
    admin = f.staff(None, Role.admin, login="admin")
    target = f.resident("13800000009", name="新站长")
    f.commit()
    client.login("admin")
    response = client.post(
        "/admin/venues/new",
        data={
            "kind": "community",
            "parent_id": str(net["station"].id),
            "district_code": "211104",
            "name": "新村文化中心",
        },
    )
    assert response.status_code == 302
    venue = db.session.query(Venue).filter_by(name="新村文化中心").one()
    assert venue.path.startswith(net["station"].path)
    response = client.post(f"/admin/users/{target.id}", data={"role": "staff", "venue_id": str(venue.id)})
    assert response.status_code == 302
    db.session.refresh(target)
    assert target.reaches(venue) and not target.reaches(net["sibling"])
    assert admin.is_admin


def test_a_village_cannot_be_placed_directly_under_the_hub(app):
    net = f.network()
    with pytest.raises(Invalid):
        services.create_venue(
            data={"kind": "community", "district_code": "211104", "name": "x"}, parent=net["hub"], actor=None
        )
