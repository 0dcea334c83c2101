"""Admin pages: create venues, find accounts, grant and revoke scoped roles."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from accounts import services as accounts
from accounts.auth import require_roles
from accounts.forms import GrantForm
from accounts.models import ROLE_LABELS, Role, RoleGrant, User
from core import nav
from core.errors import DomainError
from core.extensions import db
from core.forms import show_domain_error
from venues import services
from venues.forms import NewVenueForm
from venues.models import Venue
from venues.queries import districts, venue_select

bp = Blueprint("admin", __name__, url_prefix="/admin")
NAV = [  # this package's links in the menus (see core.nav)
    nav.NavEntry("main", 70, "admin.users", _l("Admin"), visible=lambda u: nav.signed_in(u) and u.is_admin),
]


@bp.route("/venues/new", methods=["GET", "POST"])
def new_venue():
    actor = require_roles(Role.admin)
    form = NewVenueForm()
    form.parent_id.choices = [(0, _("None (the hub)"))] + [
        (v.id, v.name) for v in db.session.execute(venue_select()).scalars()
    ]
    form.district_code.choices = [(d.code, d.name) for d in districts()]
    status = 200
    if form.validate_on_submit():
        parent = db.session.get(Venue, form.parent_id.data) if form.parent_id.data else None
        data = {f: getattr(form, f).data for f in (*services.VENUE_FIELDS, "kind", "district_code")}
        try:
            venue = services.create_venue(data=data, parent=parent, actor=actor)
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            flash(_("Venue created."), "success")
            return redirect(url_for("venues.edit", venue_id=venue.id))
    elif form.is_submitted():
        status = 422
    return render_template("venues/new.html", form=form), status


@bp.get("/users")
def users():
    require_roles(Role.admin)
    q = (request.args.get("q") or "").strip()[:50]
    stmt = select(User).order_by(User.id).limit(100)
    if q:
        stmt = stmt.where(
            or_(User.name.contains(q), User.login.contains(q), User.phone.contains(q), User.card_number.contains(q))
        )
    else:
        stmt = stmt.where(User.grants.any())
    return render_template(
        "venues/admin_users.html", users=db.session.execute(stmt).scalars().all(), q=q, role_labels=ROLE_LABELS
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int):
    actor = require_roles(Role.admin)
    target = db.session.get(User, user_id) or abort(404)
    form = _grant_form()
    status = 200
    if form.validate_on_submit():
        venue = db.session.get(Venue, form.venue_id.data) if form.venue_id.data else None
        try:
            if venue is None and form.role.data != Role.admin:
                raise DomainError(_("Staff and managers need a venue."), code="invalid", status=422)
            accounts.grant_role(target, role=Role(form.role.data), venue=venue, actor=actor)
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            flash(_("Role granted."), "success")
            return redirect(url_for("admin.user", user_id=target.id))
    elif form.is_submitted():
        status = 422
    return render_template("venues/admin_user.html", target=target, form=form, role_labels=ROLE_LABELS), status


@bp.post("/grants/<int:grant_id>/revoke")
def revoke(grant_id: int):
    actor = require_roles(Role.admin)
    grant = db.session.get(RoleGrant, grant_id) or abort(404)
    user_id = grant.user_id
    accounts.revoke_role(grant, actor=actor)
    flash(_("Role removed."), "success")
    return redirect(url_for("admin.user", user_id=user_id))


def _grant_form() -> GrantForm:
    form = GrantForm()
    form.role.choices = [(r.value, ROLE_LABELS[r]) for r in Role]
    venues = db.session.execute(venue_select()).scalars()
    form.venue_id.choices = [(0, _("Whole network (admins only)"))] + [(v.id, v.name) for v in venues]
    return form
