"""A room is taken through one mechanism; overlaps (with the 15-minute buffer) are impossible."""

from datetime import UTC, datetime, timedelta

import pytest

from core.extensions import db
from tests import factories as f
from tests.concurrency import race
from venues.models import OccupancySource, Room, RoomOccupancy, VenueKind
from venues.services import RoomConflict, occupy_room, release_room

T0 = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)


def _take(room, start, minutes=60):
    return occupy_room(
        room, starts_at=start, ends_at=start + timedelta(minutes=minutes), source=OccupancySource.reservation
    )


def test_overlapping_and_buffer_clashes_are_refused_with_the_conflicting_interval(app):
    room = f.room(f.venue(VenueKind.hub))
    _take(room, T0)
    with pytest.raises(RoomConflict) as overlap:
        _take(room, T0 + timedelta(minutes=30))
    assert overlap.value.extra["conflicts"][0]["starts_at"] == T0
    with pytest.raises(RoomConflict):
        _take(room, T0 + timedelta(minutes=70))  # inside the 15-minute turnover
    assert _take(room, T0 + timedelta(minutes=75)).starts_at == T0 + timedelta(minutes=75)
    with pytest.raises(RoomConflict):
        _take(room, T0 - timedelta(minutes=70))  # ends 10 minutes before T0: buffer clash


def test_a_released_occupancy_frees_the_room(app):
    room = f.room(f.venue(VenueKind.hub))
    occ = _take(room, T0)
    release_room(occ)
    assert _take(room, T0).is_active


def test_moving_an_occupancy_does_not_clash_with_itself(app):
    room = f.room(f.venue(VenueKind.hub))
    occ = _take(room, T0)
    occupy_room(
        room,
        starts_at=T0 + timedelta(minutes=30),
        ends_at=T0 + timedelta(minutes=90),
        source=OccupancySource.reservation,
        occupancy=occ,
    )
    assert occ.starts_at == T0 + timedelta(minutes=30)


def test_other_rooms_are_independent(app):
    venue = f.venue(VenueKind.hub)
    a, b = f.room(venue, name="A"), f.room(venue, name="B")
    _take(a, T0)
    assert _take(b, T0).room_id == b.id


def test_fifty_racing_requests_for_one_slot_give_exactly_one_room(app):
    room = f.room(f.venue(VenueKind.hub))
    f.commit()
    room_id = room.id

    def attempt(i):
        r = db.session.get(Room, room_id)
        _take(r, T0 + timedelta(minutes=i % 20))  # all overlap each other

    outcomes = race(app, attempt, 50, threads=25)
    assert outcomes == {"ok": 1, "conflict": 49}
    assert db.session.query(RoomOccupancy).filter_by(room_id=room_id, is_active=True).count() == 1


def test_the_database_itself_refuses_an_overlap_on_postgresql(app, is_postgres):
    if not is_postgres:
        pytest.skip("the exclusion constraint is PostgreSQL's; SQLite serialises writers instead")
    from sqlalchemy.exc import IntegrityError

    room = f.room(f.venue(VenueKind.hub))
    for _ in range(2):
        db.session.add(
            RoomOccupancy(
                room_id=room.id,
                starts_at=T0,
                ends_at=T0 + timedelta(hours=1),
                blocked_until=T0 + timedelta(minutes=75),
                source=OccupancySource.session,
            )
        )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
