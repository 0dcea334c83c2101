"""JSON API for seat bookings (docs/api.md): book, list, show, cancel; accept offers; staff decisions."""

import functools
import time
from datetime import datetime
from typing import Annotated, NoReturn

import sqlalchemy as sa
from flask import current_app
from flask import request as flask_request
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from accounts.auth import TokenCaller, app_key, bearer_token, require_roles, require_venue_scope, token_caller
from accounts.models import MANAGE_ROLES, Participant, User, mask_name
from activities.models import Activity, ActivityKind, Session
from bookings import services
from bookings.lottery import public_units
from bookings.models import Booking, BookingStatus
from bookings.queries import booking_code, bookings_of, session_bookings
from core.api import ApiBlueprint, OutSchema, Page, Schema, answer_for, paginate, parse_body
from core.db import MAX_ID, utcnow
from core.errors import DomainError, Invalid, NotFound
from core.extensions import db

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Every status an endpoint may answer besides its own: unknown ids, a method on the wrong path, domain refusals.
ERRORS = (404, 405, 409)
api = ApiBlueprint("bookings_api", __name__, tag="bookings")


class BookingIn(Schema):
    session_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    activity_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    party_size: int | None = Field(default=None, ge=1, le=3)
    participant_ids: list[Id] | None = Field(default=None, max_length=3)
    user_id: int | None = Field(default=None, ge=1, description="staff only: book on behalf of this resident")


class BookingOut(OutSchema):
    id: int
    status: BookingStatus
    code: str
    activity_id: int
    session_id: int | None
    title: str
    party_size: int
    participant_ids: list[int]
    starts_at: datetime | None
    hold_expires_at: datetime | None
    draw_rank: int | None
    waitlist_position: int | None
    decision_reason: str
    counted_as_no_show: bool
    created_at: datetime


class BookingQuery(Schema):
    session: int | None = Field(default=None, ge=1, le=MAX_ID)
    status: BookingStatus | None = None
    page: int = Field(default=1, ge=1, le=10_000)


class CancelOut(OutSchema):
    id: int
    status: BookingStatus
    counted_as_no_show: bool


class DecisionIn(Schema):
    booking_ids: list[Id] = Field(min_length=1, max_length=500)
    approve: bool
    reason: str = Field(default="", max_length=300)


class DecisionOut(OutSchema):
    results: dict[str, str]


class LiftIn(Schema):
    note: str = Field(min_length=1, max_length=300)


class LotteryEntryOut(OutSchema):
    entry: int = Field(description="the entry number (entry order)")
    name: str = Field(description="the entrant's name, masked")
    party_size: int
    is_quota_eligible: bool
    draw_rank: int | None


class LotteryUnitOut(OutSchema):
    unit: str = Field(description="c<activity id> for a course, s<session id> for a session")
    session_id: int | None
    drawn: bool
    drawn_at: datetime | None
    seed: str | None = Field(description="with the entry list, anyone can re-run the draw")
    seats: int | None
    winners: int | None
    entries: list[LotteryEntryOut]


class LotteryOut(OutSchema):
    activity_id: int
    units: list[LotteryUnitOut]


class CreditOut(OutSchema):
    strikes_used: int
    strikes_left: int
    suspended_until: datetime | None


def out(booking: Booking) -> BookingOut:
    position = services.waitlist_position(booking) if booking.status == BookingStatus.waitlisted else None
    return BookingOut(
        id=booking.id,
        status=booking.status,
        code=booking_code(booking),
        activity_id=booking.activity_id,
        session_id=booking.session_id,
        title=booking.activity.title,
        party_size=booking.party_size,
        participant_ids=[p.id for p in booking.participants],
        starts_at=booking.starts_at,
        hold_expires_at=booking.hold_expires_at,
        draw_rank=booking.draw_rank,
        waitlist_position=position,
        decision_reason=booking.decision_reason,
        counted_as_no_show=booking.counted_as_no_show,
        created_at=booking.created_at,
    )


def _unit(data: BookingIn, holder_id: int | None = None) -> tuple[Activity, Session | None, tuple | None]:
    """The unit asked for, in one query: a session with its activity (and venue), or a class with its lessons.

    With `holder_id` (a resident booking for themselves), the same query brings the account's participants and
    its active booking of the unit (the third item, `(participants, existing booking id)`), which
    `services.book` would otherwise read in a second query (None for a class)."""
    if data.session_id is not None:
        if holder_id is None:
            session = db.session.get(Session, data.session_id, options=[joinedload(Session.activity)])
            facts = None
        else:
            session, facts = _session_and_holder(data.session_id, holder_id)
        if session is None or (data.activity_id and session.activity_id != data.activity_id):
            raise NotFound()
        return session.activity, session, facts
    if data.activity_id is None:
        raise Invalid(fields={"session_id": [_("Give session_id, or activity_id for a class.")]})
    activity = db.session.get(Activity, data.activity_id, options=[joinedload(Activity.sessions)])
    if activity is None:
        raise NotFound()
    return activity, None, None


def _session_and_holder(session_id: int, holder_id: int) -> tuple[Session | None, tuple | None]:
    """The session (its activity and venue joined), the holder's participants (a row each) and the holder's active
    booking of the unit (`bookings.models.unit_key_for`, in SQL): one query."""
    rows = db.session.execute(_session_and_holder_statement(), {"sid": session_id, "hid": holder_id}).all()
    if not rows:
        return None, None
    return rows[0][0], ([row[1] for row in rows if row[1] is not None], rows[0][2])


@functools.cache
def _session_and_holder_statement() -> sa.Select:
    """Built once (with bound parameters): constructing it, and its cache key, cost a third of the query's time in
    Python at every booking; the same object keeps its cache key."""
    holder_id = sa.bindparam("hid", type_=sa.Integer())
    unit_key = sa.case(
        (Activity.kind == ActivityKind.course, sa.literal("c") + sa.cast(Activity.id, sa.String)),
        else_=sa.literal("s") + sa.cast(Session.id, sa.String),
    )
    existing = (
        select(Booking.id)
        .where(Booking.user_id == holder_id, Booking.unit_key == unit_key, Booking.is_active.is_(True))
        .limit(1)
        .correlate(Session, Activity)
        .scalar_subquery()
    )
    return (
        select(Session, Participant, existing)
        .join(Activity, Activity.id == Session.activity_id)
        .outerjoin(Participant, Participant.user_id == holder_id)
        .where(Session.id == sa.bindparam("sid", type_=sa.Integer()))
        .options(contains_eager(Session.activity))
        .order_by(Participant.id)
    )


def _own_or_managed(booking_id: int) -> Booking:
    """Someone else's booking is 404 to a resident; staff see bookings at venues in scope."""
    return services.get_booking(booking_id, current_user._get_current_object())


# --- the "full" hint: a hot sign-up's refusals without a read of the unit ------------------------------------

FULL_HINT_SECONDS = 1.0  # the default of the config key of the same name; 0 turns the hint off
# (app, session id) → (monotonic time, activity id, {user id: booking id} of the unit's active bookings)
_full_units: dict[tuple[int, int], tuple[float, int, dict[int, int]]] = {}
_clock = time.monotonic  # tests move it


def _remember_full(activity: Activity, session: Session) -> None:
    """After a `full` refusal of a first-come session without a waiting list: if no seat at all is left, remember
    it for FULL_HINT_SECONDS with the people holding its seats (one query, once per process and second)."""
    ttl = current_app.config.get("FULL_HINT_SECONDS", FULL_HINT_SECONDS)
    if ttl <= 0:
        return
    rows = db.session.execute(
        select(Session.capacity - Session.seats_taken, Booking.user_id, Booking.id)
        .select_from(Session)
        .outerjoin(Booking, sa.and_(Booking.unit_key == f"s{session.id}", Booking.is_active.is_(True)))
        .where(Session.id == session.id)
    ).all()
    if rows and rows[0][0] <= 0:
        holders = {user_id: booking_id for _left, user_id, booking_id in rows if user_id is not None}
        if len(_full_units) >= 10_000:
            _full_units.clear()
        _full_units[(app_key(), session.id)] = (_clock(), activity.id, holders)


def _live_hint(data: BookingIn) -> dict[int, int] | None:
    """The holders ({user id: booking id}) of the session asked, if this process saw it full less than
    FULL_HINT_SECONDS ago (a hint for another activity's session, or an older one, is no hint)."""
    if data.session_id is None:
        return None
    key = (app_key(), data.session_id)
    hint = _full_units.get(key)
    if hint is None:
        return None
    seen, activity_id, holders = hint
    if _clock() - seen >= current_app.config.get("FULL_HINT_SECONDS", FULL_HINT_SECONDS):
        _full_units.pop(key, None)
        return None
    return holders if data.activity_id in (None, activity_id) else None


def _refuse_by_hint(holders: dict[int, int], caller: "User | TokenCaller") -> NoReturn:
    """A session this process saw full is refused at once, with no statement: the caller's suspension, the caller's
    own seat (`duplicate`, from the hint's holders), else `full`. `caller` is the loaded user, or the token's caller
    when nothing has read their row (`_refuse_hinted_full_before_auth`). Only a hint, and only ever a refusal:
    every seat is still taken by the conditional UPDATE. For up to FULL_HINT_SECONDS a seat freed in another
    request may be refused, and a request that would have been refused for another reason (closed, invalid
    participants) hears `full`."""
    if caller.is_suspended(utcnow()):
        raise services.Suspended(until=caller.suspended_until)
    if caller.id in holders:
        raise services.Duplicate(booking_id=holders[caller.id])
    raise services.Full()


def _refuse_hinted_full_before_auth() -> None:
    """The same refusal before the caller is authenticated, for a bearer token `token_caller` can judge without
    the caller's row: a hot sign-up's refusal then reads nothing at all. Anything it cannot judge (no hint, a body
    or token it does not take, a booking on someone's behalf) goes on to the usual path."""
    if not _full_units:
        return
    token = bearer_token(flask_request)
    if token is None:
        return
    try:
        data = parse_body(BookingIn)
    except DomainError:
        return
    holders = _live_hint(data)
    if holders is None:
        return
    caller = token_caller(token)
    if caller is None or data.user_id not in (None, caller.id):
        return
    answer_for(caller)  # the refusal is in the caller's language, and the log line names them
    _refuse_by_hint(holders, caller)


@api.endpoint(
    "/bookings",
    "POST",
    body=BookingIn,
    response=BookingOut,
    status=201,
    errors=ERRORS,
    summary="Book a session (or enrol in a class); codes full, not_open, closed, duplicate, "
    "limit_reached, suspended, ineligible",
    before_auth=_refuse_hinted_full_before_auth,
)
def create_booking(data: BookingIn):
    actor = current_user._get_current_object()
    on_behalf = data.user_id is not None and data.user_id != actor.id
    if not on_behalf and (holders := _live_hint(data)) is not None:
        _refuse_by_hint(holders, actor)
    activity, session, facts = _unit(data, None if on_behalf else actor.id)
    holder = actor
    if on_behalf:
        require_roles(*MANAGE_ROLES)
        holder = db.session.get(User, data.user_id)
        if holder is None:
            raise NotFound()
    request = services.BookingRequest(
        activity=activity,
        session=session,
        party_size=data.party_size,
        participant_ids=data.participant_ids,
        holder_facts=facts,
    )
    try:
        booking = services.book(holder, data=request, actor=actor)
    except services.Full:
        # A course's seats are the activity's, not its lessons': the hint is for sessions that seat people.
        if session is not None and not activity.is_course and services.refuses_when_full(activity):
            _remember_full(activity, session)
        raise
    answer = out(booking)  # from what is in memory now: the commit expires it all
    return answer


@api.endpoint(
    "/bookings",
    query=BookingQuery,
    response=Page[BookingOut],
    errors=ERRORS,
    summary="Own bookings; staff: ?session= for a session in scope",
)
def list_bookings(params: BookingQuery):
    if params.session is not None:
        session = db.session.get(Session, params.session)
        if session is None:
            raise NotFound()
        require_venue_scope(session.activity.venue)
        stmt = session_bookings(session, status=params.status)
    else:
        stmt = bookings_of(current_user, status=params.status)
    page = paginate(stmt, params.page)
    page["items"] = [out(b) for b in page["items"]]
    return page


@api.endpoint(
    "/bookings/<int:booking_id>", response=BookingOut, errors=ERRORS, summary="One own booking (staff: in scope)"
)
def get_booking(booking_id: int):
    return out(_own_or_managed(booking_id))


@api.endpoint(
    "/bookings/<int:booking_id>/cancel",
    "POST",
    response=CancelOut,
    errors=ERRORS,
    summary="Cancel; after the cancellation deadline it counts as a no-show",
)
def cancel_booking(booking_id: int):
    booking = _own_or_managed(booking_id)
    services.cancel_booking(booking, actor=current_user._get_current_object())
    return booking


@api.endpoint(
    "/bookings/<int:booking_id>/accept",
    "POST",
    response=BookingOut,
    errors=ERRORS,
    summary="Take up a held seat (waiting-list offer or lottery win) before its deadline",
)
def accept_booking(booking_id: int):
    booking = _own_or_managed(booking_id)
    services.accept_offer(booking, actor=current_user._get_current_object())
    return out(booking)


@api.endpoint(
    "/bookings/decisions",
    "POST",
    body=DecisionIn,
    response=DecisionOut,
    errors=ERRORS,
    summary="Staff: approve or reject pending sign-ups in bulk, with a reason the resident sees",
)
def decide(data: DecisionIn):
    actor = require_roles(*MANAGE_ROLES)
    bookings = list(db.session.query(Booking).filter(Booking.id.in_(data.booking_ids)))
    if len(bookings) != len(set(data.booking_ids)):
        raise NotFound()
    results = services.decide_bookings(bookings, approve=data.approve, reason=data.reason, actor=actor)
    return DecisionOut(results={str(k): v for k, v in results.items()})


@api.endpoint(
    "/activities/<int:activity_id>/lottery",
    response=LotteryOut,
    auth=False,
    errors=(404, 405),
    summary="A lottery's public record per unit: the draw's seed and counts, and every entry (names masked)",
)
def lottery(activity_id: int):
    units = public_units(activity_id)
    return LotteryOut(activity_id=activity_id, units=[_unit_out(found) for found in units])


def _unit_out(found) -> LotteryUnitOut:
    draw = found.draw
    entries = [
        LotteryEntryOut(
            entry=r.id,
            name=mask_name(r.name),
            party_size=r.party_size,
            is_quota_eligible=bool(r.is_quota_eligible),
            draw_rank=r.draw_rank,
        )
        for r in found.rows
    ]
    return LotteryUnitOut(
        unit=found.unit,
        session_id=found.session.id if found.session else None,
        drawn=draw is not None,
        drawn_at=draw.drawn_at if draw else None,
        seed=draw.seed if draw else None,
        seats=draw.seats if draw else None,
        winners=draw.winners if draw else None,
        entries=entries,
    )


@api.endpoint(
    "/me/credit", response=CreditOut, errors=ERRORS, summary="No-show strikes used and left, and any suspension"
)
def my_credit():
    credit = services.credit_of(current_user)
    return CreditOut(
        strikes_used=credit.strikes_used, strikes_left=credit.strikes_left, suspended_until=credit.suspended_until
    )


@api.endpoint(
    "/residents/<int:user_id>/lift-suspension",
    "POST",
    body=LiftIn,
    response=CreditOut,
    errors=ERRORS,
    summary="Staff: lift a resident's suspension with a note",
)
def lift(user_id: int, data: LiftIn):
    actor = require_roles(*MANAGE_ROLES)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    services.lift_suspension(user, note=data.note, actor=actor)
    credit = services.credit_of(user)
    return CreditOut(
        strikes_used=credit.strikes_used, strikes_left=credit.strikes_left, suspended_until=credit.suspended_until
    )
