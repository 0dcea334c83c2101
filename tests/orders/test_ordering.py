"""Ordering from the menu and custom requests: every rule is checked at once, and a refusal changes nothing."""

import pytest
from sqlalchemy import func, select

from core.errors import Forbidden, Invalid
from core.extensions import db
from orders import services
from orders.models import MenuItemLoad, OrderEvent, OrderStatus, ServiceOrder
from orders.services import loads
from tests import factories as f
from tests.orders import factories as o
from tests.orders.factories import NOW, day


def _counts():
    return (
        db.session.scalar(select(func.count()).select_from(ServiceOrder)),
        db.session.scalar(select(func.coalesce(func.sum(MenuItemLoad.used), 0))),
        db.session.scalar(select(func.count()).select_from(OrderEvent)),
    )


def test_a_village_centre_orders_a_film_screening_and_the_step_is_recorded(app):
    w = o.world()
    order = o.order(w["film"], w["village_staff"], w["community"])
    assert order.status == OrderStatus.submitted
    assert order.provider_venue_id == w["branch"].id and order.district_code == "211104"
    assert order.preferred_dates == [day(10), day(12)]
    assert [(e.status, e.at) for e in order.events] == [(OrderStatus.submitted, NOW)]
    assert loads.used(w["film"].id, "2026") == 0  # the quota is taken when the provider accepts


def _refused(exc_type, w, **data):
    before = _counts()
    with pytest.raises(exc_type) as err:
        o.order(w["film"], w["village_staff"], w["community"], **data)
    assert _counts() == before
    return err.value


def test_a_withdrawn_item_cannot_be_ordered(app):
    w = o.world()
    services.withdraw_menu_item(w["film"], actor=w["branch_staff"], now=NOW)
    err = _refused(services.ItemWithdrawn, w)
    assert err.code == "withdrawn" and err.status == 409


def test_every_problem_with_an_order_is_reported_at_once(app):
    w = o.world()
    err = _refused(Invalid, w, dates=[day(3)], audience_size=5, contact_phone="12345")
    assert set(err.extra["fields"]) == {"preferred_dates", "audience_size", "contact_phone"}
    assert "7" in err.extra["fields"]["preferred_dates"][0]  # the lead time is named
    assert "20" in err.extra["fields"]["audience_size"][0] and "300" in err.extra["fields"]["audience_size"][0]


def test_an_order_outside_the_districts_served_is_refused(app):
    w = o.world()
    panshan_station = f.venue(f.VenueKind.station, w["other_branch"], district_code="211122")
    staff = f.staff(panshan_station)
    before = _counts()
    with pytest.raises(Invalid) as err:
        o.order(w["film"], staff, panshan_station)
    assert "venue_id" in err.value.extra["fields"]
    assert _counts() == before


def test_no_dates_too_many_dates_and_dates_out_of_season_are_refused(app):
    w = o.world()
    assert "preferred_dates" in _refused(Invalid, w, dates=[]).extra["fields"]
    assert "preferred_dates" in _refused(Invalid, w, dates=[day(8), day(9), day(10), day(11)]).extra["fields"]
    w["film"].available_until = day(9)
    message = _refused(Invalid, w, dates=[day(8), day(10)]).extra["fields"]["preferred_dates"][0]
    assert day(9).isoformat() in message


def test_a_venue_outside_your_scope_is_forbidden(app):
    w = o.world()
    before = _counts()
    with pytest.raises(Forbidden):
        o.order(w["film"], w["sibling_staff"], w["community"])
    with pytest.raises(Invalid) as err:  # a branch is not a service point
        o.order(w["film"], w["branch_staff"], w["branch"])
    assert "venue_id" in err.value.extra["fields"]
    assert _counts() == before


def test_the_yearly_quota_is_taken_at_acceptance_and_given_back_when_the_order_is_withdrawn(app):
    w = o.world()
    w["film"].yearly_quota = 1
    first = o.order(w["film"], w["village_staff"], w["community"])
    second = o.order(w["film"], w["village_staff"], w["community"], dates=[day(14)])
    assert loads.used(w["film"].id, "2026") == 0  # open orders cost the quota nothing
    services.accept_order(first, actor=w["branch_staff"], now=NOW)
    assert loads.used(w["film"].id, "2026") == 1 and first.quota_period == "2026"
    with pytest.raises(services.QuotaReached) as accepted_over:
        services.accept_order(second, actor=w["branch_staff"], now=NOW)
    assert accepted_over.value.code == "quota_reached" and second.status == OrderStatus.submitted
    err = _refused(services.QuotaReached, w)  # used up: a new submission is refused at once
    assert err.code == "quota_reached" and "2026" in str(err.message)
    services.withdraw_order(first, actor=w["village_staff"], now=NOW)
    assert loads.used(w["film"].id, "2026") == 0
    assert services.accept_order(second, actor=w["branch_staff"], now=NOW).status == OrderStatus.accepted


def test_a_resident_group_orders_for_an_address_in_a_served_district(app):
    w = o.world()
    resident = f.resident()
    order = o.order(
        w["film"], resident, None, group_name="幸福小区舞蹈队", address="幸福小区广场", district_code="211104"
    )
    assert order.ordering_venue_id is None and order.where == "幸福小区舞蹈队 · 幸福小区广场"
    with pytest.raises(Invalid) as err:
        o.order(w["film"], resident, None, group_name="", address="", district_code="nowhere")
    assert set(err.value.extra["fields"]) == {"group_name", "address", "district_code"}


def test_a_custom_request_goes_to_the_branch_above_the_centre_and_needs_a_title_and_description(app):
    w = o.world()
    order = o.custom(w["village_staff"], w["community"])
    assert order.is_custom and order.title == "广场舞培训" and order.provider_venue_id == w["branch"].id
    assert order.category.value == "training"
    with pytest.raises(Invalid) as err:
        o.custom(w["village_staff"], w["community"], title=" ", description="")
    assert set(err.value.extra["fields"]) == {"custom.title", "custom.description"}


def test_a_menu_item_is_checked_field_by_field(app):
    w = o.world()
    with pytest.raises(Invalid) as err:
        o.menu_item(
            w["branch"],
            w["branch_staff"],
            title="",
            category="circus",
            audience_min=50,
            audience_max=10,
            district_codes=["atlantis"],
            lead_days=-1,
        )
    assert set(err.value.extra["fields"]) >= {"title", "category", "district_codes", "lead_days"}
    with pytest.raises(Forbidden):
        o.menu_item(w["other_branch"], w["branch_staff"])
    with pytest.raises(Invalid):
        o.menu_item(w["station"], w["station_staff"])  # only the hub and branches publish
