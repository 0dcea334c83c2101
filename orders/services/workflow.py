"""The order workflow after submission: accept / decline / counter, accept the counter, schedule, deliver, rate,
withdraw. Each step is one conditional UPDATE on the order's status (the state machine lives in the
database), a timestamped `OrderEvent`, and a signal. Flush, never commit; every step runs in a
savepoint so a refusal changes nothing.
"""

from contextlib import contextmanager
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from accounts.models import MANAGE_ROLES, User
from activities import services as activity_services
from activities.models import ActivityKind
from core import audit
from core.db import utcnow
from core.errors import DomainError, Forbidden, Invalid, InvalidTransition
from core.extensions import db
from core.i18n import local_today, to_local
from orders import signals
from orders.models import (
    PROVIDER_KINDS,
    SERVICE_POINT_KINDS,
    MenuCategory,
    OrderEvent,
    OrderStatus,
    ServiceOrder,
)
from orders.services import loads, photos
from venues.models import Venue

# What InvalidTransition says here: which object cannot take that step.
NOT_NOW = _l("This step is not possible in the order's current state.")


class ItemWithdrawn(DomainError):
    code = "withdrawn"
    status = 409
    message = _l("This service has been withdrawn from the menu and cannot be ordered.")


class QuotaReached(DomainError):
    code = "quota_reached"
    status = 409
    message = _l("This service has reached its yearly quota.")


class TooManyOpenOrders(DomainError):
    code = "too_many_open_orders"
    status = 409
    message = _l("You already have the most open orders allowed. Wait for an answer or withdraw one first.")


class ProviderBusy(DomainError):
    code = "provider_busy"
    status = 409
    message = _l("The provider is fully booked on that day.")


# --- the provider's answer --------------------------------------------------------------------------


def accept_order(
    order: ServiceOrder,
    *,
    actor: User,
    chosen_on: date | None = None,
    reply: str = "",
    provider: Venue | None = None,
    now: datetime | None = None,
) -> ServiceOrder:
    """Submitted → accepted for one of the preferred dates (default the first), by the provider's staff,
    optionally handing it to another hub or branch in the actor's scope. Takes a day of the item's
    capacity (`ProviderBusy` when full)."""
    now = now or utcnow()
    _require_provider(order, actor)
    chosen_on = chosen_on or order.preferred_on_1
    fields: dict[str, list[str]] = {}
    if chosen_on not in order.preferred_dates:
        fields["chosen_on"] = [_("Choose one of the preferred dates, or propose another date.")]
    elif chosen_on <= local_today(now):
        fields["chosen_on"] = [_("Choose dates after today.")]
    provider = provider or order.provider
    if provider.kind not in PROVIDER_KINDS or not actor.reaches(provider, MANAGE_ROLES):
        fields["provider_venue_id"] = [_("Choose the hub or a branch in your scope.")]
    reply = _text(reply, "reply", fields)
    if fields:
        raise Invalid(fields=fields)
    with _atomic(order):
        _step(
            order,
            OrderStatus.accepted,
            (OrderStatus.submitted,),
            now,
            chosen_on=chosen_on,
            reply=reply,
            provider_venue_id=provider.id,
            accepted_at=now,
            answered_at=order.answered_at or now,
        )
        take_quota(order, chosen_on)
        take_day(order, chosen_on)
        _event(order, OrderStatus.accepted, actor, now, reply)
    _announce(order, actor, now, reply=reply)
    return order


def counter_order(
    order: ServiceOrder, *, actor: User, counter_on: date, reply: str = "", now: datetime | None = None
) -> ServiceOrder:
    """Submitted → countered: the provider proposes another date that the orderer may accept."""
    now = now or utcnow()
    _require_provider(order, actor)
    fields: dict[str, list[str]] = {}
    if not isinstance(counter_on, date) or counter_on <= local_today(now):
        fields["counter_on"] = [_("Choose dates after today.")]
    elif order.menu_item is not None and not order.menu_item.is_in_season(counter_on):
        fields["counter_on"] = [_("The date is outside the service's season.")]
    reply = _text(reply, "reply", fields)
    if fields:
        raise Invalid(fields=fields)
    with _atomic(order):
        _step(
            order,
            OrderStatus.countered,
            (OrderStatus.submitted,),
            now,
            counter_on=counter_on,
            reply=reply,
            answered_at=order.answered_at or now,
        )
        _event(order, OrderStatus.countered, actor, now, reply)
    _announce(order, actor, now, reply=reply, counter_on=counter_on)
    return order


def accept_counter(order: ServiceOrder, *, actor: User, now: datetime | None = None) -> ServiceOrder:
    """Countered → accepted for the proposed date, by the orderer."""
    now = now or utcnow()
    _require_orderer(order, actor)
    if order.counter_on is not None and order.counter_on <= local_today(now):
        raise InvalidTransition(_("The proposed date has passed; ask the provider for another."))
    with _atomic(order):
        _step(
            order,
            OrderStatus.accepted,
            (OrderStatus.countered,),
            now,
            chosen_on=ServiceOrder.counter_on,
            accepted_at=now,
        )
        take_quota(order, order.chosen_on)
        take_day(order, order.chosen_on)
        _event(order, OrderStatus.accepted, actor, now, "")
    _announce(order, actor, now)
    return order


def decline_order(order: ServiceOrder, *, actor: User, reason: str, now: datetime | None = None) -> ServiceOrder:
    """Submitted or countered → declined with a reason the orderer reads; the quota unit is given back."""
    now = now or utcnow()
    _require_provider(order, actor)
    fields: dict[str, list[str]] = {}
    reason = _text(reason, "reason", fields)
    if not reason and not fields:
        fields["reason"] = [_("Give the reason the orderer will read.")]
    if fields:
        raise Invalid(fields=fields)
    with _atomic(order):
        _step(
            order,
            OrderStatus.declined,
            (OrderStatus.submitted, OrderStatus.countered),
            now,
            decline_reason=reason,
            closed_at=now,
            answered_at=order.answered_at or now,
        )
        _release_quota(order)
        _event(order, OrderStatus.declined, actor, now, reason)
    _announce(order, actor, now, reason=reason)
    return order


def decline_orders(
    orders: list[ServiceOrder], *, actor: User, reason: str, now: datetime | None = None
) -> tuple[list[ServiceOrder], list[tuple[ServiceOrder, str]]]:
    """Bulk decline with one reason: (declined, [(order, why not)]); each order is its own savepoint."""
    done, skipped = [], []
    for order in orders:
        try:
            done.append(decline_order(order, actor=actor, reason=reason, now=now))
        except Invalid:
            raise
        except DomainError as err:
            skipped.append((order, str(err.message)))
    return done, skipped


# --- after acceptance --------------------------------------------------------------------------------


def schedule_order(
    order: ServiceOrder,
    *,
    actor: User,
    starts_at: datetime,
    ends_at: datetime,
    room_id: int | None = None,
    now: datetime | None = None,
) -> ServiceOrder:
    """Accepted → scheduled on the agreed date: an event with one session at the ordering centre (at the
    provider, with the group's address as the place, for a group order), published for residents to
    book like any other, flagged as outreach (送文化下乡) when a hub or branch delivers at a station or
    community. The activity is made by activities.services, so its own rules (times, rooms) apply.
    """
    now = now or utcnow()
    _require_provider(order, actor)
    venue = order.ordering_venue or order.provider
    if not actor.reaches(venue, MANAGE_ROLES):
        raise Forbidden(_("The ordering centre is outside your scope: ask the hub to schedule this order."))
    if order.status == OrderStatus.accepted and starts_at < ends_at and to_local(starts_at).date() != order.chosen_on:
        raise Invalid(
            fields={
                "starts_at": [_("The session must be on the agreed date, %(day)s.", day=order.chosen_on.isoformat())]
            }
        )
    outreach = order.provider.kind in PROVIDER_KINDS and venue.kind in SERVICE_POINT_KINDS
    with _atomic(order):
        _step(
            order,
            OrderStatus.scheduled,
            (OrderStatus.accepted,),
            now,
            scheduled_at=now,
            starts_at=starts_at,
            ends_at=ends_at,
            is_outreach=outreach,
        )
        activity = activity_services.create_activity(venue, data=_activity_data(order), actor=actor, now=now)
        activity.is_outreach = outreach
        session = activity_services.add_session(
            activity, starts_at=starts_at, ends_at=ends_at, actor=actor, room_id=room_id, now=now
        )
        activity_services.publish_activity(activity, actor=actor, now=now)
        order.activity_id, order.session_id = activity.id, session.id
        _event(order, OrderStatus.scheduled, actor, now, "")
    _announce(order, actor, now, session_starts_at=starts_at, activity_id=order.activity_id)
    return order


ACTIVITY_CATEGORY = {
    MenuCategory.performance: "drama",
    MenuCategory.film: "film",
    MenuCategory.lecture: "general",
    MenuCategory.training: "general",
    MenuCategory.exhibition: "fine_art",
    MenuCategory.heritage: "heritage",
}


def _activity_data(order: ServiceOrder) -> dict:
    item = order.menu_item
    description = item.description if item is not None else order.custom_description
    return {
        "kind": ActivityKind.event.value,
        "title": order.title[:100],
        "summary": order.provider.name[:300],
        "description": description,
        "category": ACTIVITY_CATEGORY.get(order.category, "general"),
        "policy": "first_come",
        "capacity": order.audience_size,
        "max_party_size": 3,
        "place": order.address[:100] if order.ordering_venue is None else "",
    }


def deliver_order(
    order: ServiceOrder,
    *,
    actor: User,
    headcount: int,
    report: str = "",
    photo_streams=(),
    upload_dir: str | None = None,
    now: datetime | None = None,
) -> ServiceOrder:
    """Scheduled → delivered with the headcount, a short record (活动纪实) and up to three photos, by either
    side's staff, once the session has started. Photos are checked before anything changes."""
    now = now or utcnow()
    if not (order.is_provider(actor) or (order.is_orderer(actor) and order.ordering_venue is not None)):
        raise Forbidden()
    fields: dict[str, list[str]] = {}
    if isinstance(headcount, bool) or not isinstance(headcount, int) or not 0 <= headcount <= 100_000:
        fields["headcount"] = [_("Enter the headcount as a whole number.")]
    report = _text(report, "report", fields, limit=5000)
    if fields:
        raise Invalid(fields=fields)
    pictures = photos.decode_photos(photo_streams)
    if order.status == OrderStatus.scheduled and order.starts_at is not None and now < order.starts_at:
        raise InvalidTransition(_("Delivery can be recorded once the session has started."))
    with _atomic(order):
        _step(
            order,
            OrderStatus.delivered,
            (OrderStatus.scheduled,),
            now,
            headcount=headcount,
            report=report,
            delivered_at=now,
        )
        if pictures:
            order.photos = photos.save_photos(order.id, pictures, upload_dir)
        _event(order, OrderStatus.delivered, actor, now, report)
    _announce(order, actor, now, headcount=headcount)
    return order


def rate_order(
    order: ServiceOrder, *, actor: User, rating: int, comment: str = "", now: datetime | None = None
) -> ServiceOrder:
    """Delivered → rated (1–5 and a comment), by the orderer, once."""
    now = now or utcnow()
    _require_orderer(order, actor)
    fields: dict[str, list[str]] = {}
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        fields["rating"] = [_("Rate from 1 to 5.")]
    comment = _text(comment, "comment", fields)
    if fields:
        raise Invalid(fields=fields)
    with _atomic(order):
        _step(
            order,
            OrderStatus.rated,
            (OrderStatus.delivered,),
            now,
            rating=rating,
            rating_comment=comment,
            rated_at=now,
            closed_at=now,
        )
        _event(order, OrderStatus.rated, actor, now, comment)
    _announce(order, actor, now, rating=rating)
    return order


def withdraw_order(order: ServiceOrder, *, actor: User, reason: str = "", now: datetime | None = None) -> ServiceOrder:
    """Submitted, countered or accepted → withdrawn, by the orderer, before it is scheduled."""
    now = now or utcnow()
    _require_orderer(order, actor)
    fields: dict[str, list[str]] = {}
    reason = _text(reason, "reason", fields)
    if fields:
        raise Invalid(fields=fields)
    with _atomic(order):
        held_day = order.chosen_on
        if try_step(order, OrderStatus.withdrawn, (OrderStatus.accepted,), closed_at=now):
            release_day(order, held_day)
        else:
            _step(order, OrderStatus.withdrawn, (OrderStatus.submitted, OrderStatus.countered), now, closed_at=now)
        _release_quota(order)
        _event(order, OrderStatus.withdrawn, actor, now, reason)
    _announce(order, actor, now, reason=reason)
    return order


# --- the state machine -------------------------------------------------------------------------------


@contextmanager
def _atomic(order: ServiceOrder):
    """A savepoint around one step: on a refusal the database and the loaded order are as before."""
    try:
        with db.session.begin_nested():
            yield
    except Exception:
        db.session.expire(order)
        raise


def try_step(order: ServiceOrder, to: OrderStatus, expected: tuple[OrderStatus, ...], **values) -> bool:
    """UPDATE ... SET status = :to WHERE id = :id AND status IN (:expected): True when this call moved it."""
    result = db.session.execute(
        sa.update(ServiceOrder)
        .where(ServiceOrder.id == order.id, ServiceOrder.status.in_(expected))
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(order)
    return result.rowcount == 1


def _step(order: ServiceOrder, to: OrderStatus, expected: tuple[OrderStatus, ...], now: datetime, **values) -> None:
    if not try_step(order, to, expected, **values):
        raise InvalidTransition(
            _("This order is %(status)s: that step is not possible now.", status=_status_label(order.status))
        )


def _status_label(status: OrderStatus) -> str:
    from orders.models import STATUS_LABELS

    return str(STATUS_LABELS[status]).lower()


def take_day(order: ServiceOrder, day: date) -> None:
    """Count the order against its menu item's load on `day` (the quota of deliveries a day)."""
    item = order.menu_item
    if item is None or day is None:
        return
    if not loads.take_unit(item.id, loads.day_period(day), item.daily_capacity):
        raise ProviderBusy(
            _(
                "%(provider)s already delivers %(title)s %(n)s time(s) on %(day)s; choose another date.",
                provider=item.provider.name,
                title=item.title,
                n=item.daily_capacity,
                day=day.isoformat(),
            )
        )


def take_quota(order: ServiceOrder, day: date) -> None:
    """Count an accepted order against its item's yearly quota (the year of the chosen day); QuotaReached when
    used up. The quota is taken here, at acceptance, never at submission: open orders cost the quota nothing,
    so no one can exhaust it by submitting orders. An order from before this rule that already holds its unit
    (`quota_period` set) is not counted twice."""
    item = order.menu_item
    if item is None or item.yearly_quota is None or order.quota_period is not None or day is None:
        return
    period = loads.year_period(day)
    if not loads.take_unit(item.id, period, item.yearly_quota):
        raise QuotaReached(
            _(
                "%(title)s has reached its quota of %(n)s for %(year)s.",
                title=item.title,
                n=item.yearly_quota,
                year=period,
            )
        )
    order.quota_period = period
    db.session.flush()


def quota_left(item, day: date) -> int | None:
    """How many more orders of `item` can be accepted in the year of `day` (None: no quota)."""
    if item is None or item.yearly_quota is None:
        return None
    return max(0, item.yearly_quota - loads.used(item.id, loads.year_period(day)))


def release_day(order: ServiceOrder, day: date | None) -> None:
    """Give back what `take_day` counted, when an order leaves `day`."""
    if order.menu_item_id is not None and day is not None:
        loads.release_unit(order.menu_item_id, loads.day_period(day))


def _release_quota(order: ServiceOrder) -> None:
    """Give back the quota unit an accepted order took (nothing for an order never accepted)."""
    if order.menu_item_id is not None and order.quota_period is not None:
        loads.release_unit(order.menu_item_id, order.quota_period)
        order.quota_period = None
        db.session.flush()


def _event(order: ServiceOrder, status: OrderStatus, actor: User, now: datetime, note: str) -> None:
    db.session.add(OrderEvent(order_id=order.id, status=status, at=now, actor_id=actor.id, note=note or ""))
    if actor.is_staff:
        audit.record(actor, f"service_order.{status.value}", order, {"note": note or ""}, now=now)
    db.session.flush()


def _announce(order: ServiceOrder, actor: User, now: datetime, **extra) -> None:
    signals.BY_STATUS[order.status.value].send(
        order,
        order_id=order.id,
        order_title=order.title,
        status=order.status.value,
        orderer_id=order.ordered_by_id,
        provider_venue_id=order.provider_venue_id,
        actor_id=actor.id,
        now=now,
        **extra,
    )


def _require_provider(order: ServiceOrder, actor: User) -> None:
    if not order.is_provider(actor):
        raise Forbidden()


def _require_orderer(order: ServiceOrder, actor: User) -> None:
    if not order.is_orderer(actor):
        raise Forbidden()


def _text(value, name: str, fields: dict, limit: int = 1000) -> str:
    value = (value or "").strip() if isinstance(value, str | None) else None
    if value is None:
        fields[name] = [_("Must be text.")]
        return ""
    if len(value) > limit:
        fields[name] = [_("At most %(n)s characters.", n=limit)]
    return value
