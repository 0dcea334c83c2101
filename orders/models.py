"""The service menu (菜单式) and service orders (订单式): items, orders, their steps and the counters
that keep yearly quotas and a provider's daily capacity true under concurrency.

The order's state machine lives in the database: every step is one conditional
`UPDATE service_orders SET status = :new WHERE id = :id AND status IN (:expected)` (orders.services),
so two staff clicking at once cannot both move an order. Quotas and days are counted in
`menu_item_loads` rows moved by one conditional UPDATE each (`used < :limit`), never check-then-insert.
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import MANAGE_ROLES, User
from activities.models import Activity
from core.db import utcnow
from core.extensions import db
from venues.models import District, Venue, VenueKind

PROVIDER_KINDS = (VenueKind.hub, VenueKind.branch)
SERVICE_POINT_KINDS = (VenueKind.station, VenueKind.community)


class MenuCategory(enum.StrEnum):
    performance = "performance"
    film = "film"
    lecture = "lecture"
    training = "training"
    exhibition = "exhibition"
    heritage = "heritage"


CATEGORY_LABELS = {
    MenuCategory.performance: _l("Touring performance"),
    MenuCategory.film: _l("Film screening"),
    MenuCategory.lecture: _l("Lecture"),
    MenuCategory.training: _l("Training and coaching"),
    MenuCategory.exhibition: _l("Touring exhibition"),
    MenuCategory.heritage: _l("Intangible-heritage workshop"),
}


class OrderStatus(enum.StrEnum):
    submitted = "submitted"
    accepted = "accepted"
    declined = "declined"
    countered = "countered"
    scheduled = "scheduled"
    delivered = "delivered"
    rated = "rated"
    withdrawn = "withdrawn"


STATUS_LABELS = {
    OrderStatus.submitted: _l("Submitted"),
    OrderStatus.accepted: _l("Accepted"),
    OrderStatus.declined: _l("Declined"),
    OrderStatus.countered: _l("Another date proposed"),
    OrderStatus.scheduled: _l("Scheduled"),
    OrderStatus.delivered: _l("Delivered"),
    OrderStatus.rated: _l("Rated"),
    OrderStatus.withdrawn: _l("Withdrawn"),
}
# Orders that still use a unit of the item's yearly quota.
QUOTA_STATUSES = (
    OrderStatus.submitted,
    OrderStatus.countered,
    OrderStatus.accepted,
    OrderStatus.scheduled,
    OrderStatus.delivered,
    OrderStatus.rated,
)
# Orders that hold a day of the provider's calendar.
DAY_STATUSES = (OrderStatus.accepted, OrderStatus.scheduled, OrderStatus.delivered, OrderStatus.rated)
OPEN_STATUSES = (OrderStatus.submitted, OrderStatus.countered)


menu_item_districts = sa.Table(
    "menu_item_districts",
    db.Model.metadata,
    sa.Column("menu_item_id", sa.ForeignKey("menu_items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("district_code", sa.ForeignKey("districts.code"), primary_key=True),
)


class MenuItem(db.Model):
    """A service the hub or a branch can bring (上架 when published, 下架 when withdrawn)."""

    __tablename__ = "menu_items"
    __table_args__ = (
        sa.CheckConstraint("audience_min >= 1 AND audience_min <= audience_max", name="audience_range"),
        sa.CheckConstraint("lead_days >= 0", name="lead_days_not_negative"),
        sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
        sa.CheckConstraint("yearly_quota IS NULL OR yearly_quota >= 0", name="quota_not_negative"),
        sa.CheckConstraint("daily_capacity >= 1", name="daily_capacity_positive"),
        sa.CheckConstraint(
            "available_from IS NULL OR available_until IS NULL OR available_from <= available_until",
            name="season_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(100))
    title_en: Mapped[str | None] = mapped_column(sa.String(150))
    category: Mapped[MenuCategory] = mapped_column(sa.Enum(MenuCategory, native_enum=False, length=20), index=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    audience_min: Mapped[int] = mapped_column(default=1)
    audience_max: Mapped[int] = mapped_column(default=500)
    duration_minutes: Mapped[int] = mapped_column(default=120)
    lead_days: Mapped[int] = mapped_column(default=14)
    available_from: Mapped[date | None]
    available_until: Mapped[date | None]
    yearly_quota: Mapped[int | None]
    daily_capacity: Mapped[int] = mapped_column(default=1)
    host_requirements: Mapped[str] = mapped_column(sa.String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]

    provider: Mapped[Venue] = relationship(lazy="joined")
    districts: Mapped[list[District]] = relationship(
        secondary=menu_item_districts, lazy="selectin", order_by=District.position
    )

    @property
    def is_published(self) -> bool:
        return self.published_at is not None and self.withdrawn_at is None

    @property
    def district_codes(self) -> list[str]:
        return [d.code for d in self.districts]

    def serves(self, district_code: str) -> bool:
        return district_code in self.district_codes

    def is_in_season(self, day: date) -> bool:
        return (self.available_from is None or self.available_from <= day) and (
            self.available_until is None or day <= self.available_until
        )

    def can_manage(self, user) -> bool:
        """Staff whose scope covers the providing hub or branch."""
        return bool(user and user.is_authenticated and user.reaches(self.provider, MANAGE_ROLES))


class MenuItemLoad(db.Model):
    """How much of an item is used in a period: a year ('2026', the quota) or a day ('2026-12-10').

    Moved only by `UPDATE ... SET used = used + 1 WHERE used < :limit`, so the limit holds whatever
    the concurrency; the row's own lock (PostgreSQL) or the serialised writer (SQLite) orders racers.
    """

    __tablename__ = "menu_item_loads"
    __table_args__ = (
        sa.UniqueConstraint("menu_item_id", "period"),
        sa.CheckConstraint("used >= 0", name="used_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    menu_item_id: Mapped[int] = mapped_column(sa.ForeignKey("menu_items.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(sa.String(10))
    used: Mapped[int] = mapped_column(default=0)


class ServiceOrder(db.Model):
    """An order for a menu item, or a custom request (订单式) when there is no item.

    Placed by staff for a station or community in their scope (`ordering_venue`), or by a resident for
    a group at an address in a served district. Provider-side staff answer it in the provider's scope.
    """

    __tablename__ = "service_orders"
    __table_args__ = (
        sa.CheckConstraint("audience_size >= 1", name="audience_positive"),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        sa.CheckConstraint("headcount IS NULL OR headcount >= 0", name="headcount_not_negative"),
        sa.CheckConstraint("menu_item_id IS NOT NULL OR custom_title IS NOT NULL", name="item_or_custom"),
        sa.CheckConstraint("ordering_venue_id IS NOT NULL OR group_name IS NOT NULL", name="venue_or_group"),
        sa.Index("ix_service_orders_status_provider", "status", "provider_venue_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    menu_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("menu_items.id"), index=True)
    custom_title: Mapped[str | None] = mapped_column(sa.String(100))
    custom_description: Mapped[str] = mapped_column(sa.Text, default="")
    category: Mapped[MenuCategory | None] = mapped_column(sa.Enum(MenuCategory, native_enum=False, length=20))
    status: Mapped[OrderStatus] = mapped_column(
        sa.Enum(OrderStatus, native_enum=False, length=20), default=OrderStatus.submitted
    )
    provider_venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venues.id"))
    ordering_venue_id: Mapped[int | None] = mapped_column(sa.ForeignKey("venues.id"), index=True)
    group_name: Mapped[str | None] = mapped_column(sa.String(100))
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    district_code: Mapped[str] = mapped_column(sa.ForeignKey("districts.code"), index=True)
    ordered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    preferred_on_1: Mapped[date]
    preferred_on_2: Mapped[date | None]
    preferred_on_3: Mapped[date | None]
    audience_size: Mapped[int]
    contact_phone: Mapped[str] = mapped_column(sa.String(20))
    notes: Mapped[str] = mapped_column(sa.String(1000), default="")
    quota_period: Mapped[str | None] = mapped_column(sa.String(10))
    chosen_on: Mapped[date | None]
    counter_on: Mapped[date | None]
    reply: Mapped[str] = mapped_column(sa.String(1000), default="")
    decline_reason: Mapped[str] = mapped_column(sa.String(1000), default="")
    is_outreach: Mapped[bool] = mapped_column(default=False)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    activity_id: Mapped[int | None] = mapped_column(sa.ForeignKey("activities.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sessions.id"))
    headcount: Mapped[int | None]
    report: Mapped[str] = mapped_column(sa.Text, default="")
    photos: Mapped[list] = mapped_column(sa.JSON, default=list)
    rating: Mapped[int | None]
    rating_comment: Mapped[str] = mapped_column(sa.String(1000), default="")
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    scheduled_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    rated_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    menu_item: Mapped[MenuItem | None] = relationship(lazy="joined")
    provider: Mapped[Venue] = relationship(foreign_keys=[provider_venue_id], lazy="joined")
    ordering_venue: Mapped[Venue | None] = relationship(foreign_keys=[ordering_venue_id], lazy="joined")
    district: Mapped[District] = relationship(lazy="joined")
    ordered_by: Mapped[User] = relationship(lazy="joined")
    activity: Mapped[Activity | None] = relationship()
    events: Mapped[list["OrderEvent"]] = relationship(
        back_populates="order", order_by="OrderEvent.id", cascade="all, delete-orphan"
    )

    @property
    def title(self) -> str:
        return self.menu_item.title if self.menu_item is not None else (self.custom_title or "")

    @property
    def title_en(self) -> str | None:
        return self.menu_item.title_en if self.menu_item is not None else None

    @property
    def is_custom(self) -> bool:
        return self.menu_item_id is None

    @property
    def preferred_dates(self) -> list[date]:
        return [d for d in (self.preferred_on_1, self.preferred_on_2, self.preferred_on_3) if d is not None]

    @property
    def masked_phone(self) -> str:
        from accounts.models import mask_phone

        return mask_phone(self.contact_phone)

    @property
    def where(self) -> str:
        return self.ordering_venue.name if self.ordering_venue is not None else f"{self.group_name} · {self.address}"

    def is_orderer(self, user) -> bool:
        """The person who placed it, or staff of the ordering centre's side: their scope covers the centre
        but not the provider (so a branch cannot accept its own counter-proposal for a village below it)."""
        if not (user and user.is_authenticated):
            return False
        if user.id == self.ordered_by_id:
            return True
        return (
            self.ordering_venue is not None
            and user.reaches(self.ordering_venue, MANAGE_ROLES)
            and not self.is_provider(user)
        )

    def is_provider(self, user) -> bool:
        """Staff whose scope covers the providing hub or branch."""
        return bool(user and user.is_authenticated and user.reaches(self.provider, MANAGE_ROLES))

    def can_view(self, user) -> bool:
        return self.is_orderer(user) or self.is_provider(user)

    def days_waiting(self, now: datetime) -> int:
        return max(0, (now - self.submitted_at).days)


class OrderEvent(db.Model):
    """One step of an order, timestamped, with who did it and what they said; both sides see it."""

    __tablename__ = "service_order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("service_orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[OrderStatus] = mapped_column(sa.Enum(OrderStatus, native_enum=False, length=20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(sa.String(1000), default="")

    order: Mapped[ServiceOrder] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(lazy="joined")
