"""Scheduled work for room reservations: idempotent sweepers over database state."""

from datetime import datetime

from sqlalchemy import select

from core.extensions import db
from rooms.models import RELEASE_AFTER, ReservationStatus, RoomReservation
from rooms.services import expire_reservation, release_reservation


def release_unused(now: datetime) -> int:
    """Release approved reservations with no check-in 20 minutes after their start; returns how many.

    Each one frees its room and counts as a no-show for its group (the third within 90 days suspends
    the group for 30 days). Claim by a conditional UPDATE, so a check-in racing the sweeper wins or
    loses cleanly, and running the job twice releases nothing more. Commits once per reservation.
    """
    ids = list(
        db.session.execute(
            select(RoomReservation.id)
            .where(
                RoomReservation.status == ReservationStatus.approved,
                RoomReservation.checked_in_at.is_(None),
                RoomReservation.starts_at <= now - RELEASE_AFTER,
            )
            .order_by(RoomReservation.starts_at)
        ).scalars()
    )
    released = 0
    for reservation_id in ids:
        reservation = db.session.get(RoomReservation, reservation_id)
        if reservation is not None and release_reservation(reservation, now=now):
            released += 1
        db.session.commit()
    return released


def expire_undecided(now: datetime) -> int:
    """Reject pending requests whose start has passed without a decision; returns how many.

    The group sees them as not decided in time and the room is freed. Idempotent like `release_unused`.
    """
    ids = list(
        db.session.execute(
            select(RoomReservation.id)
            .where(RoomReservation.status == ReservationStatus.pending, RoomReservation.starts_at <= now)
            .order_by(RoomReservation.starts_at)
        ).scalars()
    )
    expired = 0
    for reservation_id in ids:
        reservation = db.session.get(RoomReservation, reservation_id)
        if reservation is not None and expire_reservation(reservation, now=now):
            expired += 1
        db.session.commit()
    return expired


# What the scheduler runs, and how often: name → (job, seconds between runs), as in bookings.jobs.
JOBS = {
    "release_unused_rooms": (release_unused, 300),
    "expire_undecided_rooms": (expire_undecided, 900),
}
