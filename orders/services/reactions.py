"""How an order follows its event when activity staff change it (activities/ signals, received here so that
activities never imports orders): a cancelled event sends the order back to "accepted" so it can be
scheduled again; a moved session moves the order's times and, across days, its day of the provider's
capacity (a full day refuses the move, inside the mover's transaction)."""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from activities import signals as activity_signals
from activities.models import Activity, Session
from core.extensions import db
from core.i18n import to_local
from orders.models import OrderEvent, OrderStatus, ServiceOrder
from orders.services.workflow import release_day, take_day, try_step


def _scheduled_orders(activity_id: int) -> list[ServiceOrder]:
    stmt = select(ServiceOrder).where(
        ServiceOrder.activity_id == activity_id, ServiceOrder.status == OrderStatus.scheduled
    )
    return list(db.session.execute(stmt).scalars())


def _back_to_accepted(activity_id: int, reason: str, actor_id: int | None, now: datetime) -> None:
    for order in _scheduled_orders(activity_id):
        if try_step(
            order,
            OrderStatus.accepted,
            (OrderStatus.scheduled,),
            activity_id=None,
            session_id=None,
            starts_at=None,
            ends_at=None,
            scheduled_at=None,
            is_outreach=False,
        ):
            note = _("The event was cancelled: %(reason)s", reason=reason) if reason else _("The event was cancelled.")
            db.session.add(
                OrderEvent(order_id=order.id, status=OrderStatus.accepted, at=now, actor_id=actor_id, note=note)
            )
    db.session.flush()


@activity_signals.activity_cancelled.connect
def _on_activity_cancelled(
    activity: Activity, *, activity_id: int, reason: str = "", actor_id: int | None = None, now: datetime, **_kw
) -> None:
    _back_to_accepted(activity_id, reason, actor_id, now)


@activity_signals.session_cancelled.connect
def _on_session_cancelled(
    session: Session, *, activity_id: int, reason: str = "", actor_id: int | None = None, now: datetime, **_kw
) -> None:
    _back_to_accepted(activity_id, reason, actor_id, now)


@activity_signals.session_moved.connect
def _on_session_moved(session: Session, *, activity_id: int, starts_at: datetime, ends_at: datetime, **_kw) -> None:
    for order in _scheduled_orders(activity_id):
        if order.session_id != session.id:
            continue
        new_day = to_local(starts_at).date()
        if new_day != order.chosen_on:
            take_day(order, new_day)
            release_day(order, order.chosen_on)
            order.chosen_on = new_day
        order.starts_at, order.ends_at = starts_at, ends_at
    db.session.flush()
