"""The reads of notify: a user's inbox and unread count, the failed messages staff see."""

import sqlalchemy as sa

from accounts.models import User
from core.extensions import db
from notify.models import Channel, Message, State


def inbox_of(user: User, page: int = 1, per_page: int = 20):
    """The user's delivered inbox messages, newest first (a Flask-SQLAlchemy pagination)."""
    select = (sa.select(Message).where(Message.recipient_id == user.id, Message.channel == Channel.inbox,
                                       Message.state == State.sent)
              .order_by(Message.sent_at.desc(), Message.id.desc()))
    return db.paginate(select, page=page, per_page=per_page, error_out=False)


def unread_count(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Message.id)).where(
            Message.recipient_id == user.id, Message.channel == Channel.inbox, Message.state == State.sent,
            Message.read_at.is_(None))) or 0


def failed_messages(viewer: User, page: int = 1, per_page: int = 50):
    """Failed messages the viewer may see. notify does not know venues, so for now every staff member
    and admin sees the failed messages of all users (scoping by venue needs the domain's help)."""
    select = (sa.select(Message).where(Message.state == State.failed)
              .order_by(Message.next_attempt_at.desc(), Message.id.desc()))
    return db.paginate(select, page=page, per_page=per_page, error_out=False)
