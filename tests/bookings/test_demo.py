"""The demo seeder: activities across the network and bookings for the demo residents, idempotent."""

from activities.models import Activity, ActivityStatus
from bookings import demo as bookings_demo
from bookings.models import Booking, BookingStatus
from core.extensions import db
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
