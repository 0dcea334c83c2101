"""The public work catalogue of a year (/catalogue/<year>, and its DOCX), and the staff page that fixes lines
and publishes it, for a venue's subtree (default: the whole network)."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.auth import require_roles, require_venue_scope
from accounts.models import MANAGE_ROLES
from catalogue import document, queries, services
from catalogue.models import CatalogueEdition
from core.errors import DomainError
from core.extensions import db
from core.forms import show_domain_error
from venues.models import Venue
from venues.queries import venues_in_scope

bp = Blueprint("catalogue", __name__)


def _scope() -> Venue:
    venue_id = request.values.get("venue", type=int)
    venue = db.session.get(Venue, venue_id) if venue_id and 0 < venue_id < 2**31 else queries.root_venue()
    if venue is None:
        abort(404)
    return venue


def view_of(scope: Venue, year: int, *, preview: bool) -> dict:
    """What the page and the document show: sections of rows (with their change since publication), the fixed
    keys, and the edition. Residents see only a published edition; staff may preview the draft."""
    services.check_year(year)
    edition: CatalogueEdition | None = services.edition_for(scope, year)
    published = edition is not None and edition.is_published
    sections: dict[str, list[dict]] = {s: [] for s in queries.SECTIONS}
    if published or preview:
        rows = queries.compare(queries.lines(scope, year), edition.snapshot if published else None)
        for row in rows:
            sections[row["section"]].append(row)
    return {
        "scope": scope,
        "year": year,
        "edition": edition,
        "published": published,
        "sections": sections,
        "fixed": edition.fixed_keys if edition else set(),
        "titles": document.section_titles(),
        "change_label": document.change_label,
    }


@bp.get("/catalogue/<int:year>")
def public(year: int):
    """The year's catalogue as published (向社会公示), changes since marked; phone-first."""
    scope = _scope()
    return render_template("catalogue/public.html", **view_of(scope, year, preview=scope.can_manage(current_user)))


@bp.get("/catalogue/<int:year>.docx")
def printable(year: int):
    """The same catalogue as a Word document, for printing and posting."""
    scope = _scope()
    view = view_of(scope, year, preview=scope.can_manage(current_user))
    if not view["published"] and not scope.can_manage(current_user):
        abort(404)
    data = document.docx_bytes(
        title=_("Public culture work catalogue %(year)s", year=year),
        subtitle=scope.name,
        sections=view["sections"],
        fixed=view["fixed"],
    )
    return Response(
        data,
        mimetype=document.DOCX_MIME,
        headers={"Content-Disposition": f"attachment; filename=catalogue-{year}-{scope.id}.docx"},
    )


@bp.get("/staff/catalogue/<int:year>")
@login_required
def staff(year: int):
    """Mark lines fixed (固化) and publish, for a venue in the user's scope."""
    user = require_roles(*MANAGE_ROLES)
    scope = _scope()
    require_venue_scope(scope)
    return render_template("catalogue/staff.html", venues=venues_in_scope(user), **view_of(scope, year, preview=True))


@bp.post("/staff/catalogue/<int:year>/fixed")
@login_required
def set_fixed(year: int):
    scope = _scope()
    require_venue_scope(scope)
    try:
        services.set_fixed(
            scope,
            year=year,
            keys=request.form.getlist("keys")[:1000],
            fixed=request.form.get("action") != "unfix",
            actor=current_user,
        )
    except DomainError as err:
        show_domain_error(None, err)
        return redirect(url_for("catalogue.staff", year=year, venue=scope.id))
    flash(_("Saved."), "success")
    return redirect(url_for("catalogue.staff", year=year, venue=scope.id))


@bp.post("/staff/catalogue/<int:year>/publish")
@login_required
def publish(year: int):
    scope = _scope()
    require_venue_scope(scope)
    try:
        services.publish(scope, year=year, actor=current_user)
    except DomainError as err:
        show_domain_error(None, err)
        return redirect(url_for("catalogue.staff", year=year, venue=scope.id))
    flash(_("The catalogue is published."), "success")
    return redirect(url_for("catalogue.public", year=year, venue=scope.id))
