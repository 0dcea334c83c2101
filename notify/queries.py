"""The reads of notify: a user's inbox and unread count, the failed messages staff see."""

import sqlalchemy as sa

from accounts.models import Role, User
from core.extensions import db
from notify import scopes
from notify.models import Channel, Message, State

STAFF_ROLES = (Role.staff, Role.manager, Role.admin)


def inbox_of(user: User, page: int = 1, per_page: int = 20):
    """The user's delivered inbox messages, newest first (a Flask-SQLAlchemy pagination)."""
    select = (
        sa.select(Message)
        .where(Message.recipient_id == user.id, Message.channel == Channel.inbox, Message.state == State.sent)
        .order_by(Message.sent_at.desc(), Message.id.desc())
    )
    return db.paginate(select, page=page, per_page=per_page, error_out=False)


def unread_count(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(Message.id)).where(
                Message.recipient_id == user.id,
                Message.channel == Channel.inbox,
                Message.state == State.sent,
                Message.read_at.is_(None),
            )
        )
        or 0
    )


def failed_messages(viewer: User, page: int = 1, per_page: int = 50):
    """Failed messages the viewer may see: an admin sees all; staff see those whose booking, order or room
    reservation belongs to a venue in their scope (see notify/scopes.py)."""
    select = (
        sa.select(Message)
        .where(Message.state == State.failed)
        .order_by(Message.next_attempt_at.desc(), Message.id.desc())
    )
    if not viewer.is_admin:
        select = select.where(Message.id.in_(_failed_in_scope(viewer)))
    return db.paginate(select, page=page, per_page=per_page, error_out=False)


def _failed_in_scope(viewer: User) -> list[int]:
    rows = db.session.execute(sa.select(Message.id, Message.dedupe_key).where(Message.state == State.failed)).all()
    prefixes = viewer.scope_paths(STAFF_ROLES)
    return [mid for mid, paths in scopes.venue_paths(rows).items() if scopes.reaches(prefixes, paths)]


def can_handle(viewer: User, message: Message) -> bool:
    """Whether the viewer may see and resend this (failed) message."""
    if viewer.is_admin:
        return True
    paths = scopes.venue_paths([(message.id, message.dedupe_key)])[message.id]
    return scopes.reaches(viewer.scope_paths(STAFF_ROLES), paths)
