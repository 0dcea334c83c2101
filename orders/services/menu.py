"""Writes on the service menu: items saved, published (上架) and withdrawn (下架) by hub and branch staff."""

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import MANAGE_ROLES, User
from core import audit
from core.db import utcnow
from core.errors import Forbidden, Invalid
from core.extensions import db
from orders.models import PROVIDER_KINDS, MenuCategory, MenuItem
from venues.models import District, Venue

TEXT_LIMITS = {"title": 100, "title_en": 150, "description": 5000, "host_requirements": 500}
NUMBER_RANGES = {
    "audience_min": (1, 100_000),
    "audience_max": (1, 100_000),
    "duration_minutes": (1, 24 * 60),
    "lead_days": (0, 365),
    "yearly_quota": (0, 100_000),
    "daily_capacity": (1, 100),
}


def save_menu_item(provider: Venue, *, data: dict, actor: User, item: MenuItem | None = None) -> MenuItem:
    """Create an item offered by `provider` (a hub or branch in the actor's scope), or edit `item`.

    Every field problem is reported at once (`Invalid` with `fields`); a new item starts unpublished.
    """
    if provider.kind not in PROVIDER_KINDS:
        raise Invalid(fields={"provider_venue_id": [_("Only the hub and branches publish services.")]})
    if not actor.reaches(provider, MANAGE_ROLES) or (item is not None and not item.can_manage(actor)):
        raise Forbidden()
    fields: dict[str, list[str]] = {}
    merged = _current(item) | data if item is not None else data
    clean = _clean(merged, fields)
    districts = _districts(merged.get("district_codes"), fields)
    if fields:
        raise Invalid(fields=fields)
    item = item or MenuItem(created_by_id=actor.id)
    for name, value in clean.items():
        setattr(item, name, value)
    item.provider = provider
    item.districts = districts
    db.session.add(item)
    db.session.flush()
    audit.record(actor, "menu_item.save", item, {"title": item.title, "provider_venue_id": provider.id})
    return item


def _current(item: MenuItem) -> dict:
    names = [*TEXT_LIMITS, *NUMBER_RANGES, "category", "available_from", "available_until"]
    return {n: getattr(item, n) for n in names} | {"district_codes": item.district_codes}


def _clean(data: dict, fields: dict) -> dict:
    clean: dict = {}
    for name, limit in TEXT_LIMITS.items():
        value = (data.get(name) or "").strip()
        if len(value) > limit:
            fields[name] = [_("At most %(n)s characters.", n=limit)]
        clean[name] = value or (None if name == "title_en" else "")
    if not clean["title"]:
        fields["title"] = [_("This field is required.")]
    try:
        clean["category"] = MenuCategory(data.get("category"))
    except ValueError:
        fields["category"] = [_("Choose a category.")]
    for name, (low, high) in NUMBER_RANGES.items():
        value = data.get(name)
        if value is None and name == "yearly_quota":
            clean[name] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            fields[name] = [_("Enter a whole number from %(a)s to %(b)s.", a=low, b=high)]
        clean[name] = value
    if "audience_min" not in fields and "audience_max" not in fields and data["audience_min"] > data["audience_max"]:
        fields["audience_max"] = [_("The largest audience cannot be below the smallest.")]
    clean["available_from"], clean["available_until"] = data.get("available_from"), data.get("available_until")
    for name in ("available_from", "available_until"):
        if clean[name] is not None and not isinstance(clean[name], date):
            fields[name] = [_("Must be a date such as 2026-05-01.")]
    if (
        not fields
        and clean["available_from"]
        and clean["available_until"]
        and clean["available_until"] < clean["available_from"]
    ):
        fields["available_until"] = [_("The last day cannot be before the first.")]
    return clean


def _districts(codes, fields: dict) -> list[District]:
    codes = list(dict.fromkeys(codes or []))
    if not codes:
        fields["district_codes"] = [_("Choose at least one district served.")]
        return []
    found = list(db.session.execute(select(District).where(District.code.in_(codes))).scalars())
    if len(found) != len(codes):
        fields["district_codes"] = [_("Unknown district.")]
    return found


def publish_menu_item(item: MenuItem, *, actor: User, now: datetime | None = None) -> MenuItem:
    """上架: the item appears on the public menu and can be ordered."""
    if not item.can_manage(actor):
        raise Forbidden()
    item.published_at = now or utcnow()
    item.withdrawn_at = None
    audit.record(actor, "menu_item.publish", item, now=item.published_at)
    db.session.flush()
    return item


def withdraw_menu_item(item: MenuItem, *, actor: User, now: datetime | None = None) -> MenuItem:
    """下架: the item leaves the menu; orders already placed go on."""
    if not item.can_manage(actor):
        raise Forbidden()
    if item.withdrawn_at is None:
        item.withdrawn_at = now or utcnow()
        audit.record(actor, "menu_item.withdraw", item, now=item.withdrawn_at)
    db.session.flush()
    return item
