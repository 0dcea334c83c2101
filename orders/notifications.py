"""What the orderer is told as their service order moves: each step becomes an `order_status` message."""

import notify
from accounts.models import User
from core.extensions import db
from orders import signals

# The steps the other side takes, which the orderer must hear of (their own steps need no message).
TOLD = ("accepted", "declined", "countered", "scheduled", "delivered")


def connect() -> None:
    for status in TOLD:
        signals.BY_STATUS[status].connect(on_step)


def on_step(order, *, order_id: int, order_title: str, status: str, orderer_id: int, now, reason: str = "",
            session_starts_at=None, **_kwargs) -> None:
    """One message per order and step (dedupe key), in the orderer's language."""
    user = db.session.get(User, orderer_id)
    if user is None or not user.is_active:
        return
    context = {"order_title": order_title, "status": status, "reason": reason or ""}
    if session_starts_at is not None:
        context["session_starts_at"] = session_starts_at
    notify.enqueue(user, "order_status", context, dedupe_key=f"order:{order_id}:{status}", now=now)
