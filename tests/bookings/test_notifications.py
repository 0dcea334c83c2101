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


def test_the_set_based_enqueue_follows_the_rules_and_stores_each_key_once(app):
    from bookings import notifications
    from notify import services as notify_services

    now = af.now()
    act = af.activity(starts_in=timedelta(days=3), at=now)
    course = af.activity(kind="course", sessions=3, starts_in=timedelta(hours=10), at=now, title="书法班")
    everyone, no_sms, leaving, pupil = (f.resident() for _ in range(4))
    notify_services.set_preferences(no_sms, data={"sms": False})
    booked = [af.book(u, act, at=now) for u in (everyone, no_sms, leaving)]
    enrolled = af.book(pupil, course, at=now)
    bookings.cancel_booking(booked[2], actor=leaving, now=now)
    db.session.execute(Message.__table__.delete())  # what the confirmations enqueued: start afresh
    ids = [b.id for b in booked] + [enrolled.id]
    assert notifications.schedule_reminders_many(ids, now) == 2 * 2 + 2 * 1 + 3 * 2 * 2
    assert notifications.schedule_reminders_many(ids, now) == 0  # exactly once: the dedupe keys hold

    def rows(user):
        stmt = select(Message).where(Message.recipient_id == user.id).order_by(Message.id)
        return [(m.channel.value, m.template, m.state.value, m.due_at) for m in db.session.scalars(stmt)]

    start = af.first_session(act).starts_at
    assert rows(everyone) == [
        ("sms", "reminder_24h", "pending", start - timedelta(hours=24)),
        ("inbox", "reminder_24h", "pending", start - timedelta(hours=24)),
        ("sms", "reminder_2h", "pending", start - timedelta(hours=2)),
        ("inbox", "reminder_2h", "pending", start - timedelta(hours=2)),
    ]
    assert [r[0] for r in rows(no_sms)] == ["inbox", "inbox"]  # preferences
    assert rows(leaving) == []  # a cancelled booking gets none
    lessons = sorted(course.sessions, key=lambda s: s.starts_at)
    got = rows(pupil)
    assert len(got) == 12 and [r[3] for r in got[::2]] == [
        s.starts_at - before for s in lessons for before in (timedelta(hours=24), timedelta(hours=2))
    ]
    assert got[0][2] == "skipped" and got[2][2] == "pending"  # the first lesson's 24 h one was already late
    late = db.session.scalars(select(Message).where(Message.state == State.skipped)).first()
    assert late.last_error == "too late when enqueued" and late.expires_at == lessons[0].starts_at


def test_the_sql_built_context_renders_as_the_python_one(app):
    """The INSERT … SELECT writes the context `context_for` builds (the code as a tag notify renders; the
    calendar event on e-mail rows only, the channel that attaches it)."""
    from bookings import notifications
    from bookings.queries import booking_code
    from notify.rendering import encode_context, render

    now = af.now()
    room = f.room(f.venue())
    act = af.activity(room.venue, starts_in=timedelta(days=2, minutes=7), at=now, title="京剧入门")
    session = af.first_session(act)
    session.room_id = room.id
    user = f.resident()
    user.email = "zhang@example.org"
    booking = af.book(user, act, at=now)
    db.session.execute(Message.__table__.delete())
    notifications.on_confirmed(booking, now=now, via="booking")
    rows = list(db.session.scalars(select(Message).where(Message.recipient_id == user.id).order_by(Message.id)))
    assert [(m.template, m.channel.value) for m in rows] == [
        (t, c) for t in ("booking_confirmed", "reminder_24h", "reminder_2h") for c in ("sms", "email", "inbox")
    ]
    python = encode_context(notifications.context_for(booking, session))
    for message in rows:
        mine, theirs = render(message.template, message.context, "zh_CN"), render(message.template, python, "zh_CN")
        assert (mine.sms, mine.subject, mine.body) == (theirs.sms, theirs.subject, theirs.body)
        assert render(message.template, message.context, "en").sms == render(message.template, python, "en").sms
        assert mine.event == (theirs.event if message.channel == "email" else None)
    reminder = next(m for m in rows if m.template == "reminder_2h" and m.channel == "sms")
    assert booking_code(booking) in render("reminder_2h", reminder.context, "zh_CN").sms
    email = next(m for m in rows if m.template == "reminder_24h" and m.channel == "email")
    assert email.context["event"]["location"] == f"{act.venue.name} {room.name}"
