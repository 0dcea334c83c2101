"""Check-in at the door: admit a ticket once per session, sync offline scans, count walk-ins.

A room reservation's ticket (kind 'R', see `tickets`) goes through the same door: `check_in_room`
verifies it with the same functions, refuses it with the same codes, and records the arrival once
through `rooms.services.check_in_reservation` (a conditional UPDATE).

The rules (docs/product.md, check-in): from 60 minutes before a session starts until it ends, at a venue
in the scanner's check-in scope, a confirmed booking, once per person per session. "Once" is the
database's job: the insert into `checkins` does nothing on a conflict, so of two phones scanning the
same ticket at the same instant exactly one gets the row. A scan id (the client's nonce) makes a
retry answer as before instead of counting twice.
"""

import logging
import re
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from accounts.models import CHECKIN_ROLES, User, mask_name
from activities.models import Activity, ActivityKind, ActivityStatus, Session, SessionStatus
from bookings.models import Booking, BookingStatus
from checkin.models import CheckIn, CheckInConflict, CheckInSource, WalkIn
from core import audit, tickets
from core.db import utcnow
from core.errors import DomainError, Forbidden, Invalid
from core.extensions import db, limiter
from core.i18n import local_datetime, local_today
from core.tickets import (  # noqa: F401  (the door's refusals, raised here and named by callers)
    AlreadyCheckedIn,
    Cancelled,
    InvalidTicket,
    NotConfirmed,
    SessionCancelled,
    TooEarly,
    TooLate,
    WrongSession,
)
from rooms import services as room_services
from rooms.models import ReservationStatus, RoomReservation
from venues.models import Room, Venue
from venues.queries import subtree_clause

log = logging.getLogger(__name__)

OPENS_BEFORE = timedelta(minutes=60)
WALK_INS_UNTIL_AFTER_END = timedelta(hours=12)
CLOCK_SKEW = timedelta(minutes=5)  # a device's clock may run this far ahead
ADMITTED_STATUSES = frozenset({BookingStatus.confirmed, BookingStatus.attended})
CANCELLED_STATUSES = frozenset(
    {BookingStatus.cancelled, BookingStatus.rejected, BookingStatus.expired, BookingStatus.not_drawn}
)


@dataclass
class Admission:
    """A check-in and whether this call made it (False: a retry of the same scan, answered as before)."""

    checkin: CheckIn
    booking: Booking
    created: bool

    @property
    def holder(self) -> str:
        return holder_name(self.booking)


def holder_name(booking: Booking) -> str:
    """The booking's holder as the door sees it: masked (张*兰)."""
    return mask_name(booking.user.name if booking.user else "")


def require_ticket(booking: Booking) -> None:
    """Only a confirmed booking has a ticket; raises Cancelled or NotConfirmed for the others."""
    if booking.status in CANCELLED_STATUSES:
        raise Cancelled()
    if booking.status not in ADMITTED_STATUSES:
        raise NotConfirmed()


def window_of(session: Session) -> tuple[datetime, datetime]:
    """When the door may admit tickets for `session`: an hour before the start until the end."""
    return session.starts_at - OPENS_BEFORE, session.ends_at


def _admitted_error(existing: CheckIn, booking: Booking) -> AlreadyCheckedIn:
    by = existing.checked_in_by
    return AlreadyCheckedIn(
        booking_id=booking.id,
        session_id=existing.session_id,
        holder=holder_name(booking),
        party_size=existing.party_size,
        first_checked_in_at=existing.checked_in_at,
        checked_in_by=by.name if by else "",
    )


def _booking_from(session: Session | None, payload: object, code: object) -> Booking:
    """The booking a payload (checked without the database first) or a typed code names."""
    if payload is not None:
        booking_id = tickets.verify_payload(payload)
    elif code is not None:
        if session is None:
            raise Invalid(fields={"session_id": [_l("Choose the session to check a typed code against.")]})
        tickets.normalise_code(code)
        try:
            booking_id = tickets.resolve_code(code, _candidate_ids(session))
        except InvalidTicket:
            # Not this session's: a genuine ticket of a neighbouring session gets the answer its scan gets
            # (wrong_session with that session's date and time), not "not a valid ticket".
            booking_id = tickets.resolve_code(code, _neighbour_ids(session))
    else:
        raise Invalid(fields={"payload": [_l("Scan a ticket or type its code.")]})
    # The holder's name comes along (the door shows it), without the holder's role grants.
    booking = db.session.get(Booking, booking_id, options=[joinedload(Booking.user).lazyload(User.grants)])
    if booking is None:  # a genuine ticket of a booking deleted since (its account was erased)
        raise InvalidTicket()
    return booking


def _candidate_ids(session: Session) -> list[int]:
    activity = session.activity
    unit = f"c{activity.id}" if activity.is_course else f"s{session.id}"
    return list(db.session.execute(select(Booking.id).where(Booking.unit_key == unit)).scalars())


NEIGHBOUR_DAYS = 7  # a typed code is also looked for among the sessions this many days either side, same venue
NEIGHBOUR_LIMIT = 20_000  # bookings compared at most (each is one HMAC: about a millisecond per thousand)


def _neighbour_ids(session: Session) -> list[int]:
    """Bookings a typed code that is not this session's may belong to: the same activity's other sessions, and
    the sessions at the same venue within NEIGHBOUR_DAYS (a resident who came on the wrong day or to the wrong
    hall). The nearest sessions come first, so the limit drops the least likely ones."""
    activity = session.activity
    near = (
        select(Session.id)
        .join(Activity, Session.activity_id == Activity.id)
        .where(
            Activity.venue_id == activity.venue_id,
            Session.starts_at.between(
                session.starts_at - timedelta(days=NEIGHBOUR_DAYS), session.starts_at + timedelta(days=NEIGHBOUR_DAYS)
            ),
        )
    )
    stmt = (
        select(Booking.id)
        .where(
            sa.or_(Booking.activity_id == activity.id, Booking.session_id.in_(near)),
            Booking.unit_key != (f"c{activity.id}" if activity.is_course else f"s{session.id}"),
        )
        .order_by(Booking.id.desc())
        .limit(NEIGHBOUR_LIMIT)
    )
    return list(db.session.execute(stmt).scalars())


def _target_session(booking: Booking, session: Session | None, at: datetime) -> Session:
    """The session to check in: the one chosen at the door, the booking's own, or a course's current lesson."""
    if session is not None:
        return session
    if booking.session is not None:
        return booking.session
    lessons = [s for s in booking.activity.sessions if s.status == SessionStatus.scheduled]
    if not lessons:
        raise TooLate()
    for lesson in lessons:
        opens, closes = window_of(lesson)
        if opens <= at <= closes:
            return lesson
    upcoming = [s for s in lessons if s.starts_at - OPENS_BEFORE > at]
    return upcoming[0] if upcoming else lessons[-1]


def _check_rules(booking: Booking, session: Session, at: datetime) -> None:
    """The ticket fits this session, is live, and the door is open at `at`; raises the refusal's error."""
    if booking.session_id is not None and booking.session_id != session.id:
        raise WrongSession(
            ticket_session_id=booking.session_id,
            ticket_activity=booking.activity.title,
            ticket_starts_at=booking.starts_at,
        )
    if booking.session_id is None and booking.activity_id != session.activity_id:
        raise WrongSession(ticket_activity=booking.activity.title)
    if booking.status in CANCELLED_STATUSES:
        raise Cancelled()
    if session.status == SessionStatus.cancelled:
        raise SessionCancelled()
    if booking.status not in ADMITTED_STATUSES and booking.status != BookingStatus.no_show:
        raise NotConfirmed()
    opens, closes = window_of(session)
    if at < opens:
        raise TooEarly(opens_at=opens)
    if at > closes or booking.status == BookingStatus.no_show:
        raise TooLate(ended_at=closes)


def _replayed(scan_id: str | None, booking: Booking) -> CheckIn | None:
    """The check-in this scan id already made, or the conflict it already raised (raised again)."""
    if not scan_id:
        return None
    existing = db.session.execute(select(CheckIn).where(CheckIn.scan_id == scan_id)).scalar_one_or_none()
    if existing is not None:
        if existing.booking_id != booking.id:
            raise Invalid(fields={"scan_id": [_l("This scan id was already used for another ticket.")]})
        return existing
    conflict = db.session.execute(
        select(CheckInConflict).where(CheckInConflict.scan_id == scan_id)
    ).scalar_one_or_none()
    if conflict is not None:
        error = _admitted_error(conflict.checkin, booking)
        error.extra["conflict"] = True
        raise error
    return None


def _insert(
    booking: Booking,
    session: Session,
    *,
    at: datetime,
    actor: User,
    now: datetime,
    source: CheckInSource,
    device_id: str,
    scan_id: str | None,
) -> CheckIn | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING the row: the new check-in, or None when the ticket was
    already admitted (one statement; no read-back)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(CheckIn)
        .values(
            booking_id=booking.id,
            session_id=session.id,
            party_size=booking.party_size,
            checked_in_at=at,
            recorded_at=now,
            checked_in_by_id=actor.id,
            source=source,
            device_id=device_id or "",
            scan_id=scan_id or None,
        )
        .on_conflict_do_nothing()
        .returning(CheckIn)
    )
    return db.session.execute(stmt).scalar_one_or_none()


def check_in(
    session: Session | None,
    *,
    payload: object = None,
    code: object = None,
    actor: User,
    now: datetime | None = None,
    scanned_at: datetime | None = None,
    scan_id: str | None = None,
    device_id: str = "",
) -> Admission:
    """Admit the ticket named by `payload` (or a typed `code`) to `session` (None: the ticket's own).

    `scanned_at` is the scan's own time (an offline scan synced later); the rules are judged at it.
    Raises InvalidTicket, Forbidden (session out of the actor's check-in scope), WrongSession,
    Cancelled, NotConfirmed, TooEarly, TooLate, or AlreadyCheckedIn with when and by whom.
    Nothing is written for a refused scan.
    """
    now = now or utcnow()
    at = scanned_at or now
    if at > now + CLOCK_SKEW:
        raise Invalid(fields={"scanned_at": [_l("The scan time is in the future.")]})
    if session is not None:
        require_door(session, actor)
    with code_attempt(actor, session, device_id, typed=payload is None and code is not None):
        booking = _booking_from(session, payload, code)
    target = _target_session(booking, session, at)
    require_door(target, actor)
    previous = _replayed(scan_id, booking)
    if previous is not None:
        return Admission(previous, booking, created=False)
    _check_rules(booking, target, at)
    source = CheckInSource.scan if payload is not None else CheckInSource.code
    if scanned_at is not None:
        source = CheckInSource.sync
    checkin = _insert(booking, target, at=at, actor=actor, now=now, source=source, device_id=device_id, scan_id=scan_id)
    if checkin is None:
        return _lost_race(booking, target, scan_id)
    _mark_booking(booking, at=at, actor=actor)
    audit.record(
        actor,
        "checkin.create",
        ("checkins", checkin.id),
        {
            "booking_id": booking.id,
            "session_id": target.id,
            "source": source,
            "scanned_at": at,
            "device_id": device_id or "",
        },
        now=now,
    )
    return Admission(checkin, booking, created=True)


# --- the fast path: a scan in one statement ----------------------------------------------------------

# The rules of `_check_rules` and `require_door` as a WHERE clause, and the three writes of an admission (the
# check-in, the booking's first attendance, the audit row) as one data-modifying statement: a scan that passes
# is one round trip. A scan that does not (any refusal, a retry, a lost race) returns no row and takes the
# general path, which explains it; the unique indexes on `checkins` decide a race exactly as before.
_FAST_CHECK_IN = sa.text(
    """
WITH ok AS (
    SELECT b.id AS booking_id, s.id AS session_id, b.party_size, u.name AS holder
    FROM bookings b
    JOIN sessions s ON s.id = COALESCE(CAST(:session_id AS integer), b.session_id)
    JOIN activities a ON a.id = s.activity_id
    JOIN venues v ON v.id = a.venue_id
    LEFT JOIN users u ON u.id = b.user_id
    WHERE b.id = :booking_id
      AND (b.session_id = s.id OR (b.session_id IS NULL AND b.activity_id = s.activity_id))
      AND b.status = ANY(CAST(:admitted AS text[]))
      AND s.status <> :cancelled
      AND CAST(:at AS timestamptz) >= s.starts_at - CAST(:opens_before AS interval)
      AND CAST(:at AS timestamptz) <= s.ends_at
      AND (CAST(:everywhere AS boolean)
           OR EXISTS (SELECT 1 FROM unnest(CAST(:prefixes AS text[])) p WHERE starts_with(v.path, p)))
      AND (CAST(:scan_id AS text) IS NULL
           OR NOT EXISTS (SELECT 1 FROM checkin_conflicts c WHERE c.scan_id = CAST(:scan_id AS text)))
), ins AS (
    INSERT INTO checkins (booking_id, session_id, party_size, checked_in_at, recorded_at, checked_in_by_id,
                          source, device_id, scan_id)
    SELECT booking_id, session_id, party_size, :at, :now, :actor_id, :source, :device_id, :scan_id FROM ok
    ON CONFLICT DO NOTHING
    RETURNING id, booking_id, session_id, party_size
), mark AS (
    UPDATE bookings SET checked_in_at = :at, checked_in_by_id = :actor_id, updated_at = :now
    WHERE id IN (SELECT booking_id FROM ins) AND checked_in_at IS NULL
), logged AS (
    INSERT INTO audit_entries (at, actor_id, action, target_type, target_id, details)
    SELECT :now, :actor_id, 'checkin.create', 'checkins', ins.id,
           json_build_object('booking_id', ins.booking_id, 'session_id', ins.session_id,
                             'source', CAST(:source AS text), 'scanned_at', CAST(:at_iso AS text),
                             'device_id', CAST(:device_id AS text))
    FROM ins
)
SELECT ins.id, ins.session_id, ins.party_size, ok.holder FROM ins JOIN ok ON ok.booking_id = ins.booking_id
"""
)


def check_in_fast(
    session_id: int | None,
    *,
    payload: object,
    actor: User,
    now: datetime | None = None,
    scan_id: str | None = None,
    device_id: str = "",
) -> dict | None:
    """Admit a scanned ticket in one statement on PostgreSQL: the answer `admission_dict` would give, or None
    when the scan is not plainly admissible (a refusal, a retry, a typed code, another database) and must take
    `check_in`, which then decides and explains it with the same rules."""
    if payload is None or db.session.get_bind().dialect.name != "postgresql":
        return None
    try:
        booking_id = tickets.verify_payload(payload)
    except InvalidTicket:
        return None
    now = now or utcnow()
    paths = actor.scope_paths(CHECKIN_ROLES)
    row = db.session.execute(
        _FAST_CHECK_IN,
        {
            "session_id": session_id,
            "booking_id": booking_id,
            "at": now,
            "at_iso": now.isoformat(),
            "now": now,
            "opens_before": OPENS_BEFORE,
            # The same rules as the general path's (require_ticket, _check_rules), passed in, not restated.
            "admitted": sorted(status.name for status in ADMITTED_STATUSES),
            "cancelled": SessionStatus.cancelled.name,
            "everywhere": "/" in paths,
            "prefixes": paths,
            "actor_id": actor.id,
            "source": CheckInSource.scan.value,
            "device_id": device_id or "",
            "scan_id": scan_id or None,
        },
    ).first()
    if row is None:
        return None
    return {
        "booking_id": booking_id,
        "session_id": row.session_id,
        "party_size": row.party_size,
        "holder": mask_name(row.holder or ""),
        "checked_in_at": now,
        "checked_in_by": actor.name,
        "replayed": False,
    }


def _lost_race(booking: Booking, session: Session, scan_id: str | None) -> Admission:
    """The insert found the ticket already admitted: a retry of the same scan, or a second scan (raised)."""
    existing = db.session.execute(
        select(CheckIn).where(CheckIn.booking_id == booking.id, CheckIn.session_id == session.id)
    ).scalar_one_or_none()
    if existing is None:  # the conflict was on the scan id: a retry that raced its original
        previous = _replayed(scan_id, booking)
        if previous is None:
            raise Invalid(fields={"scan_id": [_l("This scan id was already used for another ticket.")]})
        return Admission(previous, booking, created=False)
    if scan_id and existing.scan_id == scan_id:
        return Admission(existing, booking, created=False)
    raise _admitted_error(existing, booking)


def _mark_booking(booking: Booking, *, at: datetime, actor: User) -> None:
    """The booking's first attendance, which no-show marking reads (set once, by a conditional UPDATE)."""
    result = db.session.execute(
        sa.update(Booking)
        .where(Booking.id == booking.id, Booking.checked_in_at.is_(None))
        .values(checked_in_at=at, checked_in_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        set_committed_value(booking, "checked_in_at", at)
        set_committed_value(booking, "checked_in_by_id", actor.id)


def require_door(session: Session, actor: User) -> None:
    """The session's venue lies in the actor's check-in scope; else Forbidden."""
    if not actor.reaches(session.activity.venue, CHECKIN_ROLES):
        raise Forbidden()


# --- typed codes: failed look-ups are limited -----------------------------------------------------


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    status = 429
    message = _l("Too many codes that match no ticket. Wait a few minutes, or scan the QR code instead.")


def _code_limits(actor: User, session: Session | None, device_id: str) -> list[tuple[object, tuple[str, ...]]]:
    """The budgets a failed typed code spends: the staff account's, the device's, and the event session's."""
    from limits import parse

    config = current_app.config
    per_door = parse(config.get("CHECKIN_CODE_FAILURES", "20 per 10 minutes"))
    budgets = [(per_door, ("door-code-failures", "user", str(actor.id)))]
    if device_id:
        budgets.append((per_door, ("door-code-failures", "device", device_id)))
    if session is not None:
        per_session = parse(config.get("CHECKIN_SESSION_CODE_FAILURES", "60 per 10 minutes"))
        budgets.append((per_session, ("door-code-failures", "session", str(session.id))))
    return budgets


def _strategy():
    """The rate limiter's moving window (Redis with REDIS_URL, shared by every app process); an in-process one
    when the limiter is switched off, so the door's budget holds either way."""
    global _fallback
    if limiter.enabled and getattr(limiter, "initialized", False):
        return limiter.limiter
    if _fallback is None:
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        _fallback = MovingWindowRateLimiter(MemoryStorage())
    return _fallback


_fallback = None


def require_code_budget(actor: User, session: Session | None, device_id: str = "") -> None:
    """Raise TooManyAttempts (429, with `retry_after` seconds) when a budget of failed typed codes is spent.

    A storage that cannot be reached lets the door go on (logged): admitting people matters more than the limit.
    """
    try:
        strategy = _strategy()
        for limit, keys in _code_limits(actor, session, device_id):
            if not strategy.test(limit, *keys):
                reset_at, _remaining = strategy.get_window_stats(limit, *keys)
                raise TooManyAttempts(retry_after=max(1, int(reset_at - time.time()) + 1))
    except TooManyAttempts:
        raise
    except Exception:  # noqa: BLE001 - the limiter's storage is down
        log.warning("door code budget not checked: the rate-limit storage failed", exc_info=True)


def _spend_code_budget(actor: User, session: Session | None, device_id: str) -> None:
    try:
        strategy = _strategy()
        for limit, keys in _code_limits(actor, session, device_id):
            strategy.hit(limit, *keys)
    except Exception:  # noqa: BLE001 - the limiter's storage is down
        log.warning("door code failure not counted: the rate-limit storage failed", exc_info=True)


@contextmanager
def code_attempt(actor: User, session: Session | None, device_id: str, *, typed: bool):
    """Around the look-up of a typed code: refused when the budget is spent; a code matching no ticket spends."""
    if not typed:
        yield
        return
    require_code_budget(actor, session, device_id)
    try:
        yield
    except InvalidTicket:
        _spend_code_budget(actor, session, device_id)
        raise


# --- offline sync -------------------------------------------------------------------------------


@dataclass
class ScanItem:
    """One scan made offline, as the device queued it."""

    scan_id: str
    scanned_at: datetime
    device_id: str = ""
    payload: str | None = None
    code: str | None = None
    session: Session | None = None
    session_id: int | None = None


def sync_scans(items: list[ScanItem], *, actor: User, now: datetime | None = None) -> list[dict]:
    """Apply offline scans in their order; a result per item. Replaying the same batch changes nothing.

    A ticket that another device already admitted is counted once; the later admission is recorded
    as a `CheckInConflict` (once per scan id) and answered with `conflict: true`.
    """
    now = now or utcnow()
    # A batch of guesses is refused whole, before any look-up, once a budget it would spend is spent.
    for session, device_id in {(i.session, i.device_id) for i in items if i.payload is None and i.code is not None}:
        require_code_budget(actor, session, device_id)
    results = []
    for item in items:
        base = {"scan_id": item.scan_id, "conflict": False}
        try:
            if item.session_id is not None and item.session is None:
                raise WrongSession()
            admission = check_in(
                item.session,
                payload=item.payload,
                code=item.code,
                actor=actor,
                now=now,
                scanned_at=item.scanned_at,
                scan_id=item.scan_id,
                device_id=item.device_id,
            )
            results.append({**base, **admission_dict(admission), "status": "admitted"})
        except AlreadyCheckedIn as err:
            conflict = err.extra.get("conflict") or _flag_conflict(item, err, actor=actor, now=now)
            results.append({**base, **err.to_dict(), "status": "rejected", "conflict": bool(conflict)})
        except DomainError as err:
            results.append({**base, **err.to_dict(), "status": "rejected"})
    return results


def _flag_conflict(item: ScanItem, err: AlreadyCheckedIn, *, actor: User, now: datetime) -> bool:
    """Record that this offline scan admitted a ticket another scan had already admitted."""
    first = db.session.execute(
        select(CheckIn).where(
            CheckIn.booking_id == err.extra["booking_id"], CheckIn.session_id == err.extra["session_id"]
        )
    ).scalar_one()
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    conflict_id = db.session.execute(
        insert(CheckInConflict)
        .values(
            checkin_id=first.id,
            booking_id=first.booking_id,
            session_id=first.session_id,
            scan_id=item.scan_id,
            device_id=item.device_id or "",
            scanned_at=item.scanned_at,
            scanned_by_id=actor.id,
            recorded_at=now,
        )
        .on_conflict_do_nothing()
        .returning(CheckInConflict.id)
    ).scalar_one_or_none()
    if conflict_id is not None:
        audit.record(
            actor,
            "checkin.conflict",
            ("checkin_conflicts", conflict_id),
            {"checkin_id": first.id, "booking_id": first.booking_id, "device_id": item.device_id or ""},
            now=now,
        )
    return True


def admission_dict(admission: Admission) -> dict:
    checkin = admission.checkin
    by = checkin.checked_in_by
    return {
        "booking_id": admission.booking.id,
        "session_id": checkin.session_id,
        "party_size": checkin.party_size,
        "holder": admission.holder,
        "checked_in_at": checkin.checked_in_at,
        "checked_in_by": by.name if by else "",
        "replayed": not admission.created,
    }


# --- walk-ins -----------------------------------------------------------------------------------


def count_walk_ins(
    session: Session, *, count: int, actor: User, now: datetime | None = None, scan_id: str | None = None
) -> int:
    """Add `count` visitors without booking to `session`; returns the session's walk-in total.

    Open from an hour before the start until 12 hours after the end (doors count heads late).
    Raises Forbidden out of scope, Invalid for a count outside 1..500, TooEarly / TooLate, SessionCancelled.
    A retried request with the same scan id adds nothing.
    """
    now = now or utcnow()
    require_door(session, actor)
    if not 1 <= count <= 500:
        raise Invalid(fields={"count": [_l("Between 1 and 500.")]})
    if session.status == SessionStatus.cancelled:
        raise SessionCancelled()
    opens, closes = window_of(session)
    if now < opens:
        raise TooEarly(opens_at=opens)
    if now > closes + WALK_INS_UNTIL_AFTER_END:
        raise TooLate(ended_at=closes)
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    walk_in_id = db.session.execute(
        insert(WalkIn)
        .values(
            activity_id=session.activity_id,
            session_id=session.id,
            counted_on=local_today(session.starts_at),
            count=count,
            recorded_at=now,
            recorded_by_id=actor.id,
            scan_id=scan_id or None,
        )
        .on_conflict_do_nothing()
        .returning(WalkIn.id)
    ).scalar_one_or_none()
    if walk_in_id is not None:
        audit.record(
            actor, "walk_ins.count", ("walk_ins", walk_in_id), {"session_id": session.id, "count": count}, now=now
        )
    return walk_in_total(session)


def count_day_walk_ins(
    activity: Activity, *, count: int, actor: User, now: datetime | None = None, scan_id: str | None = None
) -> tuple[date, int]:
    """Add `count` visitors to an exhibition on today's local date (exhibitions without timed slots).

    Returns the day and its total. Raises Forbidden out of scope, Invalid for a count outside 1..500 or
    an activity that is not an exhibition, Cancelled, TooEarly / TooLate outside the exhibition's dates.
    A retried request with the same scan id adds nothing.
    """
    now = now or utcnow()
    if not actor.reaches(activity.venue, CHECKIN_ROLES):
        raise Forbidden()
    if not 1 <= count <= 500:
        raise Invalid(fields={"count": [_l("Between 1 and 500.")]})
    if activity.kind != ActivityKind.exhibition:
        raise Invalid(fields={"activity_id": [_l("Count walk-ins on the session instead.")]})
    if activity.status == ActivityStatus.cancelled:
        raise Cancelled(_l("This activity has been cancelled."))
    today = local_today(now)
    if activity.starts_on and today < activity.starts_on:
        raise TooEarly(opens_on=activity.starts_on)
    if activity.ends_on and today > activity.ends_on:
        raise TooLate(ended_on=activity.ends_on)
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    walk_in_id = db.session.execute(
        insert(WalkIn)
        .values(
            activity_id=activity.id,
            session_id=None,
            counted_on=today,
            count=count,
            recorded_at=now,
            recorded_by_id=actor.id,
            scan_id=scan_id or None,
        )
        .on_conflict_do_nothing()
        .returning(WalkIn.id)
    ).scalar_one_or_none()
    if walk_in_id is not None:
        audit.record(
            actor,
            "walk_ins.count",
            ("walk_ins", walk_in_id),
            {"activity_id": activity.id, "counted_on": today, "count": count},
            now=now,
        )
    return today, walk_ins_on(activity.id, today)


def walk_in_total(session: Session) -> int:
    return db.session.execute(
        select(func.coalesce(func.sum(WalkIn.count), 0)).where(WalkIn.session_id == session.id)
    ).scalar_one()


def walk_ins_on(activity_id: int, day: date) -> int:
    """Walk-ins counted for an activity on a local day (an exhibition's daily figure)."""
    return db.session.execute(
        select(func.coalesce(func.sum(WalkIn.count), 0)).where(
            WalkIn.activity_id == activity_id, WalkIn.counted_on == day
        )
    ).scalar_one()


# --- room reservations --------------------------------------------------------------------------


@dataclass
class RoomAdmission:
    """A room reservation checked in at the door, and whether this call did it (False: a retried scan)."""

    reservation: RoomReservation
    created: bool


def check_in_room(
    *,
    payload: object = None,
    code: object = None,
    actor: User,
    now: datetime | None = None,
    scan_id: str | None = None,
    device_id: str = "",
) -> RoomAdmission:
    """Check in the group of the room reservation whose ticket is `payload` (or whose typed `code` is given).

    A typed code is looked up among today's reservations at venues in the actor's check-in scope.
    Raises InvalidTicket, Forbidden (a venue out of the actor's scope), Cancelled, NotConfirmed,
    TooEarly / TooLate (outside `rooms.services.check_in_window`), AlreadyCheckedIn (with the first check-in's time
    and who did it). A retry with the same scan id is answered as before.
    """
    now = now or utcnow()
    with code_attempt(actor, None, device_id, typed=payload is None and code is not None):
        reservation = _reservation_from(payload, code, actor, now)
    if not reservation.can_check_in(actor):
        raise Forbidden()
    if scan_id:
        used_by = db.session.execute(
            select(RoomReservation.id).where(RoomReservation.checkin_scan_id == scan_id)
        ).scalar_one_or_none()
        if used_by == reservation.id:
            return RoomAdmission(reservation, created=False)
        if used_by is not None:
            raise Invalid(fields={"scan_id": [_l("This scan id was already used for another ticket.")]})
    if reservation.status == ReservationStatus.checked_in:
        raise room_services.already_checked_in(reservation)
    room_services.require_ticket(reservation)
    opens, closes = room_services.check_in_window(reservation)
    if now < opens:
        raise TooEarly(opens_at=opens)
    if now >= closes:
        raise TooLate(_l("This room reservation has ended."), ended_at=closes)
    room_services.check_in_reservation(reservation, actor=actor, now=now, scan_id=scan_id)
    audit.record(
        actor,
        "room_reservation.check_in",
        reservation,
        {"source": CheckInSource.scan if payload is not None else CheckInSource.code, "device_id": device_id or ""},
        now=now,
    )
    return RoomAdmission(reservation, created=True)


def _reservation_from(payload: object, code: object, actor: User, now: datetime) -> RoomReservation:
    if payload is not None:
        reservation_id = tickets.verify_payload(payload, kind="R")
    elif code is not None:
        tickets.normalise_code(code)
        reservation_id = tickets.resolve_code(code, _todays_reservation_ids(actor, now), kind="R")
    else:
        raise Invalid(fields={"payload": [_l("Scan a ticket or type its code.")]})
    reservation = db.session.get(RoomReservation, reservation_id)
    if reservation is None:  # a genuine ticket of a reservation deleted since
        raise InvalidTicket()
    return reservation


def _todays_reservation_ids(actor: User, now: datetime) -> list[int]:
    """Reservations starting on the local day of `now` at venues in the actor's check-in scope (for typed codes)."""
    day_start = local_datetime(local_today(now), datetime.min.time())
    return list(
        db.session.execute(
            select(RoomReservation.id)
            .join(Room, Room.id == RoomReservation.room_id)
            .join(Venue, Venue.id == Room.venue_id)
            .where(
                subtree_clause(actor.scope_paths(CHECKIN_ROLES)),
                RoomReservation.starts_at >= day_start,
                RoomReservation.starts_at < day_start + timedelta(days=1),
            )
        ).scalars()
    )


def room_admission_dict(admission: RoomAdmission) -> dict:
    reservation = admission.reservation
    by = reservation.checked_in_by
    return {
        "reservation_id": reservation.id,
        "room": reservation.room.name,
        "venue": reservation.room.venue.name,
        "holder": reservation.group.name,
        "party_size": reservation.attendees,
        "starts_at": reservation.starts_at,
        "ends_at": reservation.ends_at,
        "checked_in_at": reservation.checked_in_at,
        "checked_in_by": by.name if by else "",
        "replayed": not admission.created,
    }


# --- tickets of other kinds ---------------------------------------------------------------------
# A package above the door (volunteers: task tickets of kind 'V') registers a handler for its kind in the
# composition root; `POST /checkins` hands such a payload to it. The door imports none of them.

_TICKET_KINDS: dict[str, Callable] = {}
_KIND_RE = re.compile(r"^\s*CN1:([A-Z])")


def register_ticket_kind(kind: str, handler: Callable) -> None:
    """`handler(payload=, actor=, scan_id=, device_id=)` answers `POST /checkins` for tickets of `kind`."""
    _TICKET_KINDS[kind] = handler


def ticket_kind_handler(payload: object) -> Callable | None:
    """The handler registered for the kind a payload names, or None (a booking's ticket, or not a ticket)."""
    if not isinstance(payload, str) or len(payload) > tickets.MAX_PAYLOAD:
        return None
    match = _KIND_RE.match(payload)
    return _TICKET_KINDS.get(match.group(1)) if match else None
