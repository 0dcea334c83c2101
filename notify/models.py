"""The outbox (every message is one row, the single source of truth) and per-user channel preferences."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from core.db import utcnow
from core.extensions import db


class Channel(enum.StrEnum):
    sms = "sms"
    email = "email"
    inbox = "inbox"


class State(enum.StrEnum):
    """pending → sending → sent; or failed / cancelled / skipped. `sending` is a lease, not an end state."""

    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"
    skipped = "skipped"


CHANNELS = tuple(c.value for c in Channel)


class Message(db.Model):
    """One message to one recipient on one channel, from enqueue to delivery.

    `next_attempt_at` is the one clock the dispatcher reads: the due time of a pending row, the
    back-off time after a temporary failure, the quiet-hours deferral, or the end of the lease of a
    row being sent (a row left in `sending` past its lease is claimed again). `(dedupe_key, channel)`
    is unique: enqueuing the same key twice stores one row.
    """

    __tablename__ = "messages"
    __table_args__ = (
        sa.UniqueConstraint("dedupe_key", "channel"),
        # The dispatcher's claim: the rows still to send, in the order it takes them (migration 7d2e9b4c1f60).
        sa.Index(
            "ix_messages_due",
            "next_attempt_at",
            "id",
            postgresql_where=sa.text("state IN ('pending', 'sending')"),
            sqlite_where=sa.text("state IN ('pending', 'sending')"),
        ),
        # Provider ids (delivery reports, the lost-send check); rows not sent yet have none and stay out.
        sa.Index(
            "ix_messages_provider_id",
            "provider_id",
            postgresql_where=sa.text("provider_id IS NOT NULL"),
            sqlite_where=sa.text("provider_id IS NOT NULL"),
        ),
        sa.Index(
            "ix_messages_failed",
            "id",
            postgresql_where=sa.text("state = 'failed'"),
            sqlite_where=sa.text("state = 'failed'"),
        ),
        sa.Index("ix_messages_recipient_id_channel", "recipient_id", "channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(sa.Enum(Channel, native_enum=False, length=10))
    template: Mapped[str] = mapped_column(sa.String(60))
    context: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    locale: Mapped[str] = mapped_column(sa.String(10), default="zh_CN")
    dedupe_key: Mapped[str] = mapped_column(sa.String(200))
    is_urgent: Mapped[bool] = mapped_column(default=False)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    state: Mapped[State] = mapped_column(sa.Enum(State, native_enum=False, length=10), default=State.pending)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    provider_id: Mapped[str | None] = mapped_column(sa.String(100))
    delivery_status: Mapped[str | None] = mapped_column(sa.String(30))
    subject: Mapped[str | None] = mapped_column(sa.String(200))
    body: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    recipient: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_unread(self) -> bool:
        return self.channel == Channel.inbox and self.read_at is None


class NotificationPreference(db.Model):
    """Which channels a user wants; no row means every channel on. STOP by SMS turns `sms` off."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    sms: Mapped[bool] = mapped_column(default=True)
    email: Mapped[bool] = mapped_column(default=True)
    inbox: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def allows(self, channel: str) -> bool:
        return bool(getattr(self, str(channel)))
