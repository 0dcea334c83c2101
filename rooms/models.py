"""Groups that reserve rooms, and their reservations (one row per date; weekly repeats share a series)."""

import enum
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import CHECKIN_ROLES, MANAGE_ROLES, User
from core.db import utcnow
from core.extensions import db
from venues.models import Room, RoomOccupancy

NO_SHOW_LIMIT = 3  # no-shows within NO_SHOW_WINDOW suspend the group
NO_SHOW_WINDOW = timedelta(days=90)
SUSPENSION = timedelta(days=30)
RELEASE_AFTER = timedelta(minutes=20)  # an approved reservation not checked in by then is released
CHECK_IN_EARLY = timedelta(minutes=30)


class GroupKind(enum.StrEnum):
    team = "team"
    association = "association"
    school_class = "school_class"
    other = "other"


GROUP_KIND_LABELS = {
    GroupKind.team: _l("Team"),
    GroupKind.association: _l("Association"),
    GroupKind.school_class: _l("School class"),
    GroupKind.other: _l("Other group"),
}


class ReservationStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    cancelled = "cancelled"
    released = "released"
    checked_in = "checked_in"


STATUS_LABELS = {
    ReservationStatus.pending: _l("Waiting for approval"),
    ReservationStatus.approved: _l("Approved"),
    ReservationStatus.rejected: _l("Rejected"),
    ReservationStatus.cancelled: _l("Cancelled"),
    ReservationStatus.released: _l("Released (no check-in)"),
    ReservationStatus.checked_in: _l("Checked in"),
}
# States in which a reservation holds its room.
HOLDING = (ReservationStatus.pending, ReservationStatus.approved, ReservationStatus.checked_in)
# States that count as "reserved" hours in the utilisation figures (approved at some point).
RESERVED = (ReservationStatus.approved, ReservationStatus.checked_in, ReservationStatus.released)


class RoomGroup(db.Model):
    """A choir, team, society or class a resident reserves for; remembered per resident for next time."""

    __tablename__ = "room_groups"
    __table_args__ = (sa.UniqueConstraint("owner_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[GroupKind] = mapped_column(sa.Enum(GroupKind, native_enum=False, length=20))
    contact_name: Mapped[str] = mapped_column(sa.String(50))
    contact_phone: Mapped[str] = mapped_column(sa.String(20))
    suspended_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[User] = relationship()

    def is_suspended(self, now: datetime) -> bool:
        return self.suspended_until is not None and self.suspended_until > now


class RoomReservation(db.Model):
    """One group's use of a room for [starts_at, ends_at); while it holds the room it owns an occupancy."""

    __tablename__ = "room_reservations"
    __table_args__ = (
        sa.CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        sa.CheckConstraint("attendees >= 1", name="attendees_positive"),
        sa.Index("ix_room_reservations_status_start", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(sa.ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("room_groups.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    occupancy_id: Mapped[int | None] = mapped_column(sa.ForeignKey("room_occupancies.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    purpose: Mapped[str] = mapped_column(sa.String(200))
    attendees: Mapped[int]
    status: Mapped[ReservationStatus] = mapped_column(sa.Enum(ReservationStatus, native_enum=False, length=20))
    series_id: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    decision_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    checked_in_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    checkin_scan_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)  # the door scan's nonce
    released_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    room: Mapped[Room] = relationship()
    group: Mapped[RoomGroup] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    checked_in_by: Mapped[User | None] = relationship(foreign_keys=[checked_in_by_id])
    occupancy: Mapped[RoomOccupancy | None] = relationship()

    @property
    def holds_room(self) -> bool:
        return self.status in HOLDING

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at) / timedelta(hours=1)

    def is_owned_by(self, user) -> bool:
        return bool(user and user.is_authenticated and user.id == self.requested_by_id)

    def can_manage(self, user) -> bool:
        """Staff whose scope covers the room's venue decide, cancel and check in."""
        return bool(user and user.is_authenticated and user.reaches(self.room.venue, MANAGE_ROLES))

    def can_check_in(self, user) -> bool:
        return bool(user and user.is_authenticated and user.reaches(self.room.venue, CHECKIN_ROLES))

    def can_see(self, user) -> bool:
        return self.is_owned_by(user) or self.can_check_in(user)

    def is_cancellable_by_owner(self, now: datetime) -> bool:
        return self.status in (ReservationStatus.pending, ReservationStatus.approved) and self.starts_at > now
