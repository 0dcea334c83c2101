"""Writes on activities and sessions. Flush, never commit; raise domain errors with stable codes.

Rooms are only ever taken through venues.services.occupy_room, so a session can never overlap a
room reservation or another session (the database's exclusion constraint backs that on PostgreSQL).
"""

from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from accounts.models import User
from activities import signals
from activities.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Category,
    Policy,
    QuotaRule,
    Session,
    SessionStatus,
)
from core import audit
from core.db import utcnow
from core.errors import DomainError, Forbidden, Invalid, InvalidTransition
from core.extensions import db
from core.i18n import local_datetime
from venues.models import OccupancySource, Room, Venue
from venues.services import RoomConflict, occupy_room, release_room

MAX_SESSIONS_PER_PATTERN = 200
ACTIVITY_FIELDS = (
    "title",
    "summary",
    "description",
    "series",
    "category",
    "place",
    "age_min",
    "age_max",
    "gender",
    "is_real_name_required",
    "policy",
    "has_waiting_list",
    "capacity",
    "max_party_size",
    "signup_opens_at",
    "signup_closes_at",
    "cancel_hours",
    "confirm_hours",
    "reserved_quota",
    "quota_rule",
    "starts_on",
    "ends_on",
)


# What InvalidTransition says here: which object cannot take that step.
NOT_NOW = _l("This step is not possible in the activity's current state.")


def create_activity(venue: Venue, *, data: dict, actor: User, now: datetime | None = None) -> Activity:
    """A draft activity at `venue` (which must be in the actor's scope); fields are checked together."""
    if not venue.can_manage(actor):
        raise Forbidden()
    try:
        kind = ActivityKind(data.get("kind"))
    except ValueError:
        raise Invalid(fields={"kind": [_("Choose a kind.")]}) from None
    activity = Activity(
        kind=kind, venue=venue, status=ActivityStatus.draft, created_by_id=actor.id, created_at=now or utcnow()
    )
    _apply(activity, data, room_id=data.get("room_id"))
    db.session.add(activity)
    db.session.flush()
    audit.record(actor, "activity.create", activity, {"title": activity.title, "venue_id": venue.id}, now=now)
    return activity


def update_activity(activity: Activity, *, data: dict, actor: User) -> Activity:
    """Edit an activity; a published one keeps its bookings. Capacity cannot drop below seats taken."""
    if not activity.can_manage(actor):
        raise Forbidden()
    if activity.status in (ActivityStatus.cancelled, ActivityStatus.finished):
        raise InvalidTransition(NOT_NOW)
    merged = {f: getattr(activity, f) for f in ACTIVITY_FIELDS} | data
    db.session.flush()
    try:
        with db.session.begin_nested():
            _apply(activity, merged, room_id=data.get("room_id", activity.room_id))
            if "capacity" in data and not activity.is_course:
                for session in activity.live_sessions:
                    session.capacity = activity.capacity
            db.session.flush()
    except IntegrityError:
        raise Invalid(fields={"capacity": [_("Capacity cannot be below the seats already booked.")]}) from None
    audit.record(actor, "activity.update", activity, {"fields": sorted(data)})
    return activity


def _apply(activity: Activity, data: dict, *, room_id: int | None) -> None:
    """Check and copy the editable fields; every problem is reported at once, per field."""
    fields: dict[str, list[str]] = {}
    title = (data.get("title") or "").strip()
    if not title or len(title) > 100:
        fields["title"] = [_("Enter a title of 1 to 100 characters.")]
    enums = {"category": Category, "policy": Policy}
    for name, enum_type in enums.items():
        try:
            enum_type(data.get(name) or ("general" if name == "category" else "first_come"))
        except ValueError:
            fields[name] = [_("Choose one of the options.")]
    if data.get("quota_rule") not in (None, "", *QuotaRule.__members__):
        fields["quota_rule"] = [_("Choose one of the options.")]
    if data.get("gender") not in (None, "", "female", "male"):
        fields["gender"] = [_("Choose one of the options.")]
    _check_numbers(data, fields)
    opens, closes = data.get("signup_opens_at"), data.get("signup_closes_at")
    if opens and closes and closes <= opens:
        fields["signup_closes_at"] = [_("Sign-ups must close after they open.")]
    if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
        fields["ends_on"] = [_("The last day cannot be before the first.")]
    room = _room_of(activity.venue, room_id, fields)
    if fields:
        raise Invalid(fields=fields)
    for name in ACTIVITY_FIELDS:
        if name in data:
            value = data[name]
            setattr(activity, name, value.strip() if isinstance(value, str) else value)
    activity.title = title
    activity.category = Category(data.get("category") or "general")
    activity.policy = Policy(data.get("policy") or "first_come")
    activity.quota_rule = QuotaRule(data["quota_rule"]) if data.get("quota_rule") else None
    activity.gender = data.get("gender") or None
    activity.room = room


def _check_numbers(data: dict, fields: dict) -> None:
    ranges = {
        "capacity": (0, 100_000),
        "max_party_size": (1, 3),
        "cancel_hours": (0, 720),
        "confirm_hours": (1, 720),
        "reserved_quota": (0, 100_000),
        "age_min": (0, 120),
        "age_max": (0, 120),
    }
    for name, (low, high) in ranges.items():
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or not low <= value <= high:
            fields[name] = [_("Enter a whole number from %(a)s to %(b)s.", a=low, b=high)]
    if (
        not fields
        and data.get("age_min") is not None
        and data.get("age_max") is not None
        and data["age_min"] > data["age_max"]
    ):
        fields["age_max"] = [_("The maximum age cannot be below the minimum.")]
    if not fields and (data.get("reserved_quota") or 0) > (data.get("capacity") or 0):
        fields["reserved_quota"] = [_("The reserved quota cannot exceed the capacity.")]


def _room_of(venue: Venue, room_id, fields: dict) -> Room | None:
    if room_id in (None, "", 0):
        return None
    room = db.session.get(Room, room_id) if isinstance(room_id, int) else None
    if room is None or room.venue_id != venue.id or not room.is_active:
        fields["room_id"] = [_("Choose a room of this venue.")]
        return None
    return room


def add_session(
    activity: Activity,
    *,
    starts_at: datetime,
    ends_at: datetime,
    actor: User,
    room_id: int | None = None,
    capacity: int | None = None,
    now: datetime | None = None,
) -> Session:
    """One session (or lesson, or slot) of `activity`, taking the room for its time.

    Raises `Invalid` for bad times, `RoomConflict` (code `conflict`) when the room is taken.
    """
    if not activity.can_manage(actor):
        raise Forbidden()
    if activity.status in (ActivityStatus.cancelled, ActivityStatus.finished):
        raise InvalidTransition(NOT_NOW)
    now = now or utcnow()
    fields: dict[str, list[str]] = {}
    if ends_at <= starts_at:
        fields["ends_at"] = [_("The end must be after the start.")]
    elif ends_at - starts_at > timedelta(hours=24):
        fields["ends_at"] = [_("A session lasts at most 24 hours.")]
    if starts_at <= now:
        fields["starts_at"] = [_("The start must be in the future.")]
    if capacity is not None and not 0 <= capacity <= 100_000:
        fields["capacity"] = [_("Enter a whole number from %(a)s to %(b)s.", a=0, b=100_000)]
    room = _room_of(activity.venue, room_id, fields) if room_id else activity.room
    if fields:
        raise Invalid(fields=fields)
    session = Session(
        activity=activity,
        starts_at=starts_at,
        ends_at=ends_at,
        room=room,
        capacity=0 if activity.is_course else (activity.capacity if capacity is None else capacity),
    )
    db.session.add(session)
    db.session.flush()
    if room is not None:
        session.occupancy = occupy_room(
            room, starts_at=starts_at, ends_at=ends_at, source=OccupancySource.session, source_id=session.id
        )
    db.session.flush()
    audit.record(actor, "session.create", session, {"activity_id": activity.id, "starts_at": starts_at}, now=now)
    return session


def weekly_dates(first_on: date, until_on: date, weekdays: list[int], except_on: list[date]) -> list[date]:
    """Every date from `first_on` to `until_on` on one of `weekdays` (0 = Monday), minus the exceptions."""
    skip = set(except_on)
    days, day = [], first_on
    while day <= until_on:
        if day.weekday() in weekdays and day not in skip:
            days.append(day)
        day += timedelta(days=1)
    return days


def add_weekly_sessions(
    activity: Activity,
    *,
    first_on: date,
    until_on: date,
    weekdays: list[int],
    starts: time,
    ends: time,
    except_on: list[date] | None = None,
    actor: User,
    room_id: int | None = None,
    capacity: int | None = None,
    now: datetime | None = None,
) -> list[Session]:
    """A weekly pattern of sessions (local times) with exception dates; all or nothing.

    A room clash on any date raises `RoomConflict` naming every clashing date, and adds none.
    """
    days = weekly_dates(first_on, until_on, weekdays, except_on or []) if until_on >= first_on else []
    if not days:
        raise Invalid(fields={"until_on": [_("The pattern gives no dates.")]})
    if len(days) > MAX_SESSIONS_PER_PATTERN:
        raise Invalid(fields={"until_on": [_("At most %(n)s sessions at once.", n=MAX_SESSIONS_PER_PATTERN)]})
    sessions, conflicts = [], []
    for day in days:
        try:
            with db.session.begin_nested():
                sessions.append(
                    add_session(
                        activity,
                        starts_at=local_datetime(day, starts),
                        ends_at=local_datetime(day, ends),
                        actor=actor,
                        room_id=room_id,
                        capacity=capacity,
                        now=now,
                    )
                )
        except RoomConflict:
            conflicts.append(day.isoformat())
    if conflicts:
        raise RoomConflict(_("The room is taken on: %(days)s.", days=", ".join(conflicts)), dates=conflicts)
    return sessions


def move_session(
    session: Session, *, starts_at: datetime, ends_at: datetime, actor: User, now: datetime | None = None
) -> Session:
    """Move a session (its room occupancy moves with it); everyone booked is told via `session_moved`."""
    activity = session.activity
    if not activity.can_manage(actor):
        raise Forbidden()
    now = now or utcnow()
    if not session.is_live or session.has_started(now):
        raise InvalidTransition(_("Only a session that has not started can be moved."))
    if ends_at <= starts_at:
        raise Invalid(fields={"ends_at": [_("The end must be after the start.")]})
    if starts_at <= now:
        raise Invalid(fields={"starts_at": [_("The start must be in the future.")]})
    old_starts, old_ends = session.starts_at, session.ends_at
    if session.room is not None:
        session.occupancy = occupy_room(
            session.room,
            starts_at=starts_at,
            ends_at=ends_at,
            source=OccupancySource.session,
            source_id=session.id,
            occupancy=session.occupancy,
        )
    session.starts_at, session.ends_at = starts_at, ends_at
    db.session.flush()
    audit.record(actor, "session.move", session, {"from": old_starts, "to": starts_at}, now=now)
    signals.session_moved.send(
        session,
        session_id=session.id,
        activity_id=activity.id,
        old_starts_at=old_starts,
        old_ends_at=old_ends,
        starts_at=starts_at,
        ends_at=ends_at,
        actor_id=actor.id,
        now=now,
    )
    return session


def cancel_session(session: Session, *, reason: str, actor: User, now: datetime | None = None) -> Session:
    """Cancel one session: the room is released and bookings react to `session_cancelled`."""
    activity = session.activity
    if not activity.can_manage(actor):
        raise Forbidden()
    now = now or utcnow()
    if not session.is_live or session.has_ended(now):
        raise InvalidTransition(_("This session cannot be cancelled any more."))
    session.status = SessionStatus.cancelled
    session.note = (reason or "").strip()[:200]
    if session.occupancy is not None:
        release_room(session.occupancy)
    db.session.flush()
    audit.record(actor, "session.cancel", session, {"reason": session.note}, now=now)
    signals.session_cancelled.send(
        session, session_id=session.id, activity_id=activity.id, reason=session.note, actor_id=actor.id, now=now
    )
    return session


def publish_activity(activity: Activity, *, actor: User, now: datetime | None = None) -> Activity:
    """Draft → published; an activity needs a future session (or, for an exhibition, its dates)."""
    if not activity.can_manage(actor):
        raise Forbidden()
    if activity.status != ActivityStatus.draft:
        raise InvalidTransition(NOT_NOW)
    now = now or utcnow()
    has_dates = activity.kind == ActivityKind.exhibition and activity.starts_on and activity.ends_on
    if not has_dates and not any(s.starts_at > now for s in activity.live_sessions):
        raise Invalid(
            _("Add at least one future session before publishing."),
            fields={"sessions": [_("Add at least one future session before publishing.")]},
        )
    if activity.policy != Policy.walk_in and activity.capacity <= 0:
        raise Invalid(fields={"capacity": [_("A bookable activity needs a capacity.")]})
    activity.status = ActivityStatus.published
    activity.published_at = now
    db.session.flush()
    audit.record(actor, "activity.publish", activity, now=now)
    signals.activity_published.send(activity, activity_id=activity.id, actor_id=actor.id, now=now)
    return activity


def cancel_activity(activity: Activity, *, reason: str, actor: User, now: datetime | None = None) -> Activity:
    """Cancel the whole activity: every future session is cancelled and its rooms released."""
    if not activity.can_manage(actor):
        raise Forbidden()
    if activity.status in (ActivityStatus.cancelled, ActivityStatus.finished):
        raise InvalidTransition(NOT_NOW)
    now = now or utcnow()
    for session in activity.live_sessions:
        if not session.has_ended(now):
            session.status = SessionStatus.cancelled
            if session.occupancy is not None:
                release_room(session.occupancy)
    activity.status = ActivityStatus.cancelled
    activity.cancelled_at = now
    db.session.flush()
    audit.record(actor, "activity.cancel", activity, {"reason": reason}, now=now)
    signals.activity_cancelled.send(
        activity, activity_id=activity.id, reason=(reason or "").strip()[:200], actor_id=actor.id, now=now
    )
    return activity


COVER_FORMATS = {"JPEG", "PNG", "WEBP"}
COVER_SIZE = (1200, 800)


class BadImage(DomainError):
    code = "invalid"
    status = 422
    message = _l("Upload a JPEG, PNG or WebP picture.")


def set_cover_image(activity: Activity, *, stream, actor: User, upload_dir: str) -> str:
    """Check an uploaded picture really is one (by decoding it, never by its name), shrink it to fit
    1200×800 and store it as a fresh JPEG (which also drops any metadata). Returns the stored name."""
    import secrets
    from pathlib import Path

    from core.images import NotAPicture, decode_picture

    if not activity.can_manage(actor):
        raise Forbidden()
    try:
        picture = decode_picture(stream.read(), formats=COVER_FORMATS, fit=COVER_SIZE).convert("RGB")
    except NotAPicture:
        raise BadImage(fields={"cover": [str(BadImage.message)]}) from None
    folder = Path(upload_dir) / "activities"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{activity.id}-{secrets.token_hex(6)}.jpg"
    picture.save(folder / name, "JPEG", quality=85, optimize=True)
    activity.cover_image = name
    db.session.flush()
    audit.record(actor, "activity.cover", activity, {"file": name})
    return name
