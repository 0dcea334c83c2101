"""The provider's and the village's pages: the contact phone in full for the provider (audited), the menu on the
user's district, the order form that adapts to who orders, durations in hours."""

from datetime import timedelta

from sqlalchemy import func, select

from core.audit import AuditEntry
from core.extensions import db
from core.i18n import local_today
from orders import services
from tests import factories as f
from tests.orders import factories as o


def _world():
    w = o.world()
    services.publish_menu_item(w["film"], actor=w["branch_staff"])
    f.commit()
    return w


def _views() -> int:
    stmt = select(func.count(AuditEntry.id)).where(AuditEntry.action == "order.contact_phone.view")
    return db.session.execute(stmt).scalar_one()


def test_the_provider_sees_the_contact_phone_in_full_recorded_and_others_see_it_masked(client):
    w = _world()
    order = o.order(w["film"], w["village_staff"], w["community"])
    f.commit()
    client.login(w["branch_staff"].login)
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'href="tel:13800000001"' in html
    assert _views() == 1
    one = client.get(f"/api/v1/service-orders/{order.id}").get_json()
    assert one["contact_phone"] == "13800000001" and _views() == 2
    listed = client.get("/api/v1/service-orders").get_json()
    assert all(item["contact_phone"] != "13800000001" for item in listed["items"])
    assert "13800000001" not in client.get("/orders/queue").get_data(as_text=True)
    assert _views() == 2  # lists neither show nor record it

    client.login(w["station_staff"].login)  # the ordering side, not the person who ordered
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "13800000001" not in html and "138****0001" in html
    assert _views() == 2


def test_the_menu_opens_on_the_users_district_and_can_show_every_district(client):
    w = _world()
    far = o.menu_item(
        w["other_branch"],
        w["other_branch_staff"],
        title="农民画展览",
        district_codes=[w["other_branch"].district_code],
        duration_minutes=480,
    )
    f.commit()
    assert far.district_codes != w["film"].district_codes
    client.login(w["village_staff"].login)
    html = client.get("/menu").get_data(as_text=True)
    assert "公益电影放映" in html and "农民画展览" not in html
    assert "查看全部区县" in html
    everything = client.get("/menu?district=").get_data(as_text=True)
    assert "公益电影放映" in everything and "农民画展览" in everything
    assert "约 8 小时" in everything and "480" not in everything
    # 订单式 is offered at the top, next to 菜单式
    top = html[: html.index('id="menu-list"')]
    assert "菜单式" in top and "订单式" in top


def test_the_order_form_adapts_to_who_orders_prefills_the_phone_and_limits_dates(client):
    w = _world()
    w["village_staff"].phone = "13900000009"
    f.commit()
    client.login(w["village_staff"].login)
    html = client.get(f"/menu/{w['film'].id}/order").get_data(as_text=True)
    earliest = (local_today() + timedelta(days=w["film"].lead_days)).isoformat()
    assert html.count(f'min="{earliest}"') == 3
    assert 'value="13900000009"' in html
    assert 'id="group-fields" data-shown-for="0"' in html  # hidden by the page's script unless "a group"
    assert 'id="venue_id"' in html
    assert "电源、空地" in html  # what the ordering side provides, said before ordering

    resident = f.resident("13700000007")
    f.commit()
    client.post("/logout")
    client.login(resident.phone)
    html = client.get(f"/menu/{w['film'].id}/order").get_data(as_text=True)
    assert '<input type="hidden" name="venue_id" value="0">' in html
    assert 'data-shown-for=""' in html and 'value="13700000007"' in html
