"""Domain events of service orders, for whoever must react (notify/ tells the other side; the composition
root wires them to the `order_status` message template).

Every signal is sent with the `ServiceOrder` as sender and keyword arguments carrying plain values, so a
receiver never needs to import this package: order_id, order_title, status (the new status value),
orderer_id (the user who placed it), provider_venue_id, actor_id, now, and where it applies reason
(decline), reply (accept, counter), counter_on (counter), session_starts_at (schedule), headcount
(deliver), rating (rate). They fire inside the caller's transaction, before the commit, so a receiver
that writes an outbox row joins that transaction.
"""

from blinker import Namespace

_signals = Namespace()

order_submitted = _signals.signal("order-submitted")
order_accepted = _signals.signal("order-accepted")
order_declined = _signals.signal("order-declined")
order_countered = _signals.signal("order-countered")
order_scheduled = _signals.signal("order-scheduled")
order_delivered = _signals.signal("order-delivered")
order_rated = _signals.signal("order-rated")
order_withdrawn = _signals.signal("order-withdrawn")

BY_STATUS = {
    "submitted": order_submitted,
    "accepted": order_accepted,
    "declined": order_declined,
    "countered": order_countered,
    "scheduled": order_scheduled,
    "delivered": order_delivered,
    "rated": order_rated,
    "withdrawn": order_withdrawn,
}
