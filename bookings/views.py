"""Resident pages (the activity page with its booking form, my bookings, cancel, accept) and staff pages
(roster with CSV, sign-up decisions in bulk, booking for a caller, lifting a suspension)."""

import csv
import io
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from accounts.auth import require_roles, require_venue_scope
from accounts.models import MANAGE_ROLES, mask_name, mask_phone
from accounts.services import look_up_resident
from activities.loaders import visible_activity
from activities.models import CATEGORY_LABELS, KIND_LABELS, POLICY_LABELS, QUOTA_LABELS, Session
from activities.queries import activity_page, render_description
from bookings import services
from bookings.lottery import entry_counts, public_unit
from bookings.models import STATUS_LABELS, Booking, BookingStatus, LotteryDraw, unit_keys
from bookings.queries import booking_code, my_bookings, roster, session_bookings
from core import nav
from core.errors import DomainError
from core.extensions import db
from core.forms import show_domain_error
from core.spreadsheets import csv_row

bp = Blueprint("bookings", __name__)
NAV = [  # this package's links in the menus (see core.nav)
    nav.NavEntry("main", 80, "bookings.mine", _l("My bookings"), visible=nav.resident),
    nav.NavEntry("staff", 30, "bookings.on_behalf", _l("Book for a caller"), visible=nav.with_roles(*MANAGE_ROLES)),
    nav.NavEntry("staff", 40, "bookings.credit", _l("No-shows and suspensions"), visible=nav.with_roles(*MANAGE_ROLES)),
    nav.NavEntry("account", 10, "bookings.mine", _l("My bookings")),
]


def _now() -> datetime:
    return datetime.now(UTC)


def _form_ints(name: str) -> list[int]:
    return [int(v) for v in request.form.getlist(name) if v.isdigit()][:500]


@bp.get("/activities/<int:activity_id>")
def activity(activity_id: int):
    """The activity page: sessions with seats left, the booking form, the lottery result."""
    act = visible_activity(activity_id, current_user)
    return render_template("bookings/activity.html", **_activity_context(act))


@bp.get("/activities/<int:activity_id>/entries/<unit>")
def lottery_entries(activity_id: int, unit: str):
    """The public entry list of one lottery unit (names masked), in entry order with each draw rank: with
    the published seed, anyone can re-run the draw (see /lottery/how-to-verify)."""
    found = public_unit(activity_id, unit)
    return render_template(
        "bookings/lottery_entries.html",
        activity=found.activity,
        session=found.session,
        draw=found.draw,
        rows=found.rows,
        mask_name=mask_name,
    )


def _activity_context(act) -> dict:
    now = _now()
    mine, credit = {}, None
    if current_user.is_authenticated:
        rows = db.session.execute(
            select(Booking).where(
                Booking.user_id == current_user.id, Booking.activity_id == act.id, Booking.is_active.is_(True)
            )
        ).scalars()
        mine = {b.unit_key: b for b in rows}
        credit = services.credit_of(current_user, now)
    draws, entries = {}, {}
    if act.policy.value == "lottery":  # draws and entries exist for lottery activities only
        draws = {
            d.unit_key: d
            for d in db.session.execute(select(LotteryDraw).where(LotteryDraw.activity_id == act.id)).scalars()
        }
        entries = entry_counts(unit_keys(act))
    return {
        "activity": act,
        "now": now,
        "mine": mine,
        "credit": credit,
        "draws": draws,
        "entries": entries,
        "description": render_description(act.description),
        "kind_labels": KIND_LABELS,
        "category_labels": CATEGORY_LABELS,
        "policy_labels": POLICY_LABELS,
        "quota_labels": QUOTA_LABELS,
        "status_labels": STATUS_LABELS,
        "window": act.window_for,
        "can_manage": act.can_manage(current_user),
    }


@bp.post("/activities/<int:activity_id>/book")
@login_required
def book(activity_id: int):
    act = activity_page(activity_id)
    if act is None:
        abort(404)
    session = None
    if not act.is_course:
        session = db.session.get(Session, request.form.get("session_id", type=int) or 0)
        if session is None or session.activity_id != act.id:
            flash(_("Choose a session."), "error")
            return render_template("bookings/activity.html", **_activity_context(act)), 422
    party = request.form.get("party_size", type=int)
    data = services.BookingRequest(
        activity=act, session=session, party_size=party, participant_ids=_form_ints("participant_ids") or None
    )
    user = current_user._get_current_object()
    try:
        booking = services.book(user, data=data, actor=user)
    except DomainError as err:
        status = show_domain_error(None, err)
        return render_template("bookings/activity.html", **_activity_context(act)), status
    flash(_outcome_message(booking), "success")
    return redirect(url_for("bookings.mine"))


def _outcome_message(booking: Booking) -> str:
    messages = {
        BookingStatus.confirmed: _("Booked. Your seat is confirmed."),
        BookingStatus.waitlisted: _("It is full: you are on the waiting list. We will offer you a seat if one frees."),
        BookingStatus.entered: _("You are entered in the lottery. The draw takes place when sign-ups close."),
        BookingStatus.pending: _("Signed up. Staff will confirm or decline, and you will be told."),
    }
    return messages.get(booking.status, str(STATUS_LABELS[booking.status]))


@bp.get("/my/bookings")
@login_required
def mine():
    now = _now()
    return render_template(
        "bookings/mine.html",
        groups=my_bookings(current_user, now),
        credit=services.credit_of(current_user, now),
        now=now,
        status_labels=STATUS_LABELS,
        code=booking_code,
        position=services.waitlist_position,
    )


def _own(booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None or not booking.is_owned_by(current_user):
        abort(404)
    return booking


@bp.post("/bookings/<int:booking_id>/cancel")
@login_required
def cancel(booking_id: int):
    booking = _own(booking_id)
    try:
        services.cancel_booking(booking, actor=current_user._get_current_object())
    except DomainError as err:
        show_domain_error(None, err)
        return redirect(url_for("bookings.mine"))
    if booking.counted_as_no_show:
        flash(_("Cancelled. This was after the free cancellation time, so it counts as a no-show."), "warning")
    else:
        flash(_("Cancelled."), "success")
    return redirect(url_for("bookings.mine"))


@bp.post("/bookings/<int:booking_id>/accept")
@login_required
def accept(booking_id: int):
    booking = _own(booking_id)
    try:
        services.accept_offer(booking, actor=current_user._get_current_object())
    except DomainError as err:
        show_domain_error(None, err)
        return redirect(url_for("bookings.mine"))
    flash(_("Confirmed. The seat is yours."), "success")
    return redirect(url_for("bookings.mine"))


# --- staff ------------------------------------------------------------------------------------


def _staff_session(session_id: int) -> Session:
    session = db.session.get(Session, session_id)
    if session is None:
        abort(404)
    require_venue_scope(session.activity.venue)
    return session


@bp.get("/staff/sessions/<int:session_id>/roster")
@login_required
def session_roster(session_id: int):
    session = _staff_session(session_id)
    everyone = list(db.session.execute(session_bookings(session)).scalars())
    return render_template(
        "bookings/roster.html",
        session=session,
        seated=roster(session),
        everyone=everyone,
        mask_phone=mask_phone,
        status_labels=STATUS_LABELS,
        code=booking_code,
    )


@bp.get("/staff/sessions/<int:session_id>/roster.csv")
@login_required
def session_roster_csv(session_id: int):
    session = _staff_session(session_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Booking"), _("Code"), _("Name"), _("Phone"), _("Participants"), _("Seats"), _("Status")])
    for b in roster(session):
        writer.writerow(
            csv_row(
                [
                    b.id,
                    booking_code(b),
                    b.user.name,
                    mask_phone(b.user.phone),
                    "、".join(p.name for p in b.participants),
                    b.party_size,
                    str(STATUS_LABELS[b.status]),
                ]
            )
        )
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=roster-{session.id}.csv"
    return response


@bp.route("/staff/activities/<int:activity_id>/signups", methods=["GET", "POST"])
@login_required
def signups(activity_id: int):
    """Pending sign-ups of an approval activity, approved or rejected in bulk with a reason."""
    act = activity_page(activity_id)
    if act is None:
        abort(404)
    actor = require_venue_scope(act.venue)
    status = 200
    if request.method == "POST":
        ids = _form_ints("booking_ids")
        chosen = [
            b
            for b in db.session.execute(
                select(Booking).where(Booking.id.in_(ids), Booking.activity_id == act.id)
            ).scalars()
        ]
        try:
            results = services.decide_bookings(
                chosen,
                approve=request.form.get("decision") == "approve",
                reason=request.form.get("reason", ""),
                actor=actor,
            )
        except DomainError as err:
            status = show_domain_error(None, err)
        else:
            counts = {k: list(results.values()).count(k) for k in ("confirmed", "rejected", "full", "skipped")}
            flash(_("Confirmed %(confirmed)s, rejected %(rejected)s, no seat left for %(full)s.", **counts), "success")
            return redirect(url_for("bookings.signups", activity_id=act.id))
    pending = list(
        db.session.execute(
            select(Booking)
            .where(Booking.activity_id == act.id, Booking.status == BookingStatus.pending)
            .order_by(Booking.id)
        ).scalars()
    )
    return render_template("bookings/signups.html", activity=act, pending=pending, mask_phone=mask_phone), status


@bp.route("/staff/book", methods=["GET", "POST"])
@login_required
def on_behalf():
    """Book for a caller (phone or card number) on a session in scope."""
    actor = require_roles(*MANAGE_ROLES)
    login = (request.values.get("caller") or "").strip()[:30]
    caller = look_up_resident(login, actor=actor, purpose="book_on_behalf") if login else None
    status = 200
    if request.method == "POST":
        session = db.session.get(Session, request.form.get("session_id", type=int) or 0)
        if caller is None or session is None:
            flash(_("Find the caller and give a session number."), "error")
            status = 422
        else:
            require_venue_scope(session.activity.venue)
            data = services.BookingRequest(
                activity=session.activity,
                session=None if session.activity.is_course else session,
                party_size=request.form.get("party_size", type=int),
                participant_ids=_form_ints("participant_ids") or None,
            )
            try:
                booking = services.book(caller, data=data, actor=actor)
            except DomainError as err:
                status = show_domain_error(None, err)
            else:
                flash(
                    _(
                        "Booked for %(name)s: %(status)s, code %(code)s.",
                        name=caller.name,
                        status=STATUS_LABELS[booking.status],
                        code=booking_code(booking),
                    ),
                    "success",
                )
                return redirect(url_for("bookings.on_behalf", caller=login))
    return render_template("bookings/on_behalf.html", caller=caller, login=login, mask_phone=mask_phone), status


@bp.route("/staff/credit", methods=["GET", "POST"])
@login_required
def credit():
    """A resident's strikes and suspension; staff lift a suspension with a note."""
    actor = require_roles(*MANAGE_ROLES)
    login = (request.values.get("resident") or "").strip()[:30]
    resident = look_up_resident(login, actor=actor, purpose="credit") if login else None
    status = 200
    if request.method == "POST" and resident is not None:
        try:
            services.lift_suspension(resident, note=request.form.get("note", ""), actor=actor)
        except DomainError as err:
            status = show_domain_error(None, err)
        else:
            flash(_("Suspension lifted."), "success")
            return redirect(url_for("bookings.credit", resident=login))
    info = services.credit_of(resident) if resident else None
    return render_template(
        "bookings/credit.html", resident=resident, login=login, credit=info, mask_phone=mask_phone
    ), status
