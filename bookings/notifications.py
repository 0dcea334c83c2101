"""What residents are told about their bookings: bookings' signals become outbox messages and reminders.

The receivers run inside the transaction that changed the booking (the signals fire before the commit),
so a message exists exactly when the change does. Dedupe keys start with the booking
(`booking:{id}:…`), so cancelling a booking cancels every pending message of it with one prefix.

Reminders: 24 h and 2 h before each session the booking covers (every lesson of a course), enqueued
when the booking is confirmed; one already too late is stored as skipped, never sent late; moving a
session moves them; cancelling cancels them.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa

import notify
from accounts.models import User
from activities.models import Session
from bookings import signals
from bookings.models import Booking
from bookings.queries import booking_code
from core.extensions import db
from core.i18n import to_local
from notify import scopes as notify_scopes

REMINDERS = (("reminder-24h", "reminder_24h", timedelta(hours=24)), ("reminder-2h", "reminder_2h", timedelta(hours=2)))


def venue_paths(booking_ids: list[int]) -> dict[int, list[str]]:
    """Booking id → its activity's venue path: whose staff see the booking's failed messages."""
    from activities.models import Activity
    from venues.models import Venue

    rows = db.session.execute(
        sa.select(Booking.id, Venue.path)
        .join(Activity, Activity.id == Booking.activity_id)
        .join(Venue, Venue.id == Activity.venue_id)
        .where(Booking.id.in_(booking_ids))
    )
    return {booking_id: [path] for booking_id, path in rows}


def connect() -> None:
    """Subscribe the receivers (idempotent: blinker keeps one connection per receiver)."""
    notify_scopes.register("booking", venue_paths)
    for signal, receiver in SIMPLE:
        signal.connect(receiver)
    signals.booking_confirmed.connect(on_confirmed)
    signals.booking_cancelled.connect(on_cancelled)
    signals.booking_cancelled_by_organiser.connect(on_cancelled_by_organiser)
    signals.booking_lesson_cancelled.connect(on_lesson_cancelled)
    signals.booking_session_moved.connect(on_session_moved)
    signals.user_suspended.connect(on_suspended)
    signals.suspension_lifted.connect(on_suspension_lifted)


def context_for(booking: Booking, session: Session | None = None) -> dict:
    """What the message templates need about a booking (and one of its sessions)."""
    session = session or booking.session or _next_session(booking)
    activity = booking.activity
    where = activity.venue.name + (f" {session.room.name}" if session is not None and session.room else "")
    context = {"activity_title": activity.title, "venue_name": activity.venue.name, "code": booking_code(booking)}
    if session is not None:
        context.update(
            session_starts_at=session.starts_at,
            event={
                "uid": f"session-{session.id}@culturenet",
                "title": activity.title,
                "starts_at": session.starts_at,
                "ends_at": session.ends_at,
                "location": where,
            },
        )
    return context


def _next_session(booking: Booking) -> Session | None:
    live = booking.activity.live_sessions
    return live[0] if live else None


def _send(booking: Booking, template: str, key: str, now: datetime, *, urgent: bool = False, **extra) -> None:
    user = db.session.get(User, booking.user_id)
    notify.enqueue(
        user,
        template,
        {**context_for(booking), **extra},
        dedupe_key=f"booking:{booking.id}:{key}",
        urgent=urgent,
        now=now,
    )


def _simple(template: str, key: str, **mapping):
    """A receiver that sends `template` once per booking, copying signal kwargs into the context."""

    def receiver(booking: Booking, *, now: datetime, **kwargs) -> None:
        extra = {name: kwargs.get(source) for name, source in mapping.items()}
        _send(booking, template, f"{key}:{template}", now, **{k: "" if v is None else v for k, v in extra.items()})

    receiver.__name__ = f"send_{template}"
    return receiver


# Signals answered by one message each; built once, held here (blinker keeps receivers weakly).
SIMPLE = [
    (signals.booking_waitlisted, _simple("booking_waitlisted", "waitlisted", position="position")),
    (signals.booking_entered, _simple("lottery_entered", "entered", draw_at="draw_after")),
    (signals.lottery_won, _simple("lottery_won", "lottery-result")),
    (signals.lottery_lost, _simple("lottery_lost", "lottery-result")),
    (signals.offer_made, _simple("offer_made", "offer", offer_expires_at="hold_expires_at")),
    (signals.offer_expired, _simple("offer_expired", "offer-expired")),
    (signals.booking_approved, _simple("booking_approved", "decision")),
    (signals.booking_rejected, _simple("booking_rejected", "decision", reason="reason")),
]


def on_confirmed(booking: Booking, *, now: datetime, via: str, **_kwargs) -> None:
    """A seat is held: say so (unless the lottery or approval message already did) and set the reminders,
    in one INSERT (the confirmation first, then the reminders in session order)."""
    user = db.session.get(User, booking.user_id)
    messages = []
    if via in {"booking", "offer", "staff"}:
        messages.append(
            {
                "recipient": user,
                "template": "booking_confirmed",
                "context": context_for(booking),
                "dedupe_key": f"booking:{booking.id}:confirmed",
            }
        )
    messages += _reminders(booking, user, now)
    notify.enqueue_many(messages, now=now)


def schedule_reminders(booking: Booking, now: datetime) -> None:
    notify.enqueue_many(_reminders(booking, db.session.get(User, booking.user_id), now), now=now)


def _reminders(booking: Booking, user: User, now: datetime) -> list[dict]:
    sessions = [booking.session] if booking.session is not None else booking.activity.live_sessions
    messages = []
    for session in sessions:
        if session is None or session.starts_at <= now:
            continue
        context = context_for(booking, session)
        for key, template, before in REMINDERS:
            messages.append(
                {
                    "recipient": user,
                    "template": template,
                    "context": context,
                    "dedupe_key": f"booking:{booking.id}:session:{session.id}:{key}",
                    "due_at": session.starts_at - before,
                    "expires_at": session.starts_at,
                    "skip_if_late": True,
                }
            )
    return messages


def on_cancelled(booking: Booking, *, now: datetime, **_kwargs) -> None:
    """The resident cancelled: nothing more is sent about this booking."""
    notify.cancel(f"booking:{booking.id}")


def on_cancelled_by_organiser(booking: Booking, *, now: datetime, reason: str = "", **_kwargs) -> None:
    """The session or activity was cancelled: stop the reminders and tell the resident at once."""
    notify.cancel(f"booking:{booking.id}")
    session = booking.session or _next_session(booking)
    same_day = session is not None and to_local(session.starts_at).date() == to_local(now).date()
    _send(booking, "session_cancelled", "organiser-cancelled", now, urgent=same_day, reason=reason or "")


def on_lesson_cancelled(booking: Booking, *, now: datetime, lesson_id: int, reason: str = "", **_kwargs) -> None:
    """One lesson of a course is off (the enrolment stays): its reminders go, the resident is told."""
    notify.cancel(f"booking:{booking.id}:session:{lesson_id}")
    lesson = db.session.get(Session, lesson_id)
    same_day = lesson is not None and to_local(lesson.starts_at).date() == to_local(now).date()
    user = db.session.get(User, booking.user_id)
    notify.enqueue(
        user,
        "session_cancelled",
        {**context_for(booking, lesson), "reason": reason or ""},
        dedupe_key=f"booking:{booking.id}:session:{lesson_id}:cancelled",
        urgent=same_day,
        now=now,
    )


def on_session_moved(
    booking: Booking, *, now: datetime, moved_session_id: int, old_starts_at: datetime, starts_at: datetime, **_kwargs
) -> None:
    """A session moved: the reminders move with it, and the resident hears of the new time."""
    session = db.session.get(Session, moved_session_id)
    context = context_for(booking, session)
    for key, _template, before in REMINDERS:
        notify.reschedule(
            f"booking:{booking.id}:session:{moved_session_id}:{key}",
            starts_at - before,
            context={"session_starts_at": starts_at, "event": context.get("event")},
            expires_at=starts_at,
        )
    user = db.session.get(User, booking.user_id)
    stamp = int(starts_at.timestamp())
    notify.enqueue(
        user,
        "session_moved",
        {**context, "old_starts_at": old_starts_at},
        dedupe_key=f"booking:{booking.id}:session:{moved_session_id}:moved:{stamp}",
        now=now,
    )


def on_suspended(user: User, *, suspension_id: int, until: datetime, now: datetime, **_kwargs) -> None:
    notify.enqueue(
        user,
        "suspended",
        {"suspended_until": until, "reason": ""},
        dedupe_key=f"user:{user.id}:suspension:{suspension_id}",
        now=now,
    )


def on_suspension_lifted(user: User, *, suspension_id: int, now: datetime, **_kwargs) -> None:
    notify.enqueue(
        user, "suspension_lifted", {}, dedupe_key=f"user:{user.id}:suspension:{suspension_id}:lifted", now=now
    )
