"""JSON API for activities and sessions (docs/api.md): public browsing, staff editing in scope."""

from datetime import date, datetime, time
from typing import Annotated

from flask_babel import gettext as _
from flask_login import current_user
from pydantic import AwareDatetime, Field

from accounts.auth import require_venue_scope
from activities import loaders, services
from activities.booking_state import activity_state, unit_state
from activities.models import Activity, ActivityKind, ActivityStatus, Category, Policy, QuotaRule
from activities.queries import ActivityFilters, activity_select
from core.api import ApiBlueprint, OutSchema, Page, Schema, paginate
from core.db import MAX_ID, utcnow
from core.errors import Invalid, NotFound
from core.extensions import db
from venues.models import Venue

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Every status an endpoint may answer besides its own: unknown ids, a method on the wrong path, domain refusals.
ERRORS = (404, 405, 409)
api = ApiBlueprint("activities_api", __name__, tag="activities")


class ActivityQuery(Schema):
    venue: int | None = Field(default=None, ge=1, le=MAX_ID)
    district: str | None = Field(default=None, max_length=40)
    kind: ActivityKind | None = None
    category: Category | None = None
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    age: int | None = Field(default=None, ge=0, le=120)
    q: str | None = Field(default=None, max_length=50)
    page: int = Field(default=1, ge=1, le=10_000)


class BookingStateOut(OutSchema):
    """The booking state (activities/booking_state.py): the same words the pages show."""

    code: str = Field(
        description="available · few_left · full · waitlist · lottery_open · opens_soon · closed · "
        "no_booking · ended · cancelled"
    )
    label: str
    seats_left: int | None
    position: int | None = Field(description="waitlist: the place a new booking would take, when known")
    at: datetime | None = Field(description="lottery_open: when sign-ups close; opens_soon: when they open")
    action: str | None = Field(description="book · signup · waitlist · lottery, or null when nothing can be done")


class SessionOut(OutSchema):
    id: int
    starts_at: datetime
    ends_at: datetime
    room_id: int | None
    capacity: int
    seats_left: int
    status: str
    booking_state: BookingStateOut | None = None


class ActivityOut(OutSchema):
    id: int
    kind: ActivityKind
    status: ActivityStatus
    title: str
    summary: str
    venue_id: int
    category: Category
    policy: Policy
    capacity: int
    seats_left: int
    max_party_size: int
    signup_opens_at: datetime | None
    signup_closes_at: datetime | None
    age_min: int | None
    age_max: int | None
    series: str
    starts_on: date | None
    ends_on: date | None
    is_outreach: bool = False
    brand_id: int | None = None


class ActivityDetail(ActivityOut):
    description: str
    gender: str | None
    is_real_name_required: bool
    has_waiting_list: bool
    room_id: int | None
    place: str
    cancel_hours: int
    reserved_quota: int
    quota_rule: QuotaRule | None
    sessions: list[SessionOut]
    booking_state: BookingStateOut


class ActivityFields(Schema):
    title: str | None = Field(default=None, min_length=1, max_length=100)
    summary: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    series: str | None = Field(default=None, max_length=50)
    category: Category | None = None
    room_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    place: str | None = Field(default=None, max_length=100)
    age_min: int | None = Field(default=None, ge=0, le=120)
    age_max: int | None = Field(default=None, ge=0, le=120)
    gender: str | None = Field(default=None, pattern="^(female|male)$")
    is_real_name_required: bool | None = None
    policy: Policy | None = None
    has_waiting_list: bool | None = None
    capacity: int | None = Field(default=None, ge=0, le=100_000)
    max_party_size: int | None = Field(default=None, ge=1, le=3)
    signup_opens_at: AwareDatetime | None = None
    signup_closes_at: AwareDatetime | None = None
    cancel_hours: int | None = Field(default=None, ge=0, le=720)
    confirm_hours: int | None = Field(default=None, ge=1, le=720)
    reserved_quota: int | None = Field(default=None, ge=0, le=100_000)
    quota_rule: QuotaRule | None = None
    starts_on: date | None = None
    ends_on: date | None = None


class ActivityIn(ActivityFields):
    venue_id: int = Field(ge=1, le=MAX_ID)
    kind: ActivityKind
    title: str = Field(min_length=1, max_length=100)


class WeeklyIn(Schema):
    first_on: date
    until_on: date
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(min_length=1, max_length=7)
    starts: time
    ends: time
    except_on: list[date] = Field(default_factory=list, max_length=100)


class SessionIn(Schema):
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    weekly: WeeklyIn | None = None
    room_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    capacity: int | None = Field(default=None, ge=0, le=100_000)


class SessionList(OutSchema):
    items: list[SessionOut]
    total: int
    page: int


class MoveIn(Schema):
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class ReasonIn(Schema):
    reason: str = Field(default="", max_length=200)


def detail(activity: Activity) -> ActivityDetail:
    data = ActivityOut.model_validate(activity).model_dump()
    extra = {
        k: getattr(activity, k)
        for k in (
            "description",
            "gender",
            "is_real_name_required",
            "has_waiting_list",
            "room_id",
            "place",
            "cancel_hours",
            "reserved_quota",
            "quota_rule",
        )
    }
    now = utcnow()
    sessions = [
        SessionOut(
            **SessionOut.model_validate(s).model_dump(exclude={"booking_state"}),
            booking_state=None if activity.is_course else unit_state(activity, s, now).as_dict(),
        )
        for s in activity.sessions
    ]
    return ActivityDetail(**data, **extra, sessions=sessions, booking_state=activity_state(activity, now).as_dict())


def _visible(activity_id: int) -> Activity:
    return loaders.visible_activity(activity_id, current_user)


def _managed(activity_id: int) -> Activity:
    activity = _visible(activity_id)
    require_venue_scope(activity.venue)
    return activity


@api.endpoint(
    "/activities",
    query=ActivityQuery,
    response=Page[ActivityOut],
    auth=False,
    errors=ERRORS,
    summary="Published activities, filtered by venue subtree, district, kind, category, dates, age, text",
)
def list_activities(params: ActivityQuery):
    filters = ActivityFilters(
        venue_id=params.venue,
        district=params.district,
        kind=params.kind,
        category=params.category,
        from_on=params.from_,
        to_on=params.to,
        age=params.age,
        q=params.q,
    )
    return paginate(activity_select(filters, utcnow()), params.page)


@api.endpoint(
    "/activities/<int:activity_id>",
    response=ActivityDetail,
    auth=False,
    errors=ERRORS,
    summary="One activity with its sessions and seats left",
)
def get_activity(activity_id: int):
    return detail(_visible(activity_id))


@api.endpoint(
    "/activities",
    "POST",
    body=ActivityIn,
    response=ActivityDetail,
    status=201,
    errors=ERRORS,
    summary="Staff: create a draft activity at a venue in scope",
)
def create_activity(data: ActivityIn):
    venue = db.session.get(Venue, data.venue_id)
    if venue is None:
        raise NotFound()
    actor = require_venue_scope(venue)
    activity = services.create_activity(
        venue, data=data.model_dump(exclude={"venue_id"}, exclude_none=True), actor=actor
    )
    return detail(activity)


@api.endpoint(
    "/activities/<int:activity_id>",
    "PATCH",
    body=ActivityFields,
    response=ActivityDetail,
    errors=ERRORS,
    summary="Staff: edit an activity; a published one keeps its bookings",
)
def update_activity(activity_id: int, data: ActivityFields):
    activity = _managed(activity_id)
    services.update_activity(
        activity, data=data.model_dump(exclude_unset=True), actor=require_venue_scope(activity.venue)
    )
    return detail(activity)


@api.endpoint(
    "/activities/<int:activity_id>/sessions",
    "POST",
    body=SessionIn,
    response=SessionList,
    status=201,
    errors=ERRORS,
    summary="Staff: add one session, or a weekly pattern with exception dates",
)
def add_sessions(activity_id: int, data: SessionIn):
    activity = _managed(activity_id)
    actor = require_venue_scope(activity.venue)
    if data.weekly is not None:
        w = data.weekly
        if any(not 0 <= d <= 6 for d in w.weekdays):
            raise Invalid(fields={"weekly.weekdays": [_weekday_message()]})
        sessions = services.add_weekly_sessions(
            activity,
            first_on=w.first_on,
            until_on=w.until_on,
            weekdays=w.weekdays,
            starts=w.starts,
            ends=w.ends,
            except_on=w.except_on,
            actor=actor,
            room_id=data.room_id,
            capacity=data.capacity,
        )
    elif data.starts_at and data.ends_at:
        sessions = [
            services.add_session(
                activity,
                starts_at=data.starts_at,
                ends_at=data.ends_at,
                actor=actor,
                room_id=data.room_id,
                capacity=data.capacity,
            )
        ]
    else:
        raise Invalid(fields={"starts_at": [_required()]})
    return {"items": [SessionOut.model_validate(s) for s in sessions], "total": len(sessions), "page": 1}


def _required() -> str:
    return _("Give starts_at and ends_at, or a weekly pattern.")


def _weekday_message() -> str:
    return _("Weekdays are numbers from 0 (Monday) to 6 (Sunday).")


@api.endpoint(
    "/activities/<int:activity_id>/publish",
    "POST",
    response=ActivityDetail,
    errors=ERRORS,
    summary="Staff: publish a draft",
)
def publish(activity_id: int):
    activity = _managed(activity_id)
    services.publish_activity(activity, actor=require_venue_scope(activity.venue))
    return detail(activity)


@api.endpoint(
    "/activities/<int:activity_id>/cancel",
    "POST",
    body=ReasonIn,
    response=ActivityDetail,
    errors=ERRORS,
    summary="Staff: cancel an activity and every booking of it",
)
def cancel(activity_id: int, data: ReasonIn):
    activity = _managed(activity_id)
    services.cancel_activity(activity, reason=data.reason, actor=require_venue_scope(activity.venue))
    return detail(activity)


def _session(session_id: int):
    return loaders.managed_session(session_id)


@api.endpoint(
    "/sessions/<int:session_id>/move",
    "POST",
    body=MoveIn,
    response=SessionOut,
    errors=ERRORS,
    summary="Staff: move a session (its room and everyone booked follow)",
)
def move_session(session_id: int, data: MoveIn):
    session, actor = _session(session_id)
    services.move_session(session, starts_at=data.starts_at, ends_at=data.ends_at, actor=actor)
    return SessionOut.model_validate(session)


@api.endpoint(
    "/sessions/<int:session_id>/cancel",
    "POST",
    body=ReasonIn,
    response=SessionOut,
    errors=ERRORS,
    summary="Staff: cancel one session",
)
def cancel_session(session_id: int, data: ReasonIn):
    session, actor = _session(session_id)
    services.cancel_session(session, reason=data.reason, actor=actor)
    return SessionOut.model_validate(session)
