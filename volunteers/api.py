"""JSON API of volunteering (docs/volunteers.md): registration, decisions, tasks, sign-ups, the record, hours.

A volunteer's task ticket is checked in and out at the same door as seats, `POST /checkins {payload}`: the
composition root registers `door_answer` with checkin for tickets of kind 'V'.
"""

from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from pydantic import AwareDatetime, ConfigDict, Field

from accounts.auth import require_roles
from accounts.models import MANAGE_ROLES, mask_name
from activities.models import Activity
from core import tickets
from core.api import ApiBlueprint, OutSchema, Schema
from core.db import MAX_ID, utcnow
from core.errors import Forbidden, Invalid, NotFound
from core.extensions import db
from core.i18n import local_today
from venues.models import Venue
from volunteers import queries, services
from volunteers.models import (
    SignupStatus,
    Skill,
    Slot,
    TaskStatus,
    Volunteer,
    VolunteerSignup,
    VolunteerStatus,
    VolunteerTask,
)

api = ApiBlueprint("volunteers_api", __name__, tag="volunteers")
ERRORS = (403, 404, 409, 422)
ID = Field(ge=1, le=MAX_ID)


class VolunteerIn(Schema):
    venue_id: int = Field(ge=1, le=MAX_ID, description="the venue whose volunteer team to join")
    skills: list[Skill] = Field(min_length=1, max_length=len(Skill))
    availability: list[Slot] = Field(min_length=1, max_length=len(Slot))
    real_name: str = Field(default="", max_length=50, description="the name on the ID card (real-name volunteers)")
    id_number: str = Field(default="", max_length=18, description="optional resident ID number (real name)")
    guardian_name: str = Field(default="", max_length=50, description="required under 18")
    guardian_phone: str = Field(default="", max_length=20, description="required under 18")
    guardian_consent: bool = Field(default=False, description="the guardian agreed (required under 18)")
    note: str = Field(default="", max_length=300)


class VolunteerOut(OutSchema):
    id: int
    status: VolunteerStatus
    venue_id: int
    skills: list[str]
    availability: list[str]
    is_minor: bool
    guardian_consent_at: datetime | None = None
    decline_reason: str = ""
    created_at: datetime


class StaffVolunteerOut(VolunteerOut):
    name: str
    phone: str
    real_name_given: bool


class VolunteerList(OutSchema):
    items: list[StaffVolunteerOut]


class StatusQuery(Schema):
    status: VolunteerStatus | None = None


class DeclineIn(Schema):
    reason: str = Field(min_length=1, max_length=300)


class TaskIn(Schema):
    venue_id: int = ID
    activity_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    title: str = Field(min_length=1, max_length=100)
    duties: str = Field(default="", max_length=5000)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    places: int = Field(ge=1, le=services.MAX_PLACES)
    skills: list[Skill] = Field(default_factory=list, max_length=len(Skill))


class CreatedOut(OutSchema):
    id: int


class TaskOut(OutSchema):
    id: int
    venue_id: int
    venue: str
    activity_id: int | None
    title: str
    duties: str
    starts_at: datetime
    ends_at: datetime
    places: int
    places_left: int
    skills: list[str]
    status: TaskStatus
    matches: bool = Field(default=False, description="wants one of the caller's skills (or none in particular)")


class TaskList(OutSchema):
    items: list[TaskOut]


class TicketOut(OutSchema):
    payload: str = Field(description="exactly what the QR code holds")
    code: str = Field(description="the short code (8 characters)")


class SignupOut(OutSchema):
    id: int
    task_id: int
    status: SignupStatus
    ticket: TicketOut


class RosterItem(OutSchema):
    signup_id: int
    volunteer_id: int
    name: str
    phone: str
    status: str
    state: str = Field(description="upcoming, on_duty, served, no_show or cancelled")
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    minutes: int | None
    correction_note: str


class RosterOut(OutSchema):
    task: TaskOut
    items: list[RosterItem]


class CorrectionIn(Schema):
    minutes: int = Field(ge=0, le=24 * 60)
    note: str = Field(min_length=1, max_length=300)


class ServiceOut(OutSchema):
    signup_id: int
    minutes: int | None
    hours: float
    correction_note: str


class PeriodQuery(Schema):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)

    from_: date | None = Field(default=None, alias="from")
    to: date | None = None


class MyTask(OutSchema):
    signup_id: int
    task_id: int
    title: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    status: SignupStatus
    state: str
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    hours: float
    ticket: TicketOut | None = None


class MyVolunteering(OutSchema):
    volunteer: VolunteerOut | None
    hours: float
    tasks: list[MyTask]


class HoursQuery(PeriodQuery):
    by: str = Field(default="volunteer", pattern="^(volunteer|team|venue)$")


class HoursRowOut(OutSchema):
    key: int | str
    label: str
    hours: float
    tasks: int
    volunteers: int


class HoursOut(OutSchema):
    by: str
    rows: list[HoursRowOut]


class YearQuery(Schema):
    year: int | None = Field(default=None, ge=2000, le=2100)
    hours: float = Field(default=queries.COMMENDATION_HOURS, ge=1, le=10000)


class CommendationOut(OutSchema):
    year: int
    threshold: float
    rows: list[HoursRowOut]


class DistrictFigure(OutSchema):
    district_code: str
    district: str
    registered: int
    active: int
    hours: float


class FiguresOut(OutSchema):
    year: int | None
    rows: list[DistrictFigure]


class DoorOut(OutSchema):
    """A volunteer's task ticket at the door: checked in (first scan) or out (second), with the hours."""

    kind: str = "volunteer"
    direction: str = Field(description="in or out")
    signup_id: int
    task_id: int
    task: str
    holder: str
    room: str = Field(description="what the scanner shows under the name: the task, and the hours on the way out")
    party_size: int = 1
    checked_in_at: datetime
    checked_out_at: datetime | None
    checked_in_by: str
    hours: float
    replayed: bool


# --- helpers --------------------------------------------------------------------------------------


def _get(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        raise NotFound()
    return obj


def _ticket(signup: VolunteerSignup) -> TicketOut:
    return TicketOut(payload=services.ticket_payload(signup), code=services.ticket_code(signup))


def task_out(task: VolunteerTask, volunteer: Volunteer | None = None) -> TaskOut:
    return TaskOut(
        id=task.id,
        venue_id=task.venue_id,
        venue=task.venue.name,
        activity_id=task.activity_id,
        title=task.title,
        duties=task.duties,
        starts_at=task.starts_at,
        ends_at=task.ends_at,
        places=task.places,
        places_left=task.places_left,
        skills=list(task.skills or []),
        status=task.status,
        matches=queries.matches(task, volunteer),
    )


def _staff_out(v: Volunteer) -> StaffVolunteerOut:
    return StaffVolunteerOut.model_validate(
        {
            **VolunteerOut.model_validate(v).model_dump(),
            "name": v.user.name,
            "phone": v.user.masked_phone,
            "real_name_given": bool(v.id_number),
        }
    )


def _period(params) -> tuple[date | None, date | None]:
    if params.from_ and params.to and params.from_ > params.to:
        raise Invalid(fields={"to": [_l("The end must not be before the start.")]})
    return params.from_, params.to


# --- registration -----------------------------------------------------------------------------------


@api.endpoint(
    "/volunteers",
    "POST",
    body=VolunteerIn,
    response=VolunteerOut,
    status=201,
    errors=ERRORS,
    summary="A resident registers as a volunteer (skills, availability; a minor needs a guardian's consent); "
    "409 duplicate",
)
def create_volunteer(data: VolunteerIn):
    venue = db.session.get(Venue, data.venue_id)
    if venue is None:
        raise Invalid(fields={"venue_id": [_l("Choose a venue.")]})
    payload = data.model_dump()
    payload["venue"] = venue
    return services.register_volunteer(current_user._get_current_object(), data=payload)


@api.endpoint(
    "/volunteers",
    query=StatusQuery,
    response=VolunteerList,
    summary="Staff: registrations with venues in scope (names, masked phones), newest first",
)
def list_volunteers(params: StatusQuery):
    actor = require_roles(*MANAGE_ROLES)
    return VolunteerList(items=[_staff_out(v) for v in queries.staff_registrations(actor, params.status)])


@api.endpoint(
    "/volunteers/<int:volunteer_id>/approve",
    "POST",
    response=VolunteerOut,
    errors=ERRORS,
    summary="Staff of the team's venue: approve a pending registration",
)
def approve_volunteer(volunteer_id: int):
    actor = require_roles(*MANAGE_ROLES)
    return services.approve_volunteer(_get(Volunteer, volunteer_id), actor=actor)


@api.endpoint(
    "/volunteers/<int:volunteer_id>/decline",
    "POST",
    body=DeclineIn,
    response=VolunteerOut,
    errors=ERRORS,
    summary="Staff of the team's venue: decline a pending registration with a reason",
)
def decline_volunteer(volunteer_id: int, data: DeclineIn):
    actor = require_roles(*MANAGE_ROLES)
    return services.decline_volunteer(_get(Volunteer, volunteer_id), actor=actor, reason=data.reason)


# --- tasks ---------------------------------------------------------------------------------------


@api.endpoint(
    "/volunteer-tasks",
    response=TaskList,
    summary="Tasks still to come with places left; those matching the caller's skills first",
)
def list_tasks():
    volunteer = services.volunteer_of(current_user)
    tasks = queries.open_tasks(volunteer, utcnow())
    return TaskList(items=[task_out(t, volunteer) for t in tasks])


@api.endpoint(
    "/volunteer-tasks",
    "POST",
    body=TaskIn,
    response=CreatedOut,
    status=201,
    errors=ERRORS,
    summary="Staff: publish a task at a venue in scope, for an activity there or standalone",
)
def create_task(data: TaskIn):
    actor = require_roles(*MANAGE_ROLES)
    venue = db.session.get(Venue, data.venue_id)
    if venue is None:
        raise Invalid(fields={"venue_id": [_l("Choose a venue.")]})
    activity = None
    if data.activity_id is not None:
        activity = db.session.get(Activity, data.activity_id)
        if activity is None:
            raise Invalid(fields={"activity_id": [_l("Choose an activity held at this venue.")]})
    payload = data.model_dump()
    payload.update(venue=venue, activity=activity)
    task = services.create_task(data=payload, actor=actor)
    return CreatedOut(id=task.id)


@api.endpoint("/volunteer-tasks/<int:task_id>", response=TaskOut, summary="One task")
def get_task(task_id: int):
    return task_out(_get(VolunteerTask, task_id), services.volunteer_of(current_user))


@api.endpoint(
    "/volunteer-tasks/<int:task_id>/cancel",
    "POST",
    response=TaskOut,
    errors=ERRORS,
    summary="Staff of the venue: cancel a task; its volunteers are told",
)
def cancel_task(task_id: int):
    actor = require_roles(*MANAGE_ROLES)
    return task_out(services.cancel_task(_get(VolunteerTask, task_id), actor=actor))


@api.endpoint(
    "/volunteer-tasks/<int:task_id>/roster",
    response=RosterOut,
    errors=ERRORS,
    summary="Staff of the venue: who signed up, checked in and out, no-shows and hours",
)
def task_roster(task_id: int):
    actor = require_roles(*MANAGE_ROLES)
    task = _get(VolunteerTask, task_id)
    services.require_manager(task.venue, actor)
    return RosterOut(task=task_out(task), items=[RosterItem(**r) for r in queries.roster(task, utcnow())])


@api.endpoint(
    "/volunteer-tasks/<int:task_id>/signups",
    "POST",
    response=SignupOut,
    status=201,
    errors=ERRORS,
    summary="An approved volunteer signs up; refusals full, duplicate, not_approved, task_closed (409)",
)
def create_signup(task_id: int):
    signup = services.sign_up(_get(VolunteerTask, task_id), user=current_user._get_current_object())
    return SignupOut(id=signup.id, task_id=signup.task_id, status=signup.status, ticket=_ticket(signup))


def _signup_for(signup_id: int) -> VolunteerSignup:
    """A sign-up its volunteer or the venue's staff may see; else 404."""
    signup = _get(VolunteerSignup, signup_id)
    if signup.volunteer.user_id != current_user.id and not services.can_manage_signup(signup, current_user):
        raise NotFound()
    return signup


@api.endpoint(
    "/volunteer-signups/<int:signup_id>/cancel",
    "POST",
    response=SignupOut,
    errors=ERRORS,
    summary="Give a place back (the volunteer until 2 hours before, staff of the venue until the end)",
)
def cancel_signup(signup_id: int):
    signup = services.cancel_signup(_signup_for(signup_id), actor=current_user._get_current_object())
    return SignupOut(id=signup.id, task_id=signup.task_id, status=signup.status, ticket=_ticket(signup))


@api.endpoint(
    "/volunteer-signups/<int:signup_id>/ticket",
    response=TicketOut,
    errors=ERRORS,
    summary="A sign-up's task ticket (its volunteer, or staff of the venue)",
)
def get_signup_ticket(signup_id: int):
    signup = _signup_for(signup_id)
    if signup.status != SignupStatus.confirmed:
        raise tickets.Cancelled(_l("This volunteer sign-up has been cancelled."))
    return _ticket(signup)


@api.endpoint(
    "/volunteer-signups/<int:signup_id>/service",
    "PATCH",
    body=CorrectionIn,
    response=ServiceOut,
    errors=ERRORS,
    summary="Staff of the venue: correct the credited minutes, with a note (audited)",
)
def correct_service(signup_id: int, data: CorrectionIn):
    actor = require_roles(*MANAGE_ROLES)
    signup = _get(VolunteerSignup, signup_id)
    if not services.can_manage_signup(signup, actor):
        raise Forbidden()
    signup = services.correct_service(signup, minutes=data.minutes, note=data.note, actor=actor)
    return ServiceOut(
        signup_id=signup.id, minutes=signup.minutes, hours=signup.hours, correction_note=signup.correction_note
    )


# --- the volunteer's record ------------------------------------------------------------------------


def my_volunteering(user, start: date | None, end: date | None) -> MyVolunteering:
    volunteer = services.volunteer_of(user)
    if volunteer is None:
        return MyVolunteering(volunteer=None, hours=0, tasks=[])
    now = utcnow()
    items = []
    for s in queries.my_signups(volunteer, start, end):
        state = queries.signup_state(s, now)
        items.append(
            MyTask(
                signup_id=s.id,
                task_id=s.task_id,
                title=s.task.title,
                venue=s.task.venue.name,
                starts_at=s.task.starts_at,
                ends_at=s.task.ends_at,
                status=s.status,
                state=state,
                checked_in_at=s.checked_in_at,
                checked_out_at=s.checked_out_at,
                hours=s.hours,
                ticket=_ticket(s) if state in ("upcoming", "on_duty") else None,
            )
        )
    minutes = queries.served_minutes(volunteer, start, end)
    return MyVolunteering(volunteer=VolunteerOut.model_validate(volunteer), hours=round(minutes / 60, 2), tasks=items)


@api.endpoint(
    "/me/volunteering",
    query=PeriodQuery,
    response=MyVolunteering,
    errors=(422,),
    summary="The caller's registration, hours served and tasks (optionally for a period)",
)
def get_my_volunteering(params: PeriodQuery):
    start, end = _period(params)
    return my_volunteering(current_user, start, end)


# --- staff figures ----------------------------------------------------------------------------------


@api.endpoint(
    "/volunteer-hours",
    query=HoursQuery,
    response=HoursOut,
    errors=(403, 422),
    summary="Staff: credited hours per volunteer, team or venue in scope (by=volunteer|team|venue)",
)
def get_hours(params: HoursQuery):
    actor = require_roles(*MANAGE_ROLES)
    start, end = _period(params)
    rows = queries.hours_by(actor, params.by, start, end)
    return HoursOut(by=params.by, rows=[HoursRowOut(**r.__dict__) for r in rows])


@api.endpoint(
    "/volunteer-commendations",
    query=YearQuery,
    response=CommendationOut,
    errors=(403, 422),
    summary="Staff: volunteers with at least `hours` (default 50) credited in a year, in scope",
)
def get_commendations(params: YearQuery):
    actor = require_roles(*MANAGE_ROLES)
    year = params.year or local_today().year
    rows = queries.commendations(actor, year, params.hours)
    return CommendationOut(year=year, threshold=params.hours, rows=[HoursRowOut(**r.__dict__) for r in rows])


@api.endpoint(
    "/reports/volunteering",
    query=YearQuery,
    response=FiguresOut,
    errors=(403, 422),
    summary="Report roles: volunteers registered, active and hours per district, in scope",
)
def get_volunteer_figures(params: YearQuery):
    actor = require_roles(*MANAGE_ROLES)
    rows = queries.figures_by_district(actor.scope_paths(MANAGE_ROLES), params.year)
    return FiguresOut(year=params.year, rows=[DistrictFigure(**r) for r in rows])


# --- the door (registered with checkin by the composition root) ------------------------------------


def door_answer(*, payload, actor, scan_id=None, device_id="", now=None) -> DoorOut:
    """What `POST /checkins` answers for a volunteer's task ticket."""
    signup, direction, created = services.scan_ticket(payload, actor=actor, scan_id=scan_id, now=now)
    by = db.session.get(type(actor), signup.checked_in_by_id) if signup.checked_in_by_id else None
    task = signup.task
    hours = format(signup.hours, "g")
    room = _("%(task)s · %(hours)s hours", task=task.title, hours=hours) if direction == "out" else task.title
    return DoorOut(
        direction=direction,
        signup_id=signup.id,
        task_id=task.id,
        task=task.title,
        holder=mask_name(signup.volunteer.user.name),
        room=room,
        checked_in_at=signup.checked_in_at,
        checked_out_at=signup.checked_out_at,
        checked_in_by=by.name if by else "",
        hours=signup.hours,
        replayed=not created,
    )
