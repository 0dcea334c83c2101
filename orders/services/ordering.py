"""Placing an order: a menu item or a custom request (订单式), for a centre in scope or for a group. Every
rule is checked at once (districts, lead time, season, audience range, dates, phone). An account has at
most `ORDERS_OPEN_PER_REQUESTER` open orders (checked under a lock on the account's row, so racing
submissions cannot pass it together). The yearly quota is taken when the provider accepts
(workflow.take_quota); a submission for an item whose quota is already used up is refused at once."""

from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from accounts.models import MANAGE_ROLES, PHONE_RE, User, normalise_phone
from core.db import utcnow
from core.errors import Forbidden, Invalid
from core.extensions import db
from core.i18n import local_today
from orders.models import (
    OPEN_STATUSES,
    SERVICE_POINT_KINDS,
    MenuCategory,
    MenuItem,
    OrderEvent,
    OrderStatus,
    ServiceOrder,
)
from orders.services.workflow import ItemWithdrawn, QuotaReached, TooManyOpenOrders, _announce, quota_left
from venues.models import District, Venue, VenueKind

MAX_DATES = 3


def submit_order(*, data: dict, actor: User, now: datetime | None = None) -> ServiceOrder:
    """Order a menu item (`data["menu_item"]`) or make a custom request (`data["custom"]`: title,
    description, category?) for a station or community in the actor's scope (`venue`) or for a group
    (`group_name`, `address`, `district_code`).

    Raises `ItemWithdrawn`, `Forbidden` (venue outside your scope), `Invalid` with every field problem
    at once (districts, lead time, season, audience range, dates, phone), `QuotaReached` (already used up),
    `TooManyOpenOrders`.
    """
    now = now or utcnow()
    item: MenuItem | None = data.get("menu_item")
    if item is not None and not item.is_published:
        raise ItemWithdrawn()
    fields: dict[str, list[str]] = {}
    venue, district_code = _place(data, actor, fields)
    dates = _dates(data.get("preferred_dates"), item, now, fields)
    custom = _custom(data.get("custom"), fields) if item is None else None
    audience = data.get("audience_size")
    if isinstance(audience, bool) or not isinstance(audience, int) or not 1 <= audience <= 100_000:
        fields["audience_size"] = [_("Enter the expected audience as a whole number.")]
    elif item is not None and not item.audience_min <= audience <= item.audience_max:
        fields["audience_size"] = [
            _("This service is for audiences of %(a)s to %(b)s people.", a=item.audience_min, b=item.audience_max)
        ]
    if item is not None and district_code and not item.serves(district_code):
        fields["venue_id" if venue is not None else "district_code"] = [
            _("This service is not offered in that district.")
        ]
    phone = normalise_phone(data.get("contact_phone") or "")
    if not PHONE_RE.match(phone):
        fields["contact_phone"] = [_("Enter a mobile number such as 13800000000.")]
    notes = (data.get("notes") or "").strip()
    if len(notes) > 1000:
        fields["notes"] = [_("At most %(n)s characters.", n=1000)]
    if fields:
        raise Invalid(fields=fields)
    if item is not None and quota_left(item, dates[0]) == 0:
        raise QuotaReached(
            _(
                "%(title)s has reached its quota of %(n)s for %(year)s.",
                title=item.title,
                n=item.yearly_quota,
                year=dates[0].year,
            )
        )
    _check_open_orders(actor)
    order = ServiceOrder(
        menu_item=item,
        status=OrderStatus.submitted,
        ordering_venue=venue,
        district_code=district_code,
        group_name=(data.get("group_name") or "").strip() or None if venue is None else None,
        address=(data.get("address") or "").strip() if venue is None else venue.address,
        ordered_by_id=actor.id,
        audience_size=audience,
        contact_phone=phone,
        notes=notes,
        submitted_at=now,
        preferred_on_1=dates[0],
        preferred_on_2=dates[1] if len(dates) > 1 else None,
        preferred_on_3=dates[2] if len(dates) > 2 else None,
        provider_venue_id=item.provider_venue_id if item is not None else _default_provider(venue, district_code).id,
        category=item.category if item is not None else custom["category"],
        custom_title=custom["title"] if custom else None,
        custom_description=custom["description"] if custom else "",
    )
    with db.session.begin_nested():
        db.session.add(order)
        db.session.flush()
        order.events.append(OrderEvent(status=OrderStatus.submitted, at=now, actor_id=actor.id, note=notes))
        db.session.flush()
    _announce(order, actor, now)
    return order


def open_orders_of(user: User) -> int:
    """How many of the account's orders await an answer (submitted, or countered and not yet taken up)."""
    stmt = select(func.count()).select_from(ServiceOrder)
    stmt = stmt.where(ServiceOrder.ordered_by_id == user.id, ServiceOrder.status.in_(OPEN_STATUSES))
    return db.session.execute(stmt).scalar_one()


def _check_open_orders(actor: User) -> None:
    """At most ORDERS_OPEN_PER_REQUESTER open orders per account; the account's row lock orders racers."""
    limit = current_app.config.get("ORDERS_OPEN_PER_REQUESTER", 10)
    db.session.execute(select(User.id).where(User.id == actor.id).with_for_update())
    if open_orders_of(actor) >= limit:
        raise TooManyOpenOrders(
            _(
                "You already have %(n)s open orders, the most allowed. Wait for an answer or withdraw one first.",
                n=limit,
            ),
            limit=limit,
        )


def _place(data: dict, actor: User, fields: dict) -> tuple[Venue | None, str | None]:
    """The ordering centre (in the actor's scope) or the group's district."""
    venue: Venue | None = data.get("venue")
    if venue is not None:
        if venue.kind not in SERVICE_POINT_KINDS or not venue.is_active:
            fields["venue_id"] = [_("Order for a township station or a village or community centre.")]
            return None, None
        if not actor.reaches(venue, MANAGE_ROLES):
            raise Forbidden(_("You can order only for a centre in your scope."))
        return venue, venue.district_code
    if data.get("venue_id") is not None:
        fields["venue_id"] = [_("Unknown venue.")]
        return None, None
    if not (data.get("group_name") or "").strip():
        fields["group_name"] = [_("Name your centre, or the group you order for.")]
    elif len(data["group_name"].strip()) > 100:
        fields["group_name"] = [_("At most %(n)s characters.", n=100)]
    if not (data.get("address") or "").strip():
        fields["address"] = [_("Give the address where the service should take place.")]
    elif len(data["address"].strip()) > 200:
        fields["address"] = [_("At most %(n)s characters.", n=200)]
    code = data.get("district_code")
    if not code or db.session.get(District, code) is None:
        fields["district_code"] = [_("Choose the district of the address.")]
        return None, None
    return None, code


def _dates(raw, item: MenuItem | None, now: datetime, fields: dict) -> list[date]:
    """One to three distinct preferred dates, after today, with the item's notice and in its season."""
    dates = list(dict.fromkeys(raw or []))
    if not dates:
        fields["preferred_dates"] = [_("Give at least one preferred date.")]
        return []
    if len(dates) > MAX_DATES:
        fields["preferred_dates"] = [_("Give at most three preferred dates.")]
        return dates
    today = local_today(now)
    earliest = today + timedelta(days=max(1, item.lead_days if item is not None else 1))
    problems = []
    if any(d < earliest for d in dates):
        if item is not None and item.lead_days > 1:
            problems.append(
                _(
                    "The provider needs %(n)s days' notice: choose dates from %(day)s on.",
                    n=item.lead_days,
                    day=earliest.isoformat(),
                )
            )
        else:
            problems.append(_("Choose dates after today."))
    if item is not None and not all(item.is_in_season(d) for d in dates):
        problems.append(
            _(
                "This service is offered from %(a)s to %(b)s.",
                a=item.available_from.isoformat() if item.available_from else "…",
                b=item.available_until.isoformat() if item.available_until else "…",
            )
        )
    if any(d > today + timedelta(days=366) for d in dates):
        problems.append(_("Choose dates within a year."))
    if problems:
        fields["preferred_dates"] = problems
    return dates


def _custom(raw, fields: dict) -> dict:
    raw = raw or {}
    title, description = (raw.get("title") or "").strip(), (raw.get("description") or "").strip()
    if not title:
        fields["custom.title"] = [_("Say in a few words what you need.")]
    elif len(title) > 100:
        fields["custom.title"] = [_("At most %(n)s characters.", n=100)]
    if not description:
        fields["custom.description"] = [_("Describe the need: what, for whom, and why.")]
    elif len(description) > 5000:
        fields["custom.description"] = [_("At most %(n)s characters.", n=5000)]
    category = raw.get("category") or None
    if category is not None and category not in MenuCategory.__members__:
        fields["custom.category"] = [_("Choose a category.")]
        category = None
    return {"title": title, "description": description, "category": MenuCategory(category) if category else None}


def _default_provider(venue: Venue | None, district_code: str | None) -> Venue:
    """Who assesses a custom request: the branch above the centre (or of the group's district), else the hub."""
    if venue is not None:
        ids = venue.ancestor_ids
        branch = db.session.execute(select(Venue).where(Venue.id.in_(ids), Venue.kind == VenueKind.branch)).scalar()
        if branch is not None:
            return branch
    elif district_code:
        branch = db.session.execute(
            select(Venue)
            .where(Venue.kind == VenueKind.branch, Venue.is_active.is_(True), Venue.district_code == district_code)
            .order_by(Venue.id)
        ).scalar()
        if branch is not None:
            return branch
    hub = db.session.execute(select(Venue).where(Venue.kind == VenueKind.hub).order_by(Venue.id)).scalar()
    if hub is None:
        raise Invalid(fields={"venue_id": [_("The network has no hub to send the request to.")]})
    return hub
