"""What residents are told about their bookings: bookings' signals become outbox messages and reminders.

The receivers run inside the transaction that changed the booking (the signals fire before the commit),
so a message exists exactly when the change does. Dedupe keys start with the booking
(`booking:{id}:…`), so cancelling a booking cancels every pending message of it with one prefix.

Reminders: 24 h and 2 h before each session the booking covers (every lesson of a course), enqueued
when the booking is confirmed; one already too late is stored as skipped, never sent late; moving a
session moves them; cancelling cancels them.
"""

import functools
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa

import notify
from accounts.models import User
from activities.models import Session
from bookings import signals
from bookings.models import Booking
from bookings.queries import booking_code
from core.db import UTCDateTime
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
    in one INSERT … SELECT (the confirmation first, then the reminders in session order)."""
    _enqueue_sql([booking.id], now, confirmation=via in {"booking", "offer", "staff"})


def schedule_reminders(booking: Booking, now: datetime) -> None:
    """The 24 h and 2 h reminders of one confirmed booking: one INSERT … SELECT."""
    _enqueue_sql([booking.id], now)


def schedule_reminders_many(booking_ids: Iterable[int], now: datetime, *, batch: int = 10_000) -> int:
    """The reminders of many bookings (a sweeper, a migration, the bench): one INSERT … SELECT per `batch`
    bookings; only confirmed bookings get any. Keys already present are left alone. Returns rows inserted."""
    ids = sorted(set(booking_ids))
    return sum(_enqueue_sql(ids[i : i + batch], now) for i in range(0, len(ids), batch))


# The set-based enqueue. The rules, in SQL (and the same as notify.enqueue's for one message): a row per
# channel the resident wants (no preferences row: every channel; e-mail only with an address), for each
# session the booking covers (its session; a course: every scheduled lesson) that has not started, each
# reminder due its lead time before the start and expiring at it, stored `skipped` when already due (never
# sent late); only confirmed bookings. The context is the one `context_for` builds, with the ticket code as
# a tag that notify renders (the code is an HMAC of the app's key, which stays out of SQL), and the calendar
# `event` only on e-mail rows, the one channel that attaches it (an .ics): SMS and inbox rows are half the size.
_CHANNELS = " UNION ALL ".join(f"SELECT '{c}' AS name, {i} AS ord" for i, c in enumerate(("sms", "email", "inbox")))
_KINDS = " UNION ALL ".join(
    f"SELECT '{key}' AS rkey, '{template}' AS template, {int(before.total_seconds() // 3600)} AS hours, {i} AS ord"
    for i, (key, template, before) in enumerate(REMINDERS)
)
_WANTED = (
    "CASE ch.name WHEN 'sms' THEN coalesce({sms}, true) "
    "WHEN 'email' THEN coalesce({email}, true) AND {address} IS NOT NULL AND {address} <> '' "
    "ELSE coalesce({inbox}, true) END"
)
_COLUMNS = (
    "recipient_id, channel, template, context, locale, dedupe_key, is_urgent, due_at, expires_at, state, "
    "attempts, next_attempt_at, last_error, created_at"
)


def _dialect_sql(dialect: str) -> dict:
    if dialect == "postgresql":
        return {
            "obj": "json_build_object",
            "arr": "json_build_array",
            "iso": lambda ts: (
                f"(to_char({ts} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
                f"date_part('microseconds', {ts})::int % 1000000 = 0 THEN '' ELSE "
                f"to_char({ts} AT TIME ZONE 'UTC', '.US') END || '+00:00')"
            ),
            "minus_hours": lambda ts, h: f"({ts} - {h} * interval '1 hour')",
            "ids": "bk.id = ANY(:ids)",
            "materialized": "MATERIALIZED",
        }
    # SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS.ffffff' text (SQLAlchemy's format), which compares as time
    return {
        "obj": "json_object",
        "arr": "json_array",
        "iso": lambda ts: (
            f"(replace(substr({ts}, 1, 19), ' ', 'T') || CASE WHEN substr({ts}, 21, 6) IN ('', '000000') "
            f"THEN '' ELSE '.' || substr({ts}, 21, 6) END || '+00:00')"
        ),
        "minus_hours": lambda ts, h: (
            f"(strftime('%Y-%m-%d %H:%M:%S', {ts}, '-' || {h} || ' hours') || substr({ts}, 20))"
        ),
        "ids": "bk.id IN :ids",
        "materialized": "MATERIALIZED",
    }


def _context_sql(d: dict, with_session: bool, with_event: bool = True) -> str:
    base = f"'activity_title', a.title, 'venue_name', v.name, 'code', {d['obj']}('$ticket', {d['arr']}('B', bk.id))"
    if not with_session:
        return f"{d['obj']}({base})"
    starts, ends = d["iso"]("s.starts_at"), d["iso"]("s.ends_at")
    session = f"{base}, 'session_starts_at', {d['obj']}('$dt', {starts})"
    if not with_event:
        return f"{d['obj']}({session})"
    return (
        f"{d['obj']}({session}, 'event', {d['obj']}("
        f"'uid', 'session-' || s.id || '@culturenet', 'title', a.title, 'starts_at', {d['obj']}('$dt', {starts}), "
        f"'ends_at', {d['obj']}('$dt', {ends}), 'location', v.name || coalesce(' ' || r.name, '')))"
    )


@functools.cache
def _statement(dialect: str, confirmation: bool, ordered: bool, single: bool = False) -> sa.TextClause:
    """The INSERT … SELECT. Its CTE makes one row (and one JSON context) per booking and session; the
    channels and the two lead times multiply it out after (the context is built once, not four times).

    `single` (one booking, what every confirmation runs) names the booking as `bk.id = :id`. With `= ANY(:ids)`
    PostgreSQL's generic plan of the prepared statement guesses several bookings, costs more than a plan made
    for the one id, and so plans the statement afresh at every run (about 2 ms of the planner's time, most of
    a booking's time in the database); with `= :id` the generic plan is as cheap and is kept after five runs."""
    d = _dialect_sql(dialect)
    if single:
        d = {**d, "ids": "bk.id = :id"}
    due = d["minus_hours"]("b.starts_at", "k.hours")
    covered = f"""b AS {d["materialized"]} (
        SELECT bk.id AS booking_id, u.id AS user_id, coalesce(nullif(u.locale, ''), 'zh_CN') AS locale,
            u.email AS email, p.sms AS sms, p.email AS by_email, p.inbox AS inbox, s.id AS session_id,
            s.starts_at AS starts_at, {_context_sql(d, True)} AS context,
            {_context_sql(d, True, with_event=False)} AS short_context
        FROM bookings bk
        JOIN activities a ON a.id = bk.activity_id
        JOIN venues v ON v.id = a.venue_id
        JOIN sessions s ON s.activity_id = bk.activity_id
            AND (s.id = bk.session_id OR (bk.session_id IS NULL AND s.status = 'scheduled'))
        LEFT JOIN rooms r ON r.id = s.room_id
        JOIN users u ON u.id = bk.user_id
        LEFT JOIN notification_preferences p ON p.user_id = u.id
        WHERE {d["ids"]} AND bk.status = 'confirmed' AND s.starts_at > :now)"""
    reminders = f"""
        SELECT b.user_id AS recipient_id, ch.name AS channel, k.template AS template,
            CASE WHEN ch.name = 'email' THEN b.context ELSE b.short_context END AS context,
            b.locale AS locale,
            'booking\\:' || b.booking_id || '\\:session\\:' || b.session_id || '\\:' || k.rkey AS dedupe_key,
            false AS is_urgent, {due} AS due_at, b.starts_at AS expires_at,
            CASE WHEN {due} < :now THEN 'skipped' ELSE 'pending' END AS state, 0 AS attempts,
            {due} AS next_attempt_at,
            CASE WHEN {due} < :now THEN 'too late when enqueued' END AS last_error, :now AS created_at,
            1 AS o0, b.booking_id AS o1, b.starts_at AS o2, b.session_id AS o3, k.ord AS o4, ch.ord AS o5
        FROM b
        CROSS JOIN ({_CHANNELS}) ch
        CROSS JOIN ({_KINDS}) k
        WHERE {_WANTED.format(sms="b.sms", email="b.by_email", inbox="b.inbox", address="b.email")}"""
    parts = [reminders]
    if confirmation:  # the booking's (or, for a course, its first lesson's) message, as context_for makes it
        first = (
            "(SELECT s2.id FROM sessions s2 WHERE s2.activity_id = bk.activity_id AND s2.status = 'scheduled' "
            "ORDER BY s2.starts_at, s2.id LIMIT 1)"
        )
        parts.append(  # after the reminders, which name the columns; ORDER BY o0 puts it first
            f"""
        SELECT u.id, ch.name, 'booking_confirmed',
            CASE WHEN s.id IS NULL THEN {_context_sql(d, False)} WHEN ch.name = 'email' THEN {_context_sql(d, True)}
                ELSE {_context_sql(d, True, with_event=False)} END,
            coalesce(nullif(u.locale, ''), 'zh_CN'), 'booking\\:' || bk.id || '\\:confirmed', false, :now, NULL,
            'pending', 0, :now, NULL, :now, 0, bk.id, NULL, NULL, NULL, ch.ord
        FROM bookings bk
        JOIN activities a ON a.id = bk.activity_id
        JOIN venues v ON v.id = a.venue_id
        LEFT JOIN sessions s ON s.id = coalesce(bk.session_id, {first})
        LEFT JOIN rooms r ON r.id = s.room_id
        JOIN users u ON u.id = bk.user_id
        LEFT JOIN notification_preferences p ON p.user_id = u.id
        CROSS JOIN ({_CHANNELS}) ch
        WHERE {d["ids"]} AND {_WANTED.format(sms="p.sms", email="p.email", inbox="p.inbox", address="u.email")}""",
        )
    order = " ORDER BY o0, o1, o2, o3, o4, o5" if ordered else ""  # a set needs no order (and no sort)
    sql = (
        f"INSERT INTO messages ({_COLUMNS}) WITH {covered} SELECT {_COLUMNS} FROM ({' UNION ALL '.join(parts)}) m "
        f"WHERE true{order} ON CONFLICT (dedupe_key, channel) DO NOTHING"
    )
    if single:
        ids = sa.bindparam("id", type_=sa.Integer())
    else:
        ids = sa.bindparam("ids", expanding=True) if dialect != "postgresql" else sa.bindparam("ids")
    return sa.text(sql).bindparams(ids, sa.bindparam("now", type_=UTCDateTime()))


def _enqueue_sql(booking_ids: list[int], now: datetime, *, confirmation: bool = False) -> int:
    if not booking_ids:
        return 0
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    db.session.flush()  # the booking's new state is what the SELECT reads
    if len(booking_ids) == 1:
        stmt = _statement(db.engine.dialect.name, confirmation, True, single=True)
        return db.session.execute(stmt, {"id": booking_ids[0], "now": now}).rowcount
    stmt = _statement(db.engine.dialect.name, confirmation, len(booking_ids) <= 100)
    return db.session.execute(stmt, {"ids": list(booking_ids), "now": now}).rowcount


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
