"""Workbench tables. They reference users, venues and each other only; nothing outside reports reads them."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from core.db import utcnow
from core.extensions import db
from venues.models import Venue


class StandardStatus(enum.StrEnum):
    """The report's three-way progress, plus standards that do not apply to the city."""

    met = "met"
    on_track = "on_track"
    at_risk = "at_risk"
    not_applicable = "not_applicable"


STATUS_LABELS = {
    StandardStatus.met: _l("Met the standard"),
    StandardStatus.on_track: _l("On track to be met"),
    StandardStatus.at_risk: _l("Needs more investment"),
    StandardStatus.not_applicable: _l("Not applicable"),
}


class UnitKind(enum.StrEnum):
    department = "department"
    district = "district"
    township = "township"


UNIT_KIND_LABELS = {
    UnitKind.department: _l("Member department"),
    UnitKind.district: _l("District or county"),
    UnitKind.township: _l("Township or street"),
}


class ProblemStatus(enum.StrEnum):
    open = "open"
    in_progress = "in_progress"
    resolved = "resolved"


PROBLEM_STATUS_LABELS = {
    ProblemStatus.open: _l("Not yet solved"),
    ProblemStatus.in_progress: _l("Being solved"),
    ProblemStatus.resolved: _l("Solved"),
}


class ArchiveCategory(enum.StrEnum):
    """The kinds of material the report asks every level to collect for the work archive."""

    meeting = "meeting"
    training = "training"
    activity = "activity"
    leader_visit = "leader_visit"
    digital = "digital"
    media = "media"


ARCHIVE_LABELS = {
    ArchiveCategory.meeting: _l("Meetings"),
    ArchiveCategory.training: _l("Trainings"),
    ArchiveCategory.activity: _l("Activities"),
    ArchiveCategory.leader_visit: _l("Leaders' visits"),
    ArchiveCategory.digital: _l("Digital construction"),
    ArchiveCategory.media: _l("Media coverage"),
}


class ResponsibleUnit(db.Model):
    """A member department of the leading group, a district or a township that answers for standards.

    A district or township is anchored at its venue (the district centre, the township station): whoever
    reaches that venue with a report role sees the unit's work, and nobody outside its subtree does.
    A department has no venue: city-level staff see it.
    """

    __tablename__ = "responsible_units"
    __table_args__ = (sa.UniqueConstraint("name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str | None] = mapped_column(sa.String(150))
    kind: Mapped[UnitKind] = mapped_column(sa.Enum(UnitKind, native_enum=False, length=20))
    venue_id: Mapped[int | None] = mapped_column(sa.ForeignKey("venues.id", ondelete="SET NULL"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    venue: Mapped[Venue | None] = relationship(lazy="joined")
    members: Mapped[list["UnitMember"]] = relationship(
        back_populates="unit", cascade="all, delete-orphan", order_by="UnitMember.id"
    )


class UnitMember(db.Model):
    """A person who works for a responsible unit (sees its standards first, sets their statuses)."""

    __tablename__ = "unit_members"
    __table_args__ = (sa.UniqueConstraint("unit_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("responsible_units.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[ResponsibleUnit] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")


standard_units = sa.Table(
    "standard_units",
    db.metadata,
    sa.Column("standard_id", sa.ForeignKey("standards.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("unit_id", sa.ForeignKey("responsible_units.id", ondelete="CASCADE"), primary_key=True),
)

problem_standards = sa.Table(
    "problem_standards",
    db.metadata,
    sa.Column("problem_id", sa.ForeignKey("problems.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("standard_id", sa.ForeignKey("standards.id", ondelete="CASCADE"), primary_key=True),
)

document_standards = sa.Table(
    "archive_document_standards",
    db.metadata,
    sa.Column("document_id", sa.ForeignKey("archive_documents.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("standard_id", sa.ForeignKey("standards.id", ondelete="CASCADE"), primary_key=True),
)


class Standard(db.Model):
    """One acceptance standard of a year's catalogue, with its task and indicator (the three levels)."""

    __tablename__ = "standards"
    __table_args__ = (
        sa.UniqueConstraint("year", "number"),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    position: Mapped[int] = mapped_column(default=0)
    task_no: Mapped[str] = mapped_column(sa.String(10))
    task: Mapped[str] = mapped_column(sa.String(200))
    task_en: Mapped[str | None] = mapped_column(sa.String(300))
    indicator_no: Mapped[str] = mapped_column(sa.String(20))
    indicator: Mapped[str] = mapped_column(sa.String(200))
    indicator_en: Mapped[str | None] = mapped_column(sa.String(300))
    number: Mapped[str] = mapped_column(sa.String(20))
    text: Mapped[str] = mapped_column(sa.String(1000))
    text_en: Mapped[str | None] = mapped_column(sa.String(1000))
    evidence: Mapped[str] = mapped_column(sa.String(1000), default="")
    deadline: Mapped[date | None]
    rule: Mapped[str | None] = mapped_column(sa.String(200))
    status: Mapped[StandardStatus | None] = mapped_column(sa.Enum(StandardStatus, native_enum=False, length=20))
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[datetime | None]

    units: Mapped[list[ResponsibleUnit]] = relationship(
        secondary=standard_units, order_by="ResponsibleUnit.id", lazy="selectin"
    )
    set_by: Mapped[User | None] = relationship()


class StandardChange(db.Model):
    """Every status change of a standard: who, when, from what to what, and why."""

    __tablename__ = "standard_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(sa.ForeignKey("standards.id", ondelete="CASCADE"), index=True)
    old_status: Mapped[str | None] = mapped_column(sa.String(20))
    new_status: Mapped[str] = mapped_column(sa.String(20))
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()
    standard: Mapped[Standard] = relationship()


class StatusSnapshot(db.Model):
    """The counts by status on one local day (the dashboard's trend since the year began)."""

    __tablename__ = "standard_snapshots"
    __table_args__ = (sa.UniqueConstraint("year", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    day: Mapped[date]
    met: Mapped[int] = mapped_column(default=0)
    on_track: Mapped[int] = mapped_column(default=0)
    at_risk: Mapped[int] = mapped_column(default=0)
    not_applicable: Mapped[int] = mapped_column(default=0)


class Problem(db.Model):
    """A row of the problem ledger: what blocks which standards, who solves it, how, and by when."""

    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    text: Mapped[str] = mapped_column(sa.String(1000))
    measure: Mapped[str] = mapped_column(sa.String(1000), default="")
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("responsible_units.id", ondelete="RESTRICT"), index=True)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    due_on: Mapped[date]
    status: Mapped[ProblemStatus] = mapped_column(
        sa.Enum(ProblemStatus, native_enum=False, length=20), default=ProblemStatus.open
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]

    unit: Mapped[ResponsibleUnit] = relationship(lazy="joined")
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    standards: Mapped[list[Standard]] = relationship(
        secondary=problem_standards, order_by="Standard.position", lazy="selectin"
    )

    def is_open(self) -> bool:
        return self.status != ProblemStatus.resolved


class ArchiveDocument(db.Model):
    """A record of the work archive: a meeting, training, activity, visit, digital work or press item."""

    __tablename__ = "archive_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    category: Mapped[ArchiveCategory] = mapped_column(sa.Enum(ArchiveCategory, native_enum=False, length=20))
    held_on: Mapped[date]
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("responsible_units.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.String(2000), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[ResponsibleUnit] = relationship(lazy="joined")
    standards: Mapped[list[Standard]] = relationship(
        secondary=document_standards, order_by="Standard.position", lazy="selectin"
    )
    files: Mapped[list["ArchiveFile"]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="ArchiveFile.id", lazy="selectin"
    )


class ArchiveFile(db.Model):
    """A file of an archive record; the bytes live under UPLOAD_DIR/archive/ (checked like checklist evidence)."""

    __tablename__ = "archive_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("archive_documents.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    document: Mapped[ArchiveDocument] = relationship(back_populates="files")
