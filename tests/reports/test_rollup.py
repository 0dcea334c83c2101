"""The daily roll-up equals a direct count over the raw rows, is idempotent, and follows changes."""

from datetime import timedelta

from sqlalchemy import func, select

from activities import services as activities
from bookings.models import Booking, BookingStatus
from checkin import services as checkin
from checkin.models import CheckIn, WalkIn
from core.extensions import db
from reports.models import DailyAttendance
from reports.rollup import rollup_attendance
from tests.reports.scenario import AFTER, build


def rolled() -> dict:
    row = db.session.execute(
        select(
            func.sum(DailyAttendance.sessions_held),
            func.sum(DailyAttendance.checked_in),
            func.sum(DailyAttendance.walk_ins),
            func.sum(DailyAttendance.bookings),
            func.sum(DailyAttendance.no_shows),
        )
    ).one()
    return dict(
        zip(("sessions", "checked_in", "walk_ins", "bookings", "no_shows"), [int(x or 0) for x in row], strict=True)
    )


def direct() -> dict:
    """The same figures straight from the raw tables, written independently of reports/."""
    q = db.session.execute
    return {
        "sessions": q(
            select(func.count()).select_from(select(CheckIn.session_id).union(select(WalkIn.session_id)).subquery())
        ).scalar_one(),
        "checked_in": q(select(func.coalesce(func.sum(CheckIn.party_size), 0))).scalar_one(),
        "walk_ins": q(select(func.coalesce(func.sum(WalkIn.count), 0))).scalar_one(),
        "bookings": q(
            select(func.count(Booking.id)).where(
                Booking.status.in_((BookingStatus.confirmed, BookingStatus.attended, BookingStatus.no_show))
            )
        ).scalar_one(),
        "no_shows": q(select(func.count(Booking.id)).where(Booking.status == BookingStatus.no_show)).scalar_one(),
    }


def test_the_roll_up_equals_a_direct_count_over_the_raw_rows(app):
    build()
    rollup_attendance(AFTER)
    db.session.commit()
    assert rolled() == direct()
    assert rolled() == {
        "sessions": 6,
        "checked_in": 3 * 3 + 2 + 2 * 1,
        "walk_ins": 3 * 2 + 10,
        "bookings": 3 * 4 + 2 + 2 * 3,
        "no_shows": 3 * 1 + 2 * 2,
    }


def test_running_the_roll_up_twice_writes_the_same_rows(app):
    build()
    rollup_attendance(AFTER)
    db.session.commit()
    first = sorted(
        db.session.execute(select(DailyAttendance.day, DailyAttendance.venue_id, DailyAttendance.checked_in)).all()
    )
    result = rollup_attendance(AFTER)
    db.session.commit()
    again = sorted(
        db.session.execute(select(DailyAttendance.day, DailyAttendance.venue_id, DailyAttendance.checked_in)).all()
    )
    assert first == again
    assert result["rows"] == len(again)


def test_a_later_walk_in_is_picked_up_by_the_next_incremental_run(app):
    sc = build()
    session = sc.activities[0].sessions[0]
    rollup_attendance(session.starts_at + timedelta(minutes=30))
    db.session.commit()
    before = rolled()
    checkin.count_walk_ins(session, count=7, actor=sc.manager, now=session.starts_at + timedelta(hours=1))
    db.session.commit()
    result = rollup_attendance(AFTER)
    db.session.commit()
    assert rolled()["walk_ins"] == before["walk_ins"] + 7
    assert rolled() == direct()
    assert result["days"] >= 1


def test_a_moved_session_leaves_no_count_behind_on_its_old_day(app):
    sc = build()
    rollup_attendance(AFTER)
    db.session.commit()
    future = sc.activities[2]  # the lecture in April: make a new one in the future to move
    act = future
    # A session not yet started can be moved; add one in July and roll it up, then move it to August.
    start = AFTER + timedelta(days=5)
    s = activities.add_session(act, starts_at=start, ends_at=start + timedelta(hours=2), actor=sc.manager, now=AFTER)
    db.session.commit()
    rollup_attendance(start + timedelta(hours=3))
    db.session.commit()
    july = db.session.execute(
        select(func.sum(DailyAttendance.sessions_held)).where(DailyAttendance.month == 7)
    ).scalar_one()
    assert july == 1
    activities.move_session(
        s,
        starts_at=start + timedelta(days=30),
        ends_at=start + timedelta(days=30, hours=2),
        actor=sc.manager,
        now=AFTER,
    )
    db.session.commit()
    rollup_attendance(start + timedelta(hours=4))
    db.session.commit()
    july = db.session.execute(
        select(func.sum(DailyAttendance.sessions_held)).where(DailyAttendance.month == 7)
    ).scalar_one()
    assert not july


def test_two_sweepers_at_once_leave_one_correct_roll_up(app):
    from tests.concurrency import race

    build()
    outcomes = race(app, lambda i: rollup_attendance(AFTER), 4)
    assert outcomes == {"ok": 4}
    assert rolled() == direct()
    keys = db.session.execute(
        select(
            DailyAttendance.day,
            DailyAttendance.venue_id,
            DailyAttendance.category,
            DailyAttendance.activity_kind,
            DailyAttendance.is_outreach,
        )
    ).all()
    assert len(keys) == len(set(keys))
