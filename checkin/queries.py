"""Reads for the door: a session's offline roster, today's sessions a scanner may open, attendance counts."""

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from accounts.models import CHECKIN_ROLES, User
from activities.models import Activity, ActivityStatus, Session, SessionStatus
from bookings.models import Booking, BookingStatus
from checkin.models import CheckIn, CheckInConflict
from checkin.services import OPENS_BEFORE, holder_name, walk_in_total, window_of
from core import tickets
from core.extensions import db
from core.i18n import local_datetime, local_today
from rooms.models import ReservationStatus, RoomReservation
from venues.models import Room, Venue
from venues.queries import subtree_clause

# Statuses a door may meet: holders (confirmed), and those to turn away with a reason.
ROSTER_STATUSES = (
    BookingStatus.confirmed,
    BookingStatus.attended,
    BookingStatus.cancelled,
    BookingStatus.pending,
    BookingStatus.waitlisted,
    BookingStatus.offered,
    BookingStatus.no_show,
)


def unit_key_of(session: Session) -> str:
    activity = session.activity
    return f"c{activity.id}" if activity.is_course else f"s{session.id}"


def session_roster(session: Session, now: datetime) -> dict:
    """What a scanner needs to check `session` offline.

    Tickets appear only as one-way fingerprints (SHA-256 of the QR payload, whose 80-bit signature no search
    can find), so a lost phone cannot print tickets. Typed codes are not on the roster at all: a code has only
    40 bits, so any fingerprint of it that a phone can check offline could be reversed by trying every code
    (SECURITY.md); typed codes are checked online only.
    """
    bookings = (
        db.session.execute(
            select(Booking)
            .where(Booking.unit_key == unit_key_of(session), Booking.status.in_(ROSTER_STATUSES))
            .options(selectinload(Booking.user))
            .order_by(Booking.id)
        )
        .scalars()
        .all()
    )
    checkins = {
        c.booking_id: c
        for c in db.session.execute(
            select(CheckIn).where(CheckIn.session_id == session.id).options(selectinload(CheckIn.checked_in_by))
        ).scalars()
    }
    opens, closes = window_of(session)
    items = []
    for booking in bookings:
        checkin = checkins.get(booking.id)
        status = booking.status
        items.append(
            {
                "booking_id": booking.id,
                "ticket": tickets.fingerprint(tickets.payload_for(booking.id)),
                "holder": holder_name(booking),
                "party_size": booking.party_size,
                "status": "confirmed" if status == BookingStatus.attended else str(status),
                "checked_in_at": checkin.checked_in_at if checkin else None,
                "checked_in_by": (checkin.checked_in_by.name if checkin and checkin.checked_in_by else None),
            }
        )
    activity = session.activity
    return {
        "session": {
            "id": session.id,
            "activity_id": activity.id,
            "title": activity.title,
            "venue": activity.venue.name,
            "starts_at": session.starts_at,
            "ends_at": session.ends_at,
            "opens_at": opens,
            "closes_at": closes,
            "status": str(session.status),
        },
        "generated_at": now,
        "walk_ins": walk_in_total(session),
        "checked_in": sum(c.party_size for c in checkins.values()),
        "conflicts": conflict_count(session),
        "items": items,
    }


def conflict_count(session: Session) -> int:
    return db.session.execute(
        select(func.count(CheckInConflict.id)).where(CheckInConflict.session_id == session.id)
    ).scalar_one()


def door_sessions(user: User, now: datetime) -> list[Session]:
    """Today's live sessions (local day) at venues in the user's check-in scope, plus any whose door is open now."""
    today = local_today(now)
    day_start = local_datetime(today, datetime.min.time())
    day_end = day_start + timedelta(days=1)
    stmt = (
        select(Session)
        .join(Activity, Activity.id == Session.activity_id)
        .join(Venue, Venue.id == Activity.venue_id)
        .where(
            subtree_clause(user.scope_paths(CHECKIN_ROLES)),
            Session.status == SessionStatus.scheduled,
            Activity.status == ActivityStatus.published,
            Session.ends_at > day_start,
            Session.starts_at < day_end + OPENS_BEFORE,
        )
        .options(selectinload(Session.activity).selectinload(Activity.venue))
        .order_by(Session.starts_at, Session.id)
    )
    return list(db.session.execute(stmt).scalars())


def door_reservations(user: User, now: datetime) -> list[RoomReservation]:
    """Today's approved and checked-in room reservations (local day) at venues in the user's check-in scope."""
    day_start = local_datetime(local_today(now), datetime.min.time())
    stmt = (
        select(RoomReservation)
        .join(Room, Room.id == RoomReservation.room_id)
        .join(Venue, Venue.id == Room.venue_id)
        .where(
            subtree_clause(user.scope_paths(CHECKIN_ROLES)),
            RoomReservation.status.in_([ReservationStatus.approved, ReservationStatus.checked_in]),
            RoomReservation.starts_at >= day_start,
            RoomReservation.starts_at < day_start + timedelta(days=1),
        )
        .options(selectinload(RoomReservation.room).selectinload(Room.venue), selectinload(RoomReservation.group))
        .order_by(RoomReservation.starts_at, RoomReservation.id)
        .limit(200)
    )
    return list(db.session.execute(stmt).scalars())


def attendance_of(session: Session) -> dict:
    """Checked-in people (party sizes), check-ins and walk-ins of a session: what the reports add up."""
    people, rows = db.session.execute(
        select(func.coalesce(func.sum(CheckIn.party_size), 0), func.count(CheckIn.id)).where(
            CheckIn.session_id == session.id
        )
    ).one()
    return {"checked_in_people": people, "tickets_checked_in": rows, "walk_ins": walk_in_total(session)}


def attendance_list(session: Session) -> dict:
    """A session's check-ins (with who admitted them) and the flagged second admissions, for staff."""
    checkins = (
        db.session.execute(
            select(CheckIn)
            .where(CheckIn.session_id == session.id)
            .options(selectinload(CheckIn.booking).selectinload(Booking.user), selectinload(CheckIn.checked_in_by))
            .order_by(CheckIn.checked_in_at, CheckIn.id)
        )
        .scalars()
        .all()
    )
    conflicts = (
        db.session.execute(
            select(CheckInConflict)
            .where(CheckInConflict.session_id == session.id)
            .options(
                selectinload(CheckInConflict.checkin).selectinload(CheckIn.booking).selectinload(Booking.user),
                selectinload(CheckInConflict.scanned_by),
            )
            .order_by(CheckInConflict.scanned_at)
        )
        .scalars()
        .all()
    )
    return {"checkins": checkins, "conflicts": conflicts, **attendance_of(session)}
