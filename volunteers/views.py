"""Pages of volunteering: a resident's registration, tasks, tickets, record and certificate (证明); staff's
registrations, tasks and rosters, corrections, hours and commendations, and the volunteer door."""

from datetime import date, datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from accounts.auth import require_roles
from accounts.models import CHECKIN_ROLES, MANAGE_ROLES
from activities.models import Activity
from core import nav, tickets
from core.db import utcnow
from core.errors import DomainError, Invalid
from core.extensions import db
from core.i18n import local_datetime, local_today, resolved_labels
from core.transaction import refused
from core.web import date_arg
from venues.models import Venue
from venues.queries import venues_in_scope
from volunteers import queries, services
from volunteers.models import (
    SIGNUP_STATUS_LABELS,
    SKILL_LABELS,
    SLOT_LABELS,
    VOLUNTEER_STATUS_LABELS,
    Volunteer,
    VolunteerSignup,
    VolunteerStatus,
    VolunteerTask,
)

bp = Blueprint("volunteers", __name__)
NAV = [
    nav.NavEntry("account", 60, "volunteers.mine", _l("Volunteering")),
    nav.NavEntry("staff", 95, "volunteers.staff_home", _l("Volunteers"), visible=nav.with_roles(*MANAGE_ROLES)),
]
STATE_LABELS = {
    "upcoming": _l("Not started yet"),
    "on_duty": _l("On duty"),
    "served": _l("Served"),
    "no_show": _l("Did not come"),
    "cancelled": _l("Cancelled"),
}


def labels() -> dict:
    return {
        "skill_labels": resolved_labels(SKILL_LABELS),
        "slot_labels": resolved_labels(SLOT_LABELS),
        "status_labels": resolved_labels(VOLUNTEER_STATUS_LABELS),
        "signup_labels": resolved_labels(SIGNUP_STATUS_LABELS),
        "state_labels": resolved_labels(STATE_LABELS),
    }


def _fail(err: DomainError) -> dict:
    """A refusal on a form page: roll back, and its field messages (the rest flashed)."""
    refused()
    if err.status == 403:
        raise err
    fields = {k: [str(m) for m in v] for k, v in (err.extra.get("fields") or {}).items()}
    if not fields:
        flash(str(err.message), "error")
    return fields


# --- residents -------------------------------------------------------------------------------------


@bp.get("/volunteering")
@login_required
def mine():
    volunteer = services.volunteer_of(current_user)
    now = utcnow()
    signups = queries.my_signups(volunteer) if volunteer else []
    minutes = queries.served_minutes(volunteer) if volunteer else 0
    year = local_today().year
    return render_template(
        "volunteers/mine.html",
        volunteer=volunteer,
        signups=[(s, queries.signup_state(s, now)) for s in signups],
        hours=round(minutes / 60, 1),
        year=year,
        code=lambda s: tickets.format_code(services.ticket_code(s)),
        **labels(),
    )


def _venues():
    return list(db.session.execute(db.select(Venue).where(Venue.is_active.is_(True)).order_by(Venue.path)).scalars())


@bp.route("/volunteering/register", methods=["GET", "POST"])
@login_required
def register():
    volunteer = services.volunteer_of(current_user)
    errors: dict = {}
    form = request.form
    minor = services.is_minor(current_user, utcnow())
    if request.method == "POST":
        venue = db.session.get(Venue, form.get("venue_id", type=int) or 0)
        data = {
            "venue": venue,
            "skills": form.getlist("skills"),
            "availability": form.getlist("availability"),
            "real_name": form.get("real_name", "")[:50],
            "id_number": form.get("id_number", "")[:18],
            "guardian_name": form.get("guardian_name", "")[:50],
            "guardian_phone": form.get("guardian_phone", "")[:20],
            "guardian_consent": form.get("guardian_consent") == "y",
            "note": form.get("note", "")[:300],
        }
        try:
            services.register_volunteer(current_user._get_current_object(), data=data)
        except DomainError as err:
            errors = _fail(err)
        else:
            flash(_("Thank you! Your registration is waiting for the venue's approval."), "success")
            return redirect(url_for("volunteers.mine"))
    status = 422 if errors or request.method == "POST" else 200
    return (
        render_template(
            "volunteers/register.html",
            volunteer=volunteer,
            venues=_venues(),
            errors=errors,
            form=form,
            minor=minor,
            **labels(),
        ),
        status,
    )


@bp.get("/volunteering/tasks")
@login_required
def tasks():
    volunteer = services.volunteer_of(current_user)
    found = queries.open_tasks(volunteer, utcnow())
    mine = {}
    if volunteer is not None:
        mine = {s.task_id: s for s in queries.my_signups(volunteer) if s.is_active}
    return render_template(
        "volunteers/tasks.html",
        volunteer=volunteer,
        tasks=found,
        mine=mine,
        matches=lambda t: queries.matches(t, volunteer),
        **labels(),
    )


@bp.post("/volunteering/tasks/<int:task_id>/signup")
@login_required
def signup(task_id: int):
    task = db.get_or_404(VolunteerTask, task_id)
    try:
        created = services.sign_up(task, user=current_user._get_current_object())
    except DomainError as err:
        _fail(err)
        return redirect(url_for("volunteers.tasks"))
    flash(_("You are signed up. Show this ticket at the door when you arrive and when you leave."), "success")
    return redirect(url_for("volunteers.ticket", signup_id=created.id))


def _own_signup(signup_id: int) -> VolunteerSignup:
    signup = db.session.get(VolunteerSignup, signup_id)
    if signup is None or (
        signup.volunteer.user_id != current_user.id and not services.can_manage_signup(signup, current_user)
    ):
        abort(404)
    return signup


@bp.get("/volunteering/signups/<int:signup_id>")
@login_required
def ticket(signup_id: int):
    signup = _own_signup(signup_id)
    payload = services.ticket_payload(signup)
    return render_template(
        "volunteers/ticket.html",
        signup=signup,
        state=queries.signup_state(signup, utcnow()),
        qr=tickets.qr_data_uri(payload),
        code=tickets.format_code(services.ticket_code(signup)),
        **labels(),
    )


@bp.post("/volunteering/signups/<int:signup_id>/cancel")
@login_required
def cancel(signup_id: int):
    signup = _own_signup(signup_id)
    try:
        services.cancel_signup(signup, actor=current_user._get_current_object())
    except DomainError as err:
        _fail(err)
    else:
        flash(_("Your place has been given back."), "success")
    if services.can_manage_signup(signup, current_user) and signup.volunteer.user_id != current_user.id:
        return redirect(url_for("volunteers.staff_task", task_id=signup.task_id))
    return redirect(url_for("volunteers.mine"))


@bp.get("/volunteering/certificate")
@login_required
def certificate():
    """A printable certificate of service (志愿服务证明) for a period (default: this year)."""
    volunteer = services.volunteer_of(current_user)
    if volunteer is None:
        abort(404)
    today = local_today()
    start = date_arg("from") or date(today.year, 1, 1)
    end = date_arg("to") or today
    if start > end:
        abort(400)
    served = [s for s in queries.my_signups(volunteer, start, end) if s.is_active and (s.minutes or 0) > 0]
    minutes = queries.served_minutes(volunteer, start, end)
    return render_template(
        "volunteers/certificate.html",
        volunteer=volunteer,
        served=sorted(served, key=lambda s: s.task.starts_at),
        hours=round(minutes / 60, 1),
        start=start,
        end=end,
        issued_on=today,
        **labels(),
    )


# --- staff ---------------------------------------------------------------------------------------


@bp.get("/staff/volunteers")
@login_required
def staff_home():
    actor = require_roles(*MANAGE_ROLES)
    now = utcnow()
    year = request.args.get("year", type=int) or local_today().year
    if not 2000 <= year <= 2100:
        abort(400)
    by = request.args.get("by") if request.args.get("by") in ("volunteer", "team", "venue") else "volunteer"
    return render_template(
        "volunteers/staff.html",
        pending=queries.staff_registrations(actor, VolunteerStatus.pending),
        approved=queries.staff_registrations(actor, VolunteerStatus.approved, limit=100),
        tasks=queries.staff_tasks(actor, now),
        hours=queries.hours_by(actor, by, date(year, 1, 1), date(year, 12, 31)),
        by=by,
        year=year,
        commended=queries.commendations(actor, year),
        threshold=queries.COMMENDATION_HOURS,
        no_shows=queries.no_shows(actor, now, date(year, 1, 1), date(year, 12, 31))[:50],
        venues=venues_in_scope(actor),
        now=now,
        **labels(),
    )


@bp.post("/staff/volunteers/<int:volunteer_id>/approve")
@login_required
def approve(volunteer_id: int):
    actor = require_roles(*MANAGE_ROLES)
    volunteer = db.get_or_404(Volunteer, volunteer_id)
    try:
        services.approve_volunteer(volunteer, actor=actor)
    except DomainError as err:
        _fail(err)
    else:
        flash(_("Approved."), "success")
    return redirect(url_for("volunteers.staff_home"))


@bp.post("/staff/volunteers/<int:volunteer_id>/decline")
@login_required
def decline(volunteer_id: int):
    actor = require_roles(*MANAGE_ROLES)
    volunteer = db.get_or_404(Volunteer, volunteer_id)
    try:
        services.decline_volunteer(volunteer, actor=actor, reason=request.form.get("reason", "")[:300])
    except DomainError as err:
        fields = _fail(err)
        for messages in fields.values():
            flash(" ".join(messages), "error")
    else:
        flash(_("Declined; the applicant is told why."), "success")
    return redirect(url_for("volunteers.staff_home"))


def _local(day: str, at: str) -> datetime | None:
    try:
        return local_datetime(date.fromisoformat(day), datetime.strptime(at, "%H:%M").time())
    except ValueError:
        return None


@bp.post("/staff/volunteer-tasks")
@login_required
def create_task():
    actor = require_roles(*MANAGE_ROLES)
    form = request.form
    day = form.get("day", "")
    activity_id = form.get("activity_id", type=int)
    data = {
        "venue": db.session.get(Venue, form.get("venue_id", type=int) or 0),
        "activity": db.session.get(Activity, activity_id) if activity_id else None,
        "title": form.get("title", "")[:100],
        "duties": form.get("duties", "")[:5000],
        "starts_at": _local(day, form.get("starts", "")),
        "ends_at": _local(day, form.get("ends", "")),
        "places": form.get("places", type=int),
        "skills": form.getlist("skills"),
    }
    if activity_id and data["activity"] is None:
        data["activity"] = object()  # refused as not held at the venue
    try:
        task = services.create_task(data=data, actor=actor)
    except DomainError as err:
        fields = _fail(err)
        for messages in fields.values():
            flash(" ".join(messages), "error")
        return redirect(url_for("volunteers.staff_home"))
    flash(_("The task is published."), "success")
    return redirect(url_for("volunteers.staff_task", task_id=task.id))


@bp.get("/staff/volunteer-tasks/<int:task_id>")
@login_required
def staff_task(task_id: int):
    actor = require_roles(*MANAGE_ROLES)
    task = db.get_or_404(VolunteerTask, task_id)
    services.require_manager(task.venue, actor)
    return render_template("volunteers/roster.html", task=task, roster=queries.roster(task, utcnow()), **labels())


@bp.post("/staff/volunteer-tasks/<int:task_id>/cancel")
@login_required
def cancel_task(task_id: int):
    actor = require_roles(*MANAGE_ROLES)
    task = db.get_or_404(VolunteerTask, task_id)
    try:
        services.cancel_task(task, actor=actor)
    except DomainError as err:
        _fail(err)
    else:
        flash(_("The task is cancelled; its volunteers are told."), "success")
    return redirect(url_for("volunteers.staff_task", task_id=task.id))


@bp.post("/staff/volunteer-signups/<int:signup_id>/correct")
@login_required
def correct(signup_id: int):
    actor = require_roles(*MANAGE_ROLES)
    signup = db.get_or_404(VolunteerSignup, signup_id)
    if not services.can_manage_signup(signup, actor):
        abort(403)
    hours = request.form.get("hours", type=float)
    try:
        if hours is None:
            raise Invalid(fields={"minutes": [_("Give the hours served.")]})
        services.correct_service(signup, minutes=round(hours * 60), note=request.form.get("note", ""), actor=actor)
    except DomainError as err:
        fields = _fail(err)
        for messages in fields.values():
            flash(" ".join(messages), "error")
    else:
        flash(_("The hours are corrected."), "success")
    return redirect(url_for("volunteers.staff_task", task_id=signup.task_id))


@bp.get("/staff/volunteers/door")
@login_required
def door():
    """The volunteer mode of the door: scan a task ticket to check in, again to check out."""
    require_roles(*CHECKIN_ROLES)
    response = current_app.make_response(
        render_template(
            "volunteers/door.html",
            checkin_url=url_for("checkin_api.create_checkin"),
            messages={
                "in": _("Checked in"),
                "out": _("Checked out"),
                "hours": _("%(h)s hours served"),
                "checking": _("Checking…"),
                "invalid": _("Not a valid ticket"),
                "offline": _("Offline: volunteer tickets can only be checked with a network connection."),
                "camera_on": _("Camera on: hold the ticket steady"),
                "camera_unavailable": _("The camera is not available: allow it in the browser."),
            },
        )
    )
    from checkin.views import SCAN_CSP  # the same camera and worker rules as the seat scanner

    response.headers["Content-Security-Policy"] = SCAN_CSP
    response.headers["Cache-Control"] = "no-store"
    return response
