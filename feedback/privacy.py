"""Personal data (PIPL) of satisfaction feedback: the download shows each rating the person gave, with its
tags and comment; deleting the account erases the comments (free text) and keeps the ratings and tags,
without a name, for the satisfaction figures. Registered in `accounts.privacy` by the composition root."""

from datetime import datetime

from sqlalchemy import select, update

from accounts.models import User
from core.extensions import db
from feedback.models import Feedback


def export(user: User) -> list[dict]:
    rows = db.session.execute(select(Feedback).where(Feedback.user_id == user.id).order_by(Feedback.id)).scalars()
    return [
        {
            "activity": f.activity.title,
            "booking_id": f.booking_id,
            "rating": f.rating,
            "tags": f.tags,
            "comment": f.comment or None,
            "created_at": f.created_at.isoformat(),
        }
        for f in rows
    ]


def erase(user: User, *, now: datetime) -> None:
    db.session.execute(
        update(Feedback)
        .where(Feedback.user_id == user.id)
        .values(comment="")
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
