"""The writes of notify: enqueue, cancel, reschedule, preferences, inbox reads, resend. Flush, never commit."""

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from accounts.models import User
from core.db import utcnow
from core.errors import DomainError
from core.extensions import db
from notify.models import CHANNELS, Channel, Message, NotificationPreference, State
from notify.rendering import encode_context


class NotResendable(DomainError):
    code = "invalid_transition"
    message = _l("Only a failed message can be sent again.")


def preferences_for(user: User) -> NotificationPreference:
    """The user's channel preferences (a transient all-on row when none is stored yet)."""
    pref = db.session.get(NotificationPreference, user.id)
    return pref or NotificationPreference(user_id=user.id, sms=True, email=True, inbox=True)


def default_channels(user: User, pref: NotificationPreference | None = None) -> list[str]:
    """The channels a message goes to when the caller names none: every preferred channel, e-mail only
    when the user has an address (most residents register with a phone only)."""
    pref = pref or preferences_for(user)
    return [c for c in CHANNELS if pref.allows(c) and (c != Channel.email or user.email)]


def _rows(
    recipient: User,
    template: str,
    context: dict,
    *,
    dedupe_key: str,
    due_at: datetime | None,
    channels: list[str] | None,
    urgent: bool,
    expires_at: datetime | None,
    now: datetime,
    skip_if_late: bool = False,
    pref: NotificationPreference | None = None,
) -> list[dict]:
    """The outbox rows (one per channel) of one message, as values for the insert."""
    due_at = due_at or now
    if due_at.tzinfo is None or (expires_at is not None and expires_at.tzinfo is None):
        raise ValueError("due_at and expires_at must be aware datetimes")
    wanted = default_channels(recipient, pref) if channels is None else [str(Channel(c)) for c in channels]
    encoded = encode_context(context)
    late = (expires_at is not None and expires_at <= now) or (skip_if_late and due_at < now)
    return [
        {
            "recipient_id": recipient.id,
            "channel": Channel(c).name,
            "template": template,
            "context": encoded,
            "locale": recipient.locale or "zh_CN",
            "dedupe_key": dedupe_key,
            "is_urgent": urgent,
            "due_at": due_at,
            "next_attempt_at": due_at,
            "expires_at": expires_at,
            "state": (State.skipped if late else State.pending).name,
            "attempts": 0,
            "last_error": "too late when enqueued" if late else None,
            "created_at": now,
        }
        for c in wanted
    ]


def enqueue(
    recipient: User,
    template: str,
    context: dict,
    *,
    dedupe_key: str,
    due_at: datetime | None = None,
    channels: list[str] | None = None,
    urgent: bool = False,
    expires_at: datetime | None = None,
    skip_if_late: bool = False,
    now: datetime | None = None,
) -> list[Message]:
    """Store one outbox row per channel (see notify/__init__.py); an existing (dedupe_key, channel) row wins."""
    rows = _rows(
        recipient,
        template,
        context,
        dedupe_key=dedupe_key,
        due_at=due_at,
        channels=channels,
        urgent=urgent,
        expires_at=expires_at,
        skip_if_late=skip_if_late,
        now=now or utcnow(),
    )
    if not rows:
        return []
    db.session.execute(_insert_ignoring_duplicates(), rows)
    return list(
        db.session.scalars(
            sa.select(Message)
            .where(Message.dedupe_key == dedupe_key, Message.channel.in_([r["channel"] for r in rows]))
            .options(sa.orm.lazyload(Message.recipient))
            .order_by(Message.id)
            .execution_options(populate_existing=True)
        )
    )


def enqueue_many(messages: Iterable[dict], *, now: datetime | None = None) -> int:
    """`enqueue` for many messages in one statement (sweeper jobs: reminders for every booking of a day).

    Each item holds enqueue's arguments by name (recipient, template, context, dedupe_key, and optionally
    due_at, channels, urgent, expires_at, skip_if_late). Keys already present are left alone, as with enqueue.
    Returns how many rows were offered (not how many were new).
    """
    now = now or utcnow()
    items = list(messages)
    ids = {item["recipient"].id for item in items}
    prefs = (
        {
            p.user_id: p
            for p in db.session.scalars(
                sa.select(NotificationPreference).where(NotificationPreference.user_id.in_(ids))
            )
        }
        if ids
        else {}
    )
    rows = []
    for item in items:
        recipient = item["recipient"]
        rows += _rows(
            recipient,
            item["template"],
            item["context"],
            dedupe_key=item["dedupe_key"],
            due_at=item.get("due_at"),
            channels=item.get("channels"),
            urgent=item.get("urgent", False),
            expires_at=item.get("expires_at"),
            skip_if_late=item.get("skip_if_late", False),
            now=now,
            pref=prefs.get(recipient.id) or NotificationPreference(sms=True, email=True, inbox=True),
        )
    if rows:
        db.session.execute(_insert_ignoring_duplicates(), rows)
    return len(rows)


def _insert_ignoring_duplicates():
    """INSERT ... ON CONFLICT (dedupe_key, channel) DO NOTHING, built once (a cached, compiled statement)."""
    dialect = db.engine.dialect.name
    cache = _insert_statements
    if dialect not in cache:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        cache[dialect] = insert(Message.__table__).on_conflict_do_nothing(index_elements=["dedupe_key", "channel"])
    return cache[dialect]


_insert_statements: dict = {}


def cancel(dedupe_key_prefix: str, *, now: datetime | None = None) -> int:
    """Cancel the pending messages under a key prefix, segment-wise; returns how many.

    Keys are ':'-separated paths: "booking:12" matches "booking:12" and "booking:12:reminder-24h" but not
    "booking:123"; a prefix ending in ':' matches everything below it.
    """
    if not dedupe_key_prefix or dedupe_key_prefix == ":":
        raise ValueError("an empty prefix would cancel everything")
    below = dedupe_key_prefix if dedupe_key_prefix.endswith(":") else dedupe_key_prefix + ":"
    result = db.session.execute(
        sa.update(Message)
        .where(
            sa.or_(Message.dedupe_key == dedupe_key_prefix, Message.dedupe_key.startswith(below, autoescape=True)),
            Message.state == State.pending,
        )
        .values(state=State.cancelled, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def reschedule(
    dedupe_key: str, due_at: datetime, *, context: dict | None = None, expires_at: datetime | None = None
) -> int:
    """Move the pending messages of a key (every channel) to `due_at`; `context` updates merge in.

    Rows already sent stay sent: to remind again after a move, enqueue with a new key.
    """
    if due_at.tzinfo is None:
        raise ValueError("due_at must be an aware datetime")
    rows = db.session.scalars(
        sa.select(Message).where(Message.dedupe_key == dedupe_key, Message.state == State.pending)
    ).all()
    for row in rows:
        row.due_at = due_at
        row.next_attempt_at = due_at
        if expires_at is not None:
            row.expires_at = expires_at
        if context:
            row.context = {**row.context, **encode_context(context)}
    db.session.flush()
    return len(rows)


def set_preferences(user: User, *, data: dict) -> NotificationPreference:
    """Store which channels the user wants (keys sms, email, inbox; missing keys keep their value)."""
    pref = db.session.get(NotificationPreference, user.id)
    if pref is None:
        pref = NotificationPreference(user_id=user.id, sms=True, email=True, inbox=True)
        db.session.add(pref)
    for channel in CHANNELS:
        if channel in data:
            setattr(pref, channel, bool(data[channel]))
    db.session.flush()
    return pref


def mark_inbox_read(user: User, *, now: datetime | None = None) -> int:
    """Mark every inbox message of `user` read."""
    result = db.session.execute(
        sa.update(Message)
        .where(
            Message.recipient_id == user.id,
            Message.channel == Channel.inbox,
            Message.state == State.sent,
            Message.read_at.is_(None),
        )
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def resend_message(message: Message, *, actor: User, now: datetime | None = None) -> Message:
    """Put a failed message back in the queue now (a staff decision after fixing the cause)."""
    now = now or utcnow()
    result = db.session.execute(
        sa.update(Message)
        .where(Message.id == message.id, Message.state == State.failed)
        .values(state=State.pending, next_attempt_at=now, attempts=0, claimed_by=None, claimed_at=None, expires_at=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise NotResendable()
    db.session.refresh(message)
    return message


DELIVERY_RANK = {
    "accepted": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "read": 5,
}


def record_delivery_status(provider_id: str, status: str, *, error_code: str | None = None) -> Message | None:
    """Apply a provider's delivery report to the row it sent; late reports never move a status back.

    `failed`/`undelivered` make the row failed (visible to staff, who can resend)."""
    row = db.session.scalar(
        sa.select(Message).where(Message.provider_id == provider_id).with_for_update(of=Message.__table__)
    )
    if row is None:
        return None
    if DELIVERY_RANK.get(status, 0) < DELIVERY_RANK.get(row.delivery_status or "", -1):
        return row
    row.delivery_status = status
    if status in {"failed", "undelivered"} and row.state == State.sent:
        row.state = State.failed
        row.last_error = f"Twilio delivery {status}" + (f" (error {error_code})" if error_code else "")
    db.session.flush()
    return row
