"""Personal data (PIPL) of the door: the download lists every check-in of the person's bookings (when, which
session, how many, how). Deleting the account keeps them, without a name, for the attendance figures: they
name nobody once the account is anonymised. Registered in `accounts.privacy` by the composition root."""

from sqlalchemy import select

from accounts.models import User
from bookings.models import Booking
from checkin.models import CheckIn
from core.extensions import db


def export(user: User) -> list[dict]:
    rows = db.session.execute(
        select(CheckIn)
        .join(Booking, Booking.id == CheckIn.booking_id)
        .where(Booking.user_id == user.id)
        .order_by(CheckIn.checked_in_at)
    ).scalars()
    return [
        {
            "booking_id": c.booking_id,
            "session_id": c.session_id,
            "activity": c.session.activity.title,
            "checked_in_at": c.checked_in_at.isoformat(),
            "party_size": c.party_size,
            "source": c.source.value,
        }
        for c in rows
    ]
