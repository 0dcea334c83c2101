"""The digital resource library (数字资源库): recorded lessons, lectures and performances, image sets and
documents; local-culture collections (地方特色资源库) that group them by subject; plays, the remote
service counted beside on-site attendance; and culture brands (文化品牌) that group activities.

A resource's bytes live under UPLOAD_DIR/resources/; the row holds what the upload check found (kind and
content type, sniffed from the bytes) and, once the background job has probed the file with ffprobe,
its duration and poster frame. Only a `ready` resource is public.
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from activities.models import Activity, Category
from core.db import utcnow
from core.extensions import db
from venues.models import Venue


class ResourceKind(enum.StrEnum):
    video = "video"
    audio = "audio"
    image = "image"
    document = "document"


KIND_LABELS = {
    ResourceKind.video: _l("Video"),
    ResourceKind.audio: _l("Audio"),
    ResourceKind.image: _l("Image"),
    ResourceKind.document: _l("Document"),
}
MEDIA_KINDS = (ResourceKind.video, ResourceKind.audio)


class ResourceStatus(enum.StrEnum):
    processing = "processing"
    ready = "ready"
    rejected = "rejected"
    withdrawn = "withdrawn"


STATUS_LABELS = {
    ResourceStatus.processing: _l("Being processed"),
    ResourceStatus.ready: _l("Published"),
    ResourceStatus.rejected: _l("Refused: the file cannot be read"),
    ResourceStatus.withdrawn: _l("Withdrawn"),
}


class SubjectKind(enum.StrEnum):
    heritage_item = "heritage_item"
    folk_artist = "folk_artist"
    village_tradition = "village_tradition"
    other = "other"


SUBJECT_LABELS = {
    SubjectKind.heritage_item: _l("Intangible-heritage item"),
    SubjectKind.folk_artist: _l("Folk artist"),
    SubjectKind.village_tradition: _l("Village tradition"),
    SubjectKind.other: _l("Local culture"),
}


class Brand(db.Model):
    """A culture brand (油城春潮, a township's 一镇一品牌 project): activities across venues and years.

    Its owner venue's staff (and those above) edit it; activities join it by `activities.brand_id`.
    """

    __tablename__ = "brands"
    __table_args__ = (sa.UniqueConstraint("venue_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str | None] = mapped_column(sa.String(150))
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    venue: Mapped[Venue] = relationship(lazy="joined")

    def can_manage(self, user) -> bool:
        """Staff whose scope covers the brand's owner venue."""
        return self.venue.can_manage(user)


collection_resources = sa.Table(
    "collection_resources",
    db.metadata,
    sa.Column("collection_id", sa.ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("resource_id", sa.ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False, default=0),
)


class Resource(db.Model):
    """One item of the library: a file of a checked kind, with its description and where it belongs."""

    __tablename__ = "resources"
    __table_args__ = (
        sa.CheckConstraint("size_bytes >= 0", name="size_not_negative"),
        sa.CheckConstraint("duration_seconds IS NULL OR duration_seconds >= 0", name="duration_not_negative"),
        sa.Index("ix_resources_status_venue", "status", "venue_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ResourceKind] = mapped_column(sa.Enum(ResourceKind, native_enum=False, length=20))
    status: Mapped[ResourceStatus] = mapped_column(
        sa.Enum(ResourceStatus, native_enum=False, length=20), default=ResourceStatus.processing
    )
    title: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    category: Mapped[Category] = mapped_column(
        sa.Enum(Category, native_enum=False, length=20), default=Category.general
    )
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id"), index=True)
    activity_id: Mapped[int | None] = mapped_column(sa.ForeignKey("activities.id", ondelete="SET NULL"), index=True)
    brand_id: Mapped[int | None] = mapped_column(sa.ForeignKey("brands.id", ondelete="SET NULL"), index=True)
    heritage_item: Mapped[str] = mapped_column(sa.String(100), default="")
    licence: Mapped[str] = mapped_column(sa.String(300), default="")
    original_name: Mapped[str] = mapped_column(sa.String(200), default="")
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    duration_seconds: Mapped[float | None]
    poster_name: Mapped[str | None] = mapped_column(sa.String(80))
    problem: Mapped[str] = mapped_column(sa.String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    processed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]

    venue: Mapped[Venue] = relationship(lazy="joined")
    activity: Mapped[Activity | None] = relationship()
    brand: Mapped[Brand | None] = relationship()

    def can_manage(self, user) -> bool:
        """Staff whose scope covers the resource's venue."""
        return self.venue.can_manage(user)

    @property
    def is_public(self) -> bool:
        return self.status == ResourceStatus.ready

    @property
    def is_playable(self) -> bool:
        return self.kind in MEDIA_KINDS

    def is_visible_to(self, user) -> bool:
        """Residents see published resources; staff in scope see theirs in every state."""
        return self.is_public or self.can_manage(user)


class Collection(db.Model):
    """A local-culture collection: resources about one subject (a heritage item, a folk artist, a village
    tradition), described, with its own public page once published."""

    __tablename__ = "collections"

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(100))
    subject_kind: Mapped[SubjectKind] = mapped_column(
        sa.Enum(SubjectKind, native_enum=False, length=20), default=SubjectKind.other
    )
    subject: Mapped[str] = mapped_column(sa.String(100), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    is_published: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    venue: Mapped[Venue] = relationship(lazy="joined")
    resources: Mapped[list[Resource]] = relationship(
        secondary=collection_resources, order_by=collection_resources.c.position
    )

    def can_manage(self, user) -> bool:
        return self.venue.can_manage(user)

    def is_visible_to(self, user) -> bool:
        return self.is_published or self.can_manage(user)

    @property
    def public_resources(self) -> list[Resource]:
        return [r for r in self.resources if r.is_public]


class Play(db.Model):
    """One counted play (线上服务人次): a viewer, a resource, a local day; never more than one of each.

    `viewer_key` is a keyed hash of the account or of the device's random id together with the resource
    and the day, so a play can be de-duplicated without keeping who played it (nothing personal is
    stored, for residents or anonymous viewers alike).
    """

    __tablename__ = "resource_plays"
    __table_args__ = (
        sa.UniqueConstraint("resource_id", "day", "viewer_key"),
        sa.Index("ix_resource_plays_year_month", "year", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(sa.ForeignKey("resources.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(index=True)
    year: Mapped[int]
    month: Mapped[int]
    viewer_key: Mapped[str] = mapped_column(sa.String(64))
    is_signed_in: Mapped[bool] = mapped_column(default=False)
    played_at: Mapped[datetime] = mapped_column(default=utcnow)

    resource: Mapped[Resource] = relationship()
