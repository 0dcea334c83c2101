"""Seat bookings, lottery draws and suspensions.

A booking is made by one account (`user_id`) for one bookable unit (`unit_key`: 'c<activity id>' for
a course enrolment, 's<session id>' for an event session or exhibition slot), for `party_size` seats
and the family members in `participants`. One active booking per account per unit is a partial
unique index; seats are the unit's counter (see activities.models), moved by conditional UPDATEs.

Attendance: the door (the `checkin` package) sets `checked_in_at` / `checked_in_by_id`, which no-show
marking reads; a lesson's check-ins are rows of its own table (booking, session), and course enrolments are
not marked as no-shows.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import Participant, User
from activities.models import Activity, Session
from core.db import utcnow
from core.extensions import db


class BookingStatus(enum.StrEnum):
    confirmed = "confirmed"
    waitlisted = "waitlisted"
    offered = "offered"
    entered = "entered"
    pending = "pending"
    cancelled = "cancelled"
    rejected = "rejected"
    expired = "expired"
    not_drawn = "not_drawn"
    no_show = "no_show"
    attended = "attended"


# Statuses that keep the unit's "one booking per account" slot.
ACTIVE_STATUSES = frozenset(
    {
        BookingStatus.confirmed,
        BookingStatus.waitlisted,
        BookingStatus.offered,
        BookingStatus.entered,
        BookingStatus.pending,
    }
)
# Statuses that hold seats on the unit's counter.
SEAT_STATUSES = frozenset({BookingStatus.confirmed, BookingStatus.offered})
# Statuses that count towards the limit of class enrolments.
ENROLMENT_STATUSES = frozenset({BookingStatus.confirmed, BookingStatus.offered, BookingStatus.pending})

STATUS_LABELS = {
    BookingStatus.confirmed: _l("Confirmed"),
    BookingStatus.waitlisted: _l("On the waiting list"),
    BookingStatus.offered: _l("Seat offered: please confirm"),
    BookingStatus.entered: _l("Entered in the lottery"),
    BookingStatus.pending: _l("Awaiting approval"),
    BookingStatus.cancelled: _l("Cancelled"),
    BookingStatus.rejected: _l("Not accepted"),
    BookingStatus.expired: _l("Offer expired"),
    BookingStatus.not_drawn: _l("Not drawn"),
    BookingStatus.no_show: _l("No-show"),
    BookingStatus.attended: _l("Attended"),
}


def unit_key_for(activity: Activity, session: Session | None) -> str:
    """The bookable unit: the whole course, or one session / slot."""
    return f"c{activity.id}" if activity.is_course or session is None else f"s{session.id}"


def unit_keys(activity: Activity) -> list[str]:
    """Every bookable unit of an activity: the course as a whole, or each of its sessions."""
    if activity.is_course:
        return [unit_key_for(activity, None)]
    return [unit_key_for(activity, s) for s in activity.sessions]


booking_participants = sa.Table(
    "booking_participants",
    db.metadata,
    sa.Column("booking_id", sa.ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("participant_id", sa.ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True),
)


class Booking(db.Model):
    """One account's booking of seats on a unit, through its life: waiting, offered, confirmed, used."""

    __tablename__ = "bookings"
    __table_args__ = (
        sa.CheckConstraint("party_size BETWEEN 1 AND 3", name="party_size_range"),
        sa.Index(
            "uq_bookings_one_active_per_unit",
            "user_id",
            "unit_key",
            unique=True,
            sqlite_where=sa.text("is_active"),
            postgresql_where=sa.text("is_active"),
        ),
        sa.Index("ix_bookings_unit_status", "unit_key", "status"),
        sa.Index("ix_bookings_user_status", "user_id", "status"),
        sa.Index("ix_bookings_session_status", "session_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sessions.id", ondelete="CASCADE"))
    unit_key: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[BookingStatus] = mapped_column(sa.Enum(BookingStatus, native_enum=False, length=20))
    is_active: Mapped[bool] = mapped_column(default=True)
    party_size: Mapped[int] = mapped_column(default=1)
    is_quota_eligible: Mapped[bool] = mapped_column(default=False)
    draw_rank: Mapped[int | None]
    hold_expires_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decision_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    booked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None]
    counted_as_no_show: Mapped[bool] = mapped_column(default=False)
    no_show_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    checked_in_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    activity: Mapped[Activity] = relationship()
    session: Mapped[Session | None] = relationship()
    participants: Mapped[list[Participant]] = relationship(secondary=booking_participants, order_by="Participant.id")

    def set_status(self, status: BookingStatus) -> None:
        """Change state; `is_active` (the unique index's predicate) follows the status."""
        self.status = status
        self.is_active = status in ACTIVE_STATUSES

    @property
    def holds_seats(self) -> bool:
        return self.status in SEAT_STATUSES

    @property
    def starts_at(self) -> datetime | None:
        return self.session.starts_at if self.session is not None else self.activity.first_start

    @property
    def ends_at(self) -> datetime | None:
        return self.session.ends_at if self.session is not None else self.activity.last_end

    def is_owned_by(self, user) -> bool:
        return user is not None and user.is_authenticated and user.id == self.user_id


class LotteryDraw(db.Model):
    """The draw of one lottery unit: its published seed, so anyone can re-run it from the entry list."""

    __tablename__ = "lottery_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_key: Mapped[str] = mapped_column(sa.String(20), unique=True)
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sessions.id", ondelete="CASCADE"))
    seed: Mapped[str] = mapped_column(sa.String(64))
    seats: Mapped[int] = mapped_column(default=0)
    reserved_quota: Mapped[int] = mapped_column(default=0)
    entries: Mapped[int] = mapped_column(default=0)
    winners: Mapped[int] = mapped_column(default=0)
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)

    activity: Mapped[Activity] = relationship()


class Suspension(db.Model):
    """Booking rights withdrawn after repeated no-shows; staff may lift it early with a note."""

    __tablename__ = "suspensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    lifted_at: Mapped[datetime | None]
    lifted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    lift_note: Mapped[str] = mapped_column(sa.String(300), default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
