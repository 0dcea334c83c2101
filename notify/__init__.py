"""notify: the outbox, its channels (SMS, e-mail, inbox), message templates and the scheduler.

The domains call exactly these three functions, inside their own transaction (they flush, the
request handler commits; nothing leaves before the commit, because the dispatcher only reads
committed rows):

``notify.enqueue(recipient, template, context, *, dedupe_key, due_at=None, channels=None, urgent=False,
expires_at=None, skip_if_late=False) -> list[Message]``
    One outbox row per channel. ``template`` names a file in templates/notify/messages/ (its header
    lists the context variables it needs). ``context`` is stored as JSON; aware datetimes survive
    the round trip. ``dedupe_key`` (e.g. ``"booking:123:reminder-24h"``) with the channel is unique:
    enqueuing the same key twice stores one row and returns the existing one. ``due_at`` (aware;
    default now) is when to send. ``channels`` defaults to the recipient's preferred channels
    (e-mail only when the user has an address); an explicit list is taken as is, and a channel the
    user turned off is skipped at send time. ``urgent`` lets an SMS through the quiet hours
    (21:00–08:00 network time; otherwise deferred to 08:00) — use it for same-day cancellations.
    ``expires_at`` (aware, optional): after it the message is skipped, never sent late — pass the
    session start for reminders. ``skip_if_late=True``: a message whose ``due_at`` has already passed
    when it is enqueued is stored as skipped (the rule for reminders of a booking made late).

``notify.cancel(dedupe_key_prefix) -> int``
    Cancel the still-pending messages under a key prefix; returns how many. Keys are ':'-separated
    paths and the match is segment-wise: ``cancel("booking:12")`` cancels ``booking:12`` and
    ``booking:12:reminder-24h`` but not ``booking:123:...``; so put the object first in keys
    (``booking:12:reminder-24h``, ``booking:12:reminder-2h``). Messages already sent stay sent.

``notify.reschedule(dedupe_key, due_at, *, context=None, expires_at=None) -> int``
    Move the pending messages of a key to a new time (a moved session), merging ``context`` updates
    (the new ``session_starts_at``). Rows already sent stay sent; returns how many moved.

``notify.enqueue_many(items, *, now=None) -> int``
    The same for many messages in one INSERT (each item a dict of enqueue's arguments): for sweeper jobs
    that enqueue reminders for every booking of a day.

Reminders: when the booking is made, enqueue ``reminder_24h`` and ``reminder_2h`` with
``dedupe_key=f"booking:{id}:reminder-24h"`` (and ``-2h``), ``due_at = starts_at - 24h`` (``- 2h``),
``expires_at = starts_at`` and ``skip_if_late=True``; ``reschedule`` both keys when the session moves;
``cancel(f"booking:{id}")`` when the booking is cancelled; for a cancelled session, cancel each booking's
keys and enqueue ``session_cancelled`` (``urgent=True`` when it is the same day).
"""

from notify.services import cancel, enqueue, enqueue_many, reschedule

__all__ = ["cancel", "enqueue", "enqueue_many", "reschedule"]
