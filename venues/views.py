"""Public venue directory and venue pages; staff pages to edit venues, hours, closures and rooms."""

from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from accounts.auth import require_venue_scope
from accounts.models import MANAGE_ROLES
from core import nav
from core.cache import public_fragment
from core.errors import DomainError
from core.extensions import db
from core.forms import show_domain_error
from core.i18n import resolved_labels
from venues import services
from venues.forms import ClosureForm, HoursForm, RoomForm, VenueForm
from venues.models import KIND_LABELS, ROOM_KIND_LABELS, Closure, Room, Venue, VenueKind
from venues.queries import ancestors, district_summaries, districts, venue_page, venue_select, venues_in_scope

bp = Blueprint("venues", __name__)
NAV = [  # this package's links in the menus (see core.nav)
    nav.NavEntry("main", 20, "venues.directory", _l("Venues"), visible=nav.public),
    nav.NavEntry("main", 50, "venues.staff_home", _l("Staff"), visible=nav.with_roles(*MANAGE_ROLES)),
    nav.NavEntry("start", 20, "venues.staff_home", _l("Staff"), visible=nav.with_roles(*MANAGE_ROLES)),
]


def _venue_or_404(venue_id: int) -> Venue:
    venue = venue_page(venue_id)
    if venue is None or not venue.is_active:
        abort(404)
    return venue


@bp.get("/")
def index():
    """The home page: one search box (activities and venues), what's on soon, the network by district.

    What's on comes from the sections higher packages register (`culturenet.home_sections`: callables
    returning HTML), since this package may not read activities."""
    sections = [render() for render in current_app.extensions.get("culturenet.home_sections", [])]
    return render_template("venues/index.html", districts=district_summaries(), sections=sections)


@bp.get("/venues")
def directory():
    kind = request.args.get("kind") if request.args.get("kind") in VenueKind.__members__ else None
    district = (request.args.get("district") or "")[:40] or None
    q = (request.args.get("q") or "").strip()[:50] or None
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 10_000))

    def content() -> str:
        result = db.paginate(venue_select(kind=kind, district=district, q=q), page=page, per_page=30, error_out=False)
        return render_template(
            "venues/_directory.html",
            result=result,
            districts=districts(),
            kind=kind,
            district=district,
            q=q,
            kind_labels=resolved_labels(KIND_LABELS),
        )

    key = ("venues.directory", kind, district, q, page)
    return render_template("venues/directory.html", content=public_fragment(key, content))


@bp.get("/venues/<int:venue_id>")
def venue(venue_id: int):
    v = _venue_or_404(venue_id)
    now = datetime.now(UTC)
    return render_template(
        "venues/venue.html",
        venue=v,
        ancestors=ancestors(v),
        now=now,
        is_open=v.is_open_at(now),
        kind_labels=KIND_LABELS,
        room_kind_labels=ROOM_KIND_LABELS,
        can_manage=v.can_manage(current_user),
        sections=[render(v) for render in current_app.extensions.get("culturenet.venue_sections", [])],
    )


@bp.get("/staff")
@login_required
def staff_home():
    if not current_user.is_staff:
        abort(403)
    return render_template(
        "venues/staff_home.html", venues=venues_in_scope(current_user, MANAGE_ROLES), kind_labels=KIND_LABELS
    )


@bp.route("/venues/<int:venue_id>/edit", methods=["GET", "POST"])
def edit(venue_id: int):
    v = _venue_or_404(venue_id)
    actor = require_venue_scope(v)
    form = VenueForm(obj=v)
    status = 200
    if form.validate_on_submit():
        data = {f: getattr(form, f).data for f in services.VENUE_FIELDS}
        try:
            services.update_venue(v, data=data, actor=actor)
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("venues.venue", venue_id=v.id))
    elif form.is_submitted():
        status = 422
    return render_template(
        "venues/edit.html", venue=v, form=form, hours_form=_hours_form(v), closure_form=ClosureForm(prefix="closure")
    ), status


def _hours_form(v: Venue, formdata=None) -> HoursForm:
    form = HoursForm(formdata=formdata, prefix="hours")
    if formdata is None:
        for i, day in enumerate(HoursForm.DAYS):
            getattr(form, day).data = ", ".join(
                f"{h.opens_at:%H:%M}-{h.closes_at:%H:%M}" for h in v.hours if h.weekday == i
            )
    return form


@bp.post("/venues/<int:venue_id>/hours")
def edit_hours(venue_id: int):
    v = _venue_or_404(venue_id)
    actor = require_venue_scope(v)
    form = _hours_form(v, formdata=request.form)
    status = 422
    if form.validate_on_submit():
        try:
            services.set_opening_hours(v, intervals=form.intervals(), actor=actor)
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            flash(_("Opening hours saved."), "success")
            return redirect(url_for("venues.edit", venue_id=v.id))
    return render_template(
        "venues/edit.html", venue=v, form=VenueForm(obj=v), hours_form=form, closure_form=ClosureForm(prefix="closure")
    ), status


@bp.post("/venues/<int:venue_id>/closures")
def add_closure(venue_id: int):
    v = _venue_or_404(venue_id)
    actor = require_venue_scope(v)
    form = ClosureForm(prefix="closure")
    status = 422
    if form.validate_on_submit():
        try:
            services.add_closure(
                v, starts_on=form.starts_on.data, ends_on=form.ends_on.data, reason=form.reason.data, actor=actor
            )
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            flash(_("Closure added."), "success")
            return redirect(url_for("venues.edit", venue_id=v.id))
    return render_template(
        "venues/edit.html", venue=v, form=VenueForm(obj=v), hours_form=_hours_form(v), closure_form=form
    ), status


@bp.post("/closures/<int:closure_id>/delete")
def delete_closure(closure_id: int):
    closure = db.session.get(Closure, closure_id) or abort(404)
    actor = require_venue_scope(closure.venue)
    venue_id = closure.venue_id
    services.remove_closure(closure, actor=actor)
    flash(_("Closure removed."), "success")
    return redirect(url_for("venues.edit", venue_id=venue_id))


@bp.route("/venues/<int:venue_id>/rooms/new", methods=["GET", "POST"], defaults={"room_id": None})
@bp.route("/venues/<int:venue_id>/rooms/<int:room_id>", methods=["GET", "POST"])
def edit_room(venue_id: int, room_id: int | None):
    v = _venue_or_404(venue_id)
    actor = require_venue_scope(v)
    room = None
    if room_id is not None:
        room = db.session.get(Room, room_id)
        if room is None or room.venue_id != v.id:
            abort(404)
    form = RoomForm(obj=room)
    status = 200
    if form.validate_on_submit():
        data = {
            f: getattr(form, f).data
            for f in (
                "name",
                "name_en",
                "kind",
                "capacity",
                "floor_area",
                "equipment",
                "max_hours",
                "is_bookable",
                "is_self_service",
            )
        }
        try:
            services.save_room(v, data=data, actor=actor, room=room)
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            flash(_("Room saved."), "success")
            return redirect(url_for("venues.venue", venue_id=v.id))
    elif form.is_submitted():
        status = 422
    return render_template("venues/room_form.html", venue=v, room=room, form=form), status
