"""The stored schedule of an activity: `next_starts_at` (start of the soonest session that has not ended)
and `live_until` (end of its last live session), kept from the sessions so the public list reads 20 rows
by index instead of sorting every published activity by a subquery (bench/RESULTS.md).

Kept in three places, all SQL computed from the sessions table: after every flush that adds, moves,
cancels or deletes a session (an ORM event, so no write path can forget it); by the sweeper
`roll_next_sessions` as sessions end (the stored start of an activity may point at a session that ended
up to one sweep ago: the list's order, never its membership — membership uses `live_until`); and in bulk
by `refresh_schedules()` (the migration's backfill, seeders that insert sessions in bulk).
"""

from datetime import datetime

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm.attributes import set_committed_value

from activities.models import Activity, Session, SessionStatus
from core.db import utcnow
from core.extensions import db

_TIMES = ("starts_at", "ends_at", "status", "activity_id")


def _values(now: datetime) -> dict:
    live = (Session.activity_id == Activity.id, Session.status == SessionStatus.scheduled)
    return {
        "next_starts_at": select(func.min(Session.starts_at))
        .where(*live, Session.ends_at > now)
        .correlate(Activity)
        .scalar_subquery(),
        "live_until": select(func.max(Session.ends_at)).where(*live).correlate(Activity).scalar_subquery(),
        "updated_at": Activity.updated_at,  # derived data: not an edit of the activity
    }


def refresh_schedules(activity_ids=None, *, now: datetime | None = None, session: OrmSession | None = None) -> int:
    """Recompute the stored schedule of the given activities (all when None); returns how many rows.
    In-memory activities of `session` get the new values as their committed state."""
    orm = session or db.session
    stmt = update(Activity).values(**_values(now or utcnow())).execution_options(synchronize_session=False)
    if activity_ids is not None:
        ids = sorted(set(activity_ids))
        if not ids:
            return 0
        stmt = stmt.where(Activity.id.in_(ids))
    rows = orm.execute(stmt.returning(Activity.id, Activity.next_starts_at, Activity.live_until)).all()
    for activity_id, next_starts_at, live_until in rows:
        activity = orm.identity_map.get(orm.identity_key(Activity, activity_id))
        if activity is not None:
            set_committed_value(activity, "next_starts_at", next_starts_at)
            set_committed_value(activity, "live_until", live_until)
    return len(rows)


def roll_next_sessions(now: datetime) -> int:
    """Move each activity's stored next session on once it has ended (and clear it after the last)."""
    ids = db.session.execute(select(Activity.id).where(Activity.next_starts_at <= now)).scalars().all()
    done = refresh_schedules(ids, now=now)
    db.session.commit()
    return done


def _touched_activities(orm: OrmSession) -> set[int]:
    touched = set()
    for obj in (*orm.new, *orm.deleted):
        if isinstance(obj, Session) and obj.activity_id is not None:
            touched.add(obj.activity_id)
    for obj in orm.dirty:
        if isinstance(obj, Session):
            state = obj.__dict__.get("_sa_instance_state")
            changed = [state.attrs[name].history for name in _TIMES]
            if any(h.has_changes() for h in changed):
                touched.add(obj.activity_id)
                touched.update(i for i in state.attrs.activity_id.history.deleted or () if i is not None)
    return touched


def _after_flush(orm: OrmSession, _context) -> None:
    touched = _touched_activities(orm)
    if touched:
        refresh_schedules(touched, session=orm)


def keep_schedules() -> None:
    """Install the flush hook (once per process; create_app calls it)."""
    if not event.contains(OrmSession, "after_flush", _after_flush):
        event.listen(OrmSession, "after_flush", _after_flush)


JOBS = {"roll_next_sessions": (roll_next_sessions, 60)}
