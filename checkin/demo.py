"""Demo data for the door (`flask demo seed`): a film screening at the hub three times today (09:30, 14:30
and 19:00 in the network's zone), with tickets for the first demo residents, so `door` can scan them and
residents can open their tickets. Screenings that are already over when the demo starts are left out; started
after the last one, the demo screens tomorrow instead, so the door always has a day of work ahead.

Idempotent: a second run finds the event (by title at the venue) and books nobody twice.
"""

import logging
from datetime import time, timedelta

from sqlalchemy import select

from accounts.services import find_by_login
from activities import services as activities
from activities.models import Activity
from bookings import services
from core.db import utcnow
from core.errors import DomainError
from core.extensions import db
from core.i18n import local_datetime, local_today
from venues.models import Venue

log = logging.getLogger(__name__)
TITLE = "公益电影放映：《我和我的家乡》"
DEMO_HOLDERS = 3
SCREENINGS = [(time(9, 30), time(11, 30)), (time(14, 30), time(16, 30)), (time(19), time(21))]


def seed(scale: int = 1) -> list[tuple[str, str, str]]:
    """The door-demo event and its bookings; returns no logins (the venues seeder lists `door`)."""
    from venues.demo import RESIDENTS

    hub = db.session.execute(select(Venue).where(Venue.key == "hub")).scalars().first()
    actor = find_by_login("admin")
    if hub is None or actor is None:
        log.warning("no hub or admin: the door demo is skipped")
        return []
    event = (
        db.session.execute(select(Activity).where(Activity.venue_id == hub.id, Activity.title == TITLE))
        .scalars()
        .first()
    )
    if event is None:
        event = _event(hub, actor)
    now = utcnow()
    for session in [s for s in event.live_sessions if s.starts_at > now]:
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


def screening_times(now):
    """Today's screenings still to come (local day), or tomorrow's when today's are over."""
    today = local_today(now)
    for day in (today, today + timedelta(days=1)):
        times = [(local_datetime(day, s), local_datetime(day, e)) for s, e in SCREENINGS]
        upcoming = [(s, e) for s, e in times if s > now]
        if upcoming:
            return upcoming
    return []


def _event(hub: Venue, actor) -> Activity:
    now = utcnow()
    event = activities.create_activity(
        hub,
        data={
            "kind": "event",
            "title": TITLE,
            "category": "film",
            "policy": "first_come",
            "capacity": 120,
            "max_party_size": 3,
            "summary": "露天广场放映，凭票入场；扫码验票演示。",
        },
        actor=actor,
        now=now,
    )
    for starts, ends in screening_times(now):
        activities.add_session(event, starts_at=starts, ends_at=ends, actor=actor, now=now)
    activities.publish_activity(event, actor=actor, now=now)
    return event
