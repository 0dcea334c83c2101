"""A small year of activity to report on: two districts, sessions held with bookings, check-ins,
walk-ins and no-shows, built through the real services at set times."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from accounts.models import Role
from bookings.jobs import mark_no_shows
from checkin import services as checkin
from core import tickets
from core.extensions import db
from tests import activity_factories as af
from tests import factories as f
from venues.models import VenueKind

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 2 March 2026, 09:00 in Shanghai
AFTER = datetime(2026, 6, 30, 4, 0, tzinfo=UTC)


@dataclass
class Scenario:
    net: dict
    manager: object
    dawa_manager: object
    panshan_manager: object
    activities: list = field(default_factory=list)
    villages: list = field(default_factory=list)


def _session_with_people(act, session, *, booked: int, come: int, walk_ins: int, scanner) -> None:
    """`booked` residents book one seat each; the first `come` of them are checked in; walk-ins counted."""
    bookings = [
        af.book(f.resident(), act, session, at=session.starts_at - timedelta(days=2), party_size=1)
        for _ in range(booked)
    ]
    at = session.starts_at - timedelta(minutes=20)
    for b in bookings[:come]:
        checkin.check_in(session, payload=tickets.payload_for(b.id), actor=scanner, now=at)
    if walk_ins:
        checkin.count_walk_ins(session, count=walk_ins, actor=scanner, now=session.starts_at)


def build() -> Scenario:
    net = f.network()
    f.venue(VenueKind.station, net["other_branch"], name="高升镇文化站", district_code="211122")
    village2 = f.venue(
        VenueKind.community, net["station"], name="东风镇李家村文化中心", floor_area=260, lat=41.0, lon=122.1
    )
    net["community"].lat, net["community"].lon = 41.1, 122.0
    sc = Scenario(
        net=net,
        manager=f.staff(net["hub"], Role.manager, login="hubmgr"),
        dawa_manager=f.staff(net["branch"], Role.manager, login="dawamgr"),
        panshan_manager=f.staff(net["other_branch"], Role.manager, login="panshanmgr"),
        villages=[net["community"], village2],
    )
    at = T0 - timedelta(days=10)
    hub_staff = f.staff(net["hub"], Role.staff)
    # An event at the station: 3 weekly sessions in March, each with 4 bookings, 3 come, 2 walk in.
    concert = af.activity(
        net["station"],
        title="春季音乐会",
        category="music",
        sessions=3,
        capacity=50,
        starts_in=T0 - at,
        at=at,
        actor=hub_staff,
    )
    # A film at the first village, one session, outreach.
    film = af.activity(
        net["community"],
        title="农村公益电影",
        category="film",
        sessions=1,
        capacity=80,
        starts_in=T0 - at + timedelta(days=1),
        at=at,
        actor=hub_staff,
    )
    film.is_outreach = True
    # A lecture in the other district (Panshan), 2 sessions in April.
    lecture = af.activity(
        net["other_branch"],
        title="非遗讲座",
        category="heritage",
        sessions=2,
        capacity=30,
        starts_in=T0 - at + timedelta(days=35),
        at=at,
        actor=hub_staff,
    )
    db.session.flush()
    scanner = hub_staff
    for s in concert.sessions:
        _session_with_people(concert, s, booked=4, come=3, walk_ins=2, scanner=scanner)
    _session_with_people(film, film.sessions[0], booked=2, come=2, walk_ins=10, scanner=scanner)
    for s in lecture.sessions:
        _session_with_people(lecture, s, booked=3, come=1, walk_ins=0, scanner=scanner)
    sc.activities = [concert, film, lecture]
    db.session.commit()
    mark_no_shows(AFTER)
    db.session.commit()
    return sc
