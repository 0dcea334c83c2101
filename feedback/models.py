"""One answer per booking: a rating 1–5 with optional tags and a comment, given after attending.

UNIQUE (booking_id) makes a second answer impossible; the venue and activity are copied at answer time so the
figures need no walk through bookings and a comment stays with the venue that ran the session.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from activities.models import Activity
from core.db import utcnow
from core.extensions import db
from venues.models import Venue


class Tag(enum.StrEnum):
    content = "content"
    teacher = "teacher"
    venue = "venue"
    timing = "timing"


TAG_LABELS = {
    Tag.content: _l("Content"),
    Tag.teacher: _l("Teacher"),
    Tag.venue: _l("Venue"),
    Tag.timing: _l("Timing"),
}


class Feedback(db.Model):
    __tablename__ = "feedback"
    __table_args__ = (
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        sa.Index("ix_feedback_venue_created", "venue_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id"))
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sessions.id", ondelete="SET NULL"))
    rating: Mapped[int]
    tags: Mapped[list] = mapped_column(sa.JSON, default=list)
    comment: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship()
    activity: Mapped[Activity] = relationship()
    venue: Mapped[Venue] = relationship()
