"""Who sees an order's contact phone in full: the orderer, and the provider on an order assigned to them (every
such view is recorded in the audit log, like a counter look-up of a resident); everyone else, and every list,
sees it masked (139****0001)."""

from core import audit
from orders.models import OrderStatus, ServiceOrder

# The provider needs to ring the village while the order is being arranged, delivered and rated.
PROVIDER_SEES_PHONE = {
    OrderStatus.submitted,
    OrderStatus.countered,
    OrderStatus.accepted,
    OrderStatus.scheduled,
    OrderStatus.delivered,
    OrderStatus.rated,
}


def contact_phone_for(order: ServiceOrder, viewer, *, where: str) -> str:
    """The contact phone as `viewer` may see it on one order's page (`where`: "page" or "api")."""
    if viewer is None or not viewer.is_authenticated:
        return order.masked_phone
    if viewer.id == order.ordered_by_id:
        return order.contact_phone
    if order.status in PROVIDER_SEES_PHONE and order.is_provider(viewer):
        audit.record(viewer, "order.contact_phone.view", order, {"where": where, "status": order.status.value})
        return order.contact_phone
    return order.masked_phone
