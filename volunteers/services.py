"""The writes of volunteering: register, decide, publish tasks, sign up and cancel, the door, corrections.

Rules (docs/volunteers.md):
- A resident registers once, with the team of a venue; a minor (under 18 this year) needs a guardian's name,
  phone and recorded consent. Staff who manage the venue approve, or decline with a reason.
- Staff publish tasks at venues they manage, alone or for an activity at that venue.
- Only an approved volunteer signs up; never more volunteers than places (a conditional UPDATE backed by a
  CHECK), one sign-up per person per task (UNIQUE); a volunteer may cancel until CANCEL_BEFORE the start,
  staff until the end. A reminder goes through the outbox 24 hours before.
- The task ticket (kind 'V') is scanned at the door twice: in (from an hour before the start to the end),
  then out (from MIN_SERVICE after the check-in until 12 hours after the end). The minutes between are
  credited, at most the task's length plus an hour. Staff may correct the credit with a note (audited).
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

import notify
from accounts.fields import validate_phone
from accounts.models import CHECKIN_ROLES, MANAGE_ROLES, User, mask_name
from activities.models import Activity
from core import audit, tickets
from core.db import utcnow
from core.errors import DomainError, Forbidden, Invalid, InvalidTransition
from core.extensions import db
from core.i18n import to_local
from core.tickets import AlreadyCheckedIn, Cancelled, TooEarly, TooLate
from venues.models import Venue
from volunteers.models import (
    MINOR_AGE,
    SignupStatus,
    Skill,
    Slot,
    TaskStatus,
    Volunteer,
    VolunteerSignup,
    VolunteerStatus,
    VolunteerTask,
)

TICKET_KIND = "V"
CANCEL_BEFORE = timedelta(hours=2)
OPENS_BEFORE = timedelta(minutes=60)
CHECKOUT_UNTIL_AFTER_END = timedelta(hours=12)
MIN_SERVICE = timedelta(minutes=5)  # a second scan sooner than this is a double scan, not a check-out
CREDIT_SLACK = timedelta(hours=1)
MAX_PLACES = 500


class Duplicate(DomainError):
    code = "duplicate"
    message = _l("You have already done this.")


class NotApproved(DomainError):
    code = "not_approved"
    message = _l("Only approved volunteers can sign up for tasks.")


class Full(DomainError):
    code = "full"
    message = _l("All places for this task are taken.")


class TaskClosed(DomainError):
    code = "task_closed"
    message = _l("This task has started, ended or been cancelled.")


def _insert():
    return postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert


# --- registration ----------------------------------------------------------------------------------


def _choices(values, allowed, field: str, required: bool) -> list[str]:
    values = list(dict.fromkeys(str(v) for v in (values or [])))
    wrong = [v for v in values if v not in allowed.__members__]
    if wrong:
        raise Invalid(fields={field: [_l("Choose from the list.")]})
    if required and not values:
        raise Invalid(fields={field: [_l("Choose at least one.")]})
    return values


def _valid_id_number(value: str) -> bool:
    """An 18-character resident ID number (GB 11643) with a correct check character."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(value[:17], weights, strict=True))
    return "10X98765432"[total % 11] == value[17]


def is_minor(user: User, now: datetime) -> bool:
    return user.birth_year is not None and to_local(now).year - user.birth_year < MINOR_AGE


def register_volunteer(user: User, *, data: dict, now: datetime | None = None) -> Volunteer:
    """Register `user` with the volunteer team of `data['venue']`; returns the pending registration.

    data: venue (Venue), skills [Skill], availability [Slot], optional real_name, id_number, note; for a minor
    guardian_name, guardian_phone and guardian_consent (True). A declined person may apply again.
    Raises Duplicate when a pending or approved registration exists, Invalid for bad fields.
    """
    now = now or utcnow()
    venue = data.get("venue")
    if not isinstance(venue, Venue) or not venue.is_active:
        raise Invalid(fields={"venue_id": [_l("Choose a venue.")]})
    skills = _choices(data.get("skills"), Skill, "skills", required=True)
    availability = _choices(data.get("availability"), Slot, "availability", required=True)
    id_number = (data.get("id_number") or "").strip().upper() or None
    real_name = (data.get("real_name") or "").strip()
    if id_number and not _valid_id_number(id_number):
        raise Invalid(fields={"id_number": [_l("This is not a valid resident ID number.")]})
    if id_number and not real_name:
        raise Invalid(fields={"real_name": [_l("Give the name on the ID card.")]})
    minor = is_minor(user, now)
    guardian = {"guardian_name": "", "guardian_phone": "", "guardian_consent_at": None}
    if minor:
        errors = {}
        name = (data.get("guardian_name") or "").strip()
        phone = (data.get("guardian_phone") or "").strip()
        if not name:
            errors["guardian_name"] = [_l("A volunteer under 18 needs a guardian's name.")]
        try:
            phone = validate_phone(phone)
        except DomainError:
            errors["guardian_phone"] = [_l("Give the guardian's mobile number.")]
        if data.get("guardian_consent") is not True:
            errors["guardian_consent"] = [_l("A volunteer under 18 needs the guardian's consent.")]
        if errors:
            raise Invalid(fields=errors)
        guardian = {"guardian_name": name[:50], "guardian_phone": phone, "guardian_consent_at": now}
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    existing = db.session.execute(select(Volunteer).where(Volunteer.user_id == user.id)).scalar_one_or_none()
    if existing is not None and existing.status != VolunteerStatus.declined:
        raise Duplicate(_l("You are already registered as a volunteer."))
    volunteer = existing or Volunteer(user_id=user.id)
    volunteer.venue_id = venue.id
    volunteer.venue = venue
    volunteer.status = VolunteerStatus.pending
    volunteer.skills = skills
    volunteer.availability = availability
    volunteer.real_name = real_name[:50]
    volunteer.id_number = id_number
    volunteer.is_minor = minor
    volunteer.note = (data.get("note") or "").strip()[:300]
    volunteer.decline_reason = ""
    volunteer.decided_at = None
    volunteer.decided_by_id = None
    volunteer.created_at = now
    for key, value in guardian.items():
        setattr(volunteer, key, value)
    db.session.add(volunteer)
    db.session.flush()
    return volunteer


def require_manager(venue: Venue, actor: User) -> None:
    if not actor.reaches(venue, MANAGE_ROLES):
        raise Forbidden()


def approve_volunteer(volunteer: Volunteer, *, actor: User, now: datetime | None = None) -> Volunteer:
    return _decide(volunteer, VolunteerStatus.approved, actor=actor, reason="", now=now)


def decline_volunteer(volunteer: Volunteer, *, actor: User, reason: str, now: datetime | None = None) -> Volunteer:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(fields={"reason": [_l("Say why, so the applicant knows.")]})
    return _decide(volunteer, VolunteerStatus.declined, actor=actor, reason=reason[:300], now=now)


def _decide(volunteer: Volunteer, status: VolunteerStatus, *, actor: User, reason: str, now) -> Volunteer:
    now = now or utcnow()
    require_manager(volunteer.venue, actor)
    if volunteer.status != VolunteerStatus.pending:
        raise InvalidTransition(_l("This registration has already been decided."))
    result = db.session.execute(
        sa.update(Volunteer)
        .where(Volunteer.id == volunteer.id, Volunteer.status == VolunteerStatus.pending)
        .values(status=status, decline_reason=reason, decided_at=now, decided_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise InvalidTransition(_l("This registration has already been decided."))
    db.session.expire(volunteer)
    audit.record(actor, f"volunteer.{status.value}", volunteer, {"reason": reason}, now=now)
    notify.enqueue(
        volunteer.user,
        "volunteer_decided",
        {"venue_name": volunteer.venue.name, "approved": status == VolunteerStatus.approved, "reason": reason},
        dedupe_key=f"volunteer:{volunteer.id}:decided:{int(now.timestamp())}",
        channels=["inbox"],
        now=now,
    )
    return volunteer


def volunteer_of(user: User) -> Volunteer | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.execute(select(Volunteer).where(Volunteer.user_id == user.id)).scalar_one_or_none()


# --- tasks -----------------------------------------------------------------------------------------


def create_task(*, data: dict, actor: User, now: datetime | None = None) -> VolunteerTask:
    """Publish a task at `data['venue']` (managed by the actor), optionally for an activity held there.

    data: venue, activity (optional), title, duties, starts_at, ends_at (aware), places (1..500), skills.
    """
    now = now or utcnow()
    venue = data.get("venue")
    if not isinstance(venue, Venue):
        raise Invalid(fields={"venue_id": [_l("Choose a venue.")]})
    require_manager(venue, actor)
    activity = data.get("activity")
    if activity is not None and (not isinstance(activity, Activity) or activity.venue_id != venue.id):
        raise Invalid(fields={"activity_id": [_l("Choose an activity held at this venue.")]})
    title = (data.get("title") or "").strip()
    errors = {}
    if not title:
        errors["title"] = [_l("This field is required.")]
    starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
    if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
        errors["starts_at"] = [_l("Give a start time.")]
    elif starts_at <= now:
        errors["starts_at"] = [_l("The task must start in the future.")]
    if not isinstance(ends_at, datetime) or ends_at.tzinfo is None:
        errors["ends_at"] = [_l("Give an end time.")]
    elif isinstance(starts_at, datetime) and starts_at.tzinfo and ends_at <= starts_at:
        errors["ends_at"] = [_l("The end must be after the start.")]
    elif isinstance(starts_at, datetime) and starts_at.tzinfo and ends_at - starts_at > timedelta(hours=24):
        errors["ends_at"] = [_l("A task lasts at most 24 hours; publish one per day.")]
    places = data.get("places")
    if not isinstance(places, int) or not 1 <= places <= MAX_PLACES:
        errors["places"] = [_l("Between 1 and 500.")]
    try:
        skills = _choices(data.get("skills"), Skill, "skills", required=False)
    except Invalid as err:
        errors.update(err.extra["fields"])
        skills = []
    if errors:
        raise Invalid(fields=errors)
    task = VolunteerTask(
        venue_id=venue.id,
        venue=venue,
        activity_id=activity.id if activity else None,
        title=title[:100],
        duties=(data.get("duties") or "").strip()[:5000],
        starts_at=starts_at,
        ends_at=ends_at,
        places=places,
        places_taken=0,
        skills=skills,
        created_by_id=actor.id,
        created_at=now,
    )
    db.session.add(task)
    db.session.flush()
    audit.record(actor, "volunteer_task.create", task, {"venue_id": venue.id, "places": places}, now=now)
    return task


def cancel_task(task: VolunteerTask, *, actor: User, now: datetime | None = None) -> VolunteerTask:
    """Cancel a task that has not ended; its volunteers are told and their reminders cancelled."""
    now = now or utcnow()
    require_manager(task.venue, actor)
    if task.status == TaskStatus.cancelled or task.ends_at <= now:
        raise TaskClosed()
    task.status = TaskStatus.cancelled
    signups = db.session.execute(
        select(VolunteerSignup).where(
            VolunteerSignup.task_id == task.id, VolunteerSignup.status == SignupStatus.confirmed
        )
    ).scalars()
    for signup in signups:
        notify.cancel(f"volunteer_signup:{signup.id}", now=now)
        notify.enqueue(
            signup.volunteer.user,
            "volunteer_task_cancelled",
            {"task_title": task.title, "venue_name": task.venue.name, "starts_at": task.starts_at},
            dedupe_key=f"volunteer_task:{task.id}:cancelled:{signup.id}",
            urgent=to_local(task.starts_at).date() == to_local(now).date(),
            now=now,
        )
    db.session.flush()
    audit.record(actor, "volunteer_task.cancel", task, {}, now=now)
    return task


# --- sign-ups --------------------------------------------------------------------------------------


def sign_up(task: VolunteerTask, *, user: User, now: datetime | None = None) -> VolunteerSignup:
    """Take a place on `task` for the approved volunteer `user`.

    Raises NotApproved, TaskClosed (cancelled or started), Duplicate (already signed up), Full. One statement
    takes the place (`places_taken + 1 <= places`), so the last place goes to exactly one person.
    """
    now = now or utcnow()
    volunteer = volunteer_of(user)
    if volunteer is None or not volunteer.is_approved:
        raise NotApproved()
    if task.status != TaskStatus.open or task.starts_at <= now:
        raise TaskClosed()
    signup_id = db.session.execute(
        _insert()(VolunteerSignup)
        .values(task_id=task.id, volunteer_id=volunteer.id, status=SignupStatus.confirmed.name, created_at=now)
        .on_conflict_do_nothing()
        .returning(VolunteerSignup.id)
    ).scalar_one_or_none()
    if signup_id is None:  # a row exists: taken up again only if it was cancelled
        revived = db.session.execute(
            sa.update(VolunteerSignup)
            .where(
                VolunteerSignup.task_id == task.id,
                VolunteerSignup.volunteer_id == volunteer.id,
                VolunteerSignup.status == SignupStatus.cancelled,
            )
            .values(status=SignupStatus.confirmed, created_at=now, cancelled_at=None)
            .returning(VolunteerSignup.id)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if revived is None:
            raise Duplicate(_l("You have already signed up for this task."))
        signup_id = revived
    taken = db.session.execute(
        sa.update(VolunteerTask)
        .where(VolunteerTask.id == task.id, VolunteerTask.places_taken + 1 <= VolunteerTask.places)
        .values(places_taken=VolunteerTask.places_taken + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        raise Full()  # the caller's rollback removes the row inserted above
    db.session.expire(task, ["places_taken"])
    signup = db.session.get(VolunteerSignup, signup_id, populate_existing=True)
    _remind(signup, now)
    return signup


def _remind(signup: VolunteerSignup, now: datetime) -> None:
    task = signup.task
    notify.enqueue(
        signup.volunteer.user,
        "volunteer_reminder",
        {
            "task_title": task.title,
            "venue_name": task.venue.name,
            "starts_at": task.starts_at,
            "code": tickets.format_code(tickets.code_for(signup.id, TICKET_KIND)),
        },
        dedupe_key=f"volunteer_signup:{signup.id}:reminder-24h:{int(signup.created_at.timestamp())}",
        due_at=task.starts_at - timedelta(hours=24),
        expires_at=task.starts_at,
        skip_if_late=True,
        now=now,
    )


def can_manage_signup(signup: VolunteerSignup, actor: User) -> bool:
    return actor.reaches(signup.task.venue, MANAGE_ROLES)


def cancel_signup(signup: VolunteerSignup, *, actor: User, now: datetime | None = None) -> VolunteerSignup:
    """Give the place back. The volunteer may until 2 hours before the start; staff of the venue until the end."""
    now = now or utcnow()
    task = signup.task
    is_owner = signup.volunteer.user_id == actor.id
    if not is_owner and not can_manage_signup(signup, actor):
        raise Forbidden()
    if signup.status != SignupStatus.confirmed:
        raise InvalidTransition(_l("This sign-up is already cancelled."))
    if signup.checked_in_at is not None:
        raise InvalidTransition(_l("This volunteer has already checked in."))
    limit = task.ends_at if not is_owner or can_manage_signup(signup, actor) else task.starts_at - CANCEL_BEFORE
    if now >= limit:
        raise TooLate(_l("It is too late to cancel; please tell the venue."))
    result = db.session.execute(
        sa.update(VolunteerSignup)
        .where(VolunteerSignup.id == signup.id, VolunteerSignup.status == SignupStatus.confirmed)
        .values(status=SignupStatus.cancelled, cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise InvalidTransition(_l("This sign-up is already cancelled."))
    db.session.execute(
        sa.update(VolunteerTask)
        .where(VolunteerTask.id == task.id, VolunteerTask.places_taken >= 1)
        .values(places_taken=VolunteerTask.places_taken - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(task, ["places_taken"])
    db.session.expire(signup)
    notify.cancel(f"volunteer_signup:{signup.id}", now=now)
    if not is_owner:
        audit.record(actor, "volunteer_signup.cancel", signup, {"task_id": task.id}, now=now)
    return signup


# --- the door --------------------------------------------------------------------------------------


def ticket_payload(signup: VolunteerSignup) -> str:
    return tickets.payload_for(signup.id, TICKET_KIND)


def ticket_code(signup: VolunteerSignup) -> str:
    return tickets.code_for(signup.id, TICKET_KIND)


def credited_minutes(task: VolunteerTask, checked_in_at: datetime, checked_out_at: datetime) -> int:
    """Minutes between the two scans, at most the task's length plus an hour."""
    served = checked_out_at - checked_in_at
    cap = task.ends_at - task.starts_at + CREDIT_SLACK
    return max(0, int(min(served, cap).total_seconds() // 60))


def scan_ticket(
    payload: object, *, actor: User, scan_id: str | None = None, now: datetime | None = None
) -> tuple[VolunteerSignup, str, bool]:
    """Check a volunteer in, or (on the second scan) out; returns (signup, 'in' or 'out', created).

    Raises InvalidTicket, Forbidden (venue out of the actor's check-in scope), Cancelled, TooEarly, TooLate,
    AlreadyCheckedIn (a second scan within MIN_SERVICE, or a ticket already checked out). A retry with the
    same scan id is answered as before.
    """
    now = now or utcnow()
    signup_id = tickets.verify_payload(payload, kind=TICKET_KIND)
    signup = db.session.get(VolunteerSignup, signup_id)
    if signup is None:
        raise tickets.InvalidTicket()
    task = signup.task
    if not actor.reaches(task.venue, CHECKIN_ROLES):
        raise Forbidden()
    if scan_id and scan_id in (signup.checkin_scan_id, signup.checkout_scan_id):
        return signup, ("in" if scan_id == signup.checkin_scan_id else "out"), False
    if signup.status != SignupStatus.confirmed:
        raise Cancelled(_l("This volunteer sign-up has been cancelled."))
    if task.status == TaskStatus.cancelled:
        raise Cancelled(_l("This volunteer task has been cancelled."))
    if signup.checked_in_at is None:
        if now < task.starts_at - OPENS_BEFORE:
            raise TooEarly(opens_at=task.starts_at - OPENS_BEFORE)
        if now > task.ends_at:
            raise TooLate(_l("This volunteer task has ended."), ended_at=task.ends_at)
        done = db.session.execute(
            sa.update(VolunteerSignup)
            .where(VolunteerSignup.id == signup.id, VolunteerSignup.checked_in_at.is_(None))
            .values(checked_in_at=now, checked_in_by_id=actor.id, checkin_scan_id=scan_id or None)
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(signup)
        if done.rowcount == 1:
            audit.record(actor, "volunteer_signup.check_in", signup, {"task_id": task.id}, now=now)
            return signup, "in", True
    return _check_out(signup, actor=actor, scan_id=scan_id, now=now)


def _already(signup: VolunteerSignup, message=None) -> AlreadyCheckedIn:
    by = db.session.get(User, signup.checked_in_by_id) if signup.checked_in_by_id else None
    return AlreadyCheckedIn(
        message or _l("This volunteer has just checked in; scan again when they leave."),
        holder=mask_name(signup.volunteer.user.name),
        first_checked_in_at=signup.checked_in_at,
        checked_in_by=by.name if by else "",
    )


def _check_out(signup: VolunteerSignup, *, actor: User, scan_id: str | None, now: datetime):
    task = signup.task
    if signup.checked_out_at is not None:
        raise _already(signup, _l("This volunteer has already checked out."))
    if now - signup.checked_in_at < MIN_SERVICE:
        raise _already(signup)
    if now > task.ends_at + CHECKOUT_UNTIL_AFTER_END:
        raise TooLate(_l("Check-out has closed; ask staff to correct the hours."), ended_at=task.ends_at)
    minutes = credited_minutes(task, signup.checked_in_at, now)
    done = db.session.execute(
        sa.update(VolunteerSignup)
        .where(VolunteerSignup.id == signup.id, VolunteerSignup.checked_out_at.is_(None))
        .values(checked_out_at=now, checked_out_by_id=actor.id, checkout_scan_id=scan_id or None, minutes=minutes)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(signup)
    if done.rowcount != 1:
        raise _already(signup, _l("This volunteer has already checked out."))
    audit.record(actor, "volunteer_signup.check_out", signup, {"task_id": task.id, "minutes": minutes}, now=now)
    return signup, "out", True


def correct_service(
    signup: VolunteerSignup, *, minutes: int, note: str, actor: User, now: datetime | None = None
) -> VolunteerSignup:
    """Set the credited minutes of a sign-up (a forgotten check-out, a mistaken scan); the note is required and
    the change is audited with the value before."""
    now = now or utcnow()
    require_manager(signup.task.venue, actor)
    note = (note or "").strip()
    errors = {}
    if not note:
        errors["note"] = [_l("Say why the hours are corrected.")]
    if not isinstance(minutes, int) or not 0 <= minutes <= 24 * 60:
        errors["minutes"] = [_l("Between 0 and 1440 minutes.")]
    if errors:
        raise Invalid(fields=errors)
    if signup.status != SignupStatus.confirmed:
        raise InvalidTransition(_l("This sign-up is cancelled."))
    if signup.task.starts_at > now:
        raise TooEarly(_l("The task has not started yet."))
    before = signup.minutes
    signup.minutes = minutes
    signup.correction_note = note[:300]
    signup.corrected_at = now
    signup.corrected_by_id = actor.id
    db.session.flush()
    audit.record(
        actor, "volunteer_signup.correct", signup, {"before": before, "after": minutes, "note": note[:300]}, now=now
    )
    return signup
