"""JSON API for the service menu and orders (docs/api.md): the same services as the pages, no second rule."""

from datetime import date, datetime

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import AwareDatetime, Field

from core.api import ApiBlueprint, OutSchema, Page, Schema, paginate, parse_body
from core.db import MAX_ID, utcnow
from core.errors import Invalid, NotFound
from core.extensions import db
from core.i18n import local_today
from orders import queries, services
from orders.models import MenuCategory, MenuItem, OrderStatus, ServiceOrder
from venues.models import Venue

# Every status an endpoint may answer besides its own: unknown ids, a method on the wrong path, domain refusals.
ERRORS = (404, 405, 409)
api = ApiBlueprint("orders_api", __name__, tag="orders")


# --- schemas -----------------------------------------------------------------------------------------


class MenuQuery(Schema):
    district: str | None = Field(default=None, max_length=40)
    category: MenuCategory | None = None
    provider: int | None = Field(default=None, ge=1, le=MAX_ID)
    q: str | None = Field(default=None, max_length=100)
    page: int = Field(default=1, ge=1, le=10_000)


class MenuItemIn(Schema):
    provider_venue_id: int = Field(ge=1, le=MAX_ID)
    title: str = Field(min_length=1, max_length=100)
    title_en: str | None = Field(default=None, max_length=150)
    category: MenuCategory
    description: str = Field(default="", max_length=5000)
    district_codes: list[str] = Field(min_length=1, max_length=50)
    audience_min: int = Field(default=1, ge=1, le=100_000)
    audience_max: int = Field(default=500, ge=1, le=100_000)
    duration_minutes: int = Field(default=120, ge=1, le=1440)
    lead_days: int = Field(default=14, ge=0, le=365)
    available_from: date | None = None
    available_until: date | None = None
    yearly_quota: int | None = Field(default=None, ge=0, le=100_000)
    daily_capacity: int = Field(default=1, ge=1, le=100)
    host_requirements: str = Field(default="", max_length=500)


class MenuItemOut(OutSchema):
    id: int
    title: str
    title_en: str | None
    category: MenuCategory
    provider_venue_id: int
    provider_name: str
    description: str
    districts: list[str]
    audience_min: int
    audience_max: int
    duration_minutes: int
    lead_days: int
    available_from: date | None
    available_until: date | None
    yearly_quota: int | None
    daily_capacity: int
    host_requirements: str
    is_published: bool
    published_at: datetime | None
    withdrawn_at: datetime | None
    delivered_this_year: int = 0
    mean_rating: float | None = None


class CustomIn(Schema):
    title: str = Field(max_length=100)
    description: str = Field(max_length=5000)
    category: MenuCategory | None = None


class OrderIn(Schema):
    menu_item_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    custom: CustomIn | None = None
    venue_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    group_name: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=200)
    district_code: str | None = Field(default=None, max_length=40)
    preferred_dates: list[date] = Field(default_factory=list, max_length=3)
    audience_size: int = Field(ge=1, le=100_000)
    contact_phone: str = Field(max_length=20)
    notes: str = Field(default="", max_length=1000)


class OrderCreated(OutSchema):
    id: int
    status: OrderStatus


class OrderQuery(Schema):
    status: OrderStatus | None = None
    venue: int | None = Field(default=None, ge=1, le=MAX_ID)
    side: str | None = Field(default=None, pattern="^(provider|orderer)$")
    page: int = Field(default=1, ge=1, le=10_000)


class EventOut(OutSchema):
    status: OrderStatus
    at: datetime
    actor: str
    note: str


class OrderOut(OutSchema):
    id: int
    status: OrderStatus
    menu_item_id: int | None
    title: str
    is_custom: bool
    custom_description: str
    category: MenuCategory | None
    provider_venue_id: int
    provider_name: str
    ordering_venue_id: int | None
    group_name: str | None
    address: str
    district: str
    preferred_dates: list[date]
    audience_size: int
    contact_phone: str
    notes: str
    chosen_on: date | None
    counter_on: date | None
    reply: str
    decline_reason: str
    is_outreach: bool
    activity_id: int | None
    session_id: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    headcount: int | None
    report: str
    photos: list[str] = []
    rating: int | None
    rating_comment: str
    submitted_at: datetime
    answered_at: datetime | None
    days_waiting: int
    events: list[EventOut] = []


class AcceptIn(Schema):
    reply: str = Field(default="", max_length=1000)
    chosen_on: date | None = None
    provider_venue_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class CounterIn(Schema):
    counter_on: date
    reply: str = Field(default="", max_length=1000)


class DeclineIn(Schema):
    reason: str = Field(max_length=1000)


class ScheduleIn(Schema):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    room_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class ScheduleOut(OutSchema):
    id: int
    status: OrderStatus
    activity_id: int
    session_id: int
    is_outreach: bool


class DeliverIn(Schema):
    headcount: int = Field(ge=0, le=100_000)
    report: str = Field(default="", max_length=5000)


class RateIn(Schema):
    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=1000)


class WithdrawIn(Schema):
    reason: str = Field(default="", max_length=1000)


# --- helpers -----------------------------------------------------------------------------------------


def menu_item_out(item: MenuItem, record: dict | None = None) -> MenuItemOut:
    record = record or {}
    return MenuItemOut(
        **{
            name: getattr(item, name)
            for name in MenuItemOut.model_fields
            if name not in {"provider_name", "districts", "delivered_this_year", "mean_rating"}
        },
        provider_name=item.provider.name,
        districts=item.district_codes,
        delivered_this_year=record.get("delivered_this_year", 0),
        mean_rating=record.get("mean_rating"),
    )


def order_out(order: ServiceOrder, *, with_events: bool = False) -> OrderOut:
    skip = {"provider_name", "district", "contact_phone", "days_waiting", "events"}
    # One order (with its steps) shows the provider the phone in full, recorded; lists show it masked.
    if with_events:
        phone = services.contact_phone_for(order, current_user, where="api")
    else:
        phone = order.contact_phone if order.ordered_by_id == current_user.id else order.masked_phone
    events = (
        [EventOut(status=e.status, at=e.at, actor=e.actor.name if e.actor else "", note=e.note) for e in order.events]
        if with_events
        else []
    )
    return OrderOut(
        **{name: getattr(order, name) for name in OrderOut.model_fields if name not in skip},
        provider_name=order.provider.name,
        district=order.district_code,
        contact_phone=phone,
        days_waiting=order.days_waiting(utcnow()),
        events=events,
    )


def _item(item_id: int) -> MenuItem:
    item = db.session.get(MenuItem, item_id)
    if item is None:
        raise NotFound()
    return item


def _order(order_id: int) -> ServiceOrder:
    """An order the caller may see; anyone else's is 404, whoever asks."""
    order = db.session.get(ServiceOrder, order_id)
    if order is None or not order.can_view(current_user):
        raise NotFound()
    return order


def _venue(venue_id: int | None, field: str) -> Venue | None:
    if venue_id is None:
        return None
    venue = db.session.get(Venue, venue_id)
    if venue is None:
        raise Invalid(fields={field: [_("Unknown venue.")]})
    return venue


def _optional_body(model):
    """A body that may be left out entirely (an empty POST), else validated JSON."""
    if not request.get_data():
        return model()
    return parse_body(model)


def _done(order: ServiceOrder):
    return order_out(order, with_events=True)


# --- the menu ----------------------------------------------------------------------------------------


@api.endpoint(
    "/service-menu",
    query=MenuQuery,
    response=Page[MenuItemOut],
    auth=False,
    errors=ERRORS,
    summary="Published menu items by district served and category",
)
def list_menu(params: MenuQuery):
    page = paginate(
        queries.menu_select(
            district=params.district, category=params.category, provider_id=params.provider, q=params.q
        ),
        params.page,
        per_page=50,
    )
    records = queries.item_records([i.id for i in page["items"]], local_today().year)
    return page | {"items": [menu_item_out(i, records.get(i.id)) for i in page["items"]]}


@api.endpoint("/service-menu/<int:item_id>", response=MenuItemOut, auth=False, errors=ERRORS, summary="One menu item")
def get_menu_item(item_id: int):
    item = _item(item_id)
    if not item.is_published and not item.can_manage(current_user):
        raise NotFound()
    return menu_item_out(item, queries.item_records([item.id], local_today().year)[item.id])


@api.endpoint(
    "/service-menu",
    "POST",
    body=MenuItemIn,
    response=MenuItemOut,
    status=201,
    errors=ERRORS,
    summary="Staff: add an item offered by a hub or branch in scope (unpublished)",
)
def create_menu_item(data: MenuItemIn):
    provider = _venue(data.provider_venue_id, "provider_venue_id")
    item = services.save_menu_item(provider, data=data.model_dump(exclude={"provider_venue_id"}), actor=current_user)
    return menu_item_out(item)


@api.endpoint(
    "/service-menu/<int:item_id>",
    "PATCH",
    body=MenuItemIn,
    response=MenuItemOut,
    errors=ERRORS,
    summary="Staff: edit a menu item",
)
def update_menu_item(item_id: int, data: MenuItemIn):
    item = _item(item_id)
    provider = _venue(data.provider_venue_id, "provider_venue_id")
    item = services.save_menu_item(
        provider, data=data.model_dump(exclude={"provider_venue_id"}), actor=current_user, item=item
    )
    return menu_item_out(item)


@api.endpoint(
    "/service-menu/<int:item_id>/publish", "POST", response=MenuItemOut, errors=ERRORS, summary="Staff: publish (上架)"
)
def publish_menu_item(item_id: int):
    item = services.publish_menu_item(_item(item_id), actor=current_user)
    return menu_item_out(item)


@api.endpoint(
    "/service-menu/<int:item_id>/withdraw",
    "POST",
    response=MenuItemOut,
    errors=ERRORS,
    summary="Staff: withdraw (下架)",
)
def withdraw_menu_item(item_id: int):
    item = services.withdraw_menu_item(_item(item_id), actor=current_user)
    return menu_item_out(item)


# --- orders ------------------------------------------------------------------------------------------


@api.endpoint(
    "/service-orders",
    "POST",
    body=OrderIn,
    response=OrderCreated,
    status=201,
    errors=ERRORS,
    summary="Order a menu item, or make a custom request, for a centre in scope or a group",
)
def create_order(data: OrderIn):
    if (data.menu_item_id is None) == (data.custom is None):
        raise Invalid(fields={"menu_item_id": [_("Give either a menu item or a custom request.")]})
    item = None
    if data.menu_item_id is not None:
        item = db.session.get(MenuItem, data.menu_item_id)
        if item is None or (not item.is_published and item.published_at is None):
            raise Invalid(fields={"menu_item_id": [_("Unknown menu item.")]})
    venue = db.session.get(Venue, data.venue_id) if data.venue_id is not None else None
    payload = data.model_dump(exclude={"menu_item_id", "custom"}) | {
        "menu_item": item,
        "venue": venue,
        "custom": data.custom.model_dump() if data.custom else None,
    }
    order = services.submit_order(data=payload, actor=current_user)
    return OrderCreated(id=order.id, status=order.status), 201


@api.endpoint(
    "/service-orders",
    query=OrderQuery,
    response=Page[OrderOut],
    errors=ERRORS,
    summary="Orders in scope: placed by you or your centres, or to answer as provider",
)
def list_orders(params: OrderQuery):
    page = paginate(
        queries.orders_visible_to(current_user, status=params.status, venue_id=params.venue, side=params.side),
        params.page,
    )
    return page | {"items": [order_out(o) for o in page["items"]]}


@api.endpoint("/service-orders/<int:order_id>", response=OrderOut, errors=ERRORS, summary="One order with every step")
def get_order(order_id: int):
    return order_out(_order(order_id), with_events=True)


@api.endpoint(
    "/service-orders/<int:order_id>/accept",
    "POST",
    body=AcceptIn,
    response=OrderOut,
    errors=ERRORS,
    summary="Provider: accept for one of the preferred dates",
)
def accept_order(order_id: int, data: AcceptIn):
    order = _order(order_id)
    provider = _venue(data.provider_venue_id, "provider_venue_id")
    services.accept_order(order, actor=current_user, chosen_on=data.chosen_on, reply=data.reply, provider=provider)
    return _done(order)


@api.endpoint(
    "/service-orders/<int:order_id>/counter",
    "POST",
    body=CounterIn,
    response=OrderOut,
    errors=ERRORS,
    summary="Provider: propose another date",
)
def counter_order(order_id: int, data: CounterIn):
    order = _order(order_id)
    services.counter_order(order, actor=current_user, counter_on=data.counter_on, reply=data.reply)
    return _done(order)


@api.endpoint(
    "/service-orders/<int:order_id>/accept-counter",
    "POST",
    response=OrderOut,
    errors=ERRORS,
    summary="Orderer: accept the proposed date",
)
def accept_counter(order_id: int):
    order = _order(order_id)
    services.accept_counter(order, actor=current_user)
    return _done(order)


@api.endpoint(
    "/service-orders/<int:order_id>/decline",
    "POST",
    body=DeclineIn,
    response=OrderOut,
    errors=ERRORS,
    summary="Provider: decline with a reason the orderer reads",
)
def decline_order(order_id: int, data: DeclineIn):
    order = _order(order_id)
    services.decline_order(order, actor=current_user, reason=data.reason)
    return _done(order)


@api.endpoint(
    "/service-orders/<int:order_id>/schedule",
    "POST",
    body=ScheduleIn,
    response=ScheduleOut,
    errors=ERRORS,
    summary="Provider: schedule on the agreed date: an event residents can book",
)
def schedule_order(order_id: int, data: ScheduleIn):
    order = _order(order_id)
    services.schedule_order(
        order, actor=current_user, starts_at=data.starts_at, ends_at=data.ends_at, room_id=data.room_id
    )
    return ScheduleOut.model_validate(order)


@api.endpoint(
    "/service-orders/<int:order_id>/deliver",
    "POST",
    body=DeliverIn,
    response=OrderOut,
    errors=ERRORS,
    summary="Record delivery: headcount and a short record (活动纪实)",
)
def deliver_order(order_id: int, data: DeliverIn):
    order = _order(order_id)
    services.deliver_order(order, actor=current_user, headcount=data.headcount, report=data.report)
    return _done(order)


@api.endpoint(
    "/service-orders/<int:order_id>/rate",
    "POST",
    body=RateIn,
    response=OrderOut,
    errors=ERRORS,
    summary="Orderer: rate 1-5 with a comment, once",
)
def rate_order(order_id: int, data: RateIn):
    order = _order(order_id)
    services.rate_order(order, actor=current_user, rating=data.rating, comment=data.comment)
    return _done(order)


@api.endpoint(
    "/service-orders/<int:order_id>/withdraw",
    "POST",
    response=OrderOut,
    errors=ERRORS,
    summary="Orderer: withdraw before it is scheduled (optional body {reason})",
)
def withdraw_order(order_id: int):
    order = _order(order_id)
    data = _optional_body(WithdrawIn)
    services.withdraw_order(order, actor=current_user, reason=data.reason)
    return _done(order)
