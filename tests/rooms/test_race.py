"""Fifty groups race for one slot, with threads and real commits: exactly one gets the room."""

from datetime import timedelta

from accounts.models import User
from core.extensions import db
from rooms import services
from rooms.jobs import release_unused
from rooms.models import ReservationStatus, RoomReservation
from tests import factories as f
from tests.concurrency import race
from tests.rooms.fixtures import DAY, NOW, at, payload
from venues.models import Room, RoomOccupancy


def test_fifty_overlapping_requests_for_one_slot_give_exactly_one_reservation(app, net):
    residents = [f.resident(name=f"居民{i}").id for i in range(50)]
    room_id = net["room"].id
    f.commit()

    def attempt(i):
        room, actor = db.session.get(Room, room_id), db.session.get(User, residents[i])
        start = at(DAY, 9) + timedelta(minutes=i % 30)  # every request overlaps every other
        data = payload(start, start + timedelta(hours=2), group={"name": f"团队{i}", "contact_phone": "13900000002"})
        services.request_reservation(room, data=data, actor=actor, now=NOW)

    outcomes = race(app, attempt, 50, threads=25)
    assert outcomes == {"ok": 1, "conflict": 49}
    assert db.session.query(RoomReservation).count() == 1
    assert db.session.query(RoomOccupancy).filter_by(room_id=room_id, is_active=True).count() == 1


def test_a_check_in_racing_the_release_sweeper_has_one_winner(app, net, reserve):
    r = reserve(at(DAY, 9), at(DAY, 11))
    services.approve_reservation(r, actor=net["staff"], now=NOW)
    reservation_id, staff_id = r.id, net["staff"].id
    f.commit()

    def attempt(i):
        if i % 2:
            release_unused(at(DAY, 9, 25))
        else:
            services.check_in_reservation(
                db.session.get(RoomReservation, reservation_id),
                actor=db.session.get(User, staff_id),
                now=at(DAY, 9, 25),
            )

    outcomes = race(app, attempt, 10, threads=10)
    final = db.session.get(RoomReservation, reservation_id)
    db.session.refresh(final)
    if final.status == ReservationStatus.checked_in:
        assert outcomes["ok"] == 6 and final.occupancy.is_active  # one check-in, the sweepers found nothing
    else:
        assert final.status == ReservationStatus.released and not final.occupancy.is_active
        assert outcomes["ok"] == 5  # every sweeper ran, every check-in was refused
