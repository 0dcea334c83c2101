"""Personal data (PIPL): what a resident's download contains of their groups and reservations, and what
deleting the account does to them: future requests and reservations are withdrawn (the rooms freed), the
groups' contact name and phone erased. Registered in `accounts.privacy` by the composition root."""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import User
from core.extensions import db
from rooms.models import ReservationStatus, RoomGroup, RoomReservation
from venues.services import release_room


def export(user: User) -> dict:
    """The user's groups and reservations, for the personal-data download."""
    groups = db.session.execute(select(RoomGroup).where(RoomGroup.owner_id == user.id)).scalars()
    reservations = db.session.execute(
        select(RoomReservation).where(RoomReservation.requested_by_id == user.id).order_by(RoomReservation.starts_at)
    ).scalars()
    return {
        "groups": [
            {"name": g.name, "kind": g.kind.value, "contact_name": g.contact_name, "contact_phone": g.contact_phone}
            for g in groups
        ],
        "reservations": [
            {
                "room_id": r.room_id,
                "starts_at": r.starts_at.isoformat(),
                "ends_at": r.ends_at.isoformat(),
                "purpose": r.purpose,
                "attendees": r.attendees,
                "status": r.status.value,
                "group": r.group.name,
                "requested_at": r.created_at.isoformat(),
                "decision_reason": r.decision_reason or None,
                "checked_in_at": r.checked_in_at.isoformat() if r.checked_in_at else None,
            }
            for r in reservations
        ],
    }


def erase(user: User, *, now: datetime) -> None:
    """Cancel the deleted account's future reservations (freeing the rooms) and erase its groups' contacts.

    Past reservations stay, without a name, so the utilisation figures keep counting them.
    """
    future = db.session.execute(
        select(RoomReservation).where(
            RoomReservation.requested_by_id == user.id,
            RoomReservation.starts_at > now,
            RoomReservation.status.in_([ReservationStatus.pending, ReservationStatus.approved]),
        )
    ).scalars()
    for reservation in future:
        reservation.status = ReservationStatus.cancelled
        if reservation.occupancy is not None and reservation.occupancy.is_active:
            release_room(reservation.occupancy)
    for group in db.session.execute(select(RoomGroup).where(RoomGroup.owner_id == user.id)).scalars():
        group.contact_name, group.contact_phone = _("Deleted user")[:50], ""
    db.session.flush()
