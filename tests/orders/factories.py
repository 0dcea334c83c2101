"""Factories for the menu and orders, in the style of tests/factories.py (through the real services)."""

from datetime import UTC, date, datetime, timedelta

from accounts.models import Role
from orders import services
from orders.models import MenuCategory, MenuItem, ServiceOrder
from tests import factories as f

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
TODAY = date(2026, 12, 1)


def day(n: int) -> date:
    """The date `n` days after TODAY."""
    return TODAY + timedelta(days=n)


def world() -> dict:
    """The test network plus staff at each level and a published film screening from the branch."""
    net = f.network()
    net["hub_staff"] = f.staff(net["hub"])
    net["branch_staff"] = f.staff(net["branch"])
    net["other_branch_staff"] = f.staff(net["other_branch"])
    net["station_staff"] = f.staff(net["station"])
    net["village_staff"] = f.staff(net["community"])
    net["sibling_staff"] = f.staff(net["sibling"])
    net["manager"] = f.staff(net["hub"], Role.manager)
    net["film"] = menu_item(net["branch"], net["branch_staff"])
    return net


def menu_item(provider, actor, *, publish: bool = True, **data) -> MenuItem:
    fields = {
        "title": "公益电影放映",
        "title_en": "Film screening",
        "category": MenuCategory.film.value,
        "description": "露天电影一场",
        "district_codes": ["211104"],
        "audience_min": 20,
        "audience_max": 300,
        "duration_minutes": 120,
        "lead_days": 7,
        "yearly_quota": 10,
        "daily_capacity": 1,
        "host_requirements": "电源、空地",
    } | data
    item = services.save_menu_item(provider, data=fields, actor=actor)
    if publish:
        services.publish_menu_item(item, actor=actor, now=NOW)
    return item


def order(item, actor, venue, *, dates=None, now=NOW, **data) -> ServiceOrder:
    payload = {
        "menu_item": item,
        "venue": venue,
        "preferred_dates": [day(10), day(12)] if dates is None else dates,
        "audience_size": 80,
        "contact_phone": "13800000001",
        "notes": "村广场",
    } | data
    return services.submit_order(data=payload, actor=actor, now=now)


def custom(actor, venue, *, title="广场舞培训", description="想请老师来教广场舞", category="training", **data):
    payload = {
        "custom": {"title": title, "description": description, "category": category},
        "venue": venue,
        "preferred_dates": [day(20)],
        "audience_size": 30,
        "contact_phone": "13800000002",
    } | data
    return services.submit_order(data=payload, actor=actor, now=NOW)
