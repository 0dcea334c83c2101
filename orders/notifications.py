"""What the orderer is told as their service order moves: each step becomes an `order_status` message."""

import sqlalchemy as sa
import sqlalchemy.orm

import notify
from accounts.models import User
from core.extensions import db
from notify import scopes as notify_scopes
from orders import signals

# The steps the other side takes, which the orderer must hear of (their own steps need no message).
TOLD = ("accepted", "declined", "countered", "scheduled", "delivered")


def venue_paths(order_ids: list[int]) -> dict[int, list[str]]:
    """Order id → the paths of its provider and its ordering centre: both sides' staff see its failed messages."""
    from orders.models import ServiceOrder
    from venues.models import Venue

    provider, orderer = sa.orm.aliased(Venue), sa.orm.aliased(Venue)
    rows = db.session.execute(
        sa.select(ServiceOrder.id, provider.path, orderer.path)
        .join(provider, provider.id == ServiceOrder.provider_venue_id)
        .outerjoin(orderer, orderer.id == ServiceOrder.ordering_venue_id)
        .where(ServiceOrder.id.in_(order_ids))
    )
    return {order_id: [p for p in (provider_path, orderer_path) if p] for order_id, provider_path, orderer_path in rows}


def connect() -> None:
    notify_scopes.register("order", venue_paths)
    for status in TOLD:
        signals.BY_STATUS[status].connect(on_step)


def on_step(
    order,
    *,
    order_id: int,
    order_title: str,
    status: str,
    orderer_id: int,
    now,
    reason: str = "",
    session_starts_at=None,
    **_kwargs,
) -> None:
    """One message per order and step (dedupe key), in the orderer's language."""
    user = db.session.get(User, orderer_id)
    if user is None or not user.is_active:
        return
    context = {"order_title": order_title, "status": status, "reason": reason or ""}
    if session_starts_at is not None:
        context["session_starts_at"] = session_starts_at
    notify.enqueue(user, "order_status", context, dedupe_key=f"order:{order_id}:{status}", now=now)
