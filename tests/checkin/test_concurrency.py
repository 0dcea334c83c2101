"""Simultaneous scans of one ticket, with real threads and real commits, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import Role, User
from activities.models import Session
from bookings.models import Booking
from checkin import services as checkin
from checkin.models import CheckIn, CheckInConflict
from core import tickets
from core.extensions import db
from tests import activity_factories as af
from tests import factories as f
from tests.concurrency import race


def _door(scanners: int):
    net = f.network()
    act = af.activity(net["station"])
    session = af.first_session(act)
    booking = af.book(f.resident(), act)
    staff = [f.staff(net["station"], Role.checkin) for _ in range(scanners)]
    f.commit()
    return (session.id, booking.id, [s.id for s in staff], session.starts_at - timedelta(minutes=20))


def _scan(session_id, booking_id, staff_id, at, **kw):
    session = db.session.get(Session, session_id)
    actor = db.session.get(User, staff_id)
    checkin.check_in(session, payload=tickets.payload_for(booking_id), actor=actor, now=at, **kw)


def _rows(model) -> int:
    return db.session.execute(select(func.count(model.id))).scalar_one()


@pytest.mark.parametrize("phones", [2, 20])
def test_simultaneous_scans_of_one_ticket_admit_exactly_once(app, phones):
    session_id, booking_id, staff_ids, at = _door(phones)
    outcomes = race(app, lambda i: _scan(session_id, booking_id, staff_ids[i], at), phones)
    assert outcomes == {"ok": 1, "already_checked_in": phones - 1}
    assert _rows(CheckIn) == 1
    booking = db.session.get(Booking, booking_id)
    assert booking.checked_in_at == at


def test_a_retry_racing_its_original_is_answered_as_before_not_counted_twice(app):
    session_id, booking_id, staff_ids, at = _door(1)
    outcomes = race(app, lambda i: _scan(session_id, booking_id, staff_ids[0], at, scan_id="same-scan-0001"), 10)
    assert outcomes == {"ok": 10}
    assert _rows(CheckIn) == 1


def test_two_offline_devices_syncing_the_same_ticket_at_once_count_once_and_flag_once(app):
    session_id, booking_id, staff_ids, at = _door(2)

    def sync(i):
        actor = db.session.get(User, staff_ids[i])
        item = checkin.ScanItem(
            scan_id=f"device-{i}-scan-1",
            scanned_at=at,
            device_id=f"device-{i}",
            payload=tickets.payload_for(booking_id),
            session=db.session.get(Session, session_id),
            session_id=session_id,
        )
        [result] = checkin.sync_scans([item], actor=actor, now=at + timedelta(minutes=5))
        assert result["status"] == "admitted" or result["conflict"]

    outcomes = race(app, sync, 2)
    assert outcomes == {"ok": 2}
    assert _rows(CheckIn) == 1 and _rows(CheckInConflict) == 1


def _scan_as_the_api_does(session_id, booking_id, staff_id, at, **kw):
    """`POST /api/v1/checkins`: the one-statement path first (PostgreSQL), the general path when it declines."""
    actor = db.session.get(User, staff_id)
    payload = tickets.payload_for(booking_id)
    if checkin.check_in_fast(session_id, payload=payload, actor=actor, now=at, **kw) is None:
        checkin.check_in(db.session.get(Session, session_id), payload=payload, actor=actor, now=at, **kw)


@pytest.mark.parametrize("phones", [2, 20])
def test_simultaneous_scans_through_the_one_statement_path_admit_exactly_once(app, phones):
    session_id, booking_id, staff_ids, at = _door(phones)
    outcomes = race(app, lambda i: _scan_as_the_api_does(session_id, booking_id, staff_ids[i], at), phones)
    assert outcomes == {"ok": 1, "already_checked_in": phones - 1}
    assert _rows(CheckIn) == 1
    booking = db.session.get(Booking, booking_id)
    assert booking.checked_in_at == at and booking.checked_in_by_id in staff_ids


def test_retries_racing_through_the_one_statement_path_count_once(app):
    session_id, booking_id, staff_ids, at = _door(1)
    scan = {"scan_id": "same-scan-0002"}
    outcomes = race(app, lambda i: _scan_as_the_api_does(session_id, booking_id, staff_ids[0], at, **scan), 10)
    assert outcomes == {"ok": 10}
    assert _rows(CheckIn) == 1
