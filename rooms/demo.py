"""Demo room reservations (`flask demo seed`): two residents' groups with pending and approved requests.

Idempotent: a group that already has reservations is left alone. Needs the venues seeder to run first.
"""

from datetime import time, timedelta

from sqlalchemy import select

from accounts.models import User
from core.db import utcnow
from core.errors import DomainError
from core.extensions import db
from core.i18n import local_datetime, local_today
from rooms import services
from rooms.models import RoomGroup, RoomReservation
from rooms.queries import bookable_rooms

# (resident phone, group, kind, purpose, attendees, days ahead, start hour, hours, approve)
PLAN = [
    ("13800000003", "红枫合唱团", "association", "合唱排练", 25, 3, 9, 2, True),
    ("13800000003", "红枫合唱团", "association", "合唱排练", 25, 10, 9, 2, False),
    ("13800000002", "实验小学五年级二班", "school_class", "课本剧排练", 35, 4, 14, 2, False),
    ("13800000002", "实验小学五年级二班", "school_class", "课本剧排练", 35, 5, 14, 2, False),
]


def seed(scale: int = 1) -> list[tuple[str, str, str]]:
    """Requests at the first bookable rehearsal rooms of the network, some approved by a staff account."""
    rooms = [r for r in bookable_rooms() if r.capacity >= 35][:2]
    if not rooms:
        return []
    now = utcnow()
    for i, (phone, name, kind, purpose, attendees, ahead, hour, hours, approve) in enumerate(PLAN):
        resident = db.session.execute(select(User).where(User.phone == phone)).scalar_one_or_none()
        if resident is None:
            continue
        room = rooms[i % len(rooms)]
        day = local_today(now) + timedelta(days=ahead)
        if _already_seeded(resident, name, day):
            continue
        data = {
            "starts_at": local_datetime(day, time(hour)),
            "ends_at": local_datetime(day, time(hour + hours)),
            "purpose": purpose,
            "attendees": attendees,
            "group": {"name": name, "kind": kind, "contact_name": resident.name, "contact_phone": phone},
        }
        try:
            with db.session.begin_nested():
                reservation = services.request_reservation(room, data=data, actor=resident, now=now)
                staff = _staff_for(room)
                if approve and staff is not None and reservation.status.value == "pending":
                    services.approve_reservation(reservation, actor=staff, now=now)
        except DomainError:
            continue  # the slot is taken or closed in this network: skip it, seeding stays idempotent
    db.session.flush()
    return []


def _already_seeded(resident: User, group_name: str, day) -> bool:
    """Whether this group already asked for a room on that day (so a second run adds nothing)."""
    start, end = local_datetime(day, time(0)), local_datetime(day + timedelta(days=1), time(0))
    return (
        db.session.execute(
            select(RoomReservation.id)
            .join(RoomReservation.group)
            .where(
                RoomGroup.owner_id == resident.id,
                RoomGroup.name == group_name,
                RoomReservation.starts_at >= start,
                RoomReservation.starts_at < end,
            )
        ).first()
        is not None
    )


def _staff_for(room) -> User | None:
    from accounts.models import MANAGE_ROLES, RoleGrant

    grants = db.session.execute(select(RoleGrant).where(RoleGrant.role.in_(MANAGE_ROLES))).scalars()
    return next((g.user for g in grants if g.user.reaches(room.venue)), None)
