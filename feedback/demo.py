"""Demo data for satisfaction (`flask demo seed`): past sessions at a few venues that the demo residents
attended (checked in at the door) and rated, some with comments, so the 满意度 page has figures at once.

Idempotent: nothing is added when the first demo event exists already.
"""

import logging
from datetime import time, timedelta

from sqlalchemy import select

from accounts.services import find_by_login
from activities import services as activities
from activities.models import Activity
from bookings import services as bookings
from checkin import services as checkin
from core.db import utcnow
from core.errors import DomainError
from core.extensions import db
from core.i18n import local_datetime, local_today
from feedback import services
from venues.models import Venue

log = logging.getLogger(__name__)
# (venue key, title, category, days ago, ratings with comments per demo resident)
EVENTS = [
    ("hub", "周末合唱公开课", "music", 9, [(5, ["teacher"], "老师讲得很好"), (4, [], ""), (5, ["content"], "")]),
    (
        "branch-dawa",
        "稻作文化讲座",
        "heritage",
        6,
        [(3, ["timing"], "时间太早了"), (4, [], ""), (2, ["venue"], "屋里太冷")],
    ),
    ("branch-panshan", "二人转欣赏", "quyi", 4, [(5, ["content"], ""), (5, [], "希望多办"), (4, ["teacher"], "")]),
]


def seed(scale: int = 1) -> list[tuple[str, str, str]]:
    from venues.demo import RESIDENTS

    actor = find_by_login("admin")
    if actor is None:
        return []
    venues = {v.key: v for v in db.session.execute(select(Venue).where(Venue.key.isnot(None))).scalars()}
    if db.session.execute(select(Activity.id).where(Activity.title == EVENTS[0][1])).first():
        return []
    now = utcnow()
    for key, title, category, days, answers in EVENTS:
        venue = venues.get(key)
        if venue is None:
            continue
        starts = local_datetime(local_today(now) - timedelta(days=days), time(10))
        created = starts - timedelta(days=10)
        try:
            with db.session.begin_nested():
                act = activities.create_activity(
                    venue,
                    data={
                        "kind": "event",
                        "title": title,
                        "category": category,
                        "policy": "first_come",
                        "capacity": 40,
                    },
                    actor=actor,
                    now=created,
                )
                session = activities.add_session(
                    act, starts_at=starts, ends_at=starts + timedelta(hours=2), actor=actor, now=created
                )
                activities.publish_activity(act, actor=actor, now=created)
                for (phone, *_rest), (rating, tags, comment) in zip(RESIDENTS, answers, strict=False):
                    user = find_by_login(phone)
                    if user is None:
                        continue
                    request = bookings.BookingRequest(activity=act, session=session)
                    booking = bookings.book(user, data=request, actor=user, now=created + timedelta(days=1))
                    checkin.check_in(
                        session, payload=_payload(booking), actor=actor, now=starts - timedelta(minutes=10)
                    )
                    services.give_feedback(
                        booking,
                        data={"rating": rating, "tags": tags, "comment": comment},
                        user=user,
                        now=starts + timedelta(hours=3),
                    )
        except DomainError as err:
            log.info("feedback demo %s: %s %s", title, err.code, err.extra)
    db.session.flush()
    return []


def _payload(booking) -> str:
    from core import tickets

    return tickets.payload_for(booking.id)
