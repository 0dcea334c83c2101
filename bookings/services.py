"""Writes on seat bookings. Flush, never commit; raise domain errors with the API's stable codes.

Seats move only through `take_seats` / `release_seats`: one conditional UPDATE on the unit's counter
(`seats_taken + n <= capacity`), backed by a CHECK constraint. One active booking per account per
unit is a partial unique index. The account's row is locked before any write, which serialises one
person's concurrent requests (the class-enrolment limit is counted under that lock); a request refused
because the unit is visibly full writes nothing and takes no lock.
"""

from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from accounts.models import MANAGE_ROLES, Participant, Relation, User
from activities import signals as activity_signals
from activities.models import Activity, ActivityKind, ActivityStatus, Policy, Session
from bookings import signals
from bookings.models import (
    ENROLMENT_STATUSES,
    Booking,
    BookingStatus,
    Suspension,
    booking_participants,
    unit_key_for,
)
from core import audit
from core.db import utcnow
from core.errors import DomainError, Forbidden, Invalid, InvalidTransition, NotFound
from core.extensions import db
from core.transaction import refused
from venues.models import Venue

ENROLMENT_LIMIT = 3
OFFER_HOURS = 12
MIN_OFFER = timedelta(hours=1)  # closer to the deadline than this, a freed seat is confirmed at once
STRIKE_WINDOW = timedelta(days=90)
STRIKES_TO_SUSPEND = 3
SUSPENSION = timedelta(days=30)


class Full(DomainError):
    code = "full"
    message = _l("Sorry, this is fully booked.")


class NotOpen(DomainError):
    code = "not_open"
    message = _l("Sign-ups have not opened yet.")


class Closed(DomainError):
    code = "closed"
    message = _l("Sign-ups are closed.")


class Duplicate(DomainError):
    code = "duplicate"
    message = _l("You already have a booking for this.")


class LimitReached(DomainError):
    code = "limit_reached"
    message = _l("You already hold %(n)s class enrolments, the most allowed at once.", n=ENROLMENT_LIMIT)


class Suspended(DomainError):
    code = "suspended"
    message = _l("Your booking rights are suspended after repeated no-shows.")


class Ineligible(DomainError):
    code = "ineligible"
    message = _l("This activity is not open to this participant.")


class NotBookable(DomainError):
    code = "not_bookable"
    message = _l("This activity takes no bookings: just come along.")


# What InvalidTransition says here: which object cannot take that step.
NOT_NOW = _l("This booking cannot change that way in its current state.")


# --- seats ------------------------------------------------------------------------------------


def _unit_table(activity: Activity):
    return Activity if activity.is_course else Session


def take_seats(activity: Activity, session: Session | None, n: int) -> bool:
    """Take `n` seats on the unit if they fit, in one conditional UPDATE; False when they do not."""
    model = _unit_table(activity)
    unit = activity if activity.is_course else session
    stmt = (
        update(model)
        .where(model.id == unit.id, model.seats_taken + n <= model.capacity)
        .values(seats_taken=model.seats_taken + n)
        .execution_options(synchronize_session=False)
    )
    taken = db.session.execute(stmt).rowcount == 1
    db.session.expire(unit, ["seats_taken"])
    return taken


def release_seats(activity: Activity, session: Session | None, n: int) -> None:
    """Give `n` seats back to the unit."""
    model = _unit_table(activity)
    unit = activity if activity.is_course else session
    stmt = (
        update(model)
        .where(model.id == unit.id, model.seats_taken >= n)
        .values(seats_taken=model.seats_taken - n)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(stmt)
    db.session.expire(unit, ["seats_taken"])


def get_booking(booking_id: int, actor: User) -> Booking:
    """The booking `actor` may see: their own, or one at a venue they manage. Raises NotFound otherwise (not
    Forbidden: an id of someone else's booking tells nothing)."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or not (booking.is_owned_by(actor) or booking.activity.can_manage(actor)):
        raise NotFound()
    return booking


def claim_booking(booking: Booking, frm: BookingStatus, to: BookingStatus, **values) -> bool:
    """Move a booking from `frm` to `to` only if it is still in `frm` (a racing worker may have moved it)."""
    from bookings.models import ACTIVE_STATUSES

    stmt = (
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == frm)
        .values(status=to, is_active=to in ACTIVE_STATUSES, **values)
        .execution_options(synchronize_session=False)
    )
    claimed = db.session.execute(stmt).rowcount == 1
    db.session.refresh(booking)
    return claimed


# --- booking ----------------------------------------------------------------------------------


@dataclass
class BookingRequest:
    """What a resident (or staff for a caller) asks for; `party_size` defaults to the participants."""

    activity: Activity
    session: Session | None = None
    party_size: int | None = None
    participant_ids: list[int] | None = None
    extra: dict = field(default_factory=dict)
    # The holder's participants and active booking of the unit, when the caller read them with the unit (one
    # query fewer, bookings.api); used only where no account lock must come before that read.
    holder_facts: tuple[list[Participant], int | None] | None = None


def _check_on_behalf(holder: User, activity: Activity, actor: User) -> None:
    """Staff book for someone else only at venues in their scope, and only for a resident whose account is open
    (a deleted or staff account holds no seats)."""
    if not actor.reaches(activity.venue):
        raise Forbidden()
    if not holder.is_active or not holder.is_resident:
        raise NotFound(_("No resident has this account."))


def book(user: User, *, data: BookingRequest, actor: User, now: datetime | None = None) -> Booking:
    """Book seats on a session (or enrol in a course) for `user` and their participants.

    The outcome follows the activity's policy: `confirmed` (seats taken), `waitlisted` (full, waiting
    list on), `entered` (lottery) or `pending` (approval). Raises `NotFound`, `NotBookable`, `NotOpen`,
    `Closed`, `Invalid`, `Suspended`, `Ineligible`, `Duplicate`, `LimitReached` or `Full`; nothing is
    taken when it raises.
    """
    now = now or utcnow()
    activity = data.activity
    session = None if activity.is_course else data.session  # a class is enrolled as a whole
    if actor.id != user.id:
        _check_on_behalf(user, activity, actor)
    _check_unit(activity, session, now)
    unit_key = unit_key_for(activity, session)
    asked = data.party_size if data.party_size is not None else len(data.participant_ids or ()) or 1
    full = _visibly_full(activity, session, asked)
    if not full and _needs_account_lock(activity):
        # Only a request that may write waits for the account's lock; a refusal of a full unit reads.
        db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    # The account's people, its active booking of this unit and its class enrolments: one query (after the lock),
    # unless the caller brought them along with the unit.
    if data.holder_facts is not None and not activity.is_course and not _needs_account_lock(activity):
        (family, existing), enrolments = data.holder_facts, 0
        set_committed_value(user, "participants", family)
    else:
        family, existing, enrolments = _holder(user, unit_key, count_enrolments=activity.is_course)
    participants = _participants(family, data.participant_ids)
    party = _party_size(activity, participants, data.party_size)
    if user.is_suspended(now):
        raise Suspended(until=user.suspended_until)
    first_day = activity.first_start if activity.is_course or session is None else session.starts_at
    for participant in participants:
        _check_eligible(activity, participant, first_day.year)
    if existing:
        raise Duplicate(booking_id=existing)
    if activity.is_course and enrolments >= ENROLMENT_LIMIT:
        raise LimitReached()
    if full:
        raise Full()
    booking = _insert(user, activity, session, unit_key, party, participants, actor, now)
    _settle_new(booking, now)
    if actor.id != user.id:
        audit.record(
            actor, "booking.create_for_caller", booking, {"user_id": user.id, "status": booking.status}, now=now
        )
    return booking


def _needs_account_lock(activity: Activity) -> bool:
    """Whether a booking must wait for the account's row lock: only where a rule counts the account's other
    bookings — the class enrolment limit, and a reserved quota's "first class" test. One active booking per
    person and unit needs no lock: the unique index `uq_bookings_one_active_per_unit` decides a race of the
    same account (the loser is refused `duplicate`), so a session booking skips this round trip."""
    return activity.is_course or bool(activity.reserved_quota)


def _holder(user: User, unit_key: str, *, count_enrolments: bool) -> tuple[list[Participant], int | None, int]:
    """The account's participants (also set as `user.participants`), its active booking of the unit (if any)
    and, for a class, its class enrolments: one query."""
    existing = (
        select(Booking.id)
        .where(Booking.user_id == user.id, Booking.unit_key == unit_key, Booking.is_active.is_(True))
        .limit(1)
        .scalar_subquery()
    )
    enrolments = _enrolments(user).scalar_subquery() if count_enrolments else sa.literal(0)
    rows = db.session.execute(
        select(Participant, existing, enrolments)
        .select_from(User)
        .outerjoin(Participant, Participant.user_id == User.id)
        .where(User.id == user.id)
        .order_by(Participant.id)
    ).all()
    family = [row[0] for row in rows if row[0] is not None]
    set_committed_value(user, "participants", family)
    return family, rows[0][1] if rows else None, rows[0][2] if rows else 0


def refuses_when_full(activity: Activity) -> bool:
    """A full unit of this activity refuses a booking outright: first come, no waiting list to join."""
    return activity.policy == Policy.first_come and not activity.has_waiting_list


def _visibly_full(activity: Activity, session: Session | None, party: int) -> bool:
    """A first-come unit with no waiting list that is already full refuses at once: a plain read, no insert,
    no savepoint and no wait on the unit's row lock (a hot sign-up is mostly such refusals). The conditional
    UPDATE in `take_seats` stays the guarantee for seats that look free."""
    if not refuses_when_full(activity):
        return False
    unit = activity if activity.is_course else session
    return unit.capacity - unit.seats_taken < party


def _check_unit(activity: Activity, session: Session | None, now: datetime) -> None:
    if activity.status == ActivityStatus.draft:
        raise NotFound()
    if activity.status != ActivityStatus.published:
        raise Closed(_("This activity has been cancelled or has finished."))
    if activity.policy == Policy.walk_in:
        raise NotBookable()
    if not activity.is_course:
        if session is None:
            raise Invalid(fields={"session_id": [_("Choose a session.")]})
        if session.activity_id != activity.id:
            raise NotFound()
        if not session.is_live:
            raise Closed(_("This session has been cancelled."))
    start = activity.first_start if activity.is_course else session.starts_at
    if start is None or start <= now:
        raise Closed(_("This has already started."))
    opens, closes = activity.window_for(session)
    if opens is not None and now < opens:
        raise NotOpen(opens_at=opens)
    if closes is not None and now >= closes:
        raise Closed()


def _participants(family: list[Participant], ids: list[int] | None) -> list[Participant]:
    if not ids:
        me = next((p for p in family if p.relation == Relation.self), None)
        if me is None:
            raise Invalid(fields={"participant_ids": [_("Choose who is coming.")]})
        return [me]
    if len(set(ids)) != len(ids):
        raise Invalid(fields={"participant_ids": [_("Each person can be chosen once.")]})
    mine = {p.id: p for p in family}
    if any(i not in mine for i in ids):
        raise Invalid(fields={"participant_ids": [_("Choose among your own family members.")]})
    return [mine[i] for i in ids]


def _party_size(activity: Activity, participants: list[Participant], asked: int | None) -> int:
    party = len(participants) if asked is None else asked
    if not 1 <= party <= activity.max_party_size:
        raise Invalid(fields={"party_size": [_("Book between 1 and %(n)s seats.", n=activity.max_party_size)]})
    if party < len(participants):
        raise Invalid(fields={"party_size": [_("Every chosen person needs a seat.")]})
    restricted = (
        activity.age_min is not None
        or activity.age_max is not None
        or activity.gender
        or activity.is_real_name_required
    )
    if party > len(participants) and restricted:
        raise Invalid(fields={"participant_ids": [_("This activity has entry conditions: choose each person.")]})
    return party


def _check_eligible(activity: Activity, participant: Participant, year: int) -> None:
    """Age on the first lesson's date (birth year is all we keep), gender, real name."""
    age = participant.age_on(year)
    if activity.age_min is not None or activity.age_max is not None:
        low, high = activity.age_min or 0, activity.age_max if activity.age_max is not None else 200
        if age is None or not low <= age <= high:
            raise Ineligible(
                _("%(name)s does not fit the age range %(a)s–%(b)s.", name=participant.name, a=low, b=high),
                participant_id=participant.id,
            )
    if activity.gender and participant.gender != activity.gender:
        raise Ineligible(
            _("%(name)s cannot join: this activity is for one gender only.", name=participant.name),
            participant_id=participant.id,
        )
    if activity.is_real_name_required and not participant.has_real_name:
        raise Ineligible(
            _("%(name)s needs a registered ID number (real-name booking).", name=participant.name),
            participant_id=participant.id,
        )


def _enrolments(user: User, *, excluding: int | None = None):
    stmt = (
        select(func.count())
        .select_from(Booking)
        .join(Activity, Activity.id == Booking.activity_id)
        .where(Booking.user_id == user.id, Booking.status.in_(ENROLMENT_STATUSES), Activity.kind == ActivityKind.course)
    )
    if excluding is not None:
        stmt = stmt.where(Booking.id != excluding)
    return stmt


def enrolment_count(user: User, *, excluding: int | None = None) -> int:
    """Class enrolments the account holds now (confirmed, offered or awaiting approval)."""
    return db.session.execute(_enrolments(user, excluding=excluding)).scalar_one()


def _insert(user, activity, session, unit_key, party, participants, actor, now) -> Booking:
    """Insert the booking in its first state, in one savepoint: a lottery entry or a sign-up awaiting approval;
    first come, the seats are taken first (one conditional UPDATE) and the booking is stored confirmed at once,
    else waitlisted, else refused `full`. Nothing stays taken when it raises."""
    initial = {Policy.lottery: BookingStatus.entered, Policy.approval: BookingStatus.pending}.get(activity.policy)
    values = {
        "user_id": user.id,
        "activity_id": activity.id,
        "session_id": session.id if session is not None else None,
        "unit_key": unit_key,
        "party_size": party,
        "booked_by_id": actor.id if actor.id != user.id else None,
        "created_at": now,
        "is_quota_eligible": _quota_eligible(activity, user, participants, now),
    }
    # In a request a refusal rolls the whole transaction back (core/transaction.py), so no savepoint is needed
    # there (two round trips fewer); elsewhere (seeders, jobs) the caller's other work must survive a refusal.
    in_request = has_request_context()
    try:
        if initial is None and in_request and db.session.get_bind().dialect.name == "postgresql":
            booking = _insert_confirmed(user, activity, session, participants, values)
            if booking is not None:
                return booking
            if not activity.has_waiting_list:
                raise Full()
            initial = BookingStatus.waitlisted
        booking = Booking(user=user, activity=activity, session=session, participants=participants, **values)
        with nullcontext() if in_request else db.session.begin_nested():
            if initial is None:
                if take_seats(activity, session, party):
                    initial = BookingStatus.confirmed
                elif activity.has_waiting_list:
                    initial = BookingStatus.waitlisted
                else:
                    raise Full()
            booking.set_status(initial)
            db.session.add(booking)
            db.session.flush()
    except IntegrityError:
        if in_request:
            refused()  # the failed flush left the transaction unusable: end it now, as the refusal would
        raise Duplicate() from None
    return booking


# Every column of a new confirmed booking, as `_insert_confirmed` writes it (the others are the ORM's defaults).
_NEW_BOOKING_DEFAULTS = {
    "draw_rank": None,
    "hold_expires_at": None,
    "decided_at": None,
    "decided_by_id": None,
    "decision_reason": "",
    "cancelled_at": None,
    "counted_as_no_show": False,
    "no_show_at": None,
    "checked_in_at": None,
    "checked_in_by_id": None,
}


def _insert_confirmed(user, activity, session, participants, values) -> Booking | None:
    """PostgreSQL, in a request: take the seats and store the confirmed booking and its participants in one
    data-modifying statement (the conditional seat UPDATE feeds the INSERTs, so no seat means no row); the booking
    comes back as a persistent ORM object built from what was written, without reading it back. None when the
    seats did not fit (nothing written). The unique index's loss raises IntegrityError, as a flush would."""
    unit_model = _unit_table(activity)
    unit = activity if activity.is_course else session
    from bookings.models import ACTIVE_STATUSES

    status = BookingStatus.confirmed
    row = {**values, **_NEW_BOOKING_DEFAULTS, "status": status, "is_active": status in ACTIVE_STATUSES}
    row["updated_at"] = utcnow()
    params = {
        **{f"v_{c}": v for c, v in row.items()},
        "unit_id": unit.id,
        "seats": values["party_size"],
        "pids": [p.id for p in participants],
    }
    booking_id = db.session.execute(_confirmed_statement(unit_model, tuple(row)), params).scalar()
    db.session.expire(unit, ["seats_taken"])
    if booking_id is None:
        return None
    booking = Booking(id=booking_id, **row)
    make_transient_to_detached(booking)
    db.session.add(booking)
    for name, value in (("user", user), ("activity", activity), ("session", session), ("participants", participants)):
        set_committed_value(booking, name, value)
    return booking


_CONFIRMED_STATEMENTS: dict = {}


def _confirmed_statement(unit_model, columns: tuple[str, ...]):
    """`WITH seat AS (UPDATE … RETURNING), booked AS (INSERT … SELECT FROM seat RETURNING id), linked AS (INSERT
    the participants) SELECT id FROM booked`, built once per unit table (bound parameters, not literals)."""
    key = (unit_model, columns)
    if key not in _CONFIRMED_STATEMENTS:
        table, units = Booking.__table__, unit_model.__table__
        seats = sa.bindparam("seats", type_=sa.Integer)
        seat = (
            update(units)
            .where(units.c.id == sa.bindparam("unit_id", type_=sa.Integer))
            .where(units.c.seats_taken + seats <= units.c.capacity)
            .values(seats_taken=units.c.seats_taken + seats)
            .returning(units.c.id)
            .cte("seat")
        )
        row = select(*(sa.bindparam(f"v_{c}", type_=table.c[c].type) for c in columns)).select_from(seat)
        booked = sa.insert(table).from_select(list(columns), row).returning(table.c.id).cte("booked")
        pids = func.unnest(sa.bindparam("pids", type_=ARRAY(sa.Integer)))
        linked = (
            sa.insert(booking_participants)
            .from_select(["booking_id", "participant_id"], select(booked.c.id, pids))
            .cte("linked")
        )
        _CONFIRMED_STATEMENTS[key] = select(booked.c.id).add_cte(linked)
    return _CONFIRMED_STATEMENTS[key]


def _quota_eligible(activity: Activity, user: User, participants: list[Participant], now: datetime) -> bool:
    """Whether the entry may draw a reserved-quota seat (frozen at entry, so the draw can be re-run)."""
    from activities.models import QuotaRule

    if not activity.reserved_quota or activity.quota_rule is None:
        return False
    if activity.quota_rule == QuotaRule.seniors:
        return all((p.age_on(now.year) or 0) >= 60 for p in participants)
    earlier = (
        select(Booking.id)
        .join(Activity, Activity.id == Booking.activity_id)
        .where(
            Booking.user_id == user.id,
            Activity.kind == ActivityKind.course,
            Booking.status.in_([BookingStatus.confirmed, BookingStatus.attended, BookingStatus.no_show]),
        )
    )
    return db.session.execute(earlier.limit(1)).first() is None


def _settle_new(booking: Booking, now: datetime) -> None:
    """Tell the world the new booking's first state (see `_insert`)."""
    base = signal_kwargs(booking, now)
    if booking.status == BookingStatus.entered:
        signals.booking_entered.send(booking, draw_after=booking.activity.window_for(booking.session)[1], **base)
    elif booking.status == BookingStatus.pending:
        signals.booking_pending.send(booking, **base)
    elif booking.status == BookingStatus.confirmed:
        signals.booking_confirmed.send(booking, via="booking", **base)
    else:
        signals.booking_waitlisted.send(booking, position=waitlist_position(booking), **base)


def signal_kwargs(booking: Booking, now: datetime) -> dict:
    """The keyword arguments every booking signal carries (jobs and the lottery send them too)."""
    return {
        "booking_id": booking.id,
        "user_id": booking.user_id,
        "activity_id": booking.activity_id,
        "session_id": booking.session_id,
        "now": now,
    }


def waitlist_position(booking: Booking) -> int:
    """1 for the first waiting booking of the unit."""
    earlier = Booking.id < booking.id if booking.draw_rank is None else Booking.draw_rank < booking.draw_rank
    ahead = (
        select(func.count())
        .select_from(Booking)
        .where(Booking.unit_key == booking.unit_key, Booking.status == BookingStatus.waitlisted, earlier)
    )
    return db.session.execute(ahead).scalar_one() + 1


# --- offers -----------------------------------------------------------------------------------


def offer_deadline(booking: Booking, now: datetime, hours: int = OFFER_HOURS) -> datetime | None:
    """How long a held seat waits for an answer: `hours`, never past the cancellation deadline;
    None when that leaves too little time, which means: confirm at once."""
    deadline = booking.activity.cancel_deadline_for(booking.session)
    hold = now + timedelta(hours=hours)
    if deadline is not None:
        hold = min(hold, deadline)
    return hold if hold - now >= MIN_OFFER else None


def offer_freed_seats(activity: Activity, session: Session | None, now: datetime) -> list[Booking]:
    """Hold freed seats for the first waiting bookings that fit, in order (draw rank, then arrival).

    Each offer takes seats first, then claims the booking only if it is still waiting (a racing
    worker may have offered it already); a lost claim gives the seats back.
    """
    unit_key = unit_key_for(activity, session)
    start = activity.first_start if activity.is_course or session is None else session.starts_at
    if start is None or start <= now or activity.status != ActivityStatus.published:
        return []
    waiting = (
        db.session.execute(
            select(Booking)
            .where(Booking.unit_key == unit_key, Booking.status == BookingStatus.waitlisted)
            .order_by(Booking.draw_rank, Booking.id)
        )
        .scalars()
        .all()
    )
    offered = []
    for booking in waiting:
        seats_left = activity.seats_left if activity.is_course else session.seats_left
        if seats_left <= 0:
            break
        if booking.party_size > seats_left or not take_seats(activity, session, booking.party_size):
            continue
        hold = offer_deadline(booking, now)
        to = BookingStatus.offered if hold else BookingStatus.confirmed
        if not claim_booking(booking, BookingStatus.waitlisted, to, hold_expires_at=hold, updated_at=now):
            release_seats(activity, session, booking.party_size)
            continue
        offered.append(booking)
        if hold:
            signals.offer_made.send(booking, hold_expires_at=hold, **signal_kwargs(booking, now))
        else:
            signals.booking_confirmed.send(booking, via="offer", **signal_kwargs(booking, now))
    return offered


def accept_offer(booking: Booking, *, actor: User, now: datetime | None = None) -> Booking:
    """Take up a held seat (a waiting-list offer or a lottery win) before its deadline."""
    now = now or utcnow()
    if not booking.is_owned_by(actor):
        raise NotFound()
    if booking.status != BookingStatus.offered:
        raise InvalidTransition(NOT_NOW)
    if booking.hold_expires_at is not None and booking.hold_expires_at <= now:
        raise Closed(_("The time to confirm this seat has passed."))
    db.session.execute(select(User.id).where(User.id == actor.id).with_for_update())
    if booking.activity.is_course and enrolment_count(actor, excluding=booking.id) >= ENROLMENT_LIMIT:
        raise LimitReached()
    if not claim_booking(booking, BookingStatus.offered, BookingStatus.confirmed, hold_expires_at=None, updated_at=now):
        raise InvalidTransition(NOT_NOW)
    signals.booking_confirmed.send(booking, via="offer", **signal_kwargs(booking, now))
    return booking


# --- cancelling -------------------------------------------------------------------------------


def cancel_booking(booking: Booking, *, actor: User, now: datetime | None = None) -> Booking:
    """Cancel an active booking; free seats go at once to the waiting list.

    Cancelling a confirmed seat after the cancellation deadline counts as a no-show (a strike).
    Raises `NotFound` for someone else's booking, `InvalidTransition` when it is not active,
    `Closed` once the session has started.
    """
    now = now or utcnow()
    if not booking.is_owned_by(actor) and not booking.activity.can_manage(actor):
        raise NotFound()
    if not booking.is_active:
        raise InvalidTransition(NOT_NOW)
    start = booking.starts_at
    if start is not None and start <= now:
        raise Closed(_("It has already started and can no longer be cancelled."))
    was = booking.status
    if not claim_booking(booking, was, BookingStatus.cancelled, cancelled_at=now, hold_expires_at=None, updated_at=now):
        raise InvalidTransition(NOT_NOW)
    deadline = booking.activity.cancel_deadline_for(booking.session)
    late = was == BookingStatus.confirmed and deadline is not None and now >= deadline
    signals.booking_cancelled.send(booking, counted_as_no_show=late, by_user_id=actor.id, **signal_kwargs(booking, now))
    if actor.id != booking.user_id:
        audit.record(actor, "booking.cancel", booking, {"was": was}, now=now)
    if late:
        record_strike(booking, now)
    if was in (BookingStatus.confirmed, BookingStatus.offered):
        release_seats(booking.activity, booking.session, booking.party_size)
        offer_freed_seats(booking.activity, booking.session, now)
    db.session.flush()
    return booking


# --- approval ---------------------------------------------------------------------------------


def decide_bookings(
    bookings: list[Booking], *, approve: bool, reason: str, actor: User, now: datetime | None = None
) -> dict[int, str]:
    """Approve or reject pending sign-ups in bulk, with a reason the resident sees.

    Returns each booking's outcome: `confirmed`, `rejected`, `full` (approved but no seat left) or
    `skipped` (no longer pending). Staff must reach every booking's venue.
    """
    now = now or utcnow()
    reason = (reason or "").strip()[:300]
    if not approve and not reason:
        raise Invalid(fields={"reason": [_("Give a reason: the resident will see it.")]})
    if any(not b.activity.can_manage(actor) for b in bookings):
        raise Forbidden()
    outcome: dict[int, str] = {}
    for booking in sorted(bookings, key=lambda b: b.id):
        outcome[booking.id] = _decide(booking, approve, reason, actor, now)
        audit.record(
            actor,
            "booking.approve" if approve else "booking.reject",
            booking,
            {"outcome": outcome[booking.id], "reason": reason},
            now=now,
        )
    db.session.flush()
    return outcome


def _decide(booking: Booking, approve: bool, reason: str, actor: User, now: datetime) -> str:
    if booking.status != BookingStatus.pending:
        return "skipped"
    values = {"decided_at": now, "decided_by_id": actor.id, "decision_reason": reason, "updated_at": now}
    if not approve:
        if not claim_booking(booking, BookingStatus.pending, BookingStatus.rejected, **values):
            return "skipped"
        signals.booking_rejected.send(booking, reason=reason, by_user_id=actor.id, **signal_kwargs(booking, now))
        return "rejected"
    if not take_seats(booking.activity, booking.session, booking.party_size):
        return "full"
    if not claim_booking(booking, BookingStatus.pending, BookingStatus.confirmed, **values):
        release_seats(booking.activity, booking.session, booking.party_size)
        return "skipped"
    signals.booking_approved.send(booking, reason=reason, by_user_id=actor.id, **signal_kwargs(booking, now))
    signals.booking_confirmed.send(booking, via="approval", **signal_kwargs(booking, now))
    return "confirmed"


# --- credit: no-shows and suspensions ---------------------------------------------------------


@dataclass
class Credit:
    """What a resident sees of their booking credit."""

    strikes: list[Booking]
    suspension: Suspension | None

    @property
    def strikes_used(self) -> int:
        return len(self.strikes)

    @property
    def strikes_left(self) -> int:
        return max(0, STRIKES_TO_SUSPEND - self.strikes_used)

    @property
    def suspended_until(self) -> datetime | None:
        return self.suspension.ends_at if self.suspension else None


def credit_of(user: User, now: datetime | None = None) -> Credit:
    """Strikes in the last 90 days since the last suspension, and the suspension in force, if any."""
    now = now or utcnow()
    current = (
        db.session.execute(
            select(Suspension)
            .where(Suspension.user_id == user.id, Suspension.lifted_at.is_(None), Suspension.ends_at > now)
            .order_by(Suspension.ends_at.desc())
        )
        .scalars()
        .first()
    )
    last = db.session.execute(select(func.max(Suspension.starts_at)).where(Suspension.user_id == user.id)).scalar()
    since = now - STRIKE_WINDOW if last is None else max(now - STRIKE_WINDOW, last)
    strikes = (
        db.session.execute(
            select(Booking)
            .where(Booking.user_id == user.id, Booking.counted_as_no_show.is_(True), Booking.no_show_at > since)
            .order_by(Booking.no_show_at)
        )
        .scalars()
        .all()
    )
    return Credit(strikes=list(strikes), suspension=current)


def record_strike(booking: Booking, now: datetime) -> Credit:
    """Count a no-show: a warning first, a 30-day suspension at the third within 90 days."""
    booking.counted_as_no_show = True
    booking.no_show_at = now
    db.session.flush()
    user = booking.user
    credit = credit_of(user, now)
    if credit.strikes_used >= STRIKES_TO_SUSPEND and credit.suspension is None:
        suspension = Suspension(
            user_id=user.id,
            starts_at=now,
            ends_at=now + SUSPENSION,
            reason=_("%(n)s no-shows within 90 days", n=credit.strikes_used),
        )
        db.session.add(suspension)
        user.suspended_until = suspension.ends_at
        user.suspension_reason = suspension.reason[:200]
        db.session.flush()
        signals.user_suspended.send(
            user,
            user_id=user.id,
            suspension_id=suspension.id,
            until=suspension.ends_at,
            strikes_used=credit.strikes_used,
            now=now,
        )
        return credit_of(user, now)
    signals.no_show_recorded.send(
        booking, strikes_used=credit.strikes_used, strikes_left=credit.strikes_left, **signal_kwargs(booking, now)
    )
    return credit


def strike_venues(suspension: Suspension) -> list:
    """The venues of the no-shows that led to `suspension` (those counted in the window before it began)."""

    return list(
        db.session.execute(
            select(Venue)
            .join(Activity, Activity.venue_id == Venue.id)
            .join(Booking, Booking.activity_id == Activity.id)
            .where(
                Booking.user_id == suspension.user_id,
                Booking.counted_as_no_show.is_(True),
                Booking.no_show_at > suspension.starts_at - STRIKE_WINDOW,
                Booking.no_show_at <= suspension.starts_at,
            )
            .distinct()
        ).scalars()
    )


def lift_suspension(user: User, *, note: str, actor: User, now: datetime | None = None) -> Suspension:
    """Staff lift a suspension early with a note; earlier strikes stay spent."""
    now = now or utcnow()
    if not actor.has_role(*MANAGE_ROLES):
        raise Forbidden()
    note = (note or "").strip()[:300]
    if not note:
        raise Invalid(fields={"note": [_("Write a short note on why.")]})
    suspension = credit_of(user, now).suspension
    if suspension is None:
        raise InvalidTransition(_("This account is not suspended."))
    if not all(actor.reaches(venue) for venue in strike_venues(suspension)):
        raise Forbidden(
            _("Only staff whose scope covers every venue where these no-shows happened can lift this suspension.")
        )
    suspension.lifted_at, suspension.lifted_by_id, suspension.lift_note = now, actor.id, note
    user.suspended_until = None
    user.suspension_reason = None
    db.session.flush()
    audit.record(actor, "suspension.lift", suspension, {"user_id": user.id, "note": note}, now=now)
    signals.suspension_lifted.send(
        user, user_id=user.id, suspension_id=suspension.id, by_user_id=actor.id, note=note, now=now
    )
    return suspension


# --- reactions to activity changes ------------------------------------------------------------


def _active_in(unit_keys: list[str]) -> list[Booking]:
    return list(
        db.session.execute(
            select(Booking).where(Booking.unit_key.in_(unit_keys), Booking.is_active.is_(True)).order_by(Booking.id)
        ).scalars()
    )


def _cancel_by_organiser(bookings: list[Booking], reason: str, now: datetime) -> None:
    for booking in bookings:
        held = booking.holds_seats
        if claim_booking(booking, booking.status, BookingStatus.cancelled, cancelled_at=now, updated_at=now):
            if held:
                release_seats(booking.activity, booking.session, booking.party_size)
            signals.booking_cancelled_by_organiser.send(booking, reason=reason, **signal_kwargs(booking, now))


@activity_signals.session_cancelled.connect
def _on_session_cancelled(session: Session, *, reason: str, now: datetime, **_kw) -> None:
    """An event session or slot cancelled: its bookings end. A course lesson: enrolments stay."""
    activity = session.activity
    if activity.is_course:
        for booking in _active_in([unit_key_for(activity, None)]):
            signals.booking_lesson_cancelled.send(
                booking, lesson_id=session.id, reason=reason, **signal_kwargs(booking, now)
            )
        return
    _cancel_by_organiser(_active_in([unit_key_for(activity, session)]), reason, now)


@activity_signals.activity_cancelled.connect
def _on_activity_cancelled(activity: Activity, *, reason: str, now: datetime, **_kw) -> None:
    keys = [unit_key_for(activity, None)] + [f"s{s.id}" for s in activity.sessions]
    _cancel_by_organiser(_active_in(keys), reason, now)


@activity_signals.session_moved.connect
def _on_session_moved(
    session: Session, *, old_starts_at: datetime, starts_at: datetime, ends_at: datetime, now: datetime, **_kw
) -> None:
    activity = session.activity
    for booking in _active_in([unit_key_for(activity, None if activity.is_course else session)]):
        signals.booking_session_moved.send(
            booking,
            moved_session_id=session.id,
            old_starts_at=old_starts_at,
            starts_at=starts_at,
            ends_at=ends_at,
            **signal_kwargs(booking, now),
        )
