"""The demo seeder makes a few requests, approves some, and is idempotent."""

from bookings.reservations import demo
from bookings.reservations.models import ReservationStatus, RoomReservation
from core.extensions import db
from tests import factories as f


def test_the_demo_seeder_is_idempotent(app):
    net = f.network()
    f.room(net["hub"], capacity=80)
    f.room(net["branch"], capacity=60)
    f.staff(net["hub"])
    f.resident("13800000002", name="李建国")
    f.resident("13800000003", name="王丽")
    demo.seed()
    demo.seed()
    statuses = sorted(r.status for r in db.session.query(RoomReservation))
    assert len(statuses) == 4
    assert statuses.count(ReservationStatus.approved) == 1
