"""Resident pages (the activity page with its booking form, my bookings, cancel, accept) and staff pages
(roster with CSV, sign-up decisions in bulk, booking for a caller, lifting a suspension)."""

import csv
import io
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import func, select

from accounts.auth import require_roles, require_venue_scope
from accounts.models import MANAGE_ROLES, mask_name, mask_phone
from accounts.services import look_up_resident
from activities.booking_state import Mine, activity_state, unit_state
from activities.calendar import ics_for
from activities.loaders import visible_activity
from activities.models import CATEGORY_LABELS, KIND_LABELS, POLICY_LABELS, QUOTA_LABELS, Session
from activities.queries import activity_page, render_description
from bookings import services
from bookings.lottery import entry_counts, public_unit
from bookings.models import STATUS_LABELS, Booking, BookingStatus, LotteryDraw, unit_keys
from bookings.queries import my_bookings, printed_code, roster, session_bookings
from core import nav, tickets
from core.cache import public_parts
from core.errors import DomainError
from core.extensions import db
from core.forms import show_domain_error
from core.i18n import local_today
from core.spreadsheets import csv_row
from core.urls import external_url

bp = Blueprint("bookings", __name__)
NAV = [  # this package's links in the menus (see core.nav)
    nav.NavEntry("main", 80, "bookings.mine", _l("My bookings"), visible=nav.resident),
    nav.NavEntry("staff", 30, "bookings.on_behalf", _l("Book for a caller"), visible=nav.with_roles(*MANAGE_ROLES)),
    nav.NavEntry("staff", 40, "bookings.credit", _l("No-shows and suspensions"), visible=nav.with_roles(*MANAGE_ROLES)),
    nav.NavEntry("account", 10, "bookings.mine", _l("My bookings")),
]
# The tabs of the bottom bar (templates/base.html): their endpoints are not repeated on the 我的 page.
TAB_ENDPOINTS = {"venues.index", "activities.listing", "venues.directory", "bookings.me", "bookings.mine"}


def _now() -> datetime:
    return datetime.now(UTC)


def _form_ints(name: str) -> list[int]:
    return [int(v) for v in request.form.getlist(name) if v.isdigit()][:500]


@bp.get("/activities/<int:activity_id>")
def activity(activity_id: int):
    """The activity page: sessions with seats left, the booking form, the lottery result.

    For a visitor who is not signed in the page holds public data only: its title and body are kept in the
    public cache (core/cache.py) for PUBLIC_CACHE_SECONDS, so its seat states may be that old (a cache hit
    costs no query). A signed-in visitor's page carries their own bookings, family members and credit and is
    rendered afresh every time, with live seat states; the booking itself always decides on live rows."""
    if current_user.is_authenticated:
        return _activity_page(visible_activity(activity_id, current_user))

    def render() -> tuple[str, str]:
        # A draft, or no such activity, raises NotFound (404) here: nothing is stored.
        act = visible_activity(activity_id, current_user)
        return str(escape(act.title)), _activity_body(act)

    title, body = public_parts(("bookings.activity", activity_id), render)
    return render_template("bookings/activity.html", title=title, content=body)


def _activity_body(act) -> str:
    return render_template("bookings/_activity.html", **_activity_context(act))


def _activity_page(act, status: int = 200):
    """The whole activity page rendered afresh (a signed-in visitor, or a page with an error to show)."""
    body = Markup(_activity_body(act))
    return render_template("bookings/activity.html", title=act.title, content=body), status


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


def _mine_of(booking: Booking) -> Mine:
    """What the booking-state rule needs to know about the resident's own booking."""
    return Mine(
        status=booking.status.value,
        position=services.waitlist_position(booking) if booking.status == BookingStatus.waitlisted else None,
        deadline=booking.hold_expires_at,
        draw_at=booking.activity.window_for(booking.session)[1] if booking.status == BookingStatus.entered else None,
    )


def _waiting_counts(act, full: bool = True) -> dict[str, int]:
    """Bookings on each unit's waiting list (for 可候补 (第 N 位)); read only when some unit is `full`."""
    if not full or not act.has_waiting_list or act.policy.value != "first_come":
        return {}
    rows = db.session.execute(
        select(Booking.unit_key, func.count())
        .where(Booking.activity_id == act.id, Booking.status == BookingStatus.waitlisted)
        .group_by(Booking.unit_key)
    )
    return dict(rows.all())


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
    units = [act] if act.is_course else act.live_sessions  # a course's seats are the activity's
    waiting = _waiting_counts(act, any(u.seats_left == 0 for u in units))

    def state_of(session):
        key = f"c{act.id}" if act.is_course else f"s{session.id}"
        own = mine.get(key)
        return unit_state(
            act, session, now, mine=_mine_of(own) if own else None, waiting=waiting.get(key, 0) if waiting else None
        )

    if act.is_course:
        course_state = state_of(None)
        session_states = {}
    else:
        course_state = None
        session_states = {s.id: state_of(s) for s in act.sessions}
    upcoming = [s for s in act.live_sessions if s.starts_at > now]
    bookable = [s for s in upcoming if not act.is_course and session_states[s.id].action]
    own_states = [
        st for st in session_states.values() if st.code in ("booked", "waiting", "offered", "entered", "pending")
    ]
    headline = course_state or (own_states[0] if own_states and not bookable else activity_state(act, now))
    days: dict = {}
    if act.kind.value == "exhibition":
        from core.i18n import to_local

        for s in upcoming:
            days.setdefault(to_local(s.starts_at).date(), []).append(s)
    return {
        "activity": act,
        "state": headline,
        "course_state": course_state,
        "session_states": session_states,
        "upcoming": upcoming,
        "bookable": bookable,
        "slot_days": sorted(days.items()),
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
            return _activity_page(act, 422)
    party = request.form.get("party_size", type=int)
    data = services.BookingRequest(
        activity=act, session=session, party_size=party, participant_ids=_form_ints("participant_ids") or None
    )
    user = current_user._get_current_object()
    try:
        booking = services.book(user, data=data, actor=user)
    except DomainError as err:
        status = show_domain_error(None, err)
        return _activity_page(act, status)
    flash(_outcome_message(booking), "success")
    return redirect(url_for("bookings.done", booking_id=booking.id))


def _outcome_message(booking: Booking) -> str:
    messages = {
        BookingStatus.confirmed: _("Booked. Your seat is confirmed."),
        BookingStatus.waitlisted: _("It is full: you are on the waiting list. We will offer you a seat if one frees."),
        BookingStatus.entered: _("You are entered in the lottery. The draw takes place when sign-ups close."),
        BookingStatus.pending: _("Signed up. Staff will confirm or decline, and you will be told."),
    }
    return messages.get(booking.status, str(STATUS_LABELS[booking.status]))


def holders(booking: Booking) -> str:
    """Whom the seats are for: the named family members, else the account holder."""
    names = [p.name for p in booking.participants]
    return "、".join(names) if names else booking.user.name


@bp.get("/bookings/<int:booking_id>/done")
@login_required
def done(booking_id: int):
    """Where a booking ends: the ticket (QR, code, time, place, holder) once confirmed, else what happens next."""
    booking = _own(booking_id)
    qr = code = None
    if booking.status == BookingStatus.confirmed:
        qr = tickets.qr_data_uri(tickets.payload_for(booking.id))
        code = printed_code(booking)
    return render_template(
        "bookings/done.html",
        booking=booking,
        state=unit_state(booking.activity, booking.session, _now(), mine=_mine_of(booking)),
        qr=qr,
        code=code,
        holder=holders(booking),
        status_labels=STATUS_LABELS,
        cancel_deadline=booking.activity.cancel_deadline_for(booking.session),
    )


@bp.get("/bookings/<int:booking_id>.ics")
@login_required
def booking_feed(booking_id: int):
    """加入日历: the booked session (or a course's lessons) as an iCalendar file."""
    booking = _own(booking_id)
    act = booking.activity
    sessions = [booking.session] if booking.session else act.live_sessions
    body = ics_for(
        sessions, name=act.title, url_for_activity=lambda a: external_url("bookings.activity", activity_id=a.id)
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f"attachment; filename=booking-{booking.id}.ics"
    return response


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
        code=printed_code,
        position=services.waitlist_position,
        holders=holders,
        new_id=request.args.get("new", type=int),
        today=local_today(now),
    )


@bp.get("/my/sw.js")
def mine_worker():
    """The offline worker (static/js/offline-sw.js) for /my/: keeps 我的预约 and the tickets it opens."""
    from flask import send_from_directory

    response = send_from_directory(current_app.static_folder, "js/offline-sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/my/"
    return response


@bp.get("/me")
def me():
    """我的: the resident's own things, every menu entry not on the tab bar, language, large text, sign out."""
    links = [link for link in nav.links("main") if link.endpoint not in TAB_ENDPOINTS]
    upcoming = []
    if current_user.is_authenticated:
        upcoming = my_bookings(current_user, _now())["upcoming"][:1]
    return render_template("bookings/me.html", links=links, account_links=nav.links("account"), next_booking=upcoming)


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
        code=printed_code,
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
                    printed_code(b),
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
                        code=printed_code(booking),
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
