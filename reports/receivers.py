"""Keep the roll-up honest when a session leaves a day: the day it left is marked to recompute, and so is
every day of its activity (the first live session may move: where a class or an exhibition starts, and where
a course's enrolments count).

Connected once when the reports blueprint is imported; the receivers write in the caller's
transaction, so a rolled-back move marks nothing.
"""

from sqlalchemy import select

from activities.models import Session
from activities.signals import session_cancelled, session_moved
from core.extensions import db
from core.i18n import to_local
from reports.rollup import mark_day_dirty


def _activity_days(session) -> set:
    activity_id = getattr(session, "activity_id", None)
    if activity_id is None:
        return set()
    starts = db.session.execute(select(Session.starts_at).where(Session.activity_id == activity_id)).scalars()
    return {to_local(s).date() for s in starts}


def _on_session_moved(sender, *, old_starts_at=None, starts_at=None, **_kwargs):
    days = _activity_days(sender)
    for moment in (old_starts_at, starts_at):
        if moment is not None:
            days.add(to_local(moment).date())
    for day in days:
        mark_day_dirty(day)


def _on_session_cancelled(sender, **_kwargs):
    days = _activity_days(sender)
    starts_at = getattr(sender, "starts_at", None)
    if starts_at is not None:
        days.add(to_local(starts_at).date())
    for day in days:
        mark_day_dirty(day)


session_moved.connect(_on_session_moved, weak=False)
session_cancelled.connect(_on_session_cancelled, weak=False)
