"""What page and API handlers load before they act, written once for both: the activity a caller may see,
and the session a staff member manages. Both raise NotFound (a 404 page or JSON error) for what is not there
or not theirs to see; `require_venue_scope` raises Forbidden for a session out of the caller's scope."""

from accounts.auth import require_venue_scope
from activities.models import ActivityStatus, Session
from activities.queries import activity_page
from core.errors import NotFound
from core.extensions import db


def visible_activity(activity_id: int, viewer):
    """The activity page's activity; a draft exists only for those who manage it."""
    activity = activity_page(activity_id)
    if activity is None or (activity.status == ActivityStatus.draft and not activity.can_manage(viewer)):
        raise NotFound()
    return activity


def managed_session(session_id: int):
    """(session, actor): a session of an activity at a venue in the caller's manage scope."""
    session = db.session.get(Session, session_id)
    if session is None:
        raise NotFound()
    return session, require_venue_scope(session.activity.venue)
