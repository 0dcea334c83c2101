"""JSON API of the digital library, collections, plays and brands (README's API tables list them)."""

from datetime import datetime
from typing import Annotated

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import Field

from accounts.auth import require_roles, require_venue_scope
from accounts.models import MANAGE_ROLES
from activities.models import Activity, Category
from core.api import ApiBlueprint, OutSchema, Schema, paginate, parse_model
from core.db import utcnow
from core.errors import Invalid, NotFound
from core.extensions import db, limiter
from resources import queries, services, uploads
from resources.models import Brand, Collection, Resource, ResourceKind, ResourceStatus, SubjectKind
from venues.models import Venue

MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
ERRORS = (404, 405, 409)
api = ApiBlueprint("resources_api", __name__, tag="resources")


class ResourceQuery(Schema):
    q: str | None = Field(default=None, max_length=50)
    category: Category | None = None
    venue: int | None = Field(default=None, ge=1, le=MAX_ID)
    kind: ResourceKind | None = None
    page: int = Field(default=1, ge=1, le=10_000)


class ResourceOut(OutSchema):
    id: int
    kind: ResourceKind
    status: ResourceStatus
    title: str
    category: Category
    venue_id: int
    activity_id: int | None
    brand_id: int | None
    heritage_item: str
    duration_seconds: float | None
    created_at: datetime


class ResourceDetail(ResourceOut):
    description: str
    licence: str
    content_type: str
    size_bytes: int
    media_url: str
    poster_url: str | None
    plays: int


class ResourcePage(OutSchema):
    items: list[ResourceOut]
    total: int
    page: int


class CreatedOut(OutSchema):
    id: int


class ResourcePatch(Schema):
    title: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=20_000)
    category: Category | None = None
    heritage_item: str | None = Field(default=None, max_length=100)
    licence: str | None = Field(default=None, max_length=300)
    activity_id: Id | None = None
    brand_id: Id | None = None
    withdrawn: bool | None = None


class UploadFields(Schema):
    """The multipart fields beside `file`."""

    title: str = Field(min_length=1, max_length=100)
    category: Category = Category.general
    venue_id: Id
    activity_id: Id | None = None
    brand_id: Id | None = None
    description: str = Field(default="", max_length=20_000)
    heritage_item: str = Field(default="", max_length=100)
    licence: str = Field(default="", max_length=300)


class PlayIn(Schema):
    device_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{8,64}$")


class PlayOut(OutSchema):
    counted: bool
    plays: int


def _owning_venue(venue_id: int) -> tuple[Venue, object]:
    """The venue a new resource, collection or brand belongs to, and the staff member in its scope
    (422 for no such venue, 403 out of scope)."""
    venue = db.session.get(Venue, venue_id)
    if venue is None:
        raise Invalid(fields={"venue_id": [_("No such venue.")]})
    return venue, require_venue_scope(venue)


def _visible(resource_id: int) -> Resource:
    resource = db.session.get(Resource, resource_id)
    if resource is None or not resource.is_visible_to(current_user):
        raise NotFound()
    return resource


def resource_detail(resource: Resource) -> dict:
    from flask import url_for

    data = ResourceOut.model_validate(resource).model_dump()
    return {
        **data,
        "description": resource.description,
        "licence": resource.licence,
        "content_type": resource.content_type,
        "size_bytes": resource.size_bytes,
        "media_url": url_for("resources.media", resource_id=resource.id),
        "poster_url": url_for("resources.poster", resource_id=resource.id) if resource.poster_name else None,
        "plays": queries.play_count(resource.id),
    }


@api.endpoint(
    "/resources",
    query=ResourceQuery,
    response=ResourcePage,
    auth=False,
    errors=ERRORS,
    summary="Search the published digital resources (q, category, venue subtree, kind)",
)
def list_resources(params: ResourceQuery):
    f = queries.ResourceFilters(q=params.q, category=params.category, venue_id=params.venue, kind=params.kind)
    return paginate(queries.resource_select(f), params.page)


@api.endpoint(
    "/resources",
    "POST",
    response=CreatedOut,
    status=201,
    errors=(*ERRORS, 403, 413, 415, 422),
    summary="Upload a resource (multipart: file, title, category, venue_id, optional activity_id, "
    "brand_id, description, heritage_item, licence)",
)
def create_resource():
    require_roles(*MANAGE_ROLES)
    upload = uploads.receive("file")
    form = {k: v for k, v in request.form.items() if v != "" and k != "csrf_token"}  # a browser form sends its token
    fields = parse_model(UploadFields, form)
    venue, actor = _owning_venue(fields.venue_id)
    resource = services.create_resource(
        venue,
        data=fields.model_dump(),
        stream=upload.stream,
        filename=upload.filename or "",
        actor=actor,
        upload_dir=current_app.config["UPLOAD_DIR"],
        max_bytes=uploads.max_bytes(),
    )
    return {"id": resource.id}


@api.endpoint(
    "/resources/<int:resource_id>",
    response=ResourceDetail,
    auth=False,
    errors=ERRORS,
    summary="One resource, with its media and poster addresses and its play count",
)
def get_resource(resource_id: int):
    return resource_detail(_visible(resource_id))


@api.endpoint(
    "/resources/<int:resource_id>",
    "PATCH",
    body=ResourcePatch,
    response=ResourceDetail,
    errors=(*ERRORS, 403),
    summary="Edit a resource's description or links, or withdraw it (staff)",
)
def patch_resource(resource_id: int, data: ResourcePatch):
    resource = _visible(resource_id)
    require_venue_scope(resource.venue)
    fields = data.model_dump(exclude_unset=True)
    withdrawn = fields.pop("withdrawn", None)
    services.update_resource(resource, data=fields, actor=current_user)
    if withdrawn:
        services.withdraw_resource(resource, actor=current_user)
    return resource_detail(resource)


@api.endpoint(
    "/resources/<int:resource_id>/plays",
    "POST",
    body=PlayIn,
    response=PlayOut,
    status=201,
    auth=False,
    errors=ERRORS,
    summary="Record a play (sent by the page's player when playback starts); one per viewer and day",
)
@limiter.limit("60 per minute")  # a script inventing device ids cannot inflate the figures from one address
def record_play(resource_id: int, data: PlayIn):
    resource = _visible(resource_id)
    counted = services.record_play(resource, user=current_user, device_id=data.device_id, now=utcnow())
    return {"counted": counted, "plays": queries.play_count(resource.id)}, 201 if counted else 200


# --- collections ------------------------------------------------------------------------------------


class CollectionOut(OutSchema):
    id: int
    title: str
    subject_kind: SubjectKind
    subject: str
    venue_id: int
    is_published: bool


class CollectionDetail(CollectionOut):
    description: str
    resources: list[ResourceOut]


class CollectionList(OutSchema):
    items: list[CollectionOut]


class CollectionIn(Schema):
    venue_id: Id
    title: str = Field(min_length=1, max_length=100)
    subject_kind: SubjectKind = SubjectKind.other
    subject: str = Field(default="", max_length=100)
    description: str = Field(default="", max_length=20_000)
    is_published: bool = False
    resource_ids: list[Id] = Field(default_factory=list, max_length=500)


class CollectionPatch(Schema):
    title: str | None = Field(default=None, min_length=1, max_length=100)
    subject_kind: SubjectKind | None = None
    subject: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=20_000)
    is_published: bool | None = None
    resource_ids: list[Id] | None = Field(default=None, max_length=500)


def _collection(collection_id: int) -> Collection:
    collection = db.session.get(Collection, collection_id)
    if collection is None or not collection.is_visible_to(current_user):
        raise NotFound()
    return collection


def collection_detail(collection: Collection) -> dict:
    shown = collection.resources if collection.can_manage(current_user) else collection.public_resources
    return {
        **CollectionOut.model_validate(collection).model_dump(),
        "description": collection.description,
        "resources": [ResourceOut.model_validate(r) for r in shown],
    }


@api.endpoint(
    "/collections",
    response=CollectionList,
    auth=False,
    errors=ERRORS,
    summary="The published local-culture collections",
)
def list_collections():
    return {"items": queries.public_collections()}


@api.endpoint(
    "/collections",
    "POST",
    body=CollectionIn,
    response=CollectionDetail,
    status=201,
    errors=(*ERRORS, 403),
    summary="Create a local-culture collection (staff, in scope)",
)
def create_collection(data: CollectionIn):
    venue, actor = _owning_venue(data.venue_id)
    collection = services.create_collection(venue, data=data.model_dump(), actor=actor)
    return collection_detail(collection)


@api.endpoint(
    "/collections/<int:collection_id>",
    response=CollectionDetail,
    auth=False,
    errors=ERRORS,
    summary="One collection with its published resources",
)
def get_collection(collection_id: int):
    return collection_detail(_collection(collection_id))


@api.endpoint(
    "/collections/<int:collection_id>",
    "PATCH",
    body=CollectionPatch,
    response=CollectionDetail,
    errors=(*ERRORS, 403),
    summary="Edit a collection or reorder its resources (staff)",
)
def patch_collection(collection_id: int, data: CollectionPatch):
    collection = _collection(collection_id)
    require_venue_scope(collection.venue)
    services.update_collection(collection, data=data.model_dump(exclude_unset=True), actor=current_user)
    return collection_detail(collection)


# --- brands -----------------------------------------------------------------------------------------


class BrandOut(OutSchema):
    id: int
    name: str
    name_en: str | None
    summary: str
    venue_id: int
    is_active: bool


class BrandFigures(OutSchema):
    sessions_held: int
    attendances: int
    venues_reached: int
    online_plays: int


class BrandDetail(BrandOut):
    description: str
    activity_ids: list[int]
    figures: BrandFigures


class BrandList(OutSchema):
    items: list[BrandOut]


class BrandIn(Schema):
    venue_id: Id
    name: str = Field(min_length=1, max_length=100)
    name_en: str | None = Field(default=None, max_length=150)
    summary: str = Field(default="", max_length=300)
    description: str = Field(default="", max_length=20_000)


class BrandPatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    name_en: str | None = Field(default=None, max_length=150)
    summary: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    is_active: bool | None = None


class AttachIn(Schema):
    activity_id: Id


def _brand(brand_id: int) -> Brand:
    brand = db.session.get(Brand, brand_id)
    if brand is None:
        raise NotFound()
    return brand


def brand_detail(brand: Brand) -> dict:
    activities = queries.brand_activities(brand.id)
    return {
        **BrandOut.model_validate(brand).model_dump(),
        "description": brand.description,
        "activity_ids": [a.id for a in activities],
        "figures": queries.brand_figures(brand.id, utcnow()),
    }


@api.endpoint("/brands", response=BrandList, auth=False, errors=ERRORS, summary="The culture brands")
def list_brands():
    return {"items": queries.public_brands()}


@api.endpoint(
    "/brands",
    "POST",
    body=BrandIn,
    response=BrandDetail,
    status=201,
    errors=(*ERRORS, 403),
    summary="Create a culture brand owned by a venue (staff, in scope)",
)
def create_brand(data: BrandIn):
    venue, actor = _owning_venue(data.venue_id)
    brand = services.create_brand(venue, data=data.model_dump(), actor=actor)
    return brand_detail(brand)


@api.endpoint(
    "/brands/<int:brand_id>",
    response=BrandDetail,
    auth=False,
    errors=ERRORS,
    summary="One brand with its activities and its own figures",
)
def get_brand(brand_id: int):
    return brand_detail(_brand(brand_id))


@api.endpoint(
    "/brands/<int:brand_id>",
    "PATCH",
    body=BrandPatch,
    response=BrandDetail,
    errors=(*ERRORS, 403),
    summary="Edit or retire a brand (staff of its venue)",
)
def patch_brand(brand_id: int, data: BrandPatch):
    brand = _brand(brand_id)
    require_venue_scope(brand.venue)
    services.update_brand(brand, data=data.model_dump(exclude_unset=True), actor=current_user)
    return brand_detail(brand)


@api.endpoint(
    "/brands/<int:brand_id>/activities",
    "POST",
    body=AttachIn,
    response=BrandDetail,
    errors=(*ERRORS, 403),
    summary="Make an activity part of the brand (sets the activity's brand_id)",
)
def attach_activity(brand_id: int, data: AttachIn):
    brand = _brand(brand_id)
    activity = db.session.get(Activity, data.activity_id)
    if activity is None:
        raise Invalid(fields={"activity_id": [_("No such activity.")]})
    require_venue_scope(activity.venue)
    services.attach_activity(brand, activity, actor=current_user)
    return brand_detail(brand)


@api.endpoint(
    "/brands/<int:brand_id>/activities/<int:activity_id>",
    "DELETE",
    response=BrandDetail,
    errors=(*ERRORS, 403),
    summary="Take an activity out of the brand",
)
def detach_activity(brand_id: int, activity_id: int):
    brand = _brand(brand_id)
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        raise NotFound()
    require_roles(*MANAGE_ROLES)
    services.detach_activity(brand, activity, actor=current_user)
    return brand_detail(brand)
