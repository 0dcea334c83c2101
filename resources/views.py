"""Pages of the digital culture centre: the library (browse, search, play in the page), media with range
requests, collections and brands for residents; upload, brand and collection pages for staff in scope."""

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.csrf import ValidationError as CSRFValidationError
from flask_wtf.csrf import validate_csrf

from accounts.auth import require_roles, require_venue_scope
from accounts.models import MANAGE_ROLES
from activities.models import CATEGORY_LABELS, Activity, Category
from core import nav
from core.db import utcnow
from core.errors import DomainError, Forbidden
from core.extensions import csrf, db
from core.forms import show_domain_error
from core.i18n import local_today, resolved_labels
from core.pagination import window
from resources import queries, services, uploads
from resources.models import KIND_LABELS, STATUS_LABELS, SUBJECT_LABELS, Brand, Collection, Resource, ResourceKind
from venues.models import Venue
from venues.queries import venues_in_scope

bp = Blueprint("resources", __name__)

NAV = [  # this package's links in the menus (see core.nav)
    nav.NavEntry("main", 45, "resources.library", _l("Digital library"), visible=nav.public),
    nav.NavEntry("staff", 75, "resources.staff", _l("Digital library: staff"), visible=nav.with_roles(*MANAGE_ROLES)),
]
MEDIA_MAX_AGE = 7 * 24 * 3600  # stored names never change: a resource's bytes are never rewritten


def _labels() -> dict:
    return {
        "kind_labels": resolved_labels(KIND_LABELS),
        "category_labels": resolved_labels(CATEGORY_LABELS),
        "status_labels": resolved_labels(STATUS_LABELS),
        "subject_labels": resolved_labels(SUBJECT_LABELS),
    }


def _visible(resource_id: int) -> Resource:
    resource = db.session.get(Resource, resource_id)
    if resource is None or not resource.is_visible_to(current_user):
        abort(404)
    return resource


@bp.get("/resources")
def library():
    """Browse and search the published library: text, category, venue subtree, kind."""
    args = request.args
    category = args.get("category") if args.get("category") in Category.__members__ else None
    kind = args.get("kind") if args.get("kind") in ResourceKind.__members__ else None
    venue_id = args.get("venue", type=int)
    f = queries.ResourceFilters(
        q=(args.get("q") or "").strip()[:50] or None,
        category=category,
        kind=kind,
        venue_id=venue_id if venue_id and 0 < venue_id < 2**31 else None,
    )
    page = min(max(args.get("page", 1, type=int) or 1, 1), 10_000)
    result = window(queries.resource_select(f), page, count_by=Resource.id)
    return render_template(
        "resources/library.html",
        result=result,
        f=f,
        brands=queries.public_brands(),
        collections=queries.public_collections(),
        args={k: v for k, v in args.items() if k != "page"},
        **_labels(),
    )


@bp.get("/resources/<int:resource_id>")
def resource_page(resource_id: int):
    """One resource, played in the page by the browser's own player."""
    resource = _visible(resource_id)
    return render_template(
        "resources/resource.html",
        resource=resource,
        can_manage=resource.can_manage(current_user),
        plays=queries.play_count(resource.id),
        **_labels(),
    )


def _range_not_satisfiable(size: int) -> Response:
    response = Response(status=416)
    response.headers["Content-Range"] = f"bytes */{size}"
    response.headers["Accept-Ranges"] = "bytes"
    return response


def _send(resource: Resource, name: str, mimetype: str) -> Response:
    """A stored file with range requests (206 + Content-Range; 416 for a range past the end), a validator
    (ETag, Last-Modified) and caching: public for a published resource, private for staff previews."""
    path = services.library_dir(current_app.config["UPLOAD_DIR"]) / name
    if not path.is_file():
        abort(404)
    size = path.stat().st_size
    wanted = request.range
    if wanted is not None and len(wanted.ranges) == 1 and wanted.range_for_length(size) is None:
        return _range_not_satisfiable(size)
    response = send_file(
        path, mimetype=mimetype, conditional=True, etag=True, max_age=MEDIA_MAX_AGE, download_name=Path(name).name
    )
    response.headers["Accept-Ranges"] = "bytes"
    response.cache_control.public = resource.is_public
    response.cache_control.private = not resource.is_public
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.get("/resources/<int:resource_id>/media")
def media(resource_id: int):
    """The resource's bytes, seekable by range requests."""
    resource = _visible(resource_id)
    return _send(resource, resource.stored_name, resource.content_type)


@bp.get("/resources/<int:resource_id>/poster.jpg")
def poster(resource_id: int):
    """The poster frame made by the background job (a thumbnail for images)."""
    resource = _visible(resource_id)
    if not resource.poster_name:
        abort(404)
    return _send(resource, resource.poster_name, "image/jpeg")


@bp.get("/collections")
def collections():
    return render_template("resources/collections.html", collections=queries.public_collections(), **_labels())


@bp.get("/collections/<int:collection_id>")
def collection_page(collection_id: int):
    collection = db.session.get(Collection, collection_id)
    if collection is None or not collection.is_visible_to(current_user):
        abort(404)
    return render_template("resources/collection.html", collection=collection, **_labels())


@bp.get("/brands")
def brands():
    return render_template("resources/brands.html", brands=queries.public_brands())


@bp.get("/brands/<int:brand_id>")
def brand_page(brand_id: int):
    """What the brand is, what's on, its past editions with photos, and its figures."""
    brand = db.session.get(Brand, brand_id)
    if brand is None or not (brand.is_active or brand.can_manage(current_user)):
        abort(404)
    now = utcnow()
    upcoming, past = queries.brand_programme(brand.id, now)
    return render_template(
        "resources/brand.html",
        brand=brand,
        upcoming=upcoming,
        past=past,
        photos=queries.brand_photos(brand.id),
        figures=queries.brand_figures(brand.id, now),
        can_manage=brand.can_manage(current_user),
        **_labels(),
    )


# --- staff ------------------------------------------------------------------------------------------


def _staff_page(status: int = 200):
    user = require_roles(*MANAGE_ROLES)
    return render_template(
        "resources/staff.html",
        resources=queries.staff_resources(user),
        brands=queries.staff_brands(user),
        collections=queries.staff_collections(user),
        venues=venues_in_scope(user),
        max_mb=uploads.max_bytes() // (1024 * 1024),
        form=request.form if request.method == "POST" else {},
        year=local_today().year,
        **_labels(),
    ), status


@bp.get("/staff/resources")
@login_required
def staff():
    """The library of the venues in the user's scope, with the upload, brand and collection forms."""
    return _staff_page()


def _venue_from_form() -> Venue:
    venue = db.session.get(Venue, request.form.get("venue_id", type=int) or 0)
    if venue is None:
        raise DomainError(_("Choose a venue."), code="invalid", status=422)
    require_venue_scope(venue)
    return venue


@bp.post("/staff/resources")
@csrf.exempt  # checked below, after the body limit is raised for this upload (the site-wide check reads the form)
@login_required
def upload():
    """Publish a resource: the file is streamed to UPLOAD_DIR, checked, and probed by the background job."""
    require_roles(*MANAGE_ROLES)
    uploads.allow_large_body()
    try:
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            validate_csrf(request.form.get("csrf_token", ""))
    except CSRFValidationError:
        raise Forbidden(
            _("The form expired or was sent from elsewhere. Reload the page and try again."), code="csrf_failed"
        ) from None
    try:
        venue = _venue_from_form()
        file = uploads.receive("file")
        data = {k: request.form.get(k, "") for k in ("title", "category", "description", "heritage_item", "licence")}
        data |= {
            "activity_id": request.form.get("activity_id", type=int),
            "brand_id": request.form.get("brand_id", type=int),
        }
        resource = services.create_resource(
            venue,
            data=data,
            stream=file.stream,
            filename=file.filename or "",
            actor=current_user,
            upload_dir=current_app.config["UPLOAD_DIR"],
            max_bytes=uploads.max_bytes(),
        )
    except DomainError as err:
        return _staff_page(show_domain_error(None, err))
    flash(_("Uploaded. It is published once it has been checked (usually within a minute)."), "success")
    return redirect(url_for("resources.resource_page", resource_id=resource.id))


@bp.post("/staff/resources/<int:resource_id>/withdraw")
@login_required
def withdraw(resource_id: int):
    resource = _visible(resource_id)
    require_venue_scope(resource.venue)
    services.withdraw_resource(resource, actor=current_user)
    flash(_("Withdrawn from the library."), "success")
    return redirect(url_for("resources.staff"))


@bp.post("/staff/brands")
@login_required
def create_brand():
    require_roles(*MANAGE_ROLES)
    try:
        data = {k: request.form.get(k, "") for k in ("name", "name_en", "summary", "description")}
        brand = services.create_brand(_venue_from_form(), data=data, actor=current_user)
    except DomainError as err:
        return _staff_page(show_domain_error(None, err))
    flash(_("Brand created."), "success")
    return redirect(url_for("resources.brand_page", brand_id=brand.id))


@bp.post("/staff/brands/<int:brand_id>/activities")
@login_required
def attach_activity(brand_id: int):
    """Make an activity (by its number) part of the brand."""
    brand = db.session.get(Brand, brand_id) or abort(404)
    require_roles(*MANAGE_ROLES)
    activity = db.session.get(Activity, request.form.get("activity_id", type=int) or 0)
    try:
        if activity is None:
            raise DomainError(_("No such activity."), code="invalid", status=422)
        services.attach_activity(brand, activity, actor=current_user)
    except DomainError as err:
        show_domain_error(None, err)
        return redirect(url_for("resources.brand_page", brand_id=brand.id))
    flash(_("The activity is now part of the brand."), "success")
    return redirect(url_for("resources.brand_page", brand_id=brand.id))


@bp.post("/staff/collections")
@login_required
def create_collection():
    require_roles(*MANAGE_ROLES)
    try:
        data = {k: request.form.get(k, "") for k in ("title", "subject_kind", "subject", "description")}
        data |= {
            "is_published": request.form.get("is_published") == "y",
            "resource_ids": request.form.getlist("resource_ids", type=int),
        }
        collection = services.create_collection(_venue_from_form(), data=data, actor=current_user)
    except DomainError as err:
        return _staff_page(show_domain_error(None, err))
    flash(_("Collection created."), "success")
    return redirect(url_for("resources.collection_page", collection_id=collection.id))


def register_template_helpers(app) -> None:
    """`recorded_lessons(activity_id)` for the activity page (served by bookings/, which never imports us)."""
    app.jinja_env.globals["recorded_lessons"] = queries.resources_of_activity
