"""The venue network: districts, venues in a tree, weekly opening hours, closures and rooms."""

import enum
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import utcnow
from core.extensions import db
from core.i18n import to_local


class VenueKind(enum.StrEnum):
    hub = "hub"
    branch = "branch"
    station = "station"
    community = "community"


KIND_LABELS = {
    VenueKind.hub: _l("Hub (city culture centre)"),
    VenueKind.branch: _l("Branch (district culture centre)"),
    VenueKind.station: _l("Township culture station"),
    VenueKind.community: _l("Village / community culture centre"),
}
# The kind a child must have under a parent of each kind.
CHILD_KIND = {
    VenueKind.hub: VenueKind.branch,
    VenueKind.branch: VenueKind.station,
    VenueKind.station: VenueKind.community,
}
# Weekly opening-hours norms of the national standard, in hours.
HOURS_NORM = {VenueKind.hub: 56, VenueKind.branch: 56, VenueKind.station: 42, VenueKind.community: 35}
AREA_STANDARD_M2 = 200  # a community centre meets the standard from 200 m²


class RoomKind(enum.StrEnum):
    rehearsal = "rehearsal"
    classroom = "classroom"
    studio = "studio"
    hall = "hall"
    exhibition = "exhibition"
    meeting = "meeting"
    reading = "reading"
    outdoor = "outdoor"


ROOM_KIND_LABELS = {
    RoomKind.rehearsal: _l("Rehearsal hall"),
    RoomKind.classroom: _l("Classroom"),
    RoomKind.studio: _l("Studio"),
    RoomKind.hall: _l("Hall"),
    RoomKind.exhibition: _l("Exhibition hall"),
    RoomKind.meeting: _l("Meeting room"),
    RoomKind.reading: _l("Reading room"),
    RoomKind.outdoor: _l("Outdoor place"),
}


class District(db.Model):
    """A district or county of the network (区/县), keyed by its GB/T 2260 administrative division code
    (盘锦市大洼区 211104). The code is for machines (filters, URLs, the API); people see `name` / `name_en`."""

    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    name_en: Mapped[str | None] = mapped_column(sa.String(80))
    position: Mapped[int] = mapped_column(default=0)


class Venue(db.Model):
    """A culture centre, station or service point. `path` ('/1/4/17/') makes subtree queries a prefix match."""

    __tablename__ = "venues"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str | None] = mapped_column(sa.String(150))
    kind: Mapped[VenueKind] = mapped_column(sa.Enum(VenueKind, native_enum=False, length=20))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("venues.id"), index=True)
    path: Mapped[str] = mapped_column(sa.String(255), index=True, default="")
    district_code: Mapped[str] = mapped_column(sa.ForeignKey("districts.code"), index=True)
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    phone: Mapped[str] = mapped_column(sa.String(30), default="")
    floor_area: Mapped[int | None]
    description: Mapped[str] = mapped_column(sa.Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    parent: Mapped["Venue | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Venue"]] = relationship(back_populates="parent", order_by="Venue.id")
    district: Mapped[District] = relationship(lazy="joined")
    hours: Mapped[list["OpeningHours"]] = relationship(
        back_populates="venue", cascade="all, delete-orphan", order_by="(OpeningHours.weekday, OpeningHours.opens_at)"
    )
    closures: Mapped[list["Closure"]] = relationship(
        back_populates="venue", cascade="all, delete-orphan", order_by="Closure.starts_on"
    )
    rooms: Mapped[list["Room"]] = relationship(back_populates="venue", cascade="all, delete-orphan", order_by="Room.id")

    def can_manage(self, user) -> bool:
        """Staff, managers and admins whose grant covers this venue may edit it."""
        return bool(user and user.is_authenticated and user.reaches(self))

    def is_within(self, other: "Venue") -> bool:
        """Whether this venue is `other` or lies below it."""
        return self.path.startswith(other.path)

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(x) for x in self.path.strip("/").split("/") if x]

    @property
    def weekly_hours(self) -> float:
        return sum(h.duration_hours for h in self.hours)

    @property
    def hours_norm(self) -> int:
        return HOURS_NORM[self.kind]

    @property
    def meets_area_standard(self) -> bool | None:
        if self.kind != VenueKind.community:
            return None
        return (self.floor_area or 0) >= AREA_STANDARD_M2

    def hours_on(self, day: date) -> list[tuple[time, time]]:
        """Opening intervals on a calendar day (local), empty when closed or within a closure."""
        if self.closure_on(day):
            return []
        return [(h.opens_at, h.closes_at) for h in self.hours if h.weekday == day.weekday()]

    def closure_on(self, day: date) -> "Closure | None":
        return next((c for c in self.closures if c.starts_on <= day <= c.ends_on), None)

    def is_open_at(self, moment: datetime) -> bool:
        local = to_local(moment)
        return any(o <= local.time() < c for o, c in self.hours_on(local.date()))


class OpeningHours(db.Model):
    """One opening interval on a weekday (0 = Monday), local wall-clock time."""

    __tablename__ = "opening_hours"
    __table_args__ = (
        sa.CheckConstraint("opens_at < closes_at", name="opens_before_closes"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int]
    opens_at: Mapped[time]
    closes_at: Mapped[time]

    venue: Mapped[Venue] = relationship(back_populates="hours")

    @property
    def duration_hours(self) -> float:
        start = datetime.combine(date.min, self.opens_at)
        end = datetime.combine(date.min, self.closes_at)
        return (end - start) / timedelta(hours=1)


class Closure(db.Model):
    """Whole days a venue is closed (holidays, repairs), inclusive."""

    __tablename__ = "closures"
    __table_args__ = (sa.CheckConstraint("starts_on <= ends_on", name="starts_before_ends"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.String(200), default="")

    venue: Mapped[Venue] = relationship(back_populates="closures")


class Room(db.Model):
    """A room or place of a venue; `is_bookable` rooms can be reserved by groups."""

    __tablename__ = "rooms"
    __table_args__ = (sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    key: Mapped[str | None] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str | None] = mapped_column(sa.String(150))
    kind: Mapped[RoomKind] = mapped_column(sa.Enum(RoomKind, native_enum=False, length=20))
    capacity: Mapped[int] = mapped_column(default=0)
    floor_area: Mapped[int | None]
    equipment: Mapped[str] = mapped_column(sa.String(300), default="")
    is_bookable: Mapped[bool] = mapped_column(default=True)
    is_self_service: Mapped[bool] = mapped_column(default=False)
    max_hours: Mapped[int] = mapped_column(default=4)
    is_active: Mapped[bool] = mapped_column(default=True)

    venue: Mapped[Venue] = relationship(back_populates="rooms")

    @property
    def equipment_list(self) -> list[str]:
        return [e.strip() for e in self.equipment.split(",") if e.strip()]


class OccupancySource(enum.StrEnum):
    session = "session"
    reservation = "reservation"
    maintenance = "maintenance"


class RoomOccupancy(db.Model):
    """A room taken for a time range, by an activity session, a group's reservation or maintenance.

    `blocked_until` is the end plus the turnover buffer, so two rows whose [starts_at, blocked_until)
    ranges overlap are a conflict. On PostgreSQL an exclusion constraint makes overlaps impossible
    under any concurrency; on SQLite every write transaction is serialised (BEGIN IMMEDIATE).
    """

    __tablename__ = "room_occupancies"
    __table_args__ = (
        sa.CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        sa.CheckConstraint("ends_at <= blocked_until", name="buffer_not_negative"),
        ExcludeConstraint(
            (sa.column("room_id"), "="),
            (sa.func.tstzrange(sa.column("starts_at"), sa.column("blocked_until")), "&&"),
            where=sa.text("is_active"),
            using="gist",
            name="no_overlap",
        ).ddl_if(dialect="postgresql"),
        sa.Index("ix_room_occupancies_room_time", "room_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(sa.ForeignKey("rooms.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    blocked_until: Mapped[datetime]
    source: Mapped[OccupancySource] = mapped_column(sa.Enum(OccupancySource, native_enum=False, length=20))
    source_id: Mapped[int | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    room: Mapped[Room] = relationship()
