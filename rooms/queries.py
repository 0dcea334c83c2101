"""Reads on room reservations: a room's free and taken time, lists for groups and staff, clashes, utilisation."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from core.extensions import db
from core.i18n import local_datetime, to_local
from rooms.models import HOLDING, RESERVED, ReservationStatus, RoomGroup, RoomReservation
from venues.models import Closure, Room, RoomOccupancy, Venue
from venues.queries import subtree_clause
from venues.services import room_buffer


@dataclass
class DayAvailability:
    """One room on one local day: opening intervals, taken intervals (every source) and free intervals.

    A free interval is where a new reservation may start and end: taken intervals are widened by the
    turnover buffer on both sides, exactly as `occupy_room` checks.
    """

    day: date
    closure: Closure | None = None
    opening: list[tuple[datetime, datetime]] = field(default_factory=list)
    taken: list[RoomOccupancy] = field(default_factory=list)
    free: list[tuple[datetime, datetime]] = field(default_factory=list)


def room_for_reservation(room_id: int) -> Room | None:
    """A room with its venue, hours and closures loaded (what the rules and the availability read)."""
    return (
        db.session.execute(
            select(Room)
            .where(Room.id == room_id)
            .options(
                joinedload(Room.venue).selectinload(Venue.hours), joinedload(Room.venue).selectinload(Venue.closures)
            )
        )
        .unique()
        .scalar_one_or_none()
    )


def availability(room: Room, first: date, days: int = 1) -> list[DayAvailability]:
    """Free and taken intervals of `room` for `days` local days from `first`, in one occupancy query."""
    start = local_datetime(first, datetime.min.time())
    end = local_datetime(first + timedelta(days=days), datetime.min.time())
    buffer = room_buffer()
    occupancies = list(
        db.session.execute(
            select(RoomOccupancy)
            .where(
                RoomOccupancy.room_id == room.id,
                RoomOccupancy.is_active.is_(True),
                RoomOccupancy.starts_at < end,
                RoomOccupancy.blocked_until > start,
            )
            .order_by(RoomOccupancy.starts_at)
        ).scalars()
    )
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        item = DayAvailability(day=day, closure=room.venue.closure_on(day))
        day_start, day_end = (
            local_datetime(day, datetime.min.time()),
            local_datetime(day + timedelta(days=1), datetime.min.time()),
        )
        item.taken = [o for o in occupancies if o.starts_at < day_end and o.blocked_until > day_start]
        item.opening = [(local_datetime(day, o), local_datetime(day, c)) for o, c in room.venue.hours_on(day)]
        blocks = [(o.starts_at - buffer, o.blocked_until) for o in item.taken]
        item.free = [piece for interval in item.opening for piece in _subtract(interval, blocks)]
        result.append(item)
    return result


def _subtract(interval: tuple[datetime, datetime], blocks: list[tuple[datetime, datetime]]):
    """The parts of `interval` outside every block (blocks sorted or not)."""
    pieces = [interval]
    for b_start, b_end in blocks:
        next_pieces = []
        for p_start, p_end in pieces:
            if b_end <= p_start or b_start >= p_end:
                next_pieces.append((p_start, p_end))
                continue
            if b_start > p_start:
                next_pieces.append((p_start, b_start))
            if b_end < p_end:
                next_pieces.append((b_end, p_end))
        pieces = next_pieces
    return [p for p in pieces if p[1] > p[0]]


def reservations_for_occupancies(occupancies: list[RoomOccupancy]) -> dict[int, RoomReservation]:
    """The reservations behind reservation occupancies, by occupancy id (for staff views of a day)."""
    ids = [o.id for o in occupancies]
    if not ids:
        return {}
    rows = db.session.execute(
        select(RoomReservation).where(RoomReservation.occupancy_id.in_(ids)).options(joinedload(RoomReservation.group))
    ).scalars()
    return {r.occupancy_id: r for r in rows}


def bookable_rooms(venue_id: int | None = None) -> list[Room]:
    """Active, bookable rooms of active venues (optionally of one venue), with their venue."""
    stmt = (
        select(Room)
        .join(Room.venue)
        .where(Room.is_bookable.is_(True), Room.is_active.is_(True), Venue.is_active.is_(True))
        .options(joinedload(Room.venue))
        .order_by(Venue.path, Room.id)
    )
    if venue_id is not None:
        stmt = stmt.where(Room.venue_id == venue_id)
    return list(db.session.execute(stmt).scalars())


def my_groups(user) -> list[RoomGroup]:
    return list(
        db.session.execute(
            select(RoomGroup).where(RoomGroup.owner_id == user.id).order_by(RoomGroup.last_used_at.desc())
        ).scalars()
    )


def _with_room():
    return (joinedload(RoomReservation.room).joinedload(Room.venue), joinedload(RoomReservation.group))


def my_reservations_select(user, status: str | None = None):
    """The user's own reservations, newest start first."""
    stmt = (
        select(RoomReservation)
        .where(RoomReservation.requested_by_id == user.id)
        .options(*_with_room())
        .order_by(RoomReservation.starts_at.desc(), RoomReservation.id.desc())
    )
    if status:
        stmt = stmt.where(RoomReservation.status == status)
    return stmt


def scope_reservations_select(user, roles, status: str | None = None, since: datetime | None = None):
    """Reservations of rooms in `user`'s scope (server-side scope), by start time."""
    stmt = (
        select(RoomReservation)
        .join(RoomReservation.room)
        .join(Room.venue)
        .where(subtree_clause(user.scope_paths(roles)))
        .options(*_with_room())
        .order_by(RoomReservation.starts_at, RoomReservation.id)
    )
    if status:
        stmt = stmt.where(RoomReservation.status == status)
    if since is not None:
        stmt = stmt.where(RoomReservation.ends_at > since)
    return stmt


def pending_queue(user, roles, now: datetime) -> list[RoomReservation]:
    """Requests waiting for a decision in scope, soonest first (past ones cannot be approved any more)."""
    return list(
        db.session.execute(
            scope_reservations_select(user, roles, ReservationStatus.pending, since=now).limit(200)
        ).scalars()
    )


def upcoming_approved(user, roles, now: datetime, days: int = 7) -> list[RoomReservation]:
    """Approved and checked-in reservations in scope from now to `days` ahead (to check in or cancel)."""
    stmt = (
        scope_reservations_select(user, roles, since=now)
        .where(
            RoomReservation.status.in_([ReservationStatus.approved, ReservationStatus.checked_in]),
            RoomReservation.starts_at < now + timedelta(days=days),
        )
        .limit(200)
    )
    return list(db.session.execute(stmt).scalars())


def closure_clashes(user, roles, now: datetime) -> list[tuple[Closure, list[RoomReservation]]]:
    """Closures in scope that fall on days with reservations still holding a room, for staff to resolve."""
    today = to_local(now).date()
    closures = list(
        db.session.execute(
            select(Closure)
            .join(Closure.venue)
            .where(subtree_clause(user.scope_paths(roles)), Closure.ends_on >= today)
            .options(joinedload(Closure.venue))
            .order_by(Closure.starts_on)
        ).scalars()
    )
    result = []
    for closure in closures:
        start = local_datetime(closure.starts_on, datetime.min.time())
        end = local_datetime(closure.ends_on + timedelta(days=1), datetime.min.time())
        clashing = list(
            db.session.execute(
                select(RoomReservation)
                .join(RoomReservation.room)
                .where(
                    Room.venue_id == closure.venue_id,
                    RoomReservation.status.in_(HOLDING),
                    RoomReservation.starts_at < end,
                    RoomReservation.ends_at > max(start, now),
                )
                .options(*_with_room())
                .order_by(RoomReservation.starts_at)
            ).scalars()
        )
        if clashing:
            result.append((closure, clashing))
    return result


@dataclass
class Utilisation:
    venue: Venue
    hours_open: float = 0.0
    hours_reserved: float = 0.0
    hours_used: float = 0.0


def room_utilisation(first: date, last: date, *, paths: list[str] | None = None) -> list[Utilisation]:
    """Per venue, for local days first..last: room-hours open (bookable rooms × opening hours outside
    closures), hours reserved (approved at some point: approved, checked in, or released) and hours used
    (checked in). `paths` limits to venue subtrees (default: the whole network)."""
    start = local_datetime(first, datetime.min.time())
    end = local_datetime(last + timedelta(days=1), datetime.min.time())
    venues = list(
        db.session.execute(
            select(Venue)
            .where(subtree_clause(paths or ["/"]), Venue.is_active.is_(True))
            .options(selectinload(Venue.rooms), selectinload(Venue.hours), selectinload(Venue.closures))
            .order_by(Venue.path)
        ).scalars()
    )
    rows = {v.id: Utilisation(venue=v) for v in venues}
    for venue in venues:
        rooms = sum(1 for r in venue.rooms if r.is_bookable and r.is_active)
        day = first
        while day <= last and rooms:
            rows[venue.id].hours_open += rooms * sum(
                (local_datetime(day, c) - local_datetime(day, o)) / timedelta(hours=1) for o, c in venue.hours_on(day)
            )
            day += timedelta(days=1)
    reservations = db.session.execute(
        select(Room.venue_id, RoomReservation.starts_at, RoomReservation.ends_at, RoomReservation.status)
        .join(RoomReservation.room)
        .where(
            Room.venue_id.in_(list(rows)),
            RoomReservation.status.in_(RESERVED),
            RoomReservation.starts_at < end,
            RoomReservation.ends_at > start,
        )
    )
    for venue_id, starts_at, ends_at, status in reservations:
        hours = (min(ends_at, end) - max(starts_at, start)) / timedelta(hours=1)
        rows[venue_id].hours_reserved += hours
        if status == ReservationStatus.checked_in:
            rows[venue_id].hours_used += hours
    return list(rows.values())
