"""Domain events of bookings: everything a resident must be told. notify/ subscribes (wired by the composition root).

Each signal's sender is the `Booking` (or the `User` for credit events); keyword arguments carry plain
ids and times so receivers never import this package. They fire inside the caller's transaction,
before its commit, so an outbox row written by a receiver commits (or rolls back) with the change.

Common kwargs for booking signals: booking_id, user_id, activity_id, session_id (None for a course),
now. Extra kwargs are listed per signal.
"""

from blinker import Namespace

_signals = Namespace()

booking_confirmed = _signals.signal("booking-confirmed")  # via: "booking" | "offer" | "approval" | "staff"
booking_waitlisted = _signals.signal("booking-waitlisted")  # position
booking_entered = _signals.signal("booking-entered")  # lottery entry made; draw_after
booking_pending = _signals.signal("booking-pending")  # awaits staff approval
booking_cancelled = _signals.signal("booking-cancelled")  # counted_as_no_show, by_user_id
lottery_won = _signals.signal("lottery-won")  # confirm_by, draw_rank
lottery_lost = _signals.signal("lottery-lost")  # draw_rank, waitlisted (bool)
offer_made = _signals.signal("offer-made")  # hold_expires_at
offer_expired = _signals.signal("offer-expired")
booking_approved = _signals.signal("booking-approved")  # reason, by_user_id
booking_rejected = _signals.signal("booking-rejected")  # reason, by_user_id
booking_session_moved = _signals.signal("booking-session-moved")  # old_starts_at, starts_at, ends_at
booking_lesson_cancelled = _signals.signal("booking-lesson-cancelled")  # lesson_id, reason (enrolment stays)
booking_cancelled_by_organiser = _signals.signal("booking-cancelled-by-organiser")  # reason
no_show_recorded = _signals.signal("no-show-recorded")  # strikes_used, strikes_left (a warning)
# sender=user; user_id, suspension_id, until, strikes_used, now
user_suspended = _signals.signal("user-suspended")
# sender=user; user_id, suspension_id, by_user_id, note, now
suspension_lifted = _signals.signal("suspension-lifted")
