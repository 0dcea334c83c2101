"""The orderer hears of every step the provider takes, once, in the outbox."""

from datetime import time, timedelta

from sqlalchemy import select

from core.extensions import db
from core.i18n import local_datetime
from notify.models import Message
from orders import services
from tests.orders import factories as o
from tests.orders.factories import NOW, day


def _sent_to(user):
    return [
        (m.context["status"], m.context.get("reason", ""))
        for m in db.session.scalars(
            select(Message)
            .where(Message.recipient_id == user.id, Message.template == "order_status", Message.channel == "sms")
            .order_by(Message.id)
        )
    ]


def test_accept_and_schedule_are_told_to_the_village_once_each(app):
    w = o.world()
    order = o.order(w["film"], w["village_staff"], w["community"])
    services.accept_order(order, actor=w["branch_staff"], chosen_on=day(10), reply="按时到", now=NOW)
    starts = local_datetime(day(10), time(19))
    services.schedule_order(
        order, actor=w["branch_staff"], starts_at=starts, ends_at=starts + timedelta(hours=2), now=NOW
    )
    assert _sent_to(w["village_staff"]) == [("accepted", ""), ("scheduled", "")]


def test_a_declined_request_carries_the_reason(app):
    w = o.world()
    order = o.custom(w["village_staff"], w["community"])
    services.decline_order(order, actor=w["branch_staff"], reason="本月档期已满", now=NOW)
    assert _sent_to(w["village_staff"]) == [("declined", "本月档期已满")]
