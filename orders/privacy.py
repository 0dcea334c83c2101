"""Personal data (PIPL) of service orders: the download shows every order the person placed, with its contact
phone, address and what they wrote; deleting the account withdraws the open ones (submitted, countered or
accepted: the day and the quota unit go back) and erases the contact phone, a group's address and name, the
notes and every text the person wrote on any of their orders. The orders stay, without them, for the figures.
Registered in `accounts.privacy` by the composition root."""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from accounts.models import User
from core import audit
from core.extensions import db
from orders.models import OrderEvent, OrderStatus, ServiceOrder
from orders.services import workflow

WITHDRAWABLE = (OrderStatus.submitted, OrderStatus.countered, OrderStatus.accepted)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _orders_of(user: User) -> list[ServiceOrder]:
    stmt = select(ServiceOrder).where(ServiceOrder.ordered_by_id == user.id).order_by(ServiceOrder.id)
    return list(db.session.execute(stmt).scalars())


def export(user: User) -> list[dict]:
    orders = _orders_of(user)
    # Each time a provider's staff member saw the full contact phone (it is masked otherwise, and each view is
    # recorded): the person can see who handled their number, by role.
    views: dict[int, list[dict]] = {}
    for entry in audit.entries_about({ServiceOrder.__tablename__: [o.id for o in orders]}, not_by=user.id):
        if entry["action"] == "order.contact_phone.view":
            views.setdefault(entry["target_id"], []).append({"at": entry["at"], "by": entry["by"]})
    return [
        {
            "id": o.id,
            "title": o.title,
            "status": o.status.value,
            "ordering_venue_id": o.ordering_venue_id,
            "group_name": o.group_name,
            "address": o.address,
            "district_code": o.district_code,
            "contact_phone": o.contact_phone,
            "audience_size": o.audience_size,
            "preferred_dates": [d.isoformat() for d in o.preferred_dates],
            "chosen_on": _iso(o.chosen_on),
            "notes": o.notes,
            "custom_description": o.custom_description or None,
            "rating": o.rating,
            "rating_comment": o.rating_comment or None,
            "submitted_at": _iso(o.submitted_at),
            "closed_at": _iso(o.closed_at),
            "steps": [
                {"status": e.status.value, "at": _iso(e.at), "note": e.note or None, "by_you": e.actor_id == user.id}
                for e in o.events
            ],
            "contact_phone_views": views.get(o.id, []),
        }
        for o in orders
    ]


def erase(user: User, *, now: datetime) -> None:
    deleted = _("Deleted user")
    for order in _orders_of(user):
        if order.status in WITHDRAWABLE:
            workflow.withdraw_order(order, actor=user, reason="", now=now)
        order.contact_phone = ""
        order.notes = ""
        order.rating_comment = ""
        if order.ordering_venue_id is None:  # a group's order: the address and the name are the person's
            order.address = ""
            order.group_name = deleted[:100]
        if order.is_custom:
            order.custom_description = ""
    db.session.execute(
        update(OrderEvent)
        .where(OrderEvent.actor_id == user.id)
        .values(note="")
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
