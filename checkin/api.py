"""JSON API for tickets and check-in (docs/api.md): tickets, scans, offline sync, rosters, walk-ins.

Room reservations have tickets too (kind 'R'): the same payload, code and images, checked in at
`POST /room-reservations/checkins` with the same refusal codes.
"""

from datetime import date, datetime

from flask import Response, request
from flask_login import current_user
from pydantic import AwareDatetime, Field, RootModel
from sqlalchemy.orm import joinedload

from accounts.auth import require_roles
from accounts.models import CHECKIN_ROLES
from activities.models import Activity, Session
from bookings import services as booking_services
from bookings.models import Booking, BookingStatus
from checkin import services as checkin
from checkin.queries import session_roster
from core import tickets
from core.api import ApiBlueprint, OutSchema, Schema
from core.db import MAX_ID, utcnow
from core.errors import NotFound
from core.extensions import db
from rooms import services as room_services
from rooms.models import ReservationStatus, RoomReservation

api = ApiBlueprint("checkin_api", __name__, tag="check-in")

DEVICE_ID = Field(
    default="",
    max_length=64,
    pattern=r"^[A-Za-z0-9_.:-]*$",
    description="the scanning device's own id (kept with each check-in)",
)
SCAN_ID = Field(
    default=None,
    min_length=8,
    max_length=64,
    pattern=r"^[A-Za-z0-9_-]+$",
    description="the client's nonce: a retry with the same scan id is answered as before",
)


class TicketOut(OutSchema):
    booking_id: int
    payload: str = Field(description="exactly what the QR code holds")
    code: str = Field(description="the short code a person can type (8 characters)")
    status: BookingStatus


class RoomTicketOut(OutSchema):
    reservation_id: int
    payload: str = Field(description="exactly what the QR code holds")
    code: str = Field(description="the short code a person can type (8 characters)")
    status: ReservationStatus


class RoomCheckInIn(Schema):
    payload: str | None = Field(default=None, description="the scanned QR text")
    code: str | None = Field(
        default=None, max_length=40, description="a typed short code (today's reservations in the caller's scope)"
    )
    scan_id: str | None = SCAN_ID
    device_id: str = DEVICE_ID


class RoomCheckInOut(OutSchema):
    reservation_id: int
    room: str
    venue: str
    holder: str = Field(description="the group's name")
    party_size: int = Field(description="the expected number of people")
    starts_at: datetime
    ends_at: datetime
    checked_in_at: datetime
    checked_in_by: str
    replayed: bool


class CheckInIn(Schema):
    payload: str | None = Field(default=None, description="the scanned QR text")
    code: str | None = Field(default=None, max_length=40, description="a typed short code (needs session_id)")
    session_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="the session being checked in")
    scan_id: str | None = SCAN_ID
    device_id: str = DEVICE_ID


class CheckInOut(OutSchema):
    booking_id: int
    session_id: int
    party_size: int
    holder: str
    checked_in_at: datetime
    checked_in_by: str
    replayed: bool


class BatchItem(Schema):
    payload: str | None = None
    code: str | None = Field(default=None, max_length=40)
    session_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    scanned_at: AwareDatetime
    device_id: str = DEVICE_ID
    scan_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class BatchIn(RootModel[list[BatchItem]]):
    root: list[BatchItem] = Field(max_length=500)


class BatchResult(OutSchema):
    scan_id: str
    status: str = Field(description="admitted or rejected")
    code: str | None = None
    message: str | None = None
    conflict: bool = False
    booking_id: int | None = None
    session_id: int | None = None
    holder: str | None = None
    party_size: int | None = None
    checked_in_at: datetime | None = None
    first_checked_in_at: datetime | None = None
    checked_in_by: str | None = None
    replayed: bool | None = None


class BatchOut(OutSchema):
    results: list[BatchResult]
    admitted: int
    conflicts: int


class RosterSession(OutSchema):
    id: int
    activity_id: int
    title: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    opens_at: datetime
    closes_at: datetime
    status: str


class RosterItem(OutSchema):
    booking_id: int
    ticket: str = Field(description="SHA-256 fingerprint (32 hex) of the ticket payload")
    holder: str
    party_size: int
    status: str
    checked_in_at: datetime | None
    checked_in_by: str | None


class RosterOut(OutSchema):
    session: RosterSession
    generated_at: datetime
    walk_ins: int
    checked_in: int
    conflicts: int
    items: list[RosterItem]


class WalkInIn(Schema):
    count: int = Field(ge=1, le=500)
    scan_id: str | None = SCAN_ID


class DayWalkInOut(OutSchema):
    activity_id: int
    counted_on: date
    added: int
    total: int


class WalkInOut(OutSchema):
    session_id: int
    added: int
    total: int


# --- tickets ------------------------------------------------------------------------------------


def ticket_booking(booking_id: int) -> Booking:
    """A booking whose ticket the caller may see (owner, or staff managing its venue); else 404.

    Only a confirmed booking has a ticket: others are refused with `cancelled` or `not_confirmed`.
    """
    booking = booking_services.get_booking(booking_id, current_user._get_current_object())
    checkin.require_ticket(booking)
    return booking


@api.endpoint(
    "/bookings/<int:booking_id>/ticket",
    response=TicketOut,
    errors=(409,),
    summary="A confirmed booking's ticket: the QR payload and the short code (owner or staff in scope)",
)
def get_ticket(booking_id: int):
    booking = ticket_booking(booking_id)
    return TicketOut(
        booking_id=booking.id,
        payload=tickets.payload_for(booking.id),
        code=tickets.code_for(booking.id),
        status=booking.status,
    )


def _image(booking_id: int, kind: str) -> Response:
    booking = ticket_booking(booking_id)
    return _qr_response(tickets.payload_for(booking.id), f"ticket-{booking.id}", kind)


def _qr_response(payload: str, filename: str, kind: str) -> Response:
    body, mimetype = (
        (tickets.qr_svg(payload), "image/svg+xml") if kind == "svg" else (tickets.qr_png(payload), "image/png")
    )
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, max-age=86400"
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{kind}"'
    return response


@api.endpoint("/bookings/<int:booking_id>/ticket.svg", errors=(409,), summary="The ticket's QR code as SVG")
def get_ticket_svg(booking_id: int):
    return _image(booking_id, "svg")


@api.endpoint("/bookings/<int:booking_id>/ticket.png", errors=(409,), summary="The ticket's QR code as PNG")
def get_ticket_png(booking_id: int):
    return _image(booking_id, "png")


# --- room reservation tickets -------------------------------------------------------------------


def ticket_reservation(reservation_id: int) -> RoomReservation:
    """A room reservation whose ticket the caller may see (its requester, or door staff in scope); else 404.

    Only an approved reservation has a ticket: others are refused with `cancelled`, `not_confirmed`, `too_late`.
    """
    reservation = db.session.get(RoomReservation, reservation_id)
    if reservation is None or not reservation.can_see(current_user):
        raise NotFound()
    room_services.require_ticket(reservation)
    return reservation


@api.endpoint(
    "/room-reservations/<int:reservation_id>/ticket",
    response=RoomTicketOut,
    errors=(409,),
    summary="An approved room reservation's ticket: the QR payload and the short code",
)
def get_room_ticket(reservation_id: int):
    reservation = ticket_reservation(reservation_id)
    return RoomTicketOut(
        reservation_id=reservation.id,
        payload=tickets.payload_for(reservation.id, "R"),
        code=tickets.code_for(reservation.id, "R"),
        status=reservation.status,
    )


@api.endpoint(
    "/room-reservations/<int:reservation_id>/ticket.svg",
    errors=(409,),
    summary="The room reservation ticket's QR code as SVG",
)
def get_room_ticket_svg(reservation_id: int):
    reservation = ticket_reservation(reservation_id)
    return _qr_response(tickets.payload_for(reservation.id, "R"), f"room-ticket-{reservation.id}", "svg")


@api.endpoint(
    "/room-reservations/<int:reservation_id>/ticket.png",
    errors=(409,),
    summary="The room reservation ticket's QR code as PNG",
)
def get_room_ticket_png(reservation_id: int):
    reservation = ticket_reservation(reservation_id)
    return _qr_response(tickets.payload_for(reservation.id, "R"), f"room-ticket-{reservation.id}", "png")


@api.endpoint(
    "/room-reservations/checkins",
    "POST",
    body=RoomCheckInIn,
    response=RoomCheckInOut,
    status=201,
    errors=(409,),
    summary="Door staff: check a room reservation's group in by its ticket; codes already_checked_in "
    "(with first_checked_in_at), invalid_ticket (422), too_early, too_late, cancelled, "
    "not_confirmed; a venue out of scope 403",
)
def create_room_checkin(data: RoomCheckInIn):
    actor = require_roles(*CHECKIN_ROLES)
    admission = checkin.check_in_room(
        payload=data.payload, code=data.code, actor=actor, scan_id=data.scan_id, device_id=data.device_id
    )
    answer = RoomCheckInOut(**checkin.room_admission_dict(admission))
    return answer


# --- scans --------------------------------------------------------------------------------------


def _session_or_404(session_id: int | None) -> Session | None:
    """The session with its activity (and the activity's venue, joined): one query for the scope check."""
    if session_id is None:
        return None
    session = db.session.get(Session, session_id, options=[joinedload(Session.activity)])
    if session is None:
        raise NotFound()
    return session


@api.endpoint(
    "/checkins",
    "POST",
    body=CheckInIn,
    response=CheckInOut,
    status=201,
    errors=(409,),
    summary="Check a ticket in (a volunteer's task ticket: in, then out); codes already_checked_in "
    "(with first_checked_in_at), invalid_ticket (422), wrong_session, too_early, too_late, cancelled, "
    "not_confirmed; out of scope 403",
)
def create_checkin(data: CheckInIn):
    actor = require_roles(*CHECKIN_ROLES)
    handler = checkin.ticket_kind_handler(data.payload)
    if handler is not None:  # a ticket of another kind (a volunteer's task), answered by its package
        return handler(payload=data.payload, actor=actor, scan_id=data.scan_id, device_id=data.device_id), 201
    fast = checkin.check_in_fast(
        data.session_id, payload=data.payload, actor=actor, scan_id=data.scan_id, device_id=data.device_id
    )
    if fast is not None:  # admitted in one statement; anything else takes the general path, which explains it
        return CheckInOut(**fast)
    session = _session_or_404(data.session_id)
    admission = checkin.check_in(
        session, payload=data.payload, code=data.code, actor=actor, scan_id=data.scan_id, device_id=data.device_id
    )
    answer = CheckInOut(**checkin.admission_dict(admission))  # before the commit expires what it reads
    return answer


@api.endpoint(
    "/checkins/batch",
    "POST",
    body=BatchIn,
    response=BatchOut,
    summary="Offline sync: [{payload or code, session_id, scanned_at, device_id, scan_id}] → a result "
    "per item; replaying a batch changes nothing; a second device's admission is flagged",
)
def sync_checkins(data: BatchIn):
    actor = require_roles(*CHECKIN_ROLES)
    sessions: dict[int, Session | None] = {}
    items = []
    for item in data.root:
        if item.session_id is not None and item.session_id not in sessions:
            sessions[item.session_id] = db.session.get(Session, item.session_id)
        items.append(
            checkin.ScanItem(
                scan_id=item.scan_id,
                scanned_at=item.scanned_at,
                device_id=item.device_id,
                payload=item.payload,
                code=item.code,
                session_id=item.session_id,
                session=sessions.get(item.session_id),
            )
        )
    results = checkin.sync_scans(items, actor=actor)
    return BatchOut(
        results=[BatchResult.model_validate(r) for r in results],
        admitted=sum(1 for r in results if r["status"] == "admitted" and not r.get("replayed")),
        conflicts=sum(1 for r in results if r["conflict"]),
    )


@api.endpoint(
    "/sessions/<int:session_id>/roster",
    response=RosterOut,
    summary="Staff: what a scanner needs to check this session offline (fingerprints, not tickets)",
)
def get_roster(session_id: int):
    actor = require_roles(*CHECKIN_ROLES)
    session = _session_or_404(session_id)
    checkin.require_door(session, actor)
    return RosterOut.model_validate(session_roster(session, utcnow()))


@api.endpoint(
    "/sessions/<int:session_id>/walk-ins",
    "POST",
    body=WalkInIn,
    response=WalkInOut,
    status=201,
    errors=(409,),
    summary="Staff: count visitors without booking; a retried scan_id adds nothing",
)
def add_walk_ins(session_id: int, data: WalkInIn):
    actor = require_roles(*CHECKIN_ROLES)
    session = _session_or_404(session_id)
    total = checkin.count_walk_ins(session, count=data.count, actor=actor, scan_id=data.scan_id)
    return WalkInOut(session_id=session.id, added=data.count, total=total)


@api.endpoint(
    "/activities/<int:activity_id>/walk-ins",
    "POST",
    body=WalkInIn,
    response=DayWalkInOut,
    status=201,
    errors=(409,),
    summary="Staff: count today's visitors to an exhibition without timed slots",
)
def add_day_walk_ins(activity_id: int, data: WalkInIn):
    actor = require_roles(*CHECKIN_ROLES)
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        raise NotFound()
    day, total = checkin.count_day_walk_ins(activity, count=data.count, actor=actor, scan_id=data.scan_id)
    return DayWalkInOut(activity_id=activity.id, counted_on=day, added=data.count, total=total)
