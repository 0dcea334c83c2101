"""JSON API for room reservations (docs/api.md): availability, requests, decisions, cancellation, check-in."""

from datetime import date, datetime
from typing import Annotated, Literal

from flask_login import current_user
from pydantic import AwareDatetime, Field

from accounts.auth import require_roles
from accounts.models import CHECKIN_ROLES, MANAGE_ROLES
from core.api import ApiBlueprint, OutSchema, Page, Schema, paginate
from core.db import MAX_ID
from core.errors import NotFound
from rooms import services
from rooms.models import GroupKind, ReservationStatus, RoomReservation
from rooms.queries import (
    availability,
    my_reservations_select,
    room_for_reservation,
    scope_reservations_select,
)
from venues.services import RoomConflict

api = ApiBlueprint("reservations_api", __name__, tag="room reservations")


Day = date  # a field named `date` cannot also use `date` as its annotation


class GroupIn(Schema):
    id: int | None = Field(default=None, ge=1, le=MAX_ID)
    name: str | None = Field(default=None, max_length=100)
    kind: GroupKind | None = None
    contact_name: str | None = Field(default=None, max_length=50)
    contact_phone: str | None = Field(default=None, max_length=20)


class ReservationIn(Schema):
    room_id: int = Field(ge=1, le=MAX_ID)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    purpose: str = Field(min_length=1, max_length=200)
    attendees: int = Field(ge=1, le=100_000)
    group: GroupIn | None = None
    repeat_weekly_until: date | None = Field(default=None, ge=date(2000, 1, 1), le=date(2100, 12, 31))


class ReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=300)


class CancelIn(Schema):
    reason: str = Field(default="", max_length=300)


class BulkIn(Schema):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=100)
    action: Literal["approve", "reject"]
    reason: str = Field(default="", max_length=300)


class GroupOut(OutSchema):
    id: int
    name: str
    kind: GroupKind


class ReservationOut(OutSchema):
    id: int
    status: ReservationStatus
    room_id: int
    starts_at: datetime
    ends_at: datetime
    purpose: str
    attendees: int
    group: GroupOut
    series_id: str | None
    decision_reason: str
    decided_at: datetime | None
    checked_in_at: datetime | None


class ListQuery(Schema):
    status: ReservationStatus | None = None
    mine: bool = False
    page: int = Field(default=1, ge=1, le=10_000)


class AvailabilityQuery(Schema):
    date: Day = Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))


class IntervalOut(OutSchema):
    starts_at: datetime
    ends_at: datetime


class TakenOut(IntervalOut):
    blocked_until: datetime
    source: str


class AvailabilityOut(OutSchema):
    room_id: int
    date: date
    closed: bool
    closure_reason: str | None
    opening: list[IntervalOut]
    taken: list[TakenOut]
    free: list[IntervalOut]


def _room_or_404(room_id: int):
    room = room_for_reservation(room_id)
    if room is None or not room.is_active or not room.venue.is_active:
        raise NotFound()
    return room


@api.endpoint(
    "/rooms/<int:room_id>/availability",
    query=AvailabilityQuery,
    response=AvailabilityOut,
    auth=False,
    summary="Free and taken intervals of a room on a local day (buffer included)",
)
def room_availability(room_id: int, params: AvailabilityQuery):
    room = _room_or_404(room_id)
    day = availability(room, params.date)[0]
    return AvailabilityOut(
        room_id=room.id,
        date=day.day,
        closed=day.closure is not None or not day.opening,
        closure_reason=day.closure.reason if day.closure else None,
        opening=[IntervalOut(starts_at=s, ends_at=e) for s, e in day.opening],
        taken=[
            TakenOut(starts_at=o.starts_at, ends_at=o.ends_at, blocked_until=o.blocked_until, source=o.source.value)
            for o in day.taken
        ],
        free=[IntervalOut(starts_at=s, ends_at=e) for s, e in day.free],
    )


@api.endpoint(
    "/room-reservations",
    "POST",
    body=ReservationIn,
    status=201,
    errors=(409,),
    summary="Reserve a room for a group (once, or weekly until a date)",
)
def create_reservation(data: ReservationIn):
    room = _room_or_404(data.room_id)
    payload = data.model_dump(exclude={"room_id"})
    result = services.request_reservation(room, data=payload, actor=current_user._get_current_object())
    if isinstance(result, RoomReservation):
        return {"id": result.id, "status": result.status.value, **_out(result)}, 201
    skipped = [
        {
            **s,
            "date": s["date"].isoformat(),
            "starts_at": s["starts_at"].isoformat(),
            "ends_at": s["ends_at"].isoformat(),
        }
        for s in result.skipped
    ]
    if not result.booked:  # the refusal rolls back the series' other rows
        raise RoomConflict(skipped=skipped, conflicts=[c for s in result.skipped for c in s["conflicts"]])
    return {"series_id": result.series_id, "reservations": [_out(r) for r in result.booked], "skipped": skipped}, 201


def _out(reservation: RoomReservation) -> dict:
    return ReservationOut.model_validate(reservation).model_dump(mode="json")


@api.endpoint(
    "/room-reservations",
    query=ListQuery,
    response=Page[ReservationOut],
    summary="Own reservations; staff: reservations in scope (?status=, ?mine=true for own)",
)
def list_reservations(params: ListQuery):
    user = current_user._get_current_object()
    if user.has_role(*CHECKIN_ROLES) and not params.mine:
        stmt = scope_reservations_select(user, CHECKIN_ROLES, params.status)
    else:
        stmt = my_reservations_select(user, params.status)
    return paginate(stmt, params.page)


@api.endpoint("/room-reservations/<int:reservation_id>", response=ReservationOut, summary="One reservation")
def get_reservation(reservation_id: int):
    return services.get_reservation(reservation_id, current_user._get_current_object())


@api.endpoint(
    "/room-reservations/<int:reservation_id>/approve",
    "POST",
    response=ReservationOut,
    errors=(409,),
    summary="Staff: approve a pending request",
)
def approve(reservation_id: int):
    actor = current_user._get_current_object()
    reservation = services.approve_reservation(services.get_reservation(reservation_id, actor), actor=actor)
    return reservation


@api.endpoint(
    "/room-reservations/<int:reservation_id>/reject",
    "POST",
    body=ReasonIn,
    response=ReservationOut,
    errors=(409,),
    summary="Staff: reject a pending request with a reason",
)
def reject(reservation_id: int, data: ReasonIn):
    actor = current_user._get_current_object()
    reservation = services.reject_reservation(
        services.get_reservation(reservation_id, actor), reason=data.reason, actor=actor
    )
    return reservation


@api.endpoint(
    "/room-reservations/<int:reservation_id>/cancel",
    "POST",
    body=CancelIn,
    response=ReservationOut,
    errors=(409,),
    summary="Cancel: the requester before the start, or staff with a reason",
)
def cancel(reservation_id: int, data: CancelIn):
    actor = current_user._get_current_object()
    reservation = services.cancel_reservation(
        services.get_reservation(reservation_id, actor), reason=data.reason, actor=actor
    )
    return reservation


@api.endpoint(
    "/room-reservations/<int:reservation_id>/check-in",
    "POST",
    response=ReservationOut,
    errors=(409,),
    summary="Staff: the group has arrived",
)
def check_in(reservation_id: int):
    actor = current_user._get_current_object()
    reservation = services.check_in_reservation(services.get_reservation(reservation_id, actor), actor=actor)
    return reservation


@api.endpoint("/room-reservations/bulk", "POST", body=BulkIn, summary="Staff: approve or reject many requests")
def bulk(data: BulkIn):
    actor = require_roles(*MANAGE_ROLES)  # as the page: residents and check-in staff are refused outright
    reservations = [services.get_reservation(i, actor) for i in dict.fromkeys(data.ids)]
    results = services.bulk_decide(reservations, approve=data.action == "approve", reason=data.reason, actor=actor)
    return {"results": results}
