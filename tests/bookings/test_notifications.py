"""Bookings' events reach the outbox: confirmations, reminders that move and vanish with the booking."""

from datetime import timedelta

from sqlalchemy import select

from activities import services as activities
from bookings import services as bookings
from core.extensions import db
from core.i18n import to_local
from notify.models import Message, State
from tests import activity_factories as af
from tests import factories as f


def _messages(user, template=None):
    stmt = select(Message).where(Message.recipient_id == user.id, Message.channel == "sms").order_by(Message.id)
    if template:
        stmt = stmt.where(Message.template == template)
    return list(db.session.scalars(stmt))


def test_a_booking_for_tomorrow_gets_a_confirmation_and_one_24h_and_one_2h_reminder(app):
    now = af.now()
    act = af.activity(starts_in=timedelta(days=1, hours=6), at=now)
    user = f.resident()
    af.book(user, act, at=now)
    start = af.first_session(act).starts_at
    assert [m.template for m in _messages(user)] == ["booking_confirmed", "reminder_24h", "reminder_2h"]
    r24, r2 = _messages(user, "reminder_24h")[0], _messages(user, "reminder_2h")[0]
    assert r24.due_at == start - timedelta(hours=24) and r2.due_at == start - timedelta(hours=2)
    assert r24.state == r2.state == State.pending
    assert r24.context["code"] and r24.context["activity_title"] == act.title


def test_a_reminder_already_past_when_booking_is_skipped_not_sent_late(app):
    now = af.now()
    act = af.activity(starts_in=timedelta(hours=10), at=now)
    user = f.resident()
    af.book(user, act, at=now)
    assert _messages(user, "reminder_24h")[0].state == State.skipped
    assert _messages(user, "reminder_2h")[0].state == State.pending


def test_cancelling_the_booking_cancels_its_reminders(app):
    now = af.now()
    act = af.activity(starts_in=timedelta(days=3), at=now)
    user = f.resident()
    booking = af.book(user, act, at=now)
    bookings.cancel_booking(booking, actor=user, now=now)
    assert {m.state for m in _messages(user) if m.template.startswith("reminder")} == {State.cancelled}


def test_moving_the_session_moves_the_reminders_and_tells_the_resident(app):
    now = af.now()
    act = af.activity(starts_in=timedelta(days=3), at=now)
    user = f.resident()
    af.book(user, act, at=now)
    session = af.first_session(act)
    new_start = session.starts_at + timedelta(days=1)
    activities.move_session(
        session, starts_at=new_start, ends_at=new_start + timedelta(hours=2), actor=f.staff(act.venue), now=now
    )
    assert _messages(user, "reminder_24h")[0].due_at == new_start - timedelta(hours=24)
    assert _messages(user, "reminder_2h")[0].due_at == new_start - timedelta(hours=2)
    moved = _messages(user, "session_moved")
    assert len(moved) == 1 and moved[0].context["session_starts_at"] == {"$dt": new_start.isoformat()}


def test_cancelling_a_session_the_same_day_is_urgent_and_stops_reminders(app):
    now = af.now()
    act = af.activity(starts_in=timedelta(hours=5), at=now)
    user = f.resident()
    af.book(user, act, at=now)
    activities.cancel_session(af.first_session(act), reason="停电", actor=f.staff(act.venue), now=now)
    cancelled = _messages(user, "session_cancelled")
    same_day = to_local(af.first_session(act).starts_at).date() == to_local(now).date()
    assert len(cancelled) == 1 and cancelled[0].is_urgent is same_day
    assert _messages(user, "reminder_2h")[0].state == State.cancelled


def test_the_same_event_twice_stores_one_message(app):
    now = af.now()
    act = af.activity(starts_in=timedelta(days=2), at=now)
    user = f.resident()
    booking = af.book(user, act, at=now)
    from bookings import notifications

    notifications.schedule_reminders(booking, now)
    assert len(_messages(user, "reminder_24h")) == 1


def test_room_reservation_decisions_are_sent_to_the_group(app):
    from datetime import time

    from core.i18n import local_datetime, local_today
    from rooms import services as reservations

    venue = f.venue()
    room = f.room(venue)
    user = f.resident()
    staff = f.staff(venue)
    group = {"name": "夕阳红合唱团", "kind": "team", "contact_name": "张", "contact_phone": "13800000001"}
    first, second = (local_datetime(local_today() + timedelta(days=d), time(10)) for d in (3, 4))
    approved = reservations.request_reservation(
        room,
        data={
            "starts_at": first,
            "ends_at": first + timedelta(hours=2),
            "purpose": "合唱排练",
            "attendees": 10,
            "group": group,
        },
        actor=user,
    )
    declined = reservations.request_reservation(
        room,
        data={
            "starts_at": second,
            "ends_at": second + timedelta(hours=2),
            "purpose": "合唱排练",
            "attendees": 10,
            "group": group,
        },
        actor=user,
    )
    reservations.approve_reservation(approved, actor=staff)
    reservations.reject_reservation(declined, reason="当天有演出", actor=staff)
    sent = _messages(user)
    assert [m.template for m in sent] == ["room_reservation_approved", "room_reservation_rejected"]
    assert sent[1].context["reason"] == "当天有演出"
