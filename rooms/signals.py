"""Signals sent by room reservations, so notify (and others) can react without being imported here.

Each is sent after the change is flushed, inside the caller's transaction; a receiver that enqueues a
message in the outbox therefore sends it only if the transaction commits.
"""

from blinker import Namespace

signals = Namespace()

# sender: the RoomReservation, kwargs approved (bool), reason (str), actor (User; None when a request
# expired undecided at its start).
# Templates: room_reservation_approved / room_reservation_rejected.
reservation_decided = signals.signal("room-reservation-decided")
# sender: the RoomReservation, kwargs reason (str), by_staff (bool), actor (User).
reservation_cancelled = signals.signal("room-reservation-cancelled")
# sender: the RoomReservation released for want of a check-in, kwargs now, group_suspended (bool).
reservation_released = signals.signal("room-reservation-released")
