"""The pages: public menu, ordering, both sides of an order, the queue, calendar and demand pages."""

from datetime import time, timedelta

from core.i18n import local_today
from orders import services
from orders.models import OrderStatus, ServiceOrder
from tests import factories as f
from tests.orders import factories as o


def _world():
    w = o.world()
    services.publish_menu_item(w["film"], actor=w["branch_staff"])
    f.commit()
    return w


def _soon(n):
    return (local_today() + timedelta(days=n)).isoformat()


def _order_form(w, **extra):
    return {
        "venue_id": str(w["community"].id),
        "date_1": _soon(10),
        "date_2": _soon(12),
        "audience_size": "80",
        "contact_phone": "13800000001",
        "notes": "村广场",
    } | extra


def test_the_public_menu_lists_items_with_their_record_and_filters(client):
    w = _world()
    html = client.get("/menu?district=211104&category=film").get_data(as_text=True)
    assert "公益电影放映" in html and w["branch"].name in html
    assert "公益电影放映" not in client.get("/menu?category=lecture").get_data(as_text=True)
    assert client.get(f"/menu/{w['film'].id}").status_code == 200
    assert client.get("/menu?page=abc&category=<script>").status_code == 200
    assert client.get("/menu/424242").status_code == 404


def test_a_village_orders_on_the_page_and_the_branch_answers_through_the_steps(client):
    w = _world()
    client.login(w["village_staff"].login)
    response = client.post(f"/menu/{w['film'].id}/order", data=_order_form(w))
    assert response.status_code == 302, response.get_data(as_text=True)
    order = ServiceOrder.query.one()
    client.login(w["branch_staff"].login)
    html = client.get("/orders/queue").get_data(as_text=True)
    assert f"#{order.id}" in html
    response = client.post(f"/orders/{order.id}/accept", data={"accept-chosen_on": _soon(12), "accept-reply": "好"})
    assert response.status_code == 303
    response = client.post(f"/orders/{order.id}/schedule", data={"schedule-starts": "19:00", "schedule-ends": "18:00"})
    assert response.status_code == 422
    response = client.post(f"/orders/{order.id}/schedule", data={"schedule-starts": "19:00", "schedule-ends": "21:00"})
    assert response.status_code == 303
    f.commit()
    order = ServiceOrder.query.one()
    assert order.status == OrderStatus.scheduled and order.is_outreach and order.activity_id
    html = client.get("/orders/calendar").get_data(as_text=True)
    assert f"#{order.id}" in html
    assert client.get("/orders/demand").status_code == 200


def test_bad_order_forms_show_the_problems_and_store_nothing(client):
    w = _world()
    client.login(w["village_staff"].login)
    response = client.post(
        f"/menu/{w['film'].id}/order", data=_order_form(w, date_1=_soon(2), date_2="", audience_size="5")
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "7" in html and "20" in html
    response = client.post(f"/menu/{w['film'].id}/order", data=_order_form(w, venue_id=str(w["sibling"].id)))
    assert response.status_code == 422  # not a choice for this user
    assert ServiceOrder.query.count() == 0


def test_a_declined_custom_request_shows_the_reason_to_the_orderer(client):
    w = _world()
    client.login(w["village_staff"].login)
    form = _order_form(w, custom_title="秧歌培训", custom_description="请老师来教秧歌", custom_category="training")
    response = client.post("/orders/new", data=form)
    assert response.status_code == 302
    order = ServiceOrder.query.one()
    client.login(w["branch_staff"].login)
    response = client.post("/orders/queue", data={"bulk-order_ids": [str(order.id)], "bulk-reason": ""})
    assert response.status_code == 422
    response = client.post("/orders/queue", data={"bulk-order_ids": [str(order.id)], "bulk-reason": "师资已排满"})
    assert response.status_code == 303
    client.login(w["village_staff"].login)
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "师资已排满" in html


def test_others_cannot_see_or_move_an_order_and_residents_do_not_reach_staff_pages(client):
    w = _world()
    client.login(w["village_staff"].login)
    client.post(f"/menu/{w['film'].id}/order", data=_order_form(w))
    order = ServiceOrder.query.one()
    client.login(w["sibling_staff"].login)
    assert client.get(f"/orders/{order.id}").status_code == 404
    assert client.post(f"/orders/{order.id}/withdraw", data={}).status_code == 404
    f.resident("13900001234")
    f.commit()
    client.login("13900001234")
    assert client.get("/orders/queue").status_code == 403
    assert client.get("/menu/manage").status_code == 403
    assert client.get(f"/orders/{order.id}").status_code == 404


def test_staff_add_publish_and_withdraw_a_menu_item(client):
    w = _world()
    client.login(w["branch_staff"].login)
    data = {
        "provider_venue_id": str(w["branch"].id),
        "title": "非遗剪纸体验",
        "category": "heritage",
        "district_codes": ["211104"],
        "audience_min": "10",
        "audience_max": "40",
        "duration_minutes": "90",
        "lead_days": "10",
        "daily_capacity": "1",
    }
    response = client.post("/menu/new", data=data | {"audience_min": "50"})
    assert response.status_code == 422
    assert client.post("/menu/new", data=data).status_code == 303
    from orders.models import MenuItem

    item = MenuItem.query.filter_by(title="非遗剪纸体验").one()
    assert not item.is_published
    assert client.post(f"/menu/{item.id}/publish").status_code == 303
    assert "非遗剪纸体验" in client.get("/menu").get_data(as_text=True)
    assert client.post(f"/menu/{item.id}/withdraw").status_code == 303
    assert "非遗剪纸体验" not in client.get("/menu").get_data(as_text=True)
    client.login(w["other_branch_staff"].login)
    assert client.post(f"/menu/{item.id}/publish").status_code == 404


def test_the_staff_home_links_to_the_order_pages(client):
    w = _world()
    client.login(w["branch_staff"].login)
    html = client.get("/staff").get_data(as_text=True)
    assert "/orders/queue" in html and "/menu/manage" in html


def _fresh(order_id: int) -> ServiceOrder:
    from core.extensions import db

    db.session.expire_all()
    return db.session.get(ServiceOrder, order_id)


def _png(colour="red") -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_delivery_photos_are_checked_stored_and_shown_only_to_the_two_sides(client, app, tmp_path):
    import io

    from core.i18n import local_datetime

    app.config["UPLOAD_DIR"] = str(tmp_path)
    w = _world()
    order = o.order(w["film"], w["village_staff"], w["community"], dates=[local_today() + timedelta(days=10)], now=None)
    services.accept_order(order, actor=w["branch_staff"])
    starts = local_datetime(order.chosen_on, time(19))
    services.schedule_order(order, actor=w["branch_staff"], starts_at=starts, ends_at=starts + timedelta(hours=2))
    order.starts_at = starts - timedelta(days=20)  # time passes: the session was held
    f.commit()
    client.login(w["village_staff"].login)
    bad = {"deliver-headcount": "88", "deliver-photos": [(io.BytesIO(b"not a picture"), "a.jpg")]}
    response = client.post(f"/orders/{order.id}/deliver", data=bad, content_type="multipart/form-data")
    assert response.status_code == 422 and _fresh(order.id).status == OrderStatus.scheduled
    good = {
        "deliver-headcount": "88",
        "deliver-report": "放映顺利",
        "deliver-photos": [(io.BytesIO(_png()), "a.png"), (io.BytesIO(_png("blue")), "b.png")],
    }
    response = client.post(f"/orders/{order.id}/deliver", data=good, content_type="multipart/form-data")
    assert response.status_code == 303
    order = _fresh(order.id)
    assert order.status == OrderStatus.delivered and len(order.photos) == 2
    photo = client.get(f"/media/orders/{order.photos[0]}")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert order.photos[0] in client.get(f"/orders/{order.id}").get_data(as_text=True)
    client.login(w["sibling_staff"].login)
    assert client.get(f"/media/orders/{order.photos[0]}").status_code == 404
    assert client.get("/media/orders/../../etc/passwd").status_code == 404
