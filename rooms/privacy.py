"""Personal data (PIPL): what a resident's download contains of their groups and reservations, and what
deleting the account does to them. Connected to the accounts signals by `connect_account_signals`."""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import User
from accounts.signals import account_deleted, personal_data_requested
from core.extensions import db
from rooms.models import ReservationStatus, RoomGroup, RoomReservation
from venues.services import release_room


def personal_data(user: User) -> tuple[str, dict]:
    """The user's groups and reservations, for the personal-data download."""
    groups = db.session.execute(select(RoomGroup).where(RoomGroup.owner_id == user.id)).scalars()
    reservations = db.session.execute(
        select(RoomReservation).where(RoomReservation.requested_by_id == user.id).order_by(RoomReservation.starts_at)
    ).scalars()
    return "room_reservations", {
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
            }
            for r in reservations
        ],
    }


def forget_user(user: User, *, now: datetime) -> None:
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


def _on_personal_data(user, **_kwargs):
    return personal_data(user)


def _on_account_deleted(user, now=None, **_kwargs):
    forget_user(user, now=now)


def connect_account_signals() -> None:
    """Subscribe to the accounts signals (idempotent: blinker keeps one connection per receiver)."""
    personal_data_requested.connect(_on_personal_data)
    account_deleted.connect(_on_account_deleted)
