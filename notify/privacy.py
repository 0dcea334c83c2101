"""Personal data (PIPL) of the outbox: the download lists every message to the person (channel, what it said,
when it was sent and read) and their channel preferences. Deleting the account cancels what is still queued
(reminders included) and erases what the messages said; the rows stay, without content, for delivery figures.
Registered in `accounts.privacy` by the composition root (last: it also wipes what the other erasers queued)."""

from datetime import datetime

from sqlalchemy import delete, select, update

from accounts.models import User
from core.extensions import db
from notify.models import Message, NotificationPreference, State


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def export(user: User) -> dict:
    messages = db.session.execute(
        select(Message).where(Message.recipient_id == user.id).order_by(Message.created_at, Message.id)
    ).scalars()
    pref = db.session.get(NotificationPreference, user.id)
    return {
        "preferences": {"sms": pref.sms, "email": pref.email, "inbox": pref.inbox} if pref else None,
        "messages": [
            {
                "channel": m.channel.value,
                "template": m.template,
                "subject": m.subject,
                "body": m.body,
                "state": m.state.value,
                "due_at": _iso(m.due_at),
                "sent_at": _iso(m.sent_at),
                "read_at": _iso(m.read_at),
                "created_at": _iso(m.created_at),
            }
            for m in messages
        ],
    }


def erase(user: User, *, now: datetime) -> None:
    db.session.execute(
        update(Message)
        .where(Message.recipient_id == user.id, Message.state == State.pending)
        .values(state=State.cancelled, last_error="account deleted")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Message)
        .where(Message.recipient_id == user.id)
        .values(context={}, subject=None, body=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(NotificationPreference).where(NotificationPreference.user_id == user.id))
    db.session.flush()
