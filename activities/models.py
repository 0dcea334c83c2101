"""Activities: courses (several lessons, one enrolment), events (booked per session) and exhibitions
(a date range, optionally with timed-entry slots), and their sessions.

Where seats are counted (the "bookable unit"):
- a **course** is enrolled as a whole, so its counter is `activities.seats_taken` against
  `activities.capacity`; its sessions (lessons) carry no seats of their own;
- an **event** session and an **exhibition** slot are booked one by one, so the counter is
  `sessions.seats_taken` against `sessions.capacity`.
Both counters have `CHECK (seats_taken <= capacity)` and are only ever moved by one conditional
UPDATE in bookings.services (`take_seats` / `release_seats`): never check-then-insert.
"""

import enum
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import utcnow
from core.extensions import db
from venues.models import Room, RoomOccupancy, Venue


class ActivityKind(enum.StrEnum):
    course = "course"
    event = "event"
    exhibition = "exhibition"


KIND_LABELS = {
    ActivityKind.course: _l("Class"),
    ActivityKind.event: _l("Event"),
    ActivityKind.exhibition: _l("Exhibition"),
}


class Category(enum.StrEnum):
    music = "music"
    dance = "dance"
    drama = "drama"
    quyi = "quyi"
    fine_art = "fine_art"
    calligraphy = "calligraphy"
    photography = "photography"
    literature = "literature"
    heritage = "heritage"
    film = "film"
    general = "general"


CATEGORY_LABELS = {
    Category.music: _l("Music"),
    Category.dance: _l("Dance"),
    Category.drama: _l("Drama"),
    Category.quyi: _l("Folk performing arts"),
    Category.fine_art: _l("Fine art"),
    Category.calligraphy: _l("Calligraphy"),
    Category.photography: _l("Photography"),
    Category.literature: _l("Literature"),
    Category.heritage: _l("Intangible heritage"),
    Category.film: _l("Film"),
    Category.general: _l("General"),
}


class Policy(enum.StrEnum):
    walk_in = "walk_in"
    first_come = "first_come"
    lottery = "lottery"
    approval = "approval"


POLICY_LABELS = {
    Policy.walk_in: _l("Walk in, no booking"),
    Policy.first_come: _l("First come, first served"),
    Policy.lottery: _l("Lottery"),
    Policy.approval: _l("Staff approval"),
}


class ActivityStatus(enum.StrEnum):
    draft = "draft"
    published = "published"
    finished = "finished"
    cancelled = "cancelled"


STATUS_LABELS = {
    ActivityStatus.draft: _l("Draft"),
    ActivityStatus.published: _l("Published"),
    ActivityStatus.finished: _l("Finished"),
    ActivityStatus.cancelled: _l("Cancelled"),
}


class QuotaRule(enum.StrEnum):
    seniors = "seniors"
    first_time = "first_time"


QUOTA_LABELS = {
    QuotaRule.seniors: _l("Residents aged 60 or over"),
    QuotaRule.first_time: _l("First-time learners"),
}


class Activity(db.Model):
    """Something residents can attend, at a venue of the network, with its booking rules."""

    __tablename__ = "activities"
    __table_args__ = (
        sa.CheckConstraint("seats_taken >= 0", name="seats_not_negative"),
        sa.CheckConstraint("seats_taken <= capacity", name="seats_within_capacity"),
        sa.CheckConstraint("max_party_size BETWEEN 1 AND 3", name="party_size_range"),
        sa.CheckConstraint("reserved_quota >= 0", name="quota_not_negative"),
        sa.Index("ix_activities_status_venue", "status", "venue_id"),
        sa.Index("ix_activities_next_start", "next_starts_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ActivityKind] = mapped_column(sa.Enum(ActivityKind, native_enum=False, length=20))
    status: Mapped[ActivityStatus] = mapped_column(
        sa.Enum(ActivityStatus, native_enum=False, length=20), default=ActivityStatus.draft
    )
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id"), index=True)
    room_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rooms.id"))
    place: Mapped[str] = mapped_column(sa.String(100), default="")
    category: Mapped[Category] = mapped_column(
        sa.Enum(Category, native_enum=False, length=20), default=Category.general
    )
    title: Mapped[str] = mapped_column(sa.String(100))
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    series: Mapped[str] = mapped_column(sa.String(50), default="")
    cover_image: Mapped[str | None] = mapped_column(sa.String(100))
    age_min: Mapped[int | None]
    age_max: Mapped[int | None]
    gender: Mapped[str | None] = mapped_column(sa.String(10))
    is_real_name_required: Mapped[bool] = mapped_column(default=False)
    policy: Mapped[Policy] = mapped_column(sa.Enum(Policy, native_enum=False, length=20), default=Policy.first_come)
    has_waiting_list: Mapped[bool] = mapped_column(default=True)
    capacity: Mapped[int] = mapped_column(default=0)
    seats_taken: Mapped[int] = mapped_column(default=0)
    max_party_size: Mapped[int] = mapped_column(default=1)
    signup_opens_at: Mapped[datetime | None]
    signup_closes_at: Mapped[datetime | None]
    cancel_hours: Mapped[int] = mapped_column(default=2)
    confirm_hours: Mapped[int] = mapped_column(default=48)
    reserved_quota: Mapped[int] = mapped_column(default=0)
    quota_rule: Mapped[QuotaRule | None] = mapped_column(sa.Enum(QuotaRule, native_enum=False, length=20))
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # 送文化下乡: a hub or branch delivering it at a station or community (set by orders/ when it
    # schedules a service order; counted separately in the reports).
    is_outreach: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The culture brand (文化品牌) this activity is an edition or part of; the table is resources/'s `brands`
    # (joined by resources.services.attach_activity; activities never read brands).
    brand_id: Mapped[int | None] = mapped_column(sa.ForeignKey("brands.id", ondelete="SET NULL"), index=True)
    # Kept from the sessions by activities/schedule.py (on every flush that adds, moves or cancels a
    # session, and by a sweeper as sessions end): the start of the soonest session that has not ended,
    # and the end of the last live one. The public list reads 20 rows by index with them.
    next_starts_at: Mapped[datetime | None]
    live_until: Mapped[datetime | None]

    venue: Mapped[Venue] = relationship(lazy="joined")
    room: Mapped[Room | None] = relationship()
    sessions: Mapped[list["Session"]] = relationship(
        back_populates="activity", order_by="Session.starts_at", cascade="all, delete-orphan"
    )

    def can_manage(self, user) -> bool:
        """Staff whose scope covers the activity's venue."""
        return self.venue.can_manage(user)

    @property
    def is_course(self) -> bool:
        return self.kind == ActivityKind.course

    @property
    def is_bookable_kind(self) -> bool:
        return self.policy != Policy.walk_in

    @property
    def live_sessions(self) -> list["Session"]:
        return [s for s in self.sessions if s.status == SessionStatus.scheduled]

    @property
    def first_start(self) -> datetime | None:
        live = self.live_sessions
        return live[0].starts_at if live else None

    @property
    def last_end(self) -> datetime | None:
        live = self.live_sessions
        return max(s.ends_at for s in live) if live else None

    @property
    def seats_left(self) -> int:
        return max(0, self.capacity - self.seats_taken)

    def window_for(self, session: "Session | None") -> tuple[datetime | None, datetime | None]:
        """When sign-ups open and close for a unit: the set window, closing at the start at the latest."""
        start = self.first_start if self.is_course or session is None else session.starts_at
        closes = self.signup_closes_at
        if start is not None and (closes is None or closes > start):
            closes = start
        return self.signup_opens_at, closes

    def cancel_deadline_for(self, session: "Session | None") -> datetime | None:
        """Free cancellation ends `cancel_hours` before the start (the first lesson for a course)."""
        start = self.first_start if self.is_course or session is None else session.starts_at
        return None if start is None else start - timedelta(hours=self.cancel_hours)


class SessionStatus(enum.StrEnum):
    scheduled = "scheduled"
    cancelled = "cancelled"


class Session(db.Model):
    """One occurrence: an event's session, a course's lesson or an exhibition's timed-entry slot.

    Event sessions and exhibition slots hold their own seat counter; course lessons do not (the
    course is enrolled as a whole). A session in a room holds a `RoomOccupancy` (source=session).
    """

    __tablename__ = "sessions"
    __table_args__ = (
        sa.CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        sa.CheckConstraint("seats_taken >= 0", name="seats_not_negative"),
        sa.CheckConstraint("seats_taken <= capacity", name="seats_within_capacity"),
        sa.Index("ix_sessions_activity_start", "activity_id", "starts_at"),
        sa.Index("ix_sessions_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey("activities.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    room_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rooms.id"))
    occupancy_id: Mapped[int | None] = mapped_column(sa.ForeignKey("room_occupancies.id"))
    capacity: Mapped[int] = mapped_column(default=0)
    seats_taken: Mapped[int] = mapped_column(default=0)
    status: Mapped[SessionStatus] = mapped_column(
        sa.Enum(SessionStatus, native_enum=False, length=20), default=SessionStatus.scheduled
    )
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="sessions")
    room: Mapped[Room | None] = relationship()
    occupancy: Mapped[RoomOccupancy | None] = relationship()

    @property
    def is_live(self) -> bool:
        return self.status == SessionStatus.scheduled

    @property
    def seats_left(self) -> int:
        if self.activity.is_course:
            return self.activity.seats_left
        return max(0, self.capacity - self.seats_taken)

    def has_started(self, now: datetime) -> bool:
        return self.starts_at <= now

    def has_ended(self, now: datetime) -> bool:
        return self.ends_at <= now
