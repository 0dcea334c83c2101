"""Demo data for the door (`flask demo seed`): an event at the hub whose door is open when the demo starts,
with tickets for the first demo residents, so `door` can scan them and residents can open their tickets.

Idempotent: a second run finds the event (by title at the venue) and books nobody twice.
"""

import logging
from datetime import timedelta

from sqlalchemy import select

from accounts.services import find_by_login
from activities import services as activities
from activities.models import Activity
from bookings import services
from core.db import utcnow
from core.errors import DomainError
from core.extensions import db
from venues.models import Venue

log = logging.getLogger(__name__)
TITLE = "公益电影放映：《我和我的家乡》"
DEMO_HOLDERS = 3


def seed(scale: int = 1) -> list[tuple[str, str, str]]:
    """The door-demo event and its bookings; returns no logins (the venues seeder lists `door`)."""
    from venues.demo import RESIDENTS

    hub = db.session.execute(select(Venue).where(Venue.key == "hub")).scalars().first()
    actor = find_by_login("admin")
    if hub is None or actor is None:
        log.warning("no hub or admin: the door demo is skipped")
        return []
    event = db.session.execute(select(Activity).where(Activity.venue_id == hub.id, Activity.title == TITLE)
                               ).scalars().first()
    if event is None:
        event = _event(hub, actor)
    session = event.live_sessions[0] if event.live_sessions else None
    if session is None or session.starts_at <= utcnow():
        return []
    for phone, *_rest in RESIDENTS[:DEMO_HOLDERS]:
        user = find_by_login(phone)
        if user is None:
            continue
        try:
            with db.session.begin_nested():
                services.book(user, data=services.BookingRequest(activity=event, session=session), actor=user)
        except DomainError as err:  # booked on an earlier run
            log.info("door demo booking %s: %s", phone, err.code)
    db.session.flush()
    return []


def _event(hub: Venue, actor) -> Activity:
    """Starts 40 minutes from now (so the door, open an hour before, is open at once) and runs two hours."""
    now = utcnow()
    start = (now + timedelta(minutes=40)).replace(second=0, microsecond=0)
    event = activities.create_activity(hub, data={
        "kind": "event", "title": TITLE, "category": "film", "policy": "first_come", "capacity": 120,
        "max_party_size": 3, "summary": "露天广场放映，凭票入场；扫码验票演示。"}, actor=actor, now=now)
    activities.add_session(event, starts_at=start, ends_at=start + timedelta(hours=2), actor=actor, now=now)
    activities.publish_activity(event, actor=actor, now=now)
    return event
