"""Pages: rooms to reserve, a room's week at a glance, the request form, my reservations, the staff queue."""

import contextlib
from datetime import date, time, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from accounts.auth import require_roles
from accounts.models import CHECKIN_ROLES, MANAGE_ROLES
from core import nav, tickets
from core.db import utcnow
from core.errors import DomainError
from core.extensions import db
from core.forms import show_domain_error
from core.i18n import local_datetime, local_today, to_local
from core.views import safe_next
from rooms import services
from rooms.forms import BulkForm, CancelForm, ReasonForm, ReservationForm
from rooms.models import GROUP_KIND_LABELS, STATUS_LABELS, RoomReservation
from rooms.queries import (
    availability,
    bookable_rooms,
    closure_clashes,
    my_groups,
    my_reservations_select,
    pending_queue,
    reservations_for_occupancies,
    room_for_reservation,
    upcoming_approved,
)
from venues.models import ROOM_KIND_LABELS

bp = Blueprint("reservations", __name__)
NAV = [  # this package's links in the menus (see core.nav)
    nav.NavEntry("main", 30, "reservations.rooms", _l("Rooms"), visible=nav.public),
    nav.NavEntry("main", 90, "reservations.mine", _l("My rooms"), visible=nav.resident),
    nav.NavEntry(
        "staff", 50, "reservations.staff_queue", _l("Room reservation requests"), visible=nav.with_roles(*MANAGE_ROLES)
    ),
    nav.NavEntry("account", 20, "reservations.mine", _l("My room reservations")),
]

WEEK = 7


def _room_or_404(room_id: int):
    room = room_for_reservation(room_id)
    if room is None or not room.is_active or not room.venue.is_active:
        abort(404)
    return room


@bp.get("/rooms")
def rooms():
    return render_template("rooms/rooms.html", rooms=bookable_rooms(), room_kind_labels=ROOM_KIND_LABELS)


@bp.get("/rooms/<int:room_id>")
def room_week(room_id: int):
    room = _room_or_404(room_id)
    today = local_today()
    first = request.args.get("from", type=_parse_day) or today + timedelta(days=1)
    first = max(today, min(first, today + timedelta(days=services.MAX_DAYS_AHEAD)))
    days = availability(room, first, WEEK)
    staff_view = room.venue.can_manage(current_user)
    details = reservations_for_occupancies([o for d in days for o in d.taken]) if staff_view else {}
    return render_template(
        "rooms/room_week.html",
        room=room,
        days=days,
        first=first,
        prev_week=first - timedelta(days=WEEK),
        next_week=first + timedelta(days=WEEK),
        today=today,
        details=details,
        room_kind_labels=ROOM_KIND_LABELS,
        status_labels=STATUS_LABELS,
        suggest_end=lambda s, e: min(e, s + timedelta(hours=room.max_hours)),
        min_day=today + timedelta(days=services.MIN_DAYS_AHEAD),
        max_day=today + timedelta(days=services.MAX_DAYS_AHEAD),
    )


def _parse_day(value: str) -> date:
    return date.fromisoformat(value)


@bp.route("/rooms/<int:room_id>/reserve", methods=["GET", "POST"])
@login_required
def reserve(room_id: int):
    room = _room_or_404(room_id)
    actor = current_user._get_current_object()
    form = ReservationForm()
    groups = my_groups(actor)
    form.group_id.choices = [(g.id, g.name) for g in groups] + [(0, _("A new group"))]
    if not form.is_submitted():
        _prefill(form, groups)
    status = 200
    if form.validate_on_submit():
        data = {
            "starts_at": local_datetime(form.day.data, form.start.data),
            "ends_at": local_datetime(form.day.data, form.end.data),
            "purpose": form.purpose.data,
            "attendees": form.attendees.data,
            "group": form.group_data(),
            "repeat_weekly_until": form.repeat_weekly_until.data,
        }
        try:
            result = services.request_reservation(room, data=data, actor=actor)
        except DomainError as err:
            status = show_domain_error(form, _place(err))
        else:
            _flash_result(result)
            return redirect(url_for("reservations.mine"))
    elif form.is_submitted():
        status = 422
    return render_template(
        "rooms/reserve.html", room=room, form=form, groups=groups, group_kind_labels=GROUP_KIND_LABELS
    ), status


def _prefill(form: ReservationForm, groups) -> None:
    for name, parse in (("day", date.fromisoformat), ("start", time.fromisoformat), ("end", time.fromisoformat)):
        with contextlib.suppress(ValueError):
            getattr(form, name).data = parse(request.args.get(name, ""))
    form.group_id.data = groups[0].id if groups else 0
    form.contact_name.data, form.contact_phone.data = current_user.name, current_user.phone


def _place(err: DomainError) -> DomainError:
    """Map the API's field names to the form's, so messages land next to the right field."""
    fields = err.extra.get("fields")
    if fields:
        names = {
            "starts_at": "start",
            "ends_at": "end",
            "group": "group_name",
            "group.contact_phone": "contact_phone",
            "group.contact_name": "contact_name",
            "group.kind": "group_kind",
            "room_id": "day",
        }
        err.extra["fields"] = {names.get(k, k): v for k, v in fields.items()}
    conflicts = err.extra.get("conflicts")
    if err.code == "conflict" and conflicts:
        times = ", ".join(f"{to_local(c['starts_at']):%H:%M}–{to_local(c['ends_at']):%H:%M}" for c in conflicts)
        err.message = _("The room is already taken at %(times)s (plus 15 minutes to change over).", times=times)
    return err


def _flash_result(result) -> None:
    if isinstance(result, RoomReservation):
        flash(
            _("Your request has been sent; staff will approve it.")
            if result.status == "pending"
            else _("The room is reserved."),
            "success",
        )
        return
    flash(_("%(n)s dates reserved.", n=len(result.booked)), "success" if result.booked else "warning")
    for s in result.skipped:
        flash(_("%(day)s not reserved: %(why)s", day=s["date"].isoformat(), why=s["message"]), "warning")


@bp.get("/my/room-reservations")
@login_required
def mine():
    page = max(1, request.args.get("page", 1, type=int) or 1)
    result = db.paginate(my_reservations_select(current_user), page=page, per_page=30, error_out=False)
    return render_template("rooms/mine.html", result=result, status_labels=STATUS_LABELS, now=utcnow())


@bp.get("/room-reservations/<int:reservation_id>")
@login_required
def detail(reservation_id: int):
    reservation = services.get_reservation(reservation_id, current_user)
    return render_template(
        "rooms/detail.html",
        r=reservation,
        status_labels=STATUS_LABELS,
        reason_form=ReasonForm(),
        cancel_form=CancelForm(),
        now=utcnow(),
        can_manage=reservation.can_manage(current_user),
        can_check_in=reservation.can_check_in(current_user),
        ticket=_ticket(reservation),
        window_opens_at=services.check_in_window(reservation)[0],
    )


def _ticket(reservation: RoomReservation) -> dict | None:
    """The QR (an inline SVG) and the printed code of an approved reservation; None when it has no ticket."""
    try:
        services.require_ticket(reservation)
    except DomainError:
        return None
    payload = tickets.payload_for(reservation.id, "R")
    return {"qr": tickets.qr_data_uri(payload), "code": tickets.format_code(tickets.code_for(reservation.id, "R"))}


@bp.get("/staff/room-reservations")
def staff_queue():
    actor = require_roles(*CHECKIN_ROLES)
    now = utcnow()
    return render_template(
        "rooms/staff.html",
        pending=pending_queue(actor, MANAGE_ROLES, now),
        upcoming=upcoming_approved(actor, CHECKIN_ROLES, now),
        clashes=closure_clashes(actor, MANAGE_ROLES, now),
        status_labels=STATUS_LABELS,
        bulk_form=BulkForm(),
        now=now,
    )


def _act(reservation_id: int, action) -> object:
    reservation = services.get_reservation(reservation_id, current_user)
    try:
        action(reservation, current_user._get_current_object())
    except DomainError as err:
        show_domain_error(None, err)  # a refusal of the caller is raised again: a 403
    else:
        flash(_("Done: %(status)s.", status=STATUS_LABELS[reservation.status]), "success")
    return redirect(safe_next(url_for("reservations.detail", reservation_id=reservation_id)))


@bp.post("/room-reservations/<int:reservation_id>/approve")
@login_required
def approve(reservation_id: int):
    return _act(reservation_id, lambda r, a: services.approve_reservation(r, actor=a))


@bp.post("/room-reservations/<int:reservation_id>/reject")
@login_required
def reject(reservation_id: int):
    form = ReasonForm()
    return _act(reservation_id, lambda r, a: services.reject_reservation(r, reason=form.reason.data or "", actor=a))


@bp.post("/room-reservations/<int:reservation_id>/cancel")
@login_required
def cancel(reservation_id: int):
    form = CancelForm()
    return _act(reservation_id, lambda r, a: services.cancel_reservation(r, reason=form.reason.data or "", actor=a))


@bp.post("/room-reservations/<int:reservation_id>/check-in")
@login_required
def check_in(reservation_id: int):
    return _act(reservation_id, lambda r, a: services.check_in_reservation(r, actor=a))


@bp.post("/staff/room-reservations/bulk")
def bulk():
    actor = require_roles(*MANAGE_ROLES)
    form = BulkForm()
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()][:100]
    if not ids:
        flash(_("Select at least one request."), "warning")
        return redirect(url_for("reservations.staff_queue"))
    reservations = [db.session.get(RoomReservation, i) for i in dict.fromkeys(ids)]
    reservations = [r for r in reservations if r is not None and r.can_see(actor)]
    results = services.bulk_decide(
        reservations, approve=request.form.get("action") == "approve", reason=form.reason.data or "", actor=actor
    )
    done = sum(1 for r in results if "error" not in r)
    flash(_("%(done)s of %(n)s requests done.", done=done, n=len(results)), "success" if done else "warning")
    for r in results:
        if "error" in r:
            flash(_("Request %(id)s: %(why)s", id=r["id"], why=r["error"]["message"]), "error")
    return redirect(url_for("reservations.staff_queue"))
