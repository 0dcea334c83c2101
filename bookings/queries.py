"""Reads on bookings: a resident's lists, a session's roster, the short code on a booking."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from activities.models import Activity, Session
from bookings.models import SEAT_STATUSES, Booking, BookingStatus, unit_key_for


def booking_code(booking: Booking) -> str:
    """The 8-character code a person can read out or type at the door (see core.tickets)."""
    from core.tickets import code_for

    return code_for(booking.id)


def printed_code(booking: Booking) -> str:
    """The code as every page prints it, in two groups of four ('K7MX-4Q2B'), the same as on the ticket."""
    from core.tickets import format_code

    return format_code(booking_code(booking))


def bookings_of(user, *, status: BookingStatus | None = None):
    """The account's bookings, newest first, with what the lists show loaded."""
    stmt = (
        select(Booking)
        .where(Booking.user_id == user.id)
        .options(
            selectinload(Booking.activity).selectinload(Activity.sessions),
            selectinload(Booking.session),
            selectinload(Booking.participants),
        )
        .order_by(Booking.created_at.desc(), Booking.id.desc())
    )
    if status is not None:
        stmt = stmt.where(Booking.status == status)
    return stmt


def my_bookings(user, now: datetime) -> dict[str, list[Booking]]:
    """The resident's bookings sorted into upcoming, waiting (list or offer), lottery entries and past."""
    from core.extensions import db

    groups: dict[str, list[Booking]] = {"upcoming": [], "waiting": [], "lottery": [], "pending": [], "past": []}
    for booking in db.session.execute(bookings_of(user)).scalars():
        ends = booking.ends_at
        if booking.status == BookingStatus.entered:
            groups["lottery"].append(booking)
        elif booking.status in (BookingStatus.waitlisted, BookingStatus.offered):
            groups["waiting"].append(booking)
        elif booking.status == BookingStatus.pending:
            groups["pending"].append(booking)
        elif booking.status == BookingStatus.confirmed and (ends is None or ends > now):
            groups["upcoming"].append(booking)
        else:
            groups["past"].append(booking)
    groups["upcoming"].sort(key=lambda b: b.starts_at or now)
    return groups


def session_bookings(session: Session, *, status: BookingStatus | None = None):
    """Bookings that concern a session: its own, or the course's enrolments for a lesson."""
    stmt = (
        select(Booking)
        .where(Booking.unit_key == unit_key_for(session.activity, session))
        .options(selectinload(Booking.user), selectinload(Booking.participants))
        .order_by(Booking.status, Booking.draw_rank, Booking.id)
    )
    if status is not None:
        stmt = stmt.where(Booking.status == status)
    return stmt


def roster(session: Session) -> list[Booking]:
    """Who holds seats for a session (confirmed or offered), for the door and the CSV export."""
    from core.extensions import db

    stmt = session_bookings(session).where(Booking.status.in_(SEAT_STATUSES | {BookingStatus.attended}))
    return list(db.session.execute(stmt).scalars())
