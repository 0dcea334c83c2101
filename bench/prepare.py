"""Prepare steps that go through the app's own services (run in a subprocess with the bench environment).

`python -m bench.prepare classes N [course|event]` creates and publishes N fresh 30-seat first-come
activities (no waiting list, so a late request is refused `full`) as the admin, through
activities.services, and prints their ids (and, for events, their session ids) as JSON on stdout.
"""

import json
import sys
from datetime import time, timedelta

from sqlalchemy import select

from accounts.services import find_by_login
from activities import services as activities
from core.extensions import db
from core.i18n import local_datetime, local_today
from venues.models import Venue, VenueKind

CAPACITY = 30


def make_classes(count: int, kind: str, capacity: int = CAPACITY) -> list[dict]:
    actor = find_by_login("admin")
    venue = db.session.execute(select(Venue).where(Venue.kind == VenueKind.hub).order_by(Venue.id)).scalars().first()
    made = []
    stamp = local_datetime(local_today(), time(0)).strftime("%H%M%S")
    for n in range(count):
        fields = {
            "kind": kind,
            "title": f"压测{'班' if kind == 'course' else '场'} {stamp}-{n}",
            "category": "music",
            "policy": "first_come",
            "capacity": capacity,
            "max_party_size": 1,
            "has_waiting_list": False,
            "place": "压测教室",
        }
        activity = activities.create_activity(venue, data=fields, actor=actor)
        lessons = 4 if kind == "course" else 1
        for week in range(lessons):
            day = local_today() + timedelta(days=10 + week * 7 + n % 7)
            slot = time(8 + n % 12, 0)
            activities.add_session(
                activity,
                starts_at=local_datetime(day, slot),
                ends_at=local_datetime(day, time(slot.hour, 50)),
                actor=actor,
            )
        activities.publish_activity(activity, actor=actor)
        made.append({"activity_id": activity.id, "session_id": None if kind == "course" else activity.sessions[0].id})
    db.session.commit()
    return made


def make_checkin_session(count: int) -> dict:
    """An event whose session starts in 30 minutes (check-in is open), with `count` confirmed bookings of
    the bulk residents (booked through bookings.services), and each booking's ticket payload."""
    from accounts.models import User
    from bookings import services as bookings
    from core import tickets

    actor = find_by_login("admin")
    venue = db.session.execute(select(Venue).where(Venue.kind == VenueKind.hub).order_by(Venue.id)).scalars().first()
    now = local_datetime(local_today(), time(0))
    fields = {
        "kind": "event",
        "title": f"压测签到 {now:%H%M%S}-{count}",
        "category": "music",
        "policy": "first_come",
        "capacity": count,
        "max_party_size": 1,
        "has_waiting_list": False,
        "place": "压测礼堂",
    }
    activity = activities.create_activity(venue, data=fields, actor=actor)
    from core.db import utcnow

    starts = utcnow() + timedelta(minutes=30)
    session = activities.add_session(activity, starts_at=starts, ends_at=starts + timedelta(hours=2), actor=actor)
    activities.publish_activity(activity, actor=actor)
    users = (
        db.session.execute(select(User).where(User.phone.like("139%")).order_by(User.id.desc()).limit(count))
        .scalars()
        .all()
    )
    payloads = []
    for user in users:
        booking = bookings.book(user, data=bookings.BookingRequest(activity=activity, session=session), actor=user)
        payloads.append(tickets.payload_for(booking.id))
    db.session.commit()
    return {"session_id": session.id, "payloads": payloads, "staff": [actor.id, actor.session_version, actor.locale]}


def main() -> None:
    from wsgi import app

    what, count, kind = sys.argv[1], int(sys.argv[2]), (sys.argv[3] if len(sys.argv) > 3 else "course")
    with app.app_context():
        if what == "classes":
            capacity = int(sys.argv[4]) if len(sys.argv) > 4 else CAPACITY
            print(json.dumps(make_classes(count, kind, capacity)))
        elif what == "checkin":
            print(json.dumps(make_checkin_session(count)))
        else:
            raise SystemExit(f"unknown prepare step {what}")


if __name__ == "__main__":
    main()
