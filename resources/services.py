"""Writes of the digital library: uploads (streamed to disk, sniffed, size-limited), edits, withdrawal,
collections, brands, and plays. Flush, never commit; raise domain errors with stable codes.

A failed upload leaves nothing behind: the partial file is removed before the error is raised, and the
row is only added once the bytes are safely stored under their final name.
"""

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from accounts.models import User
from activities.models import Activity, Category
from core import audit
from core.db import utcnow
from core.errors import DomainError, Forbidden, Invalid, NotFound
from core.extensions import db
from core.i18n import local_today
from resources.models import (
    Brand,
    Collection,
    Play,
    Resource,
    ResourceKind,
    ResourceStatus,
    SubjectKind,
    collection_resources,
)
from venues.models import Venue

CHUNK = 64 * 1024
HEAD = 64
RESOURCE_FIELDS = ("title", "description", "category", "heritage_item", "licence")


class UnsupportedType(DomainError):
    code = "unsupported_type"
    status = 415
    message = _l(
        "This kind of file is not accepted: upload a video (MP4, WebM), audio (MP3, M4A, Ogg, WAV), "
        "an image (JPEG, PNG, WebP) or a PDF document."
    )


class TooLarge(DomainError):
    code = "too_large"
    status = 413
    message = _l("The file is larger than the library accepts.")


class NotPublic(DomainError):
    code = "not_published"
    status = 409
    message = _l("This resource is not published.")


@dataclass
class Stored:
    """An upload written to disk: its final name, size and what its bytes are."""

    name: str
    size: int
    kind: ResourceKind
    content_type: str


def sniff(head: bytes) -> tuple[ResourceKind, str]:
    """What a file is, from its first bytes (never its name or the browser's claim); UnsupportedType else."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return ResourceKind.audio, "audio/mp4"
        return ResourceKind.video, "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return ResourceKind.video, "video/webm"
    if head.startswith(b"OggS"):
        return ResourceKind.audio, "audio/ogg"
    if head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return ResourceKind.audio, "audio/mpeg"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return ResourceKind.audio, "audio/wav"
    if head.startswith(b"fLaC"):
        return ResourceKind.audio, "audio/flac"
    if head.startswith(b"\xff\xd8\xff"):
        return ResourceKind.image, "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ResourceKind.image, "image/png"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return ResourceKind.image, "image/webp"
    if head.startswith(b"%PDF-"):
        return ResourceKind.document, "application/pdf"
    raise UnsupportedType(fields={"file": [str(UnsupportedType.message)]})


def library_dir(upload_dir: str | Path) -> Path:
    return Path(upload_dir) / "resources"


def store_upload(stream: BinaryIO, *, upload_dir: str | Path, max_bytes: int) -> Stored:
    """Copy an upload to UPLOAD_DIR/resources in chunks (never whole in memory), checking its type from the
    first bytes and its size as it goes. Raises UnsupportedType or TooLarge, leaving no file behind."""
    head = stream.read(HEAD)
    if not head:
        raise Invalid(fields={"file": [_("The file is empty.")]})
    kind, content_type = sniff(head)
    folder = library_dir(upload_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(12)}{EXTENSIONS[content_type]}"
    partial = folder / f".{name}.part"
    size = 0
    try:
        with partial.open("wb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(fields={"file": [_("At most %(mb)s MB.", mb=max_bytes // (1024 * 1024) or 1)]})
                out.write(chunk)
                chunk = stream.read(CHUNK)
        os.replace(partial, folder / name)
    finally:
        partial.unlink(missing_ok=True)
    return Stored(name=name, size=size, kind=kind, content_type=content_type)


EXTENSIONS = {
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "audio/mp4": ".m4a",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/wav": ".wav",
    "audio/flac": ".flac",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}


def _fields(data: dict, *, partial: bool) -> dict:
    """Check the describing fields together; returns the clean ones. Raises Invalid with a message per field."""
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    limits = {"title": 100, "heritage_item": 100, "licence": 300, "description": 20_000}
    for name, limit in limits.items():
        if name not in data and partial:
            continue
        value = (data.get(name) or "").strip()
        if name == "title" and not value:
            errors[name] = [_("Give a title.")]
        elif len(value) > limit:
            errors[name] = [_("At most %(n)s characters.", n=limit)]
        clean[name] = value
    if "category" in data or not partial:
        try:
            clean["category"] = Category(data.get("category") or "general")
        except ValueError:
            errors["category"] = [_("Choose a category.")]
    if errors:
        raise Invalid(fields=errors)
    return clean


def _links(venue: Venue, data: dict, actor: User) -> dict:
    """The optional activity (course or event, in the actor's scope) and brand a resource belongs to."""
    links: dict = {}
    if data.get("activity_id"):
        activity = db.session.get(Activity, data["activity_id"])
        if activity is None:
            raise Invalid(fields={"activity_id": [_("No such activity.")]})
        if not activity.can_manage(actor):
            raise Forbidden(_("This activity is outside your scope."))
        links["activity_id"] = activity.id
    elif "activity_id" in data:
        links["activity_id"] = None
    if data.get("brand_id"):
        if db.session.get(Brand, data["brand_id"]) is None:
            raise Invalid(fields={"brand_id": [_("No such brand.")]})
        links["brand_id"] = data["brand_id"]
    elif "brand_id" in data:
        links["brand_id"] = None
    return links


def create_resource(
    venue: Venue,
    *,
    data: dict,
    stream: BinaryIO,
    filename: str,
    actor: User,
    upload_dir: str | Path,
    max_bytes: int,
    now: datetime | None = None,
) -> Resource:
    """Publish a resource at `venue` (in the actor's scope): checks the fields, stores the bytes, and adds the
    row as `processing`, for the background job to probe. Raises Forbidden, Invalid, UnsupportedType, TooLarge."""
    if not venue.can_manage(actor):
        raise Forbidden()
    clean = _fields(data, partial=False)
    links = _links(venue, data, actor)
    stored = store_upload(stream, upload_dir=upload_dir, max_bytes=max_bytes)
    now = now or utcnow()
    resource = Resource(
        venue=venue,
        kind=stored.kind,
        content_type=stored.content_type,
        stored_name=stored.name,
        size_bytes=stored.size,
        original_name=(filename or "")[:200],
        status=ResourceStatus.processing,
        created_by_id=actor.id,
        created_at=now,
        **clean,
        **links,
    )
    try:
        db.session.add(resource)
        db.session.flush()
    except Exception:
        (library_dir(upload_dir) / stored.name).unlink(missing_ok=True)
        raise
    audit.record(actor, "resource.create", resource, {"title": resource.title, "kind": str(resource.kind)}, now=now)
    return resource


def update_resource(resource: Resource, *, data: dict, actor: User) -> Resource:
    """Edit what describes a resource (title, category, licence, links); the file itself never changes."""
    if not resource.can_manage(actor):
        raise Forbidden()
    clean = _fields(data, partial=True)
    clean.update(_links(resource.venue, data, actor))
    for name, value in clean.items():
        setattr(resource, name, value)
    db.session.flush()
    audit.record(actor, "resource.update", resource, {"fields": sorted(clean)})
    return resource


def withdraw_resource(resource: Resource, *, actor: User, now: datetime | None = None) -> Resource:
    """Take a resource off the public library (its plays stay counted)."""
    if not resource.can_manage(actor):
        raise Forbidden()
    resource.status = ResourceStatus.withdrawn
    db.session.flush()
    audit.record(actor, "resource.withdraw", resource, now=now)
    return resource


def record_play(resource: Resource, *, user, device_id: str | None, now: datetime | None = None) -> bool:
    """Count one play of a published resource for a viewer and local day; True when it was counted, False
    when that viewer already played it that day. Anonymous viewers are told apart by the random id their
    device keeps (nothing else); only a keyed hash of it is stored. Raises NotPublic, Invalid."""
    if not resource.is_public:
        raise NotPublic()
    signed_in = bool(user is not None and getattr(user, "is_authenticated", False))
    if signed_in:
        viewer = f"u:{user.id}"
    elif device_id:
        viewer = f"d:{device_id}"
    else:
        raise Invalid(fields={"device_id": [_("Send the device's viewer id.")]})
    now = now or utcnow()
    day = local_today(now)
    secret = str(current_app.config["SECRET_KEY"]).encode()
    key = hmac.new(secret, f"play:{resource.id}:{day.isoformat()}:{viewer}".encode(), hashlib.sha256).hexdigest()
    try:
        with db.session.begin_nested():
            db.session.add(
                Play(
                    resource_id=resource.id,
                    day=day,
                    year=day.year,
                    month=day.month,
                    viewer_key=key,
                    is_signed_in=signed_in,
                    played_at=now,
                )
            )
            db.session.flush()
    except IntegrityError:
        return False
    return True


# --- collections -------------------------------------------------------------------------------------


def _collection_fields(data: dict, *, partial: bool) -> dict:
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    for name, limit in (("title", 100), ("subject", 100), ("description", 20_000)):
        if name not in data and partial:
            continue
        value = (data.get(name) or "").strip()
        if name == "title" and not value:
            errors[name] = [_("Give a title.")]
        elif len(value) > limit:
            errors[name] = [_("At most %(n)s characters.", n=limit)]
        clean[name] = value
    if "subject_kind" in data or not partial:
        try:
            clean["subject_kind"] = SubjectKind(data.get("subject_kind") or "other")
        except ValueError:
            errors["subject_kind"] = [_("Choose what the collection is about.")]
    if "is_published" in data:
        clean["is_published"] = bool(data["is_published"])
    if errors:
        raise Invalid(fields=errors)
    return clean


def create_collection(venue: Venue, *, data: dict, actor: User, now: datetime | None = None) -> Collection:
    """A local-culture collection at `venue` (in scope), with the resources of `data['resource_ids']`."""
    if not venue.can_manage(actor):
        raise Forbidden()
    collection = Collection(
        venue=venue, created_by_id=actor.id, created_at=now or utcnow(), **_collection_fields(data, partial=False)
    )
    db.session.add(collection)
    db.session.flush()
    if data.get("resource_ids") is not None:
        _set_resources(collection, data["resource_ids"], actor)
    audit.record(actor, "collection.create", collection, {"title": collection.title}, now=now)
    return collection


def update_collection(collection: Collection, *, data: dict, actor: User) -> Collection:
    """Edit a collection; `resource_ids`, when given, replaces its resources in that order."""
    if not collection.can_manage(actor):
        raise Forbidden()
    for name, value in _collection_fields(data, partial=True).items():
        setattr(collection, name, value)
    if data.get("resource_ids") is not None:
        _set_resources(collection, data["resource_ids"], actor)
    db.session.flush()
    audit.record(actor, "collection.update", collection, {"fields": sorted(data)})
    return collection


def _set_resources(collection: Collection, ids: list[int], actor: User) -> None:
    """Put the resources in order: each published, or one the actor manages. Raises Invalid for the others."""
    ids = list(dict.fromkeys(int(i) for i in ids))
    found = {r.id: r for r in db.session.execute(db.select(Resource).where(Resource.id.in_(ids))).scalars()}
    bad = [i for i in ids if i not in found or not found[i].is_visible_to(actor)]
    if bad:
        raise Invalid(fields={"resource_ids": [_("Unknown resources: %(ids)s.", ids=", ".join(map(str, bad)))]})
    db.session.execute(collection_resources.delete().where(collection_resources.c.collection_id == collection.id))
    if ids:
        db.session.execute(
            collection_resources.insert(),
            [{"collection_id": collection.id, "resource_id": i, "position": n} for n, i in enumerate(ids)],
        )
    db.session.expire(collection, ["resources"])


# --- brands ------------------------------------------------------------------------------------------


def _brand_fields(data: dict, *, partial: bool) -> dict:
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    for name, limit in (("name", 100), ("name_en", 150), ("summary", 300), ("description", 20_000)):
        if name not in data and partial:
            continue
        value = (data.get(name) or "").strip()
        if name == "name" and not value:
            errors[name] = [_("Give the brand a name.")]
        elif len(value) > limit:
            errors[name] = [_("At most %(n)s characters.", n=limit)]
        clean[name] = value or (None if name == "name_en" else "")
    if "is_active" in data:
        clean["is_active"] = bool(data["is_active"])
    if errors:
        raise Invalid(fields=errors)
    return clean


class BrandExists(DomainError):
    code = "brand_exists"
    status = 409
    message = _l("This venue already has a brand of that name.")


def create_brand(venue: Venue, *, data: dict, actor: User, now: datetime | None = None) -> Brand:
    """A culture brand owned by `venue` (in the actor's scope). Raises Forbidden, Invalid, BrandExists."""
    if not venue.can_manage(actor):
        raise Forbidden()
    brand = Brand(venue=venue, created_by_id=actor.id, created_at=now or utcnow(), **_brand_fields(data, partial=False))
    try:
        with db.session.begin_nested():
            db.session.add(brand)
            db.session.flush()
    except IntegrityError:
        raise BrandExists(fields={"name": [str(BrandExists.message)]}) from None
    audit.record(actor, "brand.create", brand, {"name": brand.name}, now=now)
    return brand


def update_brand(brand: Brand, *, data: dict, actor: User) -> Brand:
    """Edit a brand's name and description (or retire it with is_active=false)."""
    if not brand.can_manage(actor):
        raise Forbidden()
    try:
        with db.session.begin_nested():
            for name, value in _brand_fields(data, partial=True).items():
                setattr(brand, name, value)
            db.session.flush()
    except IntegrityError:
        raise BrandExists(fields={"name": [str(BrandExists.message)]}) from None
    audit.record(actor, "brand.update", brand, {"fields": sorted(data)})
    return brand


def attach_activity(brand: Brand, activity: Activity, *, actor: User) -> Activity:
    """Make an activity part of a brand: the actor manages the activity, and it lies in the brand's subtree
    (a township's brand takes the township's activities; the hub's brand, the whole network's)."""
    if not activity.can_manage(actor):
        raise Forbidden()
    if not brand.is_active:
        raise DomainError(_("This brand is retired."), code="brand_retired")
    if not activity.venue.is_within(brand.venue):
        raise Invalid(fields={"activity_id": [_("The activity is not held within the brand's venues.")]})
    activity.brand_id = brand.id
    db.session.flush()
    audit.record(actor, "brand.attach", activity, {"brand_id": brand.id})
    return activity


def detach_activity(brand: Brand, activity: Activity, *, actor: User) -> Activity:
    """Take an activity out of a brand. Raises NotFound when it is not part of it."""
    if not activity.can_manage(actor) and not brand.can_manage(actor):
        raise Forbidden()
    if activity.brand_id != brand.id:
        raise NotFound(_("This activity is not part of the brand."))
    activity.brand_id = None
    db.session.flush()
    audit.record(actor, "brand.detach", activity, {"brand_id": brand.id})
    return activity
