"""Writes on the menu and on orders (one module per aggregate); import the operations from here."""

from orders.services import reactions  # noqa: F401  (receivers of activities signals)
from orders.services.contact import contact_phone_for
from orders.services.menu import publish_menu_item, save_menu_item, withdraw_menu_item
from orders.services.ordering import submit_order
from orders.services.workflow import (
    NOT_NOW,
    InvalidTransition,
    ItemWithdrawn,
    ProviderBusy,
    QuotaReached,
    TooManyOpenOrders,
    accept_counter,
    accept_order,
    counter_order,
    decline_order,
    decline_orders,
    deliver_order,
    rate_order,
    schedule_order,
    withdraw_order,
)

__all__ = [
    "NOT_NOW",
    "InvalidTransition",
    "ItemWithdrawn",
    "ProviderBusy",
    "QuotaReached",
    "TooManyOpenOrders",
    "accept_counter",
    "accept_order",
    "contact_phone_for",
    "counter_order",
    "decline_order",
    "decline_orders",
    "deliver_order",
    "publish_menu_item",
    "rate_order",
    "save_menu_item",
    "schedule_order",
    "submit_order",
    "withdraw_menu_item",
    "withdraw_order",
]
