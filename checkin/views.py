"""Pages for the door and the resident: the camera scanner (/scan) and the ticket (/tickets/<id>)."""

from flask import Blueprint, abort, current_app, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from accounts.auth import require_roles
from accounts.models import CHECKIN_ROLES
from activities.models import Session
from bookings import services as booking_services
from bookings.queries import printed_code
from checkin import services as checkin
from checkin.models import SOURCE_LABELS
from checkin.queries import attendance_list, door_reservations, door_sessions
from core import nav, tickets
from core.db import utcnow
from core.errors import DomainError
from core.extensions import db
from core.security import CSP
from rooms import services as room_services

bp = Blueprint("checkin", __name__)
NAV = [  # this package's links in the menus (see core.nav)
    nav.NavEntry("main", 60, "checkin.scan", _l("Check tickets"), visible=nav.with_roles(*CHECKIN_ROLES)),
    nav.NavEntry("staff", 60, "checkin.scan", _l("Check tickets at the door"), visible=nav.with_roles(*CHECKIN_ROLES)),
    # Check-in-only staff land on the scanner (the roles with more tools land on theirs first).
    nav.NavEntry("start", 30, "checkin.scan", _l("Check tickets"), visible=nav.with_roles(*CHECKIN_ROLES)),
]


# The QR decoder runs in a Web Worker that qr-scanner builds from a blob: URL (same-origin script only).
SCAN_CSP = CSP.replace("default-src 'self'", "default-src 'self'; worker-src 'self' blob:")


def scanner_messages() -> dict[str, str]:
    """Everything the scanner script says, in the page's language (the script holds no text of its own)."""
    return {
        "admitted": _("Admitted"),
        "already_checked_in": _("Already checked in"),
        "invalid_ticket": _("Not a valid ticket"),
        "not_on_roster": _("Not on this session's list"),
        "cancelled": _("Booking cancelled"),
        "not_confirmed": _("Booking not confirmed"),
        "too_early": _("Too early: check-in has not opened"),
        "too_late": _("Too late: the session has ended"),
        "opens_at": _("Check-in opens at %(time)s"),
        "party": _("Party of %(n)s"),
        "first_at": _("First checked in at %(time)s by %(by)s"),
        "this_device": _("this device"),
        "saved_offline": _("Saved offline; it will sync when the network is back."),
        "checking": _("Checking…"),
        "no_roster": _("Offline and no list downloaded for this session"),
        "offline": _("Offline — scanning from the downloaded list"),
        "online": _("Online"),
        "synced": _("Synced %(n)s offline scans."),
        "conflicts": _("%(n)s admitted on another device too (flagged)."),
        "walkins_added": _("%(n)s walk-ins counted"),
        "camera_unavailable": _("The camera is not available: allow it in the browser, or type the code below."),
        "camera_insecure": _(
            "The camera needs a secure connection (https://). Type the ticket codes below, and ask whoever runs the "
            "server to serve it over HTTPS."
        ),
        "camera_denied": _(
            "The camera was refused. Allow it in the browser's settings for this site and tap Start camera, or type "
            "the code below."
        ),
        "camera_missing": _("No camera could be opened on this device. Type the ticket code below."),
        "rooms_offline": _("Offline: room tickets can only be checked with a network connection."),
        "code_needs_network": _(
            "Offline: typed codes can only be checked with a network connection. Scan the QR code."
        ),
    }


@bp.route("/scan")
@login_required
def scan():
    actor = require_roles(*CHECKIN_ROLES)
    now = utcnow()
    sessions = door_sessions(actor, now)
    chosen = None
    session_id = request.args.get("session", type=int)
    rooms_mode = request.args.get("rooms") == "1" and not session_id
    if session_id:
        chosen = db.session.get(Session, session_id)
        if chosen is None:
            abort(404)
        checkin.require_door(chosen, actor)
        if chosen not in sessions:
            sessions.insert(0, chosen)
    context = {
        "sessions": sessions,
        "session": chosen,
        "messages": scanner_messages(),
        "rooms_mode": rooms_mode,
        "room_checkin_url": url_for("checkin_api.create_room_checkin"),
    }
    if rooms_mode:
        # Room reservations' tickets: no session, no offline list (a room ticket is checked online).
        context.update(
            reservations=door_reservations(actor, now),
            window_of_reservation=room_services.check_in_window,
            sw_url=url_for("checkin.scan_worker"),
        )
    if chosen is not None:
        context.update(
            window_opens_at=checkin.window_of(chosen)[0],
            roster_url=url_for("checkin_api.get_roster", session_id=chosen.id),
            checkin_url=url_for("checkin_api.create_checkin"),
            batch_url=url_for("checkin_api.sync_checkins"),
            walkin_url=url_for("checkin_api.add_walk_ins", session_id=chosen.id),
            sw_url=url_for("checkin.scan_worker"),
        )
    response = current_app.make_response(render_template("checkin/scan.html", **context))
    response.headers["Content-Security-Policy"] = SCAN_CSP
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/scan/sessions/<int:session_id>/attendance")
@login_required
def attendance(session_id: int):
    """Who was admitted to a session, by whom and how, and the admissions flagged from offline devices."""
    actor = require_roles(*CHECKIN_ROLES)
    session = db.session.get(Session, session_id)
    if session is None:
        abort(404)
    checkin.require_door(session, actor)
    return render_template(
        "checkin/attendance.html",
        session=session,
        source_labels=SOURCE_LABELS,
        holder=checkin.holder_name,
        **attendance_list(session),
    )


@bp.route("/tickets/<int:booking_id>")
@login_required
def ticket(booking_id: int):
    """The resident's ticket: a large QR with the activity, session, venue and party size; works offline once opened."""
    booking = booking_services.get_booking(booking_id, current_user._get_current_object())
    error = None
    qr = code = None
    try:
        checkin.require_ticket(booking)
        payload = tickets.payload_for(booking.id)
        qr = tickets.qr_data_uri(payload)
        code = printed_code(booking)
    except DomainError as err:
        error = err.message
    session = booking.session
    return render_template(
        "checkin/ticket.html",
        booking=booking,
        session=session,
        qr=qr,
        code=code,
        error=error,
        holder=checkin.holder_name(booking),
    )


@bp.route("/tickets/sw.js", defaults={"scope": "/tickets/"})
@bp.route("/scan/sw.js", defaults={"scope": "/scan"}, endpoint="scan_worker")
def ticket_worker(scope: str):
    """The service worker that keeps opened tickets (scope /tickets/) and the scanner (/scan) working offline."""
    response = send_from_directory(current_app.static_folder, "js/offline-sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = scope
    return response
