"""Pages of feedback: the resident's rating form on an attended booking, the prompt on "My bookings", and the
managers' satisfaction page (lowest venues and activities, the comments behind them, the survey export)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from accounts.auth import require_roles
from accounts.models import REPORT_ROLES
from core import nav
from core.db import utcnow
from core.errors import DomainError
from core.extensions import db
from core.i18n import resolved_labels
from core.transaction import refused
from core.web import date_arg
from feedback import api as feedback_api
from feedback import queries, services
from feedback.models import TAG_LABELS
from venues.models import Venue
from venues.queries import venues_in_scope

bp = Blueprint("feedback", __name__)
NAV = [nav.NavEntry("staff", 96, "feedback.satisfaction", _l("Satisfaction"), visible=nav.with_roles(*REPORT_ROLES))]


def register_template_helpers(app) -> None:
    """`feedback_prompt(booking)`: None, or 'ask' / 'given' for a booking's line on "My bookings"."""

    def feedback_prompt(booking):
        if booking is None or not services.can_answer(booking):
            return None
        return "given" if services.feedback_of(booking) is not None else "ask"

    app.jinja_env.globals["feedback_prompt"] = feedback_prompt


@bp.route("/bookings/<int:booking_id>/feedback", methods=["GET", "POST"])
@login_required
def give(booking_id: int):
    user = current_user._get_current_object()
    try:
        booking = services.own_booking(booking_id, user)
    except DomainError:
        abort(404)
    existing = services.feedback_of(booking)
    errors: dict = {}
    status = 200
    if request.method == "POST":
        data = {
            "rating": request.form.get("rating", type=int),
            "tags": request.form.getlist("tags"),
            "comment": request.form.get("comment", "")[:600],
        }
        try:
            if existing is None:
                services.give_feedback(booking, data=data, user=user)
            else:
                services.edit_feedback(booking, data=data, user=user)
        except DomainError as err:
            refused()
            errors = {k: [str(m) for m in v] for k, v in (err.extra.get("fields") or {}).items()}
            if not errors:
                flash(str(err.message), "error")
            status = err.status if err.status != 403 else 404
        else:
            flash(_("Thank you for telling us."), "success")
            return redirect(url_for("bookings.mine"))
    editable = existing is None or utcnow() - existing.created_at <= services.EDITABLE_FOR
    return (
        render_template(
            "feedback/form.html",
            booking=booking,
            existing=existing,
            attended=services.can_answer(booking),
            editable=editable,
            errors=errors,
            form=request.form,
            tag_labels=resolved_labels(TAG_LABELS),
        ),
        status,
    )


@bp.get("/reports/satisfaction")
@login_required
def satisfaction():
    actor = require_roles(*REPORT_ROLES)
    venue_id = request.args.get("venue", type=int)
    paths = actor.scope_paths(REPORT_ROLES)
    if venue_id:
        venue = db.session.get(Venue, venue_id)
        if venue is None:
            abort(404)
        if not actor.reaches(venue, REPORT_ROLES):
            abort(403)
        paths = [venue.path]
    start, end = date_arg("from"), date_arg("to")
    if start and end and start > end:
        abort(400)
    group = request.args.get("group") if request.args.get("group") in queries.GROUPS else "district"
    found = queries.answers(paths, start, end)
    return render_template(
        "feedback/satisfaction.html",
        summary=queries.summarise(found, group),
        group=group,
        lowest_venues=queries.lowest(found, "venue"),
        lowest_activities=queries.lowest(found, "activity"),
        comments=queries.comments(found, limit=50),
        venues=venues_in_scope(actor, REPORT_ROLES),
        venue_id=venue_id,
        start=start,
        end=end,
        export_args={k: v.isoformat() for k, v in (("from", start), ("to", end)) if v},
        tag_labels=resolved_labels(TAG_LABELS),
    )


@bp.get("/reports/satisfaction/survey.<any(csv, xlsx):fmt>")
@login_required
def survey(fmt: str):
    require_roles(*REPORT_ROLES)
    params = feedback_api.ExportQuery.model_validate(
        {
            "venue": request.args.get("venue", type=int),
            "from": date_arg("from"),
            "to": date_arg("to"),
            "format": fmt,
        }
    )
    try:
        return feedback_api.survey_file(params)
    except DomainError as err:
        abort(err.status)
