"""Attendance: one check-in per booking and session, conflicts from offline doors, walk-in counts.

The database makes double counting impossible: `checkins` has UNIQUE (booking_id, session_id), so a
second admission of a ticket for the same session (another phone, a retry, an offline device) cannot
be stored; the scan id (the client's nonce) is UNIQUE too, so a retried request finds its original
answer. A course's lessons are sessions of their own, so each lesson is one row.
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from activities.models import Session
from bookings.models import Booking
from core.db import utcnow
from core.extensions import db


class CheckInSource(enum.StrEnum):
    scan = "scan"  # QR code read by the scanner, online
    code = "code"  # short code typed at the door
    sync = "sync"  # admitted offline, sent later in a batch


SOURCE_LABELS = {
    CheckInSource.scan: _l("QR scan"),
    CheckInSource.code: _l("Typed code"),
    CheckInSource.sync: _l("Offline, synced later"),
}


class CheckIn(db.Model):
    """A booking's attendance at one session: who admitted it, when (the scan's own time), from where."""

    __tablename__ = "checkins"
    __table_args__ = (
        sa.UniqueConstraint("booking_id", "session_id"),
        sa.CheckConstraint("party_size >= 1", name="party_size_positive"),
        sa.Index("ix_checkins_session_id", "session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("sessions.id", ondelete="CASCADE"))
    party_size: Mapped[int]
    checked_in_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_in_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[CheckInSource] = mapped_column(sa.Enum(CheckInSource, native_enum=False, length=10))
    device_id: Mapped[str] = mapped_column(sa.String(64), default="")
    scan_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    booking: Mapped[Booking] = relationship()
    session: Mapped[Session] = relationship()
    checked_in_by: Mapped[User | None] = relationship()


class CheckInConflict(db.Model):
    """A second admission of a ticket for a session, made offline on another device: counted once, flagged.

    Staff see these on the session's roster to follow up (a shared screenshot, a mistaken re-entry).
    """

    __tablename__ = "checkin_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(sa.ForeignKey("checkins.id", ondelete="CASCADE"), index=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    scan_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    device_id: Mapped[str] = mapped_column(sa.String(64), default="")
    scanned_at: Mapped[datetime]
    scanned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]

    checkin: Mapped[CheckIn] = relationship()
    scanned_by: Mapped[User | None] = relationship(foreign_keys=[scanned_by_id])


class WalkIn(db.Model):
    """Visitors without a booking, counted at the door for a session (or an exhibition's day)."""

    __tablename__ = "walk_ins"
    __table_args__ = (
        sa.CheckConstraint("count >= 1", name="count_positive"),
        sa.Index("ix_walk_ins_activity_day", "activity_id", "counted_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey("activities.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    counted_on: Mapped[date]
    count: Mapped[int]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    scan_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
