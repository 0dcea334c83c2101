"""The writes of feedback: answer once after attending, edit for 7 days; ask once (the inbox) after a session."""

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

import notify
from accounts.models import User
from activities.models import Session
from bookings.models import Booking
from core.db import utcnow
from core.errors import DomainError, Invalid, NotFound
from core.extensions import db
from feedback.models import Feedback, Tag

EDITABLE_FOR = timedelta(days=7)
ASK_WITHIN = timedelta(days=3)  # the job asks for sessions that ended this recently
COURSE_ASK_AFTER = timedelta(hours=2)  # a course booking (no single session): asked this long after a check-in


class NotAttended(DomainError):
    code = "not_attended"
    message = _l("You can rate a session after you have attended it.")


class Duplicate(DomainError):
    code = "duplicate"
    message = _l("You have already rated this; you can change your answer for 7 days.")


class NotEditable(DomainError):
    code = "not_editable"
    message = _l("An answer can be changed for 7 days only.")


def _clean(data: dict) -> dict:
    rating = data.get("rating")
    errors = {}
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        errors["rating"] = [_l("Choose 1 to 5 stars.")]
    tags = list(dict.fromkeys(str(t) for t in (data.get("tags") or [])))
    if any(t not in Tag.__members__ for t in tags):
        errors["tags"] = [_l("Choose from the list.")]
    comment = (data.get("comment") or "").strip()
    if len(comment) > 500:
        errors["comment"] = [_l("At most 500 characters.")]
    if errors:
        raise Invalid(fields=errors)
    return {"rating": rating, "tags": tags, "comment": comment}


def own_booking(booking_id: int, user: User) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.user_id != user.id:
        raise NotFound()
    return booking


def feedback_of(booking: Booking) -> Feedback | None:
    return db.session.execute(select(Feedback).where(Feedback.booking_id == booking.id)).scalar_one_or_none()


def can_answer(booking: Booking) -> bool:
    return booking.checked_in_at is not None


def give_feedback(booking: Booking, *, data: dict, user: User, now: datetime | None = None) -> Feedback:
    """The holder's one answer; raises NotFound (not theirs), NotAttended (no check-in), Duplicate, Invalid."""
    now = now or utcnow()
    if booking.user_id != user.id:
        raise NotFound()
    if not can_answer(booking):
        raise NotAttended()
    values = _clean(data)
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    feedback_id = db.session.execute(
        insert(Feedback)
        .values(
            booking_id=booking.id,
            user_id=user.id,
            activity_id=booking.activity_id,
            venue_id=booking.activity.venue_id,
            session_id=booking.session_id,
            created_at=now,
            updated_at=now,
            **values,
        )
        .on_conflict_do_nothing()
        .returning(Feedback.id)
    ).scalar_one_or_none()
    if feedback_id is None:
        raise Duplicate()
    notify.cancel(f"booking:{booking.id}:feedback-request", now=now)
    return db.session.get(Feedback, feedback_id)


def edit_feedback(booking: Booking, *, data: dict, user: User, now: datetime | None = None) -> Feedback:
    """Change the answer within 7 days of giving it; fields not given stay."""
    now = now or utcnow()
    if booking.user_id != user.id:
        raise NotFound()
    feedback = feedback_of(booking)
    if feedback is None:
        raise NotFound()
    if now - feedback.created_at > EDITABLE_FOR:
        raise NotEditable()
    merged = {"rating": feedback.rating, "tags": feedback.tags, "comment": feedback.comment}
    merged.update({k: v for k, v in data.items() if v is not None})
    values = _clean(merged)
    for key, value in values.items():
        setattr(feedback, key, value)
    feedback.updated_at = now
    db.session.flush()
    return feedback


def ask_for_feedback(now: datetime | None = None) -> int:
    """Job: ask each resident once (an inbox message) to rate a session they attended, once it has ended.

    Idempotent: the dedupe key `booking:{id}:feedback-request` stores one message however often it runs."""
    now = now or utcnow()
    answered = select(Feedback.booking_id)
    rows = db.session.execute(
        select(Booking, Session.ends_at)
        .outerjoin(Session, Session.id == Booking.session_id)
        .where(
            Booking.checked_in_at.is_not(None),
            Booking.checked_in_at >= now - ASK_WITHIN - timedelta(days=1),
            Booking.id.not_in(answered),
        )
        .limit(5000)
    ).all()
    items = []
    for booking, ends_at in rows:
        due = ends_at if ends_at is not None else booking.checked_in_at + COURSE_ASK_AFTER
        if due > now or due < now - ASK_WITHIN:
            continue
        items.append(
            {
                "recipient": booking.user,
                "template": "feedback_request",
                "context": {"activity_title": booking.activity.title, "venue_name": booking.activity.venue.name},
                "dedupe_key": f"booking:{booking.id}:feedback-request",
                "channels": ["inbox"],
                "expires_at": due + EDITABLE_FOR,
            }
        )
    if not items:
        return 0
    notify.enqueue_many(items, now=now)
    db.session.commit()
    return len(items)


JOBS = {"feedback-requests": (ask_for_feedback, 600)}
