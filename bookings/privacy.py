"""Personal data (PIPL) of bookings: what the download shows (bookings, waiting-list places, lottery entries,
no-show strikes, suspensions) and what deleting the account does (every booking still to come is cancelled as
a normal cancellation is: seats freed, the waiting list offered, reminders cancelled; never a strike).
Registered in `accounts.privacy` by the composition root."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from accounts.models import User
from bookings import services, signals
from bookings.models import SEAT_STATUSES, Booking, BookingStatus, Suspension
from core import audit
from core.extensions import db

LOTTERY_STATUSES = (BookingStatus.entered, BookingStatus.not_drawn)
WAITING_STATUSES = (BookingStatus.waitlisted, BookingStatus.offered)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _bookings_of(user: User) -> list[Booking]:
    stmt = (
        select(Booking)
        .where(Booking.user_id == user.id)
        .options(selectinload(Booking.participants))
        .order_by(Booking.created_at, Booking.id)
    )
    return list(db.session.execute(stmt).scalars())


def _booking(b: Booking) -> dict:
    return {
        "id": b.id,
        "activity": b.activity.title,
        "activity_id": b.activity_id,
        "session_id": b.session_id,
        "starts_at": _iso(b.starts_at),
        "status": b.status.value,
        "party_size": b.party_size,
        "participants": [p.name for p in b.participants],
        "booked_at": _iso(b.created_at),
        "booked_by_staff": b.booked_by_id is not None and b.booked_by_id != b.user_id,
        "cancelled_at": _iso(b.cancelled_at),
        "checked_in_at": _iso(b.checked_in_at),
        "decision_reason": b.decision_reason or None,
    }


def export(user: User) -> dict:
    bookings = _bookings_of(user)
    suspensions = list(
        db.session.execute(
            select(Suspension).where(Suspension.user_id == user.id).order_by(Suspension.starts_at)
        ).scalars()
    )
    return {
        "bookings": [_booking(b) for b in bookings if b.status not in LOTTERY_STATUSES + WAITING_STATUSES],
        "waiting_list": [
            {**_booking(b), "position": services.waitlist_position(b) if b.status == BookingStatus.waitlisted else None}
            for b in bookings
            if b.status in WAITING_STATUSES
        ],
        "lottery_entries": [
            {**_booking(b), "draw_rank": b.draw_rank}
            for b in bookings
            if b.status in LOTTERY_STATUSES or b.draw_rank is not None
        ],
        "strikes": [
            {"booking_id": b.id, "activity": b.activity.title, "no_show_at": _iso(b.no_show_at)}
            for b in bookings
            if b.counted_as_no_show
        ],
        "suspensions": [
            {
                "starts_at": _iso(s.starts_at),
                "ends_at": _iso(s.ends_at),
                "reason": s.reason,
                "lifted_at": _iso(s.lifted_at),
                "lift_note": s.lift_note or None,
            }
            for s in suspensions
        ],
        # Staff actions on these bookings and suspensions (a cancellation on the person's behalf, a lifted
        # suspension): who handled the person's data, by role.
        "staff_actions": audit.entries_about(
            {"bookings": [b.id for b in bookings], "suspensions": [s.id for s in suspensions]}, not_by=user.id
        ),
    }


def erase(user: User, *, now: datetime) -> None:
    """Cancel every active booking of the account whose unit has not ended and that no one has used yet (checked
    in at the door); past and attended ones stay, without a name, for the figures."""
    for booking in _bookings_of(user):
        if not booking.is_active or booking.checked_in_at is not None:
            continue
        ends = booking.ends_at
        if ends is not None and ends <= now:
            continue
        cancel_for_deleted_account(booking, now=now)
    db.session.flush()


def cancel_for_deleted_account(booking: Booking, *, now: datetime) -> bool:
    """A cancellation like the holder's own (seats back, the waiting list offered, the booking's messages
    cancelled by its `booking_cancelled` receivers), but never late and never a strike."""
    was = booking.status
    if not services.claim_booking(
        booking, was, BookingStatus.cancelled, cancelled_at=now, hold_expires_at=None, updated_at=now
    ):
        return False
    signals.booking_cancelled.send(
        booking, counted_as_no_show=False, by_user_id=booking.user_id, **services.signal_kwargs(booking, now)
    )
    if was in SEAT_STATUSES:
        services.release_seats(booking.activity, booking.session, booking.party_size)
        services.offer_freed_seats(booking.activity, booking.session, now)
    return True
