"""Reads on the menu and orders: the public menu with its record, scope-bounded order lists, the staff
queue, the provider calendar, demand signals and the figures for reports. No writes."""

import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, time

import sqlalchemy as sa
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from accounts.models import MANAGE_ROLES, REPORT_ROLES
from core.extensions import db
from core.i18n import local_datetime, to_local
from orders.models import (
    DAY_STATUSES,
    OPEN_STATUSES,
    MenuCategory,
    MenuItem,
    OrderStatus,
    ServiceOrder,
    menu_item_districts,
)
from venues.models import Venue

DONE_STATUSES = (OrderStatus.delivered, OrderStatus.rated)


# --- the menu ----------------------------------------------------------------------------------------


def menu_select(
    *,
    district: str | None = None,
    category: str | None = None,
    provider_id: int | None = None,
    q: str | None = None,
    published_only: bool = True,
):
    """Menu items by district served, category, provider and free text; published ones unless told."""
    stmt = select(MenuItem).order_by(MenuItem.category, MenuItem.title, MenuItem.id)
    if published_only:
        stmt = stmt.where(MenuItem.published_at.isnot(None), MenuItem.withdrawn_at.is_(None))
    if district:
        stmt = stmt.where(
            MenuItem.id.in_(
                select(menu_item_districts.c.menu_item_id).where(menu_item_districts.c.district_code == district)
            )
        )
    if category:
        stmt = stmt.where(MenuItem.category == category)
    if provider_id:
        stmt = stmt.where(MenuItem.provider_venue_id == provider_id)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(
            or_(MenuItem.title.ilike(like), MenuItem.title_en.ilike(like), MenuItem.description.ilike(like))
        )
    return stmt


def item_records(item_ids: list[int], year: int) -> dict[int, dict]:
    """Per item: how many were delivered in `year` and the mean rating (all years), in one query."""
    if not item_ids:
        return {}
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    delivered_this_year = and_(
        ServiceOrder.status.in_(DONE_STATUSES), ServiceOrder.delivered_at >= start, ServiceOrder.delivered_at < end
    )
    rows = db.session.execute(
        select(
            ServiceOrder.menu_item_id,
            func.count().filter(delivered_this_year),
            func.avg(ServiceOrder.rating),
            func.count(ServiceOrder.rating),
        )
        .where(ServiceOrder.menu_item_id.in_(item_ids))
        .group_by(ServiceOrder.menu_item_id)
    ).all()
    records = {i: {"delivered_this_year": 0, "mean_rating": None, "ratings": 0} for i in item_ids}
    for item_id, delivered, mean, ratings in rows:
        records[item_id] = {
            "delivered_this_year": delivered or 0,
            "mean_rating": round(float(mean), 1) if mean is not None else None,
            "ratings": ratings or 0,
        }
    return records


def items_in_scope(user):
    """Menu items (published or not) offered by hubs and branches the user manages."""
    return (
        select(MenuItem)
        .join(Venue, MenuItem.provider_venue_id == Venue.id)
        .where(_under(Venue, user.scope_paths(MANAGE_ROLES)))
        .order_by(MenuItem.title, MenuItem.id)
    )


# --- orders ------------------------------------------------------------------------------------------


def _under(venue_alias, paths: list[str]):
    if "/" in paths:
        return sa.true()
    if not paths:
        return sa.false()
    return or_(*(venue_alias.path.startswith(p) for p in paths))


def orders_visible_to(user, *, status: str | None = None, venue_id: int | None = None, side: str | None = None):
    """Orders the user placed, or whose provider or ordering centre lies in their scope; newest first.

    `side` narrows to "provider" (orders to answer) or "orderer" (orders placed for my centres or by me).
    """
    provider, ordering = aliased(Venue), aliased(Venue)
    paths = user.scope_paths(MANAGE_ROLES)
    as_provider = _under(provider, paths)
    as_orderer = or_(ServiceOrder.ordered_by_id == user.id, and_(ordering.id.isnot(None), _under(ordering, paths)))
    stmt = (
        select(ServiceOrder)
        .join(provider, ServiceOrder.provider_venue_id == provider.id)
        .outerjoin(ordering, ServiceOrder.ordering_venue_id == ordering.id)
        .order_by(ServiceOrder.submitted_at.desc(), ServiceOrder.id.desc())
    )
    stmt = stmt.where({"provider": as_provider, "orderer": as_orderer}.get(side, or_(as_provider, as_orderer)))
    if status:
        stmt = stmt.where(ServiceOrder.status == status)
    if venue_id:
        stmt = stmt.where(or_(ServiceOrder.provider_venue_id == venue_id, ServiceOrder.ordering_venue_id == venue_id))
    return stmt


def staff_queue(user) -> list[ServiceOrder]:
    """Orders waiting for the provider's answer in the user's scope, oldest first."""
    provider = aliased(Venue)
    stmt = (
        select(ServiceOrder)
        .join(provider, ServiceOrder.provider_venue_id == provider.id)
        .where(ServiceOrder.status.in_(OPEN_STATUSES), _under(provider, user.scope_paths(MANAGE_ROLES)))
        .order_by(ServiceOrder.submitted_at, ServiceOrder.id)
    )
    return list(db.session.execute(stmt).scalars())


def provider_calendar(user, start: date, end: date) -> list[dict]:
    """What is accepted or scheduled where, per day, for providers in the user's scope, with each item's
    daily use against its capacity (so a troupe is not sent to two villages at once)."""
    provider = aliased(Venue)
    stmt = (
        select(ServiceOrder)
        .join(provider, ServiceOrder.provider_venue_id == provider.id)
        .where(
            ServiceOrder.status.in_(DAY_STATUSES),
            ServiceOrder.chosen_on >= start,
            ServiceOrder.chosen_on <= end,
            _under(provider, user.scope_paths(MANAGE_ROLES)),
        )
        .order_by(ServiceOrder.chosen_on, ServiceOrder.starts_at, ServiceOrder.id)
    )
    days: dict[date, list[ServiceOrder]] = defaultdict(list)
    for order in db.session.execute(stmt).scalars():
        days[order.chosen_on].append(order)
    calendar = []
    for day, orders in sorted(days.items()):
        use: dict[int, int] = defaultdict(int)
        for order in orders:
            if order.menu_item_id is not None:
                use[order.menu_item_id] += 1
        rows = [
            {
                "order": o,
                "used": use.get(o.menu_item_id, 0),
                "capacity": o.menu_item.daily_capacity if o.menu_item else None,
            }
            for o in orders
        ]
        calendar.append({"day": day, "orders": rows})
    return calendar


# --- demand and figures ------------------------------------------------------------------------------


def _scoped(paths: list[str]):
    """Orders whose provider or ordering centre lies under `paths`."""
    provider, ordering = aliased(Venue), aliased(Venue)
    return (
        select(ServiceOrder.id)
        .join(provider, ServiceOrder.provider_venue_id == provider.id)
        .outerjoin(ordering, ServiceOrder.ordering_venue_id == ordering.id)
        .where(or_(_under(provider, paths), and_(ordering.id.isnot(None), _under(ordering, paths))))
    )


def _year_range(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def demand_signals(user, year: int) -> dict:
    """How often each item was ordered and declined in `year`, and custom requests grouped by category,
    so managers can add to the menu what people ask for."""
    start, end = _year_range(year)
    in_scope = ServiceOrder.id.in_(_scoped(user.scope_paths(REPORT_ROLES)))
    in_year = and_(ServiceOrder.submitted_at >= start, ServiceOrder.submitted_at < end)
    item_rows = db.session.execute(
        select(
            MenuItem,
            func.count(ServiceOrder.id),
            func.count(ServiceOrder.id).filter(ServiceOrder.status == OrderStatus.declined),
        )
        .join(ServiceOrder, ServiceOrder.menu_item_id == MenuItem.id)
        .where(in_scope, in_year)
        .group_by(MenuItem.id)
        .order_by(func.count(ServiceOrder.id).desc())
    ).all()
    custom = db.session.execute(
        select(ServiceOrder)
        .where(in_scope, in_year, ServiceOrder.menu_item_id.is_(None))
        .order_by(ServiceOrder.category, ServiceOrder.submitted_at.desc())
    ).scalars()
    groups: dict[str, list[ServiceOrder]] = defaultdict(list)
    for order in custom:
        groups[order.category.value if order.category else ""].append(order)
    return {
        "items": [{"item": item, "ordered": ordered, "declined": declined} for item, ordered, declined in item_rows],
        "custom": sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])),
    }


def figures(paths: list[str], year: int) -> dict:
    """The menu/order figures for reports: ordered, accepted, declined, delivered, withdrawn, median days
    to answer, mean rating, and outreach sessions by district and month (of the session), for orders
    whose provider or ordering centre lies under `paths`, submitted (or, for outreach, held) in `year`."""
    start, end = _year_range(year)
    base = ServiceOrder.id.in_(_scoped(paths))
    rows = db.session.execute(
        select(
            ServiceOrder.status,
            ServiceOrder.submitted_at,
            ServiceOrder.answered_at,
            ServiceOrder.rating,
            ServiceOrder.accepted_at,
        ).where(base, ServiceOrder.submitted_at >= start, ServiceOrder.submitted_at < end)
    ).all()
    answer_days = [(a - s).total_seconds() / 86400 for _st, s, a, _r, _acc in rows if a is not None]
    ratings = [r for *_x, r, _acc in rows if r is not None]
    counts = {
        "ordered": len(rows),
        "accepted": sum(1 for row in rows if row.accepted_at is not None),
        "declined": sum(1 for row in rows if row.status == OrderStatus.declined),
        "delivered": sum(1 for row in rows if row.status in DONE_STATUSES),
        "withdrawn": sum(1 for row in rows if row.status == OrderStatus.withdrawn),
        "waiting": sum(1 for row in rows if row.status in OPEN_STATUSES),
    }
    return counts | {
        "median_days_to_answer": round(statistics.median(answer_days), 1) if answer_days else None,
        "mean_rating": round(statistics.fmean(ratings), 2) if ratings else None,
        "outreach": outreach_by_district_month(paths, year),
    }


def outreach_by_district_month(paths: list[str], year: int) -> list[dict]:
    """Outreach sessions (送文化下乡) scheduled or held in `year`, by the ordering centre's district and
    the local month of the session: [{district, month, scheduled, delivered, headcount}]."""
    start, end = local_datetime(date(year, 1, 1), time(0)), local_datetime(date(year + 1, 1, 1), time(0))
    rows = db.session.execute(
        select(ServiceOrder.district_code, ServiceOrder.starts_at, ServiceOrder.status, ServiceOrder.headcount).where(
            ServiceOrder.id.in_(_scoped(paths)),
            ServiceOrder.is_outreach.is_(True),
            ServiceOrder.status.in_((OrderStatus.scheduled, *DONE_STATUSES)),
            ServiceOrder.starts_at >= start,
            ServiceOrder.starts_at < end,
        )
    ).all()
    table: dict[tuple[str, str], dict] = {}
    for district, starts_at, status, headcount in rows:
        local = to_local(starts_at)
        key = (district, f"{local.year:04d}-{local.month:02d}")
        cell = table.setdefault(
            key, {"district": key[0], "month": key[1], "scheduled": 0, "delivered": 0, "headcount": 0}
        )
        cell["scheduled"] += 1
        if status in DONE_STATUSES:
            cell["delivered"] += 1
            cell["headcount"] += headcount or 0
    return [table[k] for k in sorted(table)]


def category_choices() -> list[str]:
    return [c.value for c in MenuCategory]
