"""Reports' own tables: yearly targets, the acceptance checklist's manual statuses and evidence, the
export log, scheduled exports and the daily attendance roll-up.

Reports read every other package; these tables only reference venues and users, so nothing else
depends on them.
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from activities.models import Session
from core.db import utcnow
from core.extensions import db
from venues.models import Venue


class CheckStatus(enum.StrEnum):
    met = "met"
    not_met = "not_met"
    not_applicable = "not_applicable"
    pending = "pending"


CHECK_STATUS_LABELS = {
    CheckStatus.met: _l("Met"),
    CheckStatus.not_met: _l("Not met"),
    CheckStatus.not_applicable: _l("Not applicable"),
    CheckStatus.pending: _l("Not yet assessed"),
}


class Target(db.Model):
    """A yearly target for one indicator at one venue (the venue's whole subtree counts towards it)."""

    __tablename__ = "report_targets"
    __table_args__ = (
        sa.UniqueConstraint("year", "indicator", "venue_id"),
        sa.CheckConstraint("value >= 0", name="value_not_negative"),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    indicator: Mapped[str] = mapped_column(sa.String(40))
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    value: Mapped[int]
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    venue: Mapped[Venue] = relationship(lazy="joined")


class ChecklistMark(db.Model):
    """A manager's assessment of one checklist row for a year and venue, where no rule computes it."""

    __tablename__ = "checklist_marks"
    __table_args__ = (sa.UniqueConstraint("year", "venue_id", "row_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    row_key: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[CheckStatus] = mapped_column(sa.Enum(CheckStatus, native_enum=False, length=20))
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    set_by: Mapped[User | None] = relationship()
    evidence: Mapped[list["EvidenceFile"]] = relationship(
        back_populates="mark", order_by="EvidenceFile.id", cascade="all, delete-orphan"
    )


class EvidenceFile(db.Model):
    """A document or image attached to a checklist row; the bytes live under UPLOAD_DIR/evidence/."""

    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    mark_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_marks.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    mark: Mapped[ChecklistMark] = relationship(back_populates="evidence")


class ChecklistChange(db.Model):
    """History of the checklist: who changed which row's status or evidence, and when."""

    __tablename__ = "checklist_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    row_key: Mapped[str] = mapped_column(sa.String(20))
    action: Mapped[str] = mapped_column(sa.String(40))
    detail: Mapped[str] = mapped_column(sa.String(1000), default="")
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()


class ExportLog(db.Model):
    """One export: who (or which schedule) took which table or workbook, with which filters, when."""

    __tablename__ = "export_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    what: Mapped[str] = mapped_column(sa.String(40))
    file_format: Mapped[str] = mapped_column(sa.String(10))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    rows: Mapped[int] = mapped_column(default=0)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()


class ExportSubscription(db.Model):
    """A manager who receives the monthly acceptance workbook of a venue's subtree by e-mail."""

    __tablename__ = "export_subscriptions"
    __table_args__ = (sa.UniqueConstraint("user_id", "venue_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id", ondelete="CASCADE"))
    last_period: Mapped[str | None] = mapped_column(sa.String(7))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    venue: Mapped[Venue] = relationship()


class DailyAttendance(db.Model):
    """Roll-up of one local day at one venue, per category, activity kind and outreach flag.

    Kept by `reports.jobs.rollup_attendance`, which recomputes every day touched since its last run;
    the report queries sum these rows instead of the raw check-ins and bookings.
    """

    __tablename__ = "daily_attendance"
    __table_args__ = (
        sa.UniqueConstraint("day", "venue_id", "category", "activity_kind", "is_outreach"),
        sa.Index("ix_daily_attendance_year_month", "year", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    year: Mapped[int]
    month: Mapped[int]
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(sa.String(20))
    activity_kind: Mapped[str] = mapped_column(sa.String(20))
    is_outreach: Mapped[bool] = mapped_column(default=False)
    sessions_held: Mapped[int] = mapped_column(default=0)
    checked_in: Mapped[int] = mapped_column(default=0)
    walk_ins: Mapped[int] = mapped_column(default=0)
    bookings: Mapped[int] = mapped_column(default=0)
    no_shows: Mapped[int] = mapped_column(default=0)
    # Activities whose first live session falls on this day (an exhibition or a class counts once, there).
    activities_started: Mapped[int] = mapped_column(default=0, server_default="0")
    # Sessions held of events titled as lectures (讲座), the indicator `lectures`.
    lectures: Mapped[int] = mapped_column(default=0, server_default="0")


class AttendanceTotal(db.Model):
    """Stored totals of the daily roll-up over a month (`month` 1–12) or a whole year (`month` 0), so a
    dashboard sums a few hundred rows instead of a year of days.

    Two sets of rows: `subtree` false holds one venue's own activities (its `venue_kind` is the venue's kind);
    `subtree` true holds everything under `venue_id` in the tree (itself included), split by the kind of the
    venue that held it, so a scope (the user's grant, a chosen venue) reads the rows of its root venues only.
    Rewritten by `reports.rollup` for every month whose days it recomputes, in the same transaction.
    """

    __tablename__ = "attendance_totals"
    __table_args__ = (
        sa.Index(
            "ux_attendance_totals_key",
            "subtree",
            "year",
            "month",
            "venue_id",
            "venue_kind",
            "category",
            "activity_kind",
            "is_outreach",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    month: Mapped[int]  # 0: the whole year
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    subtree: Mapped[bool]
    venue_kind: Mapped[str] = mapped_column(sa.String(20))
    category: Mapped[str] = mapped_column(sa.String(20))
    activity_kind: Mapped[str] = mapped_column(sa.String(20))
    is_outreach: Mapped[bool] = mapped_column(default=False)
    sessions_held: Mapped[int] = mapped_column(default=0)
    checked_in: Mapped[int] = mapped_column(default=0)
    walk_ins: Mapped[int] = mapped_column(default=0)
    bookings: Mapped[int] = mapped_column(default=0)
    no_shows: Mapped[int] = mapped_column(default=0)
    activities_started: Mapped[int] = mapped_column(default=0)
    lectures: Mapped[int] = mapped_column(default=0)


class ActivityDay(db.Model):
    """Attendances (check-ins plus walk-ins of its sessions) of one activity on one local day, counted for the
    sessions that had started when the roll-up ran: what the top-activities list sums."""

    __tablename__ = "activity_daily"

    day: Mapped[date] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(sa.String(20))
    attendances: Mapped[int] = mapped_column(default=0)


class ActivityWindow(db.Model):
    """Attendances per activity over a stored window of days (`first`..`last`): the 90 days that end each
    year, and those up to the roll-up's day. The top-activities list reads its first rows by attendances."""

    __tablename__ = "activity_windows"
    __table_args__ = (sa.Index("ix_activity_windows_rank", "last", "first", "attendances"),)

    last: Mapped[date] = mapped_column(primary_key=True)
    first: Mapped[date] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(sa.String(20))
    attendances: Mapped[int] = mapped_column(default=0)


# The lectures indicator adds the sessions that ended since the roll-up ran (reports.indicators): a bounded
# range of this index, never a scan of the sessions.
sa.Index("ix_sessions_ends_at", Session.__table__.c.ends_at)


class RollupRun(db.Model):
    """The high-water mark of the roll-up sweeper (one row per roll-up name)."""

    __tablename__ = "rollup_runs"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    ran_at: Mapped[datetime]
    # A digest of the venue tree (ids, paths, kinds) the stored totals were built on: when it changes, the
    # subtree totals are rebuilt.
    state: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")


class DirtyDay(db.Model):
    """A local day whose roll-up must be recomputed though no row of that day changed (a session moved away)."""

    __tablename__ = "rollup_dirty_days"

    day: Mapped[date] = mapped_column(primary_key=True)


from reports.workbench import models as _workbench_models  # noqa: E402,F401  (the workbench's tables)
