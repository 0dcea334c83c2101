"""Writes on the venue network. Flush, never commit; raise domain errors with stable codes."""

from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from accounts.models import User
from core import audit
from core.errors import DomainError, Forbidden, Invalid
from core.extensions import db
from venues.models import (
    CHILD_KIND,
    Closure,
    District,
    OccupancySource,
    OpeningHours,
    Room,
    RoomKind,
    RoomOccupancy,
    Venue,
    VenueKind,
)

VENUE_FIELDS = ("name", "name_en", "address", "phone", "floor_area", "lat", "lon", "description")


def create_venue(*, data: dict, parent: Venue | None, actor: User | None) -> Venue:
    """A new venue under `parent` (admins only); the kind must be the one directly below the parent's."""
    if actor is not None and not actor.is_admin:
        raise Forbidden()
    kind = VenueKind(data["kind"])
    if parent is None and kind != VenueKind.hub:
        raise Invalid(fields={"parent_id": [_("Only the hub has no parent venue.")]})
    if parent is not None and CHILD_KIND.get(parent.kind) != kind:
        raise Invalid(fields={"kind": [_("A venue of this kind cannot be placed under that parent.")]})
    if db.session.get(District, data["district_code"]) is None:
        raise Invalid(fields={"district_code": [_("Unknown district.")]})
    venue = Venue(kind=kind, parent=parent, district_code=data["district_code"], key=data.get("key"))
    _apply(venue, data)
    db.session.add(venue)
    db.session.flush()
    venue.path = (parent.path if parent else "/") + f"{venue.id}/"
    audit.record(actor, "venue.create", venue, {"name": venue.name, "parent_id": venue.parent_id})
    db.session.flush()
    return venue


def update_venue(venue: Venue, *, data: dict, actor: User) -> Venue:
    """Edit a venue's details; only staff whose scope covers it."""
    if not venue.can_manage(actor):
        raise Forbidden()
    _apply(venue, data)
    audit.record(actor, "venue.update", venue, {k: data[k] for k in VENUE_FIELDS if k in data})
    db.session.flush()
    return venue


def _apply(venue: Venue, data: dict) -> None:
    fields = {}
    if "name" in data and not (data["name"] or "").strip():
        fields["name"] = [_("This field is required.")]
    if data.get("floor_area") is not None and not 0 <= data["floor_area"] <= 1_000_000:
        fields["floor_area"] = [_("Enter a floor area between 0 and 1,000,000 m².")]
    if data.get("lat") is not None and not -90 <= data["lat"] <= 90:
        fields["lat"] = [_("Latitude is between -90 and 90.")]
    if data.get("lon") is not None and not -180 <= data["lon"] <= 180:
        fields["lon"] = [_("Longitude is between -180 and 180.")]
    if fields:
        raise Invalid(fields=fields)
    for field in VENUE_FIELDS:
        if field in data:
            value = data[field]
            setattr(venue, field, value.strip() if isinstance(value, str) else value)


def set_opening_hours(venue: Venue, *, intervals: list[tuple[int, time, time]], actor: User) -> None:
    """Replace the weekly opening hours with `intervals` of (weekday, opens, closes), checked for overlap."""
    if not venue.can_manage(actor):
        raise Forbidden()
    ordered = sorted(intervals)
    for weekday, opens, closes in ordered:
        if not 0 <= weekday <= 6 or opens >= closes:
            raise Invalid(fields={"hours": [_("Each interval must close after it opens.")]})
    for (d1, _o1, c1), (d2, o2, _c2) in zip(ordered, ordered[1:], strict=False):
        if d1 == d2 and o2 < c1:
            raise Invalid(fields={"hours": [_("Opening intervals on the same day must not overlap.")]})
    venue.hours.clear()
    db.session.flush()
    venue.hours.extend(OpeningHours(weekday=d, opens_at=o, closes_at=c) for d, o, c in ordered)
    audit.record(actor, "venue.hours", venue, {"intervals": [[d, o, c] for d, o, c in ordered]})
    db.session.flush()


def add_closure(venue: Venue, *, starts_on: date, ends_on: date, reason: str, actor: User) -> Closure:
    """Close a venue for whole days (inclusive)."""
    if not venue.can_manage(actor):
        raise Forbidden()
    if ends_on < starts_on:
        raise Invalid(fields={"ends_on": [_("The last day cannot be before the first.")]})
    closure = Closure(venue=venue, starts_on=starts_on, ends_on=ends_on, reason=(reason or "").strip()[:200])
    db.session.add(closure)
    db.session.flush()
    audit.record(actor, "closure.add", closure, {"venue_id": venue.id, "from": starts_on, "to": ends_on})
    return closure


def remove_closure(closure: Closure, *, actor: User) -> None:
    if not closure.venue.can_manage(actor):
        raise Forbidden()
    audit.record(actor, "closure.remove", closure, {"venue_id": closure.venue_id})
    db.session.delete(closure)
    db.session.flush()


ROOM_FIELDS = ("name", "name_en", "capacity", "floor_area", "equipment", "is_bookable", "is_self_service", "max_hours")


def save_room(venue: Venue, *, data: dict, actor: User, room: Room | None = None) -> Room:
    """Add a room to `venue`, or edit `room`; capacity and hours are checked."""
    if not venue.can_manage(actor) or (room is not None and room.venue_id != venue.id):
        raise Forbidden()
    fields = {}
    if not (data.get("name") or "").strip():
        fields["name"] = [_("This field is required.")]
    if not 0 <= int(data.get("capacity") or 0) <= 100_000:
        fields["capacity"] = [_("Enter a capacity between 0 and 100,000.")]
    if not 1 <= int(data.get("max_hours") or 4) <= 24:
        fields["max_hours"] = [_("Enter between 1 and 24 hours.")]
    if data.get("kind") not in RoomKind.__members__:
        fields["kind"] = [_("Choose a kind of room.")]
    if fields:
        raise Invalid(fields=fields)
    room = room or Room(venue=venue)
    room.kind = RoomKind(data["kind"])
    for field in ROOM_FIELDS:
        if field in data:
            value = data[field]
            setattr(room, field, value.strip() if isinstance(value, str) else value)
    db.session.add(room)
    db.session.flush()
    audit.record(actor, "room.save", room, {k: data[k] for k in ROOM_FIELDS if k in data})
    return room


class RoomConflict(DomainError):
    code = "conflict"
    status = 409
    message = _l("The room is already taken at that time.")


def room_buffer() -> timedelta:
    return timedelta(minutes=current_app.config.get("ROOM_BUFFER_MINUTES", 15))


def room_clashes(
    room_id: int,
    starts_at: datetime,
    ends_at: datetime,
    *,
    exclude_id: int | None = None,
    buffer: timedelta | None = None,
) -> list[RoomOccupancy]:
    """Active occupancies of the room that a new [starts_at, ends_at) plus buffer would overlap."""
    blocked_until = ends_at + (room_buffer() if buffer is None else buffer)
    stmt = (
        select(RoomOccupancy)
        .where(
            RoomOccupancy.room_id == room_id,
            RoomOccupancy.is_active.is_(True),
            RoomOccupancy.starts_at < blocked_until,
            RoomOccupancy.blocked_until > starts_at,
        )
        .order_by(RoomOccupancy.starts_at)
    )
    if exclude_id is not None:
        stmt = stmt.where(RoomOccupancy.id != exclude_id)
    return list(db.session.execute(stmt).scalars())


def occupy_room(
    room: Room,
    *,
    starts_at: datetime,
    ends_at: datetime,
    source: OccupancySource,
    source_id: int | None = None,
    occupancy: RoomOccupancy | None = None,
) -> RoomOccupancy:
    """Take `room` for [starts_at, ends_at) plus the turnover buffer, or move `occupancy` there.

    Raises `RoomConflict` with `conflicts` (the clashing intervals) when the room is taken. The check
    here gives a clear answer; the database (exclusion constraint / serialised writes) is what
    guarantees that two racing requests never both succeed.
    """
    if starts_at >= ends_at:
        raise Invalid(fields={"ends_at": [_("The end must be after the start.")]})
    clashes = room_clashes(room.id, starts_at, ends_at, exclude_id=occupancy.id if occupancy else None)
    if clashes:
        raise _conflict(clashes)
    occupancy = occupancy or RoomOccupancy(room_id=room.id, source=source, source_id=source_id)
    occupancy.starts_at, occupancy.ends_at = starts_at, ends_at
    occupancy.blocked_until = ends_at + room_buffer()
    occupancy.is_active = True
    try:
        with db.session.begin_nested():
            db.session.add(occupancy)
            db.session.flush()
    except IntegrityError:
        raise _conflict(room_clashes(room.id, starts_at, ends_at)) from None
    return occupancy


def release_room(occupancy: RoomOccupancy) -> None:
    """Free the room (the row stays, inactive, as history)."""
    occupancy.is_active = False
    db.session.flush()


def _conflict(clashes: list[RoomOccupancy]) -> RoomConflict:
    return RoomConflict(
        conflicts=[
            {"starts_at": c.starts_at, "ends_at": c.ends_at, "source": c.source.value, "source_id": c.source_id}
            for c in clashes
        ]
    )
