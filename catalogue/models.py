"""The public work catalogue of a year and a scope (公共文化工作目录): which lines staff fixed (固化), and what
was published, so that later changes show as such.

The lines themselves are read live from the menu, the activities, the brands and the venues
(catalogue.queries); an edition keeps a snapshot of them at publication.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import utcnow
from core.extensions import db
from venues.models import Venue


class EditionStatus(enum.StrEnum):
    draft = "draft"
    published = "published"


STATUS_LABELS = {EditionStatus.draft: _l("Draft"), EditionStatus.published: _l("Published")}


class CatalogueEdition(db.Model):
    """The catalogue of one year for one venue's subtree; `snapshot` holds its lines as last published."""

    __tablename__ = "catalogue_editions"
    __table_args__ = (
        sa.UniqueConstraint("year", "venue_id"),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    status: Mapped[EditionStatus] = mapped_column(
        sa.Enum(EditionStatus, native_enum=False, length=20), default=EditionStatus.draft
    )
    snapshot: Mapped[list] = mapped_column(sa.JSON, default=list)
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    venue: Mapped[Venue] = relationship(lazy="joined")
    fixes: Mapped[list["CatalogueFix"]] = relationship(
        back_populates="edition", cascade="all, delete-orphan", order_by="CatalogueFix.id"
    )

    @property
    def is_published(self) -> bool:
        return self.status == EditionStatus.published

    @property
    def fixed_keys(self) -> set[str]:
        return {f.item_key for f in self.fixes}

    def can_manage(self, user) -> bool:
        return self.venue.can_manage(user)


class CatalogueFix(db.Model):
    """A line staff marked fixed (固化): a service the public can count on for the year."""

    __tablename__ = "catalogue_fixes"
    __table_args__ = (sa.UniqueConstraint("edition_id", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("catalogue_editions.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(sa.String(40))
    fixed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    fixed_at: Mapped[datetime] = mapped_column(default=utcnow)

    edition: Mapped[CatalogueEdition] = relationship(back_populates="fixes")
