"""A booking's statement count, pinned (docs/performance.md, hot paths), on PostgreSQL through
`POST /api/v1/bookings`: the caller's row (unless the process has it), the unit with the caller's participants and
own booking of it, and one statement taking the seat and storing the booking and its participants; a refusal of a
full session is the first two only. The notifications' own statements (bookings/notifications.py) are not counted
here: they belong to notify."""

import pytest

from accounts.auth import issue_token
from core.extensions import db
from tests import activity_factories as af
from tests import factories as f
from tests.dbs import recorded_statements

NOTIFY_TABLES = ("notification_preferences", "messages", "notify_", "reminder")


def _own(statements: list[str]) -> list[str]:
    return [s for s in statements if not any(t in s for t in NOTIFY_TABLES)]


@pytest.fixture
def pg(is_postgres):
    if not is_postgres:
        pytest.skip("the one-statement seat and booking is PostgreSQL's")


def _book(client, headers, session_id):
    db.session.remove()
    with recorded_statements(db) as sent:
        answer = client.post("/api/v1/bookings", json={"session_id": session_id}, headers=headers)
    return answer, sent


def test_a_booking_is_three_statements_and_a_refusal_of_a_full_session_two(client, app, pg):
    act = af.activity(capacity=1, has_waiting_list=False)
    session_id = af.first_session(act).id
    first, late = f.resident(), f.resident()
    f.commit()
    first, late = ({"Authorization": f"Bearer {issue_token(u)[0]}"} for u in (first, late))
    booked, sent = _book(client, first, session_id)
    assert booked.status_code == 201, booked.json
    assert len(_own(sent)) == 3, _own(sent)
    assert booked.json["status"] == "confirmed" and booked.json["participant_ids"]
    refused, sent = _book(client, late, session_id)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "full"
    assert len(sent) == 2, sent
    again, sent = _book(client, first, session_id)  # the holder still hears "already booked"
    assert again.json["error"]["code"] == "duplicate"
    assert len(sent) == 2, sent


def test_the_booking_written_in_one_statement_reads_back_the_same(client, app, pg):
    from bookings.models import Booking

    act = af.activity(capacity=5)
    user = f.resident()
    kid = af.member(user)
    f.commit()
    headers = {"Authorization": f"Bearer {issue_token(user)[0]}"}
    body = {"session_id": af.first_session(act).id, "participant_ids": [user.self_participant.id, kid.id]}
    answer = client.post("/api/v1/bookings", json=body, headers=headers)
    assert answer.status_code == 201, answer.json
    db.session.remove()
    stored = db.session.get(Booking, answer.json["id"])
    assert stored.status.value == "confirmed" and stored.is_active and stored.party_size == 2
    assert sorted(p.id for p in stored.participants) == sorted(body["participant_ids"])
    assert af.first_session(stored.activity).seats_taken == 2
    assert answer.json["created_at"] and answer.json["code"]


def test_a_session_seen_full_refuses_with_no_statement_of_its_own_for_the_hints_second(
    client, app, pg, monkeypatch, moved_clock
):
    from bookings import api

    moved_clock.on(api)
    monkeypatch.setitem(app.config, "FULL_HINT_SECONDS", 1)
    api._full_units.clear()
    act = af.activity(capacity=1, has_waiting_list=False)
    session_id = af.first_session(act).id
    people = [f.resident() for _ in range(4)]
    f.commit()
    holder, second, third, fourth = ({"Authorization": f"Bearer {issue_token(u)[0]}"} for u in people)
    booked, _sent = _book(client, holder, session_id)
    assert booked.status_code == 201
    refused, sent = _book(client, second, session_id)
    assert refused.json["error"]["code"] == "full" and len(sent) == 3  # caller, unit, and the hint's one read
    refused, sent = _book(client, third, session_id)
    assert refused.json["error"]["code"] == "full"
    assert len(sent) == 1, sent  # the caller's row only: the unit is not read
    again, sent = _book(client, holder, session_id)
    assert again.json["error"]["code"] == "duplicate" and again.json["error"]["booking_id"] == booked.json["id"]
    assert len(sent) == 1
    moved_clock.advance(1.1)  # the hint is over: the database is asked again
    refused, sent = _book(client, fourth, session_id)
    assert refused.json["error"]["code"] == "full" and len(sent) == 3
    api._full_units.clear()


def test_a_full_course_is_not_hinted_full_by_its_lessons(client, app, pg, monkeypatch):
    """A course's seats are the activity's: a `full` refusal given for one of its lessons leaves no hint, so the
    one enrolled still hears `duplicate` (with their booking) when they ask for that lesson again."""
    from bookings import api

    monkeypatch.setitem(app.config, "FULL_HINT_SECONDS", 1)
    api._full_units.clear()
    course = af.activity(kind="course", capacity=1, sessions=3, has_waiting_list=False)
    lesson_id = af.first_session(course).id
    holder_user, other_user = f.resident(), f.resident()
    f.commit()
    holder, other = ({"Authorization": f"Bearer {issue_token(u)[0]}"} for u in (holder_user, other_user))
    enrolled = client.post("/api/v1/bookings", json={"activity_id": course.id}, headers=holder)
    assert enrolled.status_code == 201
    refused, _sent = _book(client, other, lesson_id)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "full"
    assert not api._full_units
    again, _sent = _book(client, holder, lesson_id)
    assert again.json["error"]["code"] == "duplicate"
    api._full_units.clear()


def test_a_confirmations_messages_statement_keeps_one_plan(app, pg):
    """The messages INSERT … SELECT every confirmation runs is planned once per connection, not at every booking:
    after psycopg prepares it (its 5th run) PostgreSQL keeps the generic plan, as it does for the seat statement.
    Written with `= ANY(:ids)` it was planned afresh each time (custom plans only; ~2 ms a booking)."""
    from datetime import timedelta

    from sqlalchemy import text

    from bookings import notifications
    from bookings import services as bookings
    from core.db import utcnow

    act = af.activity(capacity=20)
    people = [f.resident() for _ in range(16)]
    f.commit()
    session = af.first_session(act)
    booked = [bookings.book(u, data=bookings.BookingRequest(activity=act, session=session), actor=u) for u in people]
    now = utcnow() - timedelta(minutes=1)
    for booking in booked:  # one transaction, one connection: the plan counts are this connection's
        notifications.schedule_reminders(booking, now)
    plans = db.session.execute(
        text(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE 'INSERT INTO messages%'"
        )
    ).all()
    assert len(plans) == 2, plans  # the confirmation's (from book) and the reminders' (schedule_reminders)
    for generic, custom in plans:  # PostgreSQL tries 5 custom plans, then keeps the generic one if no dearer
        assert custom == 5 and generic >= 5, plans
    db.session.rollback()
