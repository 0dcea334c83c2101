"""Demo activities across the Panjin network and bookings for the demo residents (`flask demo seed`).

Idempotent: an activity is found again by (venue, title), a booking by the unique active booking per
unit. Venues and rooms are looked up by key, falling back to the first venue of the right kind, so the
seeder copes with a network file that is still growing (or another city's).
"""

import logging
from datetime import date, time, timedelta

from sqlalchemy import select

from accounts.models import Participant, Relation, User
from accounts.services import find_by_login
from activities import services as activities
from activities.models import Activity, ActivityStatus
from bookings import services
from core.db import utcnow
from core.errors import DomainError
from core.extensions import db
from core.i18n import local_datetime, local_today
from venues.models import Room, Venue, VenueKind

log = logging.getLogger(__name__)

# (venue key, fallback kind, room key, fields, pattern) — pattern: (weekday offsets, days ahead, count, start, end)
CATALOGUE = [
    (
        "hub",
        VenueKind.hub,
        "hub-calligraphy",
        {
            "kind": "course",
            "title": "少儿书法启蒙班",
            "category": "calligraphy",
            "policy": "lottery",
            "capacity": 20,
            "age_min": 6,
            "age_max": 12,
            "max_party_size": 1,
            "series": "油城少儿艺术课堂",
            "summary": "毛笔握笔、基本笔画与楷书入门，每周六上午，共8次课。报名截止后公开摇号。",
            "description": (
                "## 课程内容\n\n- 握笔与坐姿\n- 基本笔画\n- 楷书结构\n\n请自备毛笔一支，其余材料由馆里提供。"
            ),
            "close_in_days": 3,
        },
        ("weekly", 5, 6, 8, time(9), time(10, 30)),
    ),
    (
        "hub",
        VenueKind.hub,
        "hub-music",
        {
            "kind": "course",
            "title": "中老年声乐班",
            "category": "music",
            "policy": "lottery",
            "capacity": 30,
            "age_min": 50,
            "age_max": 80,
            "max_party_size": 1,
            "reserved_quota": 5,
            "quota_rule": "seniors",
            "summary": "科学发声与合唱基础，每周二下午。预留5个名额给60岁以上居民。",
            "close_in_days": 2,
        },
        ("weekly", 1, 5, 10, time(14), time(16)),
    ),
    (
        "hub",
        VenueKind.hub,
        "hub-rehearsal",
        {
            "kind": "course",
            "title": "二胡提高班",
            "category": "music",
            "policy": "approval",
            "capacity": 12,
            "max_party_size": 1,
            "summary": "面向有基础的学员，报名后由老师审核（试奏）。",
        },
        ("weekly", 3, 4, 8, time(18, 30), time(20, 30)),
    ),
    (
        "hub",
        VenueKind.hub,
        "hub-hall",
        {
            "kind": "event",
            "title": "油城春潮·新春音乐会",
            "category": "music",
            "policy": "first_come",
            "capacity": 280,
            "max_party_size": 3,
            "series": "油城春潮",
            "summary": "市群艺馆艺术团新春专场，民乐、合唱与舞蹈。",
        },
        ("dates", [10, 11], time(19), time(21)),
    ),
    (
        "ethnic",
        VenueKind.branch,
        "ethnic-heritage",
        {
            "kind": "event",
            "title": "非遗剪纸体验课",
            "category": "heritage",
            "policy": "first_come",
            "capacity": 20,
            "max_party_size": 2,
            "summary": "跟非遗传承人学剪窗花，材料免费提供。",
        },
        ("dates", [4, 11, 18], time(9, 30), time(11, 30)),
    ),
    (
        "branch-dawa",
        VenueKind.branch,
        "branch-dawa-hall",
        {
            "kind": "event",
            "title": "稻乡讲堂：辽河口湿地文化",
            "category": "literature",
            "policy": "first_come",
            "capacity": 180,
            "max_party_size": 3,
            "series": "稻乡讲堂",
            "summary": "地方文史专家讲湿地与稻作文化。",
        },
        ("dates", [6], time(14, 30), time(16)),
    ),
    (
        "hub",
        VenueKind.hub,
        "hub-exhibition",
        {
            "kind": "exhibition",
            "title": "红海滩湿地摄影展",
            "category": "photography",
            "policy": "first_come",
            "capacity": 40,
            "max_party_size": 3,
            "summary": "分时段预约入场，每场40人。",
            "starts_on": 0,
            "ends_on": 30,
        },
        ("slots", 6, [(time(10), time(11)), (time(14), time(15))]),
    ),
    (
        "branch-shuangtaizi",
        VenueKind.branch,
        "branch-shuangtaizi-exhibition",
        {
            "kind": "exhibition",
            "title": "盘锦农民画展",
            "category": "fine_art",
            "policy": "walk_in",
            "capacity": 0,
            "summary": "免费参观，无需预约。",
            "starts_on": -3,
            "ends_on": 40,
        },
        None,
    ),
    (
        "cm-tianjia-tianjia",
        VenueKind.community,
        None,
        {
            "kind": "event",
            "title": "周末露天电影：《我和我的家乡》",
            "category": "film",
            "policy": "walk_in",
            "capacity": 0,
            "place": "村文化广场",
            "summary": "农村公益电影放映，自带小板凳。",
        },
        ("dates", [2, 9, 16], time(18, 30), time(20, 30)),
    ),
    (
        "st-tangjia",
        VenueKind.station,
        "st-tangjia-square",
        {
            "kind": "event",
            "title": "唐家镇广场舞联欢",
            "category": "dance",
            "policy": "first_come",
            "capacity": 100,
            "max_party_size": 3,
            "summary": "各村广场舞队展演，欢迎报名观看。",
        },
        ("dates", [5], time(18), time(20)),
    ),
    (
        "st-dongfeng",
        VenueKind.station,
        "st-dongfeng-activity",
        {
            "kind": "event",
            "title": "剪纸小课堂（体验场）",
            "category": "heritage",
            "policy": "first_come",
            "capacity": 2,
            "max_party_size": 1,
            "summary": "名额很少的体验课，满员后可候补。",
        },
        ("dates", [8], time(9), time(10, 30)),
    ),
]

# resident phone → [(activity title, participant names or None for self, session index)]
DEMO_BOOKINGS = {
    "13800000001": [("少儿书法启蒙班", ["王小明"], 0), ("油城春潮·新春音乐会", None, 0), ("中老年声乐班", None, 0)],
    "13800000002": [
        ("剪纸小课堂（体验场）", None, 0),
        ("稻乡讲堂：辽河口湿地文化", None, 0),
        ("少儿书法启蒙班", ["李欣怡"], 0),
    ],
    "13800000003": [("剪纸小课堂（体验场）", None, 0), ("二胡提高班", None, 0), ("红海滩湿地摄影展", None, 1)],
    "13800000004": [("剪纸小课堂（体验场）", None, 0), ("非遗剪纸体验课", None, 1)],
    "13800000005": [("中老年声乐班", None, 0), ("唐家镇广场舞联欢", None, 0)],
}


def seed(scale: int = 1) -> list[tuple[str, str, str]]:
    """Seed the demo activities and bookings; returns no logins (the venues seeder lists them)."""
    actor = _actor()
    if actor is None:
        log.warning("no admin account: demo activities skipped")
        return []
    venues = {v.key: v for v in db.session.execute(select(Venue).where(Venue.key.isnot(None))).scalars()}
    made = {}
    for key, kind, room_key, fields, pattern in CATALOGUE:
        venue = venues.get(key) or next((v for v in venues.values() if v.kind == kind), None)
        if venue is not None:
            made[fields["title"]] = _activity(venue, room_key, dict(fields), pattern, actor)
    _book_demo_residents(made)
    _enter_bulk_residents(made.get("中老年声乐班"), scale)
    _extra_events(venues, actor, scale)
    db.session.flush()
    return []


def _actor() -> User | None:
    return find_by_login("admin") or db.session.execute(select(User).where(User.grants.any())).scalars().first()


def _activity(venue: Venue, room_key: str | None, fields: dict, pattern, actor: User) -> Activity:
    existing = (
        db.session.execute(select(Activity).where(Activity.venue_id == venue.id, Activity.title == fields["title"]))
        .scalars()
        .first()
    )
    if existing is not None:
        return existing
    room = db.session.execute(select(Room).where(Room.key == room_key)).scalars().first() if room_key else None
    today = local_today()
    if "close_in_days" in fields:
        fields["signup_closes_at"] = local_datetime(today + timedelta(days=fields.pop("close_in_days")), time(20))
    for name in ("starts_on", "ends_on"):
        if name in fields:
            fields[name] = today + timedelta(days=fields[name])
    if room is not None and room.venue_id == venue.id:
        fields["room_id"] = room.id
    activity = activities.create_activity(venue, data=fields, actor=actor)
    for day, starts, ends in _days(pattern, today):
        try:
            with db.session.begin_nested():
                activities.add_session(
                    activity, starts_at=local_datetime(day, starts), ends_at=local_datetime(day, ends), actor=actor
                )
        except DomainError as err:  # a room clash with existing demo data: keep the rest
            log.info("demo session %s on %s skipped: %s", activity.title, day, err.code)
    if activity.sessions or activity.starts_on:
        activities.publish_activity(activity, actor=actor)
    return activity


def _days(pattern, today: date) -> list[tuple[date, time, time]]:
    if pattern is None:
        return []
    if pattern[0] == "weekly":
        _kind, weekday, ahead, count, starts, ends = pattern
        first = today + timedelta(days=ahead)
        first += timedelta(days=(weekday - first.weekday()) % 7)
        return [(first + timedelta(weeks=i), starts, ends) for i in range(count)]
    if pattern[0] == "dates":
        _kind, offsets, starts, ends = pattern
        return [(today + timedelta(days=n), starts, ends) for n in offsets]
    _kind, days, slots = pattern
    return [(today + timedelta(days=n), s, e) for n in range(1, days + 1) for s, e in slots]


def _book(user: User, activity: Activity | None, names: list[str] | None, index: int) -> None:
    if activity is None or activity.status != ActivityStatus.published:
        return
    live = [s for s in activity.live_sessions if s.starts_at > utcnow()]
    session = None if activity.is_course else (live[index] if index < len(live) else None)
    if not activity.is_course and session is None:
        return
    ids = [p.id for p in user.participants if p.name in names] if names else None
    request = services.BookingRequest(activity=activity, session=session, participant_ids=ids or None)
    try:
        with db.session.begin_nested():
            services.book(user, data=request, actor=user)
    except DomainError as err:  # already booked on an earlier run, or not eligible: fine for a demo
        log.info("demo booking %s → %s: %s", user.phone, activity.title, err.code)


def _book_demo_residents(made: dict[str, Activity]) -> None:
    for phone, wishes in DEMO_BOOKINGS.items():
        user = find_by_login(phone)
        if user is None:
            continue
        for title, names, index in wishes:
            _book(user, made.get(title), names, index)


def _enter_bulk_residents(activity: Activity | None, scale: int) -> None:
    """Load-test residents (139…) of the right age enter the seniors' singing lottery, so the draw has a crowd."""
    if activity is None:
        return
    year = local_today().year
    users = (
        db.session.execute(
            select(User)
            .join(Participant, Participant.user_id == User.id)
            .where(
                User.phone.like("139%"),
                Participant.relation == Relation.self,
                Participant.birth_year.between(year - 80, year - 50),
            )
            .order_by(User.id)
            .limit(40 * scale)
        )
        .scalars()
        .all()
    )
    for user in users:
        _book(user, activity, None, 0)


EXTRA_TITLES = ["公益电影放映", "惠民演出", "非遗讲座", "书画公益课", "广场舞展演"]


def _extra_events(venues: dict[str, Venue], actor: User, scale: int) -> None:
    """For load tests (`--scale N`, N > 1): 20 more events per extra unit of scale at stations and villages."""
    points = [v for v in venues.values() if v.kind in (VenueKind.station, VenueKind.community)]
    if scale <= 1 or not points:
        return
    for n in range((scale - 1) * 20):
        venue = points[n % len(points)]
        fields = {
            "kind": "event",
            "title": f"{EXTRA_TITLES[n % len(EXTRA_TITLES)]}（第{n + 1}场）",
            "category": ["film", "music", "heritage", "calligraphy", "dance"][n % 5],
            "policy": "first_come",
            "capacity": 30 + n % 50,
            "max_party_size": 3,
            "place": "文化广场",
        }
        _activity(venue, None, fields, ("dates", [1 + n % 28], time(18, 30), time(20)), actor)
