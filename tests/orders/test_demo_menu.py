"""`flask demo seed` publishes a menu and places orders in every state, once."""

from sqlalchemy import func, select

from core.extensions import db
from orders.models import MenuItem, OrderStatus, ServiceOrder


def _states():
    rows = db.session.execute(select(ServiceOrder.status, func.count()).group_by(ServiceOrder.status)).all()
    return {OrderStatus(s): n for s, n in rows}


def test_the_demo_menu_and_orders_are_seeded_once_and_the_village_sees_its_orders(app, client):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    items = db.session.scalar(select(func.count()).select_from(MenuItem))
    states = _states()
    assert items == 10
    assert set(states) == {
        OrderStatus.submitted,
        OrderStatus.countered,
        OrderStatus.accepted,
        OrderStatus.scheduled,
        OrderStatus.rated,
        OrderStatus.declined,
    }
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(MenuItem)) == items and _states() == states
    client.login("village-staff", "demo12345")
    html = client.get("/orders").get_data(as_text=True)
    assert "农民画培训" in html and "公益电影放映" in html
    client.login("branch-staff", "demo12345")
    assert "公益电影放映" in client.get("/orders/queue").get_data(as_text=True)
