"""Per-requester caps (issue 18, finding 6): one account cannot use a menu item's whole yearly quota with open
orders, nor hold dozens of hub rooms with pending weekly series."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from orders import services as orders
from orders.models import OrderStatus, ServiceOrder
from orders.services import loads
from rooms import services as rooms
from rooms.models import ReservationStatus, RoomReservation
from tests import factories as f
from tests.orders import factories as o
from tests.orders.factories import NOW, day
from tests.rooms.fixtures import DAY, at
from tests.rooms.fixtures import NOW as ROOMS_NOW

A = "/api/v1"


def _group_order(w, resident, n: int):
    return o.order(
        w["film"],
        resident,
        None,
        group_name=f"舞蹈队{n}",
        address="幸福小区广场",
        district_code=w["community"].district_code,
        dates=[day(10 + n % 5)],
    )


def test_twelve_group_orders_no_longer_use_up_the_yearly_quota(app):
    """The attack: a resident submitted 12 group orders and the item's quota of 12 was gone."""
    w = o.world()
    w["film"].yearly_quota = 12
    resident = f.resident()
    for n in range(app.config["ORDERS_OPEN_PER_REQUESTER"]):
        _group_order(w, resident, n)
    with pytest.raises(orders.TooManyOpenOrders) as err:
        _group_order(w, resident, 99)
    assert err.value.code == "too_many_open_orders" and err.value.status == 409
    assert loads.used(w["film"].id, "2026") == 0  # nothing of the quota is taken by open orders
    other = f.resident()
    assert _group_order(w, other, 1).status == OrderStatus.submitted  # the cap is per account


def test_an_answered_order_no_longer_counts_against_the_cap(app):
    w = o.world()
    app.config["ORDERS_OPEN_PER_REQUESTER"] = 2
    try:
        resident = f.resident()
        first = _group_order(w, resident, 0)
        _group_order(w, resident, 1)
        with pytest.raises(orders.TooManyOpenOrders):
            _group_order(w, resident, 2)
        orders.decline_order(first, actor=w["branch_staff"], reason="放映队检修", now=NOW)
        assert _group_order(w, resident, 2).status == OrderStatus.submitted
    finally:
        app.config["ORDERS_OPEN_PER_REQUESTER"] = 10


def test_the_api_answers_the_cap_with_its_stable_code(app, client, travel):
    travel(NOW)  # the preferred date is relative to the orders world's day, and the API checks the lead time
    w = o.world()
    app.config["ORDERS_OPEN_PER_REQUESTER"] = 1
    try:
        resident = f.resident("13800000051")
        _group_order(w, resident, 0)
        f.commit()
        token = client.post(f"{A}/auth/token", json={"login": "13800000051", "password": f.PASSWORD}).get_json()
        body = {
            "menu_item_id": w["film"].id,
            "group_name": "秧歌队",
            "address": "幸福小区广场",
            "district_code": w["community"].district_code,
            "preferred_dates": [day(11).isoformat()],
            "audience_size": 80,
            "contact_phone": "13800000051",
        }
        response = client.post(f"{A}/service-orders", json=body, headers={"Authorization": f"Bearer {token['token']}"})
    finally:
        app.config["ORDERS_OPEN_PER_REQUESTER"] = 10
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"]["code"] == "too_many_open_orders"
    assert db.session.scalar(select(func.count()).select_from(ServiceOrder)) == 1


def test_five_weekly_series_no_longer_give_one_resident_a_hundred_pending_holds(net, reserve):
    until = DAY + timedelta(weeks=26)
    first = reserve(at(DAY, 9), at(DAY, 11), repeat_weekly_until=until)
    assert len(first.booked) > 20
    with pytest.raises(rooms.TooManyPendingHolds) as err:
        reserve(at(DAY, 14), at(DAY, 16), repeat_weekly_until=until)
    assert err.value.code == "too_many_pending_holds" and err.value.status == 409
    pending = (
        select(func.count()).select_from(RoomReservation).where(RoomReservation.status == ReservationStatus.pending)
    )
    assert db.session.scalar(pending) == len(first.booked)
    assert reserve(at(DAY, 14), at(DAY, 16)).status == ReservationStatus.pending  # below the cap: still fine
    rooms.cancel_reservation(first.booked[0], actor=net["resident"], now=ROOMS_NOW)
    assert rooms.pending_holds_of(net["resident"], ROOMS_NOW) == len(first.booked)


def test_racing_submissions_by_one_account_never_pass_the_cap(app):
    from tests.concurrency import race

    w = o.world()
    resident = f.resident()
    f.commit()
    item_id, user_id, district = w["film"].id, resident.id, w["community"].district_code
    app.config["ORDERS_OPEN_PER_REQUESTER"] = 3
    try:

        def submit(i):
            from accounts.models import User
            from orders.models import MenuItem

            o.order(
                db.session.get(MenuItem, item_id),
                db.session.get(User, user_id),
                None,
                group_name=f"舞蹈队{i}",
                address="幸福小区广场",
                district_code=district,
            )

        outcomes = race(app, submit, 6, threads=6)
    finally:
        app.config["ORDERS_OPEN_PER_REQUESTER"] = 10
    assert outcomes == {"ok": 3, "too_many_open_orders": 3}
    assert db.session.scalar(select(func.count()).select_from(ServiceOrder)) == 3
