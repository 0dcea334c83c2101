"""Writes on room reservations: request (once or weekly), decide, cancel, check in, release.

Every function flushes and never commits. The room itself is taken only through
`venues.services.occupy_room`, so reservations and activity sessions obey one rule (buffer included)
and the database makes double bookings impossible under any concurrency.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from accounts.models import PHONE_RE, User, normalise_phone
from core import tickets
from core.db import utcnow
from core.errors import DomainError, Forbidden, Invalid, InvalidTransition, NotFound
from core.extensions import db
from core.i18n import local_datetime, local_today, to_local
from rooms.models import (
    CHECK_IN_EARLY,
    NO_SHOW_LIMIT,
    NO_SHOW_WINDOW,
    RELEASE_AFTER,
    SUSPENSION,
    GroupKind,
    ReservationStatus,
    RoomGroup,
    RoomReservation,
)
from rooms.signals import reservation_cancelled, reservation_decided, reservation_released
from venues.models import OccupancySource, Room
from venues.services import RoomConflict, occupy_room, release_room

MIN_DAYS_AHEAD = 1
MAX_DAYS_AHEAD = 30
MAX_REPEAT_WEEKS = 26  # a weekly series may run half a year from its first date


class ClosedHours(DomainError):
    code = "closed_hours"
    message = _l("The room can only be reserved within the venue's opening hours.")


class VenueClosed(DomainError):
    code = "closed"
    message = _l("The venue is closed on that day.")


class TooFarAhead(DomainError):
    code = "too_far_ahead"
    message = _l("Rooms can be reserved at most 30 days ahead.")


class TooSoon(DomainError):
    code = "too_soon"
    message = _l("Rooms must be reserved at least one day ahead.")


class GroupSuspended(DomainError):
    code = "suspended"
    message = _l("This group may not reserve rooms for now because of repeated no-shows.")


# What InvalidTransition says here: which object cannot take that step.
NOT_NOW = _l("This reservation cannot be changed that way in its current state.")


class TooManyPendingHolds(DomainError):
    code = "too_many_pending_holds"
    status = 409
    message = _l("You already have the most room requests awaiting a decision. Wait for an answer or cancel one.")


class AlreadyCheckedIn(DomainError):
    code = "already_checked_in"
    message = _l("This reservation is already checked in.")


class TooEarly(DomainError):
    code = "too_early"
    message = _l("Check-in opens 30 minutes before the start.")


@dataclass
class SeriesResult:
    """What a weekly request did: the reservations made, and each date that could not be booked and why."""

    series_id: str
    booked: list[RoomReservation] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)


# --- groups ---------------------------------------------------------------------------------------


def remember_group(actor: User, *, data: dict | None, now: datetime) -> RoomGroup:
    """The group to reserve for: an own group by id, a new or updated one by name, or the last one used."""
    data = data or {}
    if data.get("id"):
        group = db.session.get(RoomGroup, data["id"])
        if group is None or group.owner_id != actor.id:
            raise Invalid(fields={"group": [_("Choose one of your groups.")]})
    elif (data.get("name") or "").strip():
        group = _save_group(actor, data)
    else:
        group = db.session.execute(
            select(RoomGroup).where(RoomGroup.owner_id == actor.id).order_by(RoomGroup.last_used_at.desc()).limit(1)
        ).scalar_one_or_none()
        if group is None:
            raise Invalid(fields={"group": [_("Tell us which group the room is for.")]})
    group.last_used_at = now
    return group


def _save_group(actor: User, data: dict) -> RoomGroup:
    name = data["name"].strip()[:100]
    fields = {}
    kind = data.get("kind") or GroupKind.other.value
    if kind not in GroupKind.__members__:
        fields["group.kind"] = [_("Choose a kind of group.")]
    contact_name = (data.get("contact_name") or actor.name or "").strip()[:50]
    phone = normalise_phone(data.get("contact_phone") or actor.phone or "")
    if not PHONE_RE.match(phone):
        fields["group.contact_phone"] = [_("Enter an 11-digit mainland mobile number, such as 13800000001.")]
    if not contact_name:
        fields["group.contact_name"] = [_("This field is required.")]
    if fields:
        raise Invalid(fields=fields)
    group = db.session.execute(
        select(RoomGroup).where(RoomGroup.owner_id == actor.id, RoomGroup.name == name)
    ).scalar_one_or_none()
    if group is None:
        group = RoomGroup(owner_id=actor.id, name=name)
        db.session.add(group)
    group.kind, group.contact_name, group.contact_phone = GroupKind(kind), contact_name, phone
    db.session.flush()
    return group


# --- requesting -----------------------------------------------------------------------------------


def request_reservation(
    room: Room, *, data: dict, actor: User, now: datetime | None = None
) -> RoomReservation | SeriesResult:
    """Reserve `room` for a group: one date, or every week until `repeat_weekly_until`.

    `data`: starts_at, ends_at (aware), purpose, attendees, group (dict: id, or name/kind/contact_*),
    repeat_weekly_until (date, optional). Pending holds the slot; a self-service room is approved at once.
    Raises Invalid, TooSoon, TooFarAhead, VenueClosed, ClosedHours, RoomConflict, GroupSuspended. A weekly
    request books every free date and reports the others (conflict / closed / closed_hours) instead.
    """
    now = now or utcnow()
    starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
    _check_request(room, starts_at, ends_at, data, actor, now)
    group = remember_group(actor, data=data.get("group"), now=now)
    if group.is_suspended(now):
        raise GroupSuspended(suspended_until=group.suspended_until)
    until = data.get("repeat_weekly_until")
    if until is None:
        _check_day(room, starts_at, ends_at)
        _check_pending_holds(room, actor, now, adding=1)
        return _reserve(room, group, starts_at, ends_at, data, actor, now, series_id=None)
    return _reserve_weekly(room, group, starts_at, ends_at, until, data, actor, now)


def pending_holds_of(user: User, now: datetime) -> int:
    """The account's future requests that hold a room while they await a decision."""
    stmt = select(func.count()).select_from(RoomReservation)
    stmt = stmt.where(
        RoomReservation.requested_by_id == user.id,
        RoomReservation.status == ReservationStatus.pending,
        RoomReservation.ends_at > now,
    )
    return db.session.execute(stmt).scalar_one()


def _check_pending_holds(room: Room, actor: User, now: datetime, *, adding: int) -> None:
    """At most ROOMS_PENDING_PER_REQUESTER pending requests per account (a whole weekly series counts, and
    is refused whole when it would pass the cap); self-service rooms are approved at once and hold nothing
    pending. The account's row lock orders racing requests."""
    if room.is_self_service or adding <= 0:
        return
    limit = current_app.config.get("ROOMS_PENDING_PER_REQUESTER", 30)
    db.session.execute(select(User.id).where(User.id == actor.id).with_for_update())
    held = pending_holds_of(actor, now)
    if held + adding > limit:
        raise TooManyPendingHolds(
            _(
                "You have %(held)s room requests awaiting a decision; at most %(n)s are allowed at once.",
                held=held,
                n=limit,
            ),
            limit=limit,
            pending=held,
        )


def _check_request(room: Room, starts_at, ends_at, data: dict, actor: User, now: datetime) -> None:
    """The rules of one request that do not depend on the day: input, room, length, size, lead time."""
    if not isinstance(starts_at, datetime) or not isinstance(ends_at, datetime):
        raise Invalid(fields={"starts_at": [_("Enter a start and an end time.")]})
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise Invalid(fields={"starts_at": [_("The time needs a zone offset, such as +08:00.")]})
    if ends_at <= starts_at:
        raise Invalid(fields={"ends_at": [_("The end must be after the start.")]})
    if starts_at <= now:
        raise Invalid(fields={"starts_at": [_("This time has already passed.")]})
    if not (room.is_bookable and room.is_active and room.venue.is_active):
        raise Invalid(fields={"room_id": [_("This room cannot be reserved.")]})
    if ends_at - starts_at > timedelta(hours=room.max_hours):
        raise Invalid(fields={"ends_at": [_("This room can be reserved for at most %(n)s hours.", n=room.max_hours)]})
    purpose = (data.get("purpose") or "").strip()
    if not purpose or len(purpose) > 200:
        raise Invalid(fields={"purpose": [_("Say in a few words what the room is for (at most 200 characters).")]})
    attendees = data.get("attendees")
    if not isinstance(attendees, int) or attendees < 1:
        raise Invalid(fields={"attendees": [_("Enter the expected number of people.")]})
    if room.capacity and attendees > room.capacity:
        raise Invalid(fields={"attendees": [_("This room holds at most %(n)s people.", n=room.capacity)]})
    if actor.is_suspended(now):
        raise GroupSuspended(_("Your account may not reserve rooms for now."), suspended_until=actor.suspended_until)
    if starts_at - now > timedelta(days=MAX_DAYS_AHEAD + 2):  # before any zone arithmetic, which could overflow
        raise TooFarAhead(latest_date=local_today(now) + timedelta(days=MAX_DAYS_AHEAD))
    days_ahead = (to_local(starts_at).date() - local_today(now)).days
    if days_ahead < MIN_DAYS_AHEAD:
        raise TooSoon()
    if days_ahead > MAX_DAYS_AHEAD:
        raise TooFarAhead(latest_date=local_today(now) + timedelta(days=MAX_DAYS_AHEAD))


def _check_day(room: Room, starts_at: datetime, ends_at: datetime) -> None:
    """The venue must be open on that local day, for the whole of [starts_at, ends_at)."""
    start, end = to_local(starts_at), to_local(ends_at)
    closure = room.venue.closure_on(start.date())
    if closure is not None:
        raise VenueClosed(reason=closure.reason)
    intervals = room.venue.hours_on(start.date())
    fits = end.date() == start.date() and any(o <= start.time() and end.time() <= c for o, c in intervals)
    if not fits:
        raise ClosedHours(
            opening_hours=[{"opens_at": o.strftime("%H:%M"), "closes_at": c.strftime("%H:%M")} for o, c in intervals]
        )


def _reserve(
    room: Room,
    group: RoomGroup,
    starts_at: datetime,
    ends_at: datetime,
    data: dict,
    actor: User,
    now: datetime,
    series_id: str | None,
) -> RoomReservation:
    occupancy = occupy_room(room, starts_at=starts_at, ends_at=ends_at, source=OccupancySource.reservation)
    status = ReservationStatus.approved if room.is_self_service else ReservationStatus.pending
    reservation = RoomReservation(
        room=room,
        group=group,
        requested_by_id=actor.id,
        occupancy=occupancy,
        starts_at=starts_at,
        ends_at=ends_at,
        purpose=data["purpose"].strip(),
        attendees=data["attendees"],
        status=status,
        series_id=series_id,
        created_at=now,
    )
    if room.is_self_service:
        reservation.decided_at = now
    db.session.add(reservation)
    db.session.flush()
    occupancy.source_id = reservation.id
    db.session.flush()
    return reservation


def _reserve_weekly(
    room: Room,
    group: RoomGroup,
    starts_at: datetime,
    ends_at: datetime,
    until: date,
    data: dict,
    actor: User,
    now: datetime,
) -> SeriesResult:
    first = to_local(starts_at)
    if not isinstance(until, date) or until < first.date():
        raise Invalid(fields={"repeat_weekly_until": [_("The last date cannot be before the first.")]})
    if (until - first.date()).days > MAX_REPEAT_WEEKS * 7:
        raise Invalid(
            fields={"repeat_weekly_until": [_("A weekly series can run for at most %(n)s weeks.", n=MAX_REPEAT_WEEKS)]}
        )
    result = SeriesResult(series_id=uuid.uuid4().hex)
    length = ends_at - starts_at
    day = first.date()
    _check_pending_holds(room, actor, now, adding=(until - day).days // 7 + 1)
    while day <= until:
        # Same wall-clock time each week, whatever the zone's offset does.
        occ_start = local_datetime(day, first.time().replace(tzinfo=None))
        try:
            _check_day(room, occ_start, occ_start + length)
            result.booked.append(
                _reserve(room, group, occ_start, occ_start + length, data, actor, now, result.series_id)
            )
        except (VenueClosed, ClosedHours, RoomConflict) as err:
            result.skipped.append(
                {
                    "date": day,
                    "starts_at": occ_start,
                    "ends_at": occ_start + length,
                    "code": err.code,
                    "message": str(err.message),
                    "conflicts": err.extra.get("conflicts", []),
                }
            )
        day += timedelta(days=7)
    return result


# --- staff decisions ------------------------------------------------------------------------------


def approve_reservation(reservation: RoomReservation, *, actor: User, now: datetime | None = None) -> RoomReservation:
    """Approve a pending request (staff in scope). Raises Forbidden, InvalidTransition."""
    now = now or utcnow()
    _require_manager(reservation, actor)
    if reservation.status != ReservationStatus.pending or reservation.starts_at <= now:
        raise InvalidTransition(NOT_NOW, current_status=reservation.status.value)
    _set_status(reservation, ReservationStatus.approved, expected=(ReservationStatus.pending,))
    reservation.decided_by_id, reservation.decided_at = actor.id, now
    db.session.flush()
    reservation_decided.send(reservation, approved=True, reason="", actor=actor)
    return reservation


def reject_reservation(
    reservation: RoomReservation, *, reason: str, actor: User, now: datetime | None = None
) -> RoomReservation:
    """Reject a pending request with a reason (staff in scope); the room is freed at once."""
    now = now or utcnow()
    _require_manager(reservation, actor)
    reason = _reason(reason)
    if reservation.status != ReservationStatus.pending:
        raise InvalidTransition(NOT_NOW, current_status=reservation.status.value)
    _set_status(reservation, ReservationStatus.rejected, expected=(ReservationStatus.pending,))
    reservation.decided_by_id, reservation.decided_at, reservation.decision_reason = actor.id, now, reason
    _free(reservation)
    reservation_decided.send(reservation, approved=False, reason=reason, actor=actor)
    return reservation


def cancel_reservation(
    reservation: RoomReservation, *, reason: str = "", actor: User, now: datetime | None = None
) -> RoomReservation:
    """Cancel a pending or approved reservation: the requester before its start, or staff (with a reason)."""
    now = now or utcnow()
    by_staff = not reservation.is_owned_by(actor)
    if by_staff:
        _require_manager(reservation, actor)
        reason = _reason(reason)
    if reservation.status not in (ReservationStatus.pending, ReservationStatus.approved) or (
        not by_staff and reservation.starts_at <= now
    ):
        raise InvalidTransition(NOT_NOW, current_status=reservation.status.value)
    _set_status(
        reservation, ReservationStatus.cancelled, expected=(ReservationStatus.pending, ReservationStatus.approved)
    )
    reservation.decision_reason = (reason or "").strip()[:300]
    if by_staff:
        reservation.decided_by_id, reservation.decided_at = actor.id, now
    _free(reservation)
    reservation_cancelled.send(reservation, reason=reservation.decision_reason, by_staff=by_staff, actor=actor)
    return reservation


def check_in_reservation(
    reservation: RoomReservation, *, actor: User, now: datetime | None = None, scan_id: str | None = None
) -> RoomReservation:
    """Staff mark the group as arrived (a button, or a scanned ticket): from 30 minutes before the start until the end.

    Exactly once: the move to checked_in is a conditional UPDATE, so of two staff checking the same
    group in at the same instant one wins and the other gets AlreadyCheckedIn with the first time.
    """
    now = now or utcnow()
    if not reservation.can_check_in(actor):
        raise Forbidden()
    if reservation.status == ReservationStatus.checked_in:
        raise already_checked_in(reservation)
    if reservation.status != ReservationStatus.approved or now >= reservation.ends_at:
        raise InvalidTransition(NOT_NOW, current_status=reservation.status.value)
    if now < reservation.starts_at - CHECK_IN_EARLY:
        raise TooEarly(opens_at=reservation.starts_at - CHECK_IN_EARLY)
    if not _claim(reservation, ReservationStatus.checked_in, expected=(ReservationStatus.approved,)):
        if reservation.status == ReservationStatus.checked_in:
            raise already_checked_in(reservation)
        raise InvalidTransition(NOT_NOW, status=reservation.status.value)
    reservation.checked_in_at, reservation.checked_in_by_id = now, actor.id
    reservation.checkin_scan_id = scan_id or None
    db.session.flush()
    db.session.expire(reservation, ["checked_in_by"])
    return reservation


def already_checked_in(reservation: RoomReservation) -> AlreadyCheckedIn:
    """The refusal of a second check-in, with when and by whom the group was first checked in."""
    by = reservation.checked_in_by
    return AlreadyCheckedIn(
        reservation_id=reservation.id,
        holder=reservation.group.name,
        party_size=reservation.attendees,
        first_checked_in_at=reservation.checked_in_at,
        checked_in_by=by.name if by else "",
    )


def release_reservation(reservation: RoomReservation, *, now: datetime) -> bool:
    """Release an approved reservation not checked in 20 minutes after its start; a no-show for the group.

    Returns False (and does nothing) when it was checked in or changed meanwhile. The group is
    suspended for 30 days on its third no-show within 90 days.
    """
    if reservation.starts_at + RELEASE_AFTER > now:
        return False
    if not _claim(reservation, ReservationStatus.released, expected=(ReservationStatus.approved,)):
        return False
    reservation.released_at = now
    _free(reservation)
    group = reservation.group
    suspended = no_shows(group, now) >= NO_SHOW_LIMIT and not group.is_suspended(now)
    if suspended:
        group.suspended_until = now + SUSPENSION
        db.session.flush()
    reservation_released.send(reservation, now=now, group_suspended=suspended)
    return True


def expire_reservation(reservation: RoomReservation, *, now: datetime) -> bool:
    """Reject a request nobody decided before its start (no decider, no reason), freeing the room.

    Returns False when it was decided meanwhile or has not started yet.
    """
    if reservation.starts_at > now:
        return False
    if not _claim(reservation, ReservationStatus.rejected, expected=(ReservationStatus.pending,)):
        return False
    reservation.decided_at = now
    _free(reservation)
    reservation_decided.send(reservation, approved=False, reason="", actor=None)
    return True


def no_shows(group: RoomGroup, now: datetime) -> int:
    """Released reservations of the group that started within the last 90 days."""
    return db.session.execute(
        select(func.count())
        .select_from(RoomReservation)
        .where(
            RoomReservation.group_id == group.id,
            RoomReservation.status == ReservationStatus.released,
            RoomReservation.starts_at > now - NO_SHOW_WINDOW,
        )
    ).scalar_one()


def bulk_decide(
    reservations: list[RoomReservation], *, approve: bool, reason: str, actor: User, now: datetime | None = None
) -> list[dict]:
    """Approve or reject many requests; each succeeds or fails on its own (a savepoint each)."""
    results = []
    for reservation in reservations:
        try:
            with db.session.begin_nested():
                if approve:
                    approve_reservation(reservation, actor=actor, now=now)
                else:
                    reject_reservation(reservation, reason=reason, actor=actor, now=now)
        except DomainError as err:
            db.session.refresh(reservation)
            results.append(
                {
                    "id": reservation.id,
                    "status": reservation.status.value,
                    "error": {"code": err.code, "message": str(err.message)},
                }
            )
        else:
            results.append({"id": reservation.id, "status": reservation.status.value})
    return results


def get_reservation(reservation_id: int, actor: User) -> RoomReservation:
    """The reservation if `actor` may see it (its requester, or staff in scope); else NotFound."""
    reservation = db.session.get(RoomReservation, reservation_id)
    if reservation is None or not reservation.can_see(actor):
        raise NotFound()
    return reservation


# --- helpers --------------------------------------------------------------------------------------


def _require_manager(reservation: RoomReservation, actor: User) -> None:
    if not reservation.can_manage(actor):
        raise Forbidden()


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(fields={"reason": [_("Give a reason; the group will read it.")]})
    if len(reason) > 300:
        raise Invalid(fields={"reason": [_("At most %(n)s characters.", n=300)]})
    return reason


def _claim(reservation: RoomReservation, status: ReservationStatus, *, expected) -> bool:
    """Move to `status` only if still in one of `expected` (a conditional UPDATE: racing writers cannot both win)."""
    result = db.session.execute(
        update(RoomReservation)
        .where(RoomReservation.id == reservation.id, RoomReservation.status.in_(expected))
        .values(status=status)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(reservation)
        return False
    db.session.refresh(reservation, ["status"])
    return True


def _set_status(reservation: RoomReservation, status: ReservationStatus, *, expected) -> None:
    if not _claim(reservation, status, expected=expected):
        raise InvalidTransition(NOT_NOW, current_status=reservation.status.value)


def _free(reservation: RoomReservation) -> None:
    if reservation.occupancy is not None and reservation.occupancy.is_active:
        release_room(reservation.occupancy)
    db.session.flush()


def check_in_window(reservation: RoomReservation) -> tuple[datetime, datetime]:
    """When the door may admit a room reservation's ticket: 30 minutes before the start until the end."""
    return reservation.starts_at - CHECK_IN_EARLY, reservation.ends_at


def require_ticket(reservation: RoomReservation) -> None:
    """Only an approved (or checked-in) reservation has a ticket; raises Cancelled, NotConfirmed or TooLate."""
    if reservation.status in (ReservationStatus.approved, ReservationStatus.checked_in):
        return
    if reservation.status == ReservationStatus.pending:
        raise tickets.NotConfirmed(_l("This room reservation is not approved yet."))
    if reservation.status == ReservationStatus.released:
        raise tickets.TooLate(
            _l("This room reservation was released: nobody checked in within 20 minutes of the start."),
            ended_at=reservation.ends_at,
        )
    raise tickets.Cancelled(_l("This room reservation has been cancelled or declined."))
