"""What a group is told about its room reservation: decisions and cancellations become outbox messages."""

import sqlalchemy as sa

import notify
from accounts.models import User
from core.db import utcnow
from core.extensions import db
from core.tickets import code_for
from notify import scopes as notify_scopes
from rooms import signals
from rooms.models import RoomReservation


def venue_paths(reservation_ids: list[int]) -> dict[int, list[str]]:
    """Reservation id → its room's venue path: whose staff see the reservation's failed messages."""
    from venues.models import Room, Venue

    rows = db.session.execute(
        sa.select(RoomReservation.id, Venue.path)
        .join(Room, Room.id == RoomReservation.room_id)
        .join(Venue, Venue.id == Room.venue_id)
        .where(RoomReservation.id.in_(reservation_ids))
    )
    return {reservation_id: [path] for reservation_id, path in rows}


def connect() -> None:
    notify_scopes.register("room-reservation", venue_paths)
    signals.reservation_decided.connect(on_decided)
    signals.reservation_cancelled.connect(on_cancelled)


def _context(reservation: RoomReservation) -> dict:
    room = reservation.room
    return {
        "room_name": room.name,
        "venue_name": room.venue.name,
        "starts_at": reservation.starts_at,
        "ends_at": reservation.ends_at,
        "event": {
            "uid": f"room-reservation-{reservation.id}@culturenet",
            "title": reservation.purpose,
            "starts_at": reservation.starts_at,
            "ends_at": reservation.ends_at,
            "location": f"{room.venue.name} {room.name}",
        },
    }


def on_decided(reservation: RoomReservation, *, approved: bool, reason: str = "", **_kwargs) -> None:
    """Approved or declined (a request nobody decided in time counts as declined)."""
    user = db.session.get(User, reservation.requested_by_id)
    template = "room_reservation_approved" if approved else "room_reservation_rejected"
    extra = {"code": code_for(reservation.id, "R")} if approved else {"reason": reason or ""}
    notify.enqueue(
        user,
        template,
        {**_context(reservation), **extra},
        dedupe_key=f"room-reservation:{reservation.id}:decision",
        now=utcnow(),
    )


def on_cancelled(reservation: RoomReservation, *, reason: str = "", by_staff: bool = False, **_kwargs) -> None:
    """Staff cancelled an approved reservation: the group is told, with the reason."""
    if not by_staff:
        return
    user = db.session.get(User, reservation.requested_by_id)
    notify.enqueue(
        user,
        "room_reservation_rejected",
        {**_context(reservation), "reason": reason or ""},
        dedupe_key=f"room-reservation:{reservation.id}:cancelled",
        now=utcnow(),
    )
