"""The demo seeder: activities across the network and bookings for the demo residents, idempotent."""

from datetime import time, timedelta

import pytest

from accounts.services import find_by_login
from activities.models import Activity, ActivityStatus, Session
from bookings import checkin_demo
from bookings import demo as bookings_demo
from bookings.checkin_queries import door_sessions
from bookings.models import Booking, BookingStatus
from core.db import utcnow
from core.extensions import db
from core.i18n import local_datetime, local_today, to_local
from venues import demo as venues_demo


def _seed():
    venues_demo.seed(1)
    db.session.commit()
    bookings_demo.seed(1)
    db.session.commit()


def test_demo_seed_is_idempotent_and_books_for_the_demo_residents(app):
    _seed()
    activities, bookings = db.session.query(Activity).count(), db.session.query(Booking).count()
    _seed()
    assert db.session.query(Activity).count() == activities >= 10
    assert db.session.query(Booking).count() == bookings
    assert db.session.query(Activity).filter_by(status=ActivityStatus.published).count() == activities
    statuses = {b.status for b in db.session.query(Booking)}
    assert {BookingStatus.confirmed, BookingStatus.entered, BookingStatus.waitlisted, BookingStatus.pending} <= statuses
    lottery = db.session.query(Activity).filter_by(title="中老年声乐班").one()
    assert db.session.query(Booking).filter_by(activity_id=lottery.id).count() > 3


@pytest.mark.parametrize("clock", [time(3), time(15), time(22, 30)])
def test_the_demo_looks_right_whatever_the_hour_it_is_started(app, travel, clock):
    day = local_today() + timedelta(days=37)  # any day: the demo is relative to the day it runs
    travel(local_datetime(day, clock))
    _seed()
    checkin_demo.seed(1)
    db.session.commit()
    now = utcnow()
    sessions = db.session.query(Session).all()
    hours = {to_local(s.starts_at).time() for s in sessions}
    assert all(time(8) <= h <= time(20) for h in hours), sorted(hours)  # a screening at 19:00, never at 04:15
    screenings = db.session.query(Activity).filter_by(title=checkin_demo.TITLE).one().live_sessions
    assert screenings and all(s.starts_at > now for s in screenings)
    expected_day = day if clock < time(19) else day + timedelta(days=1)
    assert {local_today(s.starts_at) for s in screenings} == {expected_day}  # today's, or tomorrow's once over
    assert all(s.seats_taken > 0 for s in screenings)  # tickets for the door to scan
    door = find_by_login("door")
    assert door_sessions(door, screenings[0].starts_at) != []
    assert any(s.seats_left > 0 and s.starts_at > now for s in sessions)  # something to book
    full = db.session.query(Activity).filter_by(title="剪纸小课堂（体验场）").one()
    assert full.live_sessions[0].seats_left == 0  # something full, with a waiting list
    lottery = db.session.query(Activity).filter_by(title="少儿书法启蒙班").one()
    assert lottery.signup_closes_at > now  # a lottery still taking entries
