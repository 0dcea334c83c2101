"""The JSON API of the menu and orders (docs/api.md): codes, scope, masking, never a 500."""

from datetime import date, time, timedelta

from core.i18n import local_datetime, local_today
from orders import services
from orders.models import ServiceOrder
from tests import factories as f
from tests.orders import factories as o


def _soon(n: int) -> date:
    return local_today() + timedelta(days=n)


def _login(client, user):
    client.login(user.login)


def _world():
    w = o.world()
    services.publish_menu_item(w["film"], actor=w["branch_staff"])
    f.commit()
    return w


def _order_body(w, **extra):
    return {
        "menu_item_id": w["film"].id,
        "venue_id": w["community"].id,
        "preferred_dates": [_soon(10).isoformat(), _soon(12).isoformat()],
        "audience_size": 80,
        "contact_phone": "13800000001",
    } | extra


def test_the_public_menu_filters_by_district_and_category_and_shows_the_record(client):
    w = _world()
    o.menu_item(
        w["other_branch"], w["other_branch_staff"], title="二人转", category="performance", district_codes=["211122"]
    )
    o.menu_item(w["branch"], w["branch_staff"], title="草稿", publish=False)
    f.commit()
    body = client.get("/api/v1/service-menu?district=211104").get_json()
    assert [i["title"] for i in body["items"]] == ["公益电影放映"]
    item = body["items"][0]
    assert item["districts"] == ["211104"] and item["delivered_this_year"] == 0 and item["mean_rating"] is None
    body = client.get("/api/v1/service-menu?category=performance").get_json()
    assert [i["title"] for i in body["items"]] == ["二人转"]
    assert client.get("/api/v1/service-menu?category=circus").status_code == 422


def test_ordering_answering_and_reading_the_reply_through_the_api(client):
    w = _world()
    _login(client, w["village_staff"])
    response = client.post("/api/v1/service-orders", json=_order_body(w))
    assert response.status_code == 201, response.get_json()
    order_id = response.get_json()["id"]
    assert response.get_json()["status"] == "submitted"

    _login(client, w["branch_staff"])
    listed = client.get("/api/v1/service-orders?status=submitted").get_json()
    assert [x["id"] for x in listed["items"]] == [order_id]
    assert listed["items"][0]["contact_phone"] == "138****0001"  # masked to staff
    response = client.post(f"/api/v1/service-orders/{order_id}/deliver", json={"headcount": 3})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "invalid_transition"
    response = client.post(f"/api/v1/service-orders/{order_id}/accept", json={"reply": "好"})
    assert response.status_code == 200 and response.get_json()["status"] == "accepted"
    starts = local_datetime(_soon(10), time(19))
    response = client.post(
        f"/api/v1/service-orders/{order_id}/schedule",
        json={"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2)).isoformat()},
    )
    assert response.status_code == 200, response.get_json()
    scheduled = response.get_json()
    assert scheduled["is_outreach"] and scheduled["activity_id"] and scheduled["session_id"]
    activity = client.get(f"/api/v1/activities/{scheduled['activity_id']}").get_json()
    assert activity["status"] == "published" and activity["venue_id"] == w["community"].id

    _login(client, w["village_staff"])
    detail = client.get(f"/api/v1/service-orders/{order_id}").get_json()
    assert detail["contact_phone"] == "13800000001" and detail["reply"] == "好"
    assert [e["status"] for e in detail["events"]] == ["submitted", "accepted", "scheduled"]
    response = client.post(
        f"/api/v1/service-orders/{order_id}/withdraw", csrf=False, headers={"X-CSRFToken": client.csrf_token()}
    )  # no body at all
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "invalid_transition"


def test_bad_orders_are_clear_errors_and_store_nothing(client):
    w = _world()
    _login(client, w["village_staff"])
    cases = [
        (_order_body(w, preferred_dates=[]), 422, "invalid"),
        (_order_body(w, preferred_dates=[_soon(2).isoformat()]), 422, "invalid"),
        (_order_body(w, audience_size=1000), 422, "invalid"),
        (_order_body(w, venue_id=w["sibling"].id), 403, "forbidden"),
        (_order_body(w, menu_item_id=424242), 422, "invalid"),
        (_order_body(w, custom={"title": "x", "description": "y"}), 422, "invalid"),
        (_order_body(w, preferred_dates=["not a date"]), 422, "invalid"),
        ({"menu_item_id": "abc"}, 422, "invalid"),
    ]
    for body, status, code in cases:
        response = client.post("/api/v1/service-orders", json=body)
        assert response.status_code == status, (body, response.get_json())
        assert response.get_json()["error"]["code"] == code
    services.withdraw_menu_item(w["film"], actor=w["branch_staff"])
    f.commit()
    response = client.post("/api/v1/service-orders", json=_order_body(w))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "withdrawn"
    assert ServiceOrder.query.count() == 0


def test_another_persons_order_is_not_found_and_steps_need_the_right_side(client):
    w = _world()
    _login(client, w["village_staff"])
    order_id = client.post("/api/v1/service-orders", json=_order_body(w)).get_json()["id"]
    f.resident("13900009999")
    f.commit()
    client.login("13900009999")
    assert client.get(f"/api/v1/service-orders/{order_id}").status_code == 404
    assert client.post(f"/api/v1/service-orders/{order_id}/withdraw", json={}).status_code == 404
    _login(client, w["other_branch_staff"])
    assert client.post(f"/api/v1/service-orders/{order_id}/accept", json={}).status_code == 404
    _login(client, w["village_staff"])
    response = client.post(f"/api/v1/service-orders/{order_id}/accept", json={})
    assert response.status_code == 403
    response = client.post(f"/api/v1/service-orders/{order_id}/rate", json={"rating": 6})
    assert response.status_code == 422 and "rating" in response.get_json()["error"]["fields"]


def test_a_custom_request_is_declined_and_the_orderer_reads_the_reason(client):
    w = _world()
    _login(client, w["village_staff"])
    body = {
        "custom": {"title": "秧歌队培训", "description": "请派老师来教秧歌", "category": "training"},
        "venue_id": w["community"].id,
        "preferred_dates": [_soon(5).isoformat()],
        "audience_size": 25,
        "contact_phone": "13800000002",
    }
    order_id = client.post("/api/v1/service-orders", json=body).get_json()["id"]
    _login(client, w["branch_staff"])
    response = client.post(f"/api/v1/service-orders/{order_id}/decline", json={"reason": ""})
    assert response.status_code == 422
    response = client.post(f"/api/v1/service-orders/{order_id}/decline", json={"reason": "今年师资已排满"})
    assert response.status_code == 200
    _login(client, w["village_staff"])
    detail = client.get(f"/api/v1/service-orders/{order_id}").get_json()
    assert detail["status"] == "declined" and detail["decline_reason"] == "今年师资已排满"
    assert detail["events"][-1]["note"] == "今年师资已排满"
