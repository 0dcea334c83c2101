"""Domain events of activities, for whoever must react (notify/ tells residents; the composition root wires it).

Every signal is sent with the `Activity` (or `Session`) as sender and keyword arguments that carry
plain ids, so a receiver never needs to import this package. Signals fire inside the caller's
transaction, before the commit: a receiver that writes (an outbox row) joins that transaction, so
nothing is announced for a change that was rolled back.
"""

from blinker import Namespace

_signals = Namespace()

# sender=activity; activity_id, actor_id, now
activity_published = _signals.signal("activity-published")
# sender=activity; activity_id, reason, actor_id, now (bookings/ cancels the bookings and tells each holder)
activity_cancelled = _signals.signal("activity-cancelled")
# sender=session; session_id, activity_id, old_starts_at, old_ends_at, starts_at, ends_at, actor_id, now
# (bookings/ re-sends it per booking as `booking_session_moved`)
session_moved = _signals.signal("session-moved")
# sender=session; session_id, activity_id, reason, actor_id, now
# (bookings/ cancels what that session held and sends `booking_cancelled_by_organiser` per booking)
session_cancelled = _signals.signal("session-cancelled")
