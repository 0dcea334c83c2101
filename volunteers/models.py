"""Volunteers, their tasks at venues and sign-ups, and the service the door records.

The database keeps the promises: `volunteer_tasks` has CHECK (places_taken <= places), and a sign-up takes
a place with one conditional UPDATE (`places_taken + 1 <= places`), so two phones signing up for the last
place cannot both get it; `volunteer_signups` has UNIQUE (task_id, volunteer_id): one sign-up per person per
task (a cancelled one is taken up again, not duplicated). Check-in and check-out at the door are conditional
UPDATEs too (`checked_in_at IS NULL`, `checked_out_at IS NULL`), so a ticket scanned at two doors at once
is counted once.
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


class Skill(enum.StrEnum):
    guiding = "guiding"
    performing = "performing"
    teaching = "teaching"
    photography = "photography"
    writing = "writing"
    stewarding = "stewarding"
    first_aid = "first_aid"
    technical = "technical"
    elderly_care = "elderly_care"


SKILL_LABELS = {
    Skill.guiding: _l("Guiding and explaining"),
    Skill.performing: _l("Performing"),
    Skill.teaching: _l("Teaching and tutoring"),
    Skill.photography: _l("Photography and video"),
    Skill.writing: _l("Writing and publicity"),
    Skill.stewarding: _l("Stewarding and order"),
    Skill.first_aid: _l("First aid"),
    Skill.technical: _l("Sound, light and equipment"),
    Skill.elderly_care: _l("Helping older people"),
}


class Slot(enum.StrEnum):
    weekday_daytime = "weekday_daytime"
    weekday_evening = "weekday_evening"
    weekend = "weekend"
    holidays = "holidays"


SLOT_LABELS = {
    Slot.weekday_daytime: _l("Weekday daytime"),
    Slot.weekday_evening: _l("Weekday evenings"),
    Slot.weekend: _l("Weekends"),
    Slot.holidays: _l("Public holidays"),
}


class VolunteerStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    declined = "declined"


VOLUNTEER_STATUS_LABELS = {
    VolunteerStatus.pending: _l("Waiting for approval"),
    VolunteerStatus.approved: _l("Approved"),
    VolunteerStatus.declined: _l("Declined"),
}


class TaskStatus(enum.StrEnum):
    open = "open"
    cancelled = "cancelled"


class SignupStatus(enum.StrEnum):
    confirmed = "confirmed"
    cancelled = "cancelled"


SIGNUP_STATUS_LABELS = {SignupStatus.confirmed: _l("Signed up"), SignupStatus.cancelled: _l("Cancelled")}

MINOR_AGE = 18


class Volunteer(db.Model):
    """A resident registered as a culture volunteer with the team of one venue (文化志愿服务队)."""

    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id"), index=True)
    status: Mapped[VolunteerStatus] = mapped_column(
        sa.Enum(VolunteerStatus, native_enum=False, length=20), default=VolunteerStatus.pending
    )
    skills: Mapped[list] = mapped_column(sa.JSON, default=list)
    availability: Mapped[list] = mapped_column(sa.JSON, default=list)
    real_name: Mapped[str] = mapped_column(sa.String(50), default="")
    id_number: Mapped[str | None] = mapped_column(sa.String(18))
    is_minor: Mapped[bool] = mapped_column(default=False)
    guardian_name: Mapped[str] = mapped_column(sa.String(50), default="")
    guardian_phone: Mapped[str] = mapped_column(sa.String(20), default="")
    guardian_consent_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    decline_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    venue: Mapped[Venue] = relationship(lazy="joined")

    @property
    def is_approved(self) -> bool:
        return self.status == VolunteerStatus.approved


class VolunteerTask(db.Model):
    """A piece of volunteer work at a venue, for an activity or on its own: when, what, how many places."""

    __tablename__ = "volunteer_tasks"
    __table_args__ = (
        sa.CheckConstraint("places >= 1", name="places_positive"),
        sa.CheckConstraint("places_taken >= 0 AND places_taken <= places", name="places_not_oversold"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.Index("ix_volunteer_tasks_venue_starts", "venue_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id"))
    activity_id: Mapped[int | None] = mapped_column(sa.ForeignKey("activities.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(sa.String(100))
    duties: Mapped[str] = mapped_column(sa.Text, default="")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    places: Mapped[int]
    places_taken: Mapped[int] = mapped_column(default=0)
    skills: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[TaskStatus] = mapped_column(
        sa.Enum(TaskStatus, native_enum=False, length=20), default=TaskStatus.open
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    venue: Mapped[Venue] = relationship(lazy="joined")
    activity: Mapped[Activity | None] = relationship()

    @property
    def places_left(self) -> int:
        return max(0, self.places - self.places_taken)

    @property
    def hours_planned(self) -> float:
        return round((self.ends_at - self.starts_at).total_seconds() / 3600, 2)


class VolunteerSignup(db.Model):
    """A volunteer's place on a task, its ticket, and the service the door recorded (in and out)."""

    __tablename__ = "volunteer_signups"
    __table_args__ = (
        sa.UniqueConstraint("task_id", "volunteer_id"),
        sa.CheckConstraint("minutes IS NULL OR minutes >= 0", name="minutes_not_negative"),
        sa.Index("ix_volunteer_signups_volunteer_id", "volunteer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("volunteer_tasks.id", ondelete="CASCADE"))
    volunteer_id: Mapped[int] = mapped_column(sa.ForeignKey("volunteers.id", ondelete="CASCADE"))
    status: Mapped[SignupStatus] = mapped_column(
        sa.Enum(SignupStatus, native_enum=False, length=20), default=SignupStatus.confirmed
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    checked_in_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    checkin_scan_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    checked_out_at: Mapped[datetime | None]
    checked_out_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    checkout_scan_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    minutes: Mapped[int | None]  # credited service; set at check-out, or by a staff correction
    correction_note: Mapped[str] = mapped_column(sa.String(300), default="")
    corrected_at: Mapped[datetime | None]
    corrected_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    task: Mapped[VolunteerTask] = relationship(lazy="joined")
    volunteer: Mapped[Volunteer] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:
        return self.status == SignupStatus.confirmed

    @property
    def hours(self) -> float:
        return round((self.minutes or 0) / 60, 2)
