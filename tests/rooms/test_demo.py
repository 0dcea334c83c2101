"""The demo seeder makes a few requests, approves some, and is idempotent."""

from core.extensions import db
from rooms import demo
from rooms.models import ReservationStatus, RoomReservation
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
