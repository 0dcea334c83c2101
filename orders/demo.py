"""The demo service menu and orders (`flask demo seed`), idempotent: items are found by provider and title,
and orders are only seeded once. Runs after the venues and activities seeders; goes through the services."""

import logging
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from accounts.models import User
from accounts.services import find_by_login
from core.extensions import db
from core.i18n import local_datetime, local_today
from orders import services
from orders.models import MenuItem, ServiceOrder
from venues.models import Venue

log = logging.getLogger(__name__)
ALL = ["211102", "211103", "211104", "211122"]

# provider key, title, English title, category, districts, audience range, minutes, notice, quota, host needs
MENU = [
    (
        "hub",
        "送戏下乡：综合文艺演出",
        "Touring variety show",
        "performance",
        ALL,
        (100, 800),
        120,
        21,
        40,
        "舞台或平整场地、380V电源",
    ),
    ("hub", "非遗剪纸体验课", "Paper-cutting workshop", "heritage", ALL, (10, 40), 90, 10, 60, "桌椅、照明"),
    (
        "hub",
        "馆藏书画精品巡展",
        "Touring calligraphy and painting exhibition",
        "exhibition",
        ALL,
        (30, 500),
        480,
        30,
        12,
        "室内展厅或活动室，可悬挂展板",
    ),
    ("ethnic", "满族民俗文化讲座", "Manchu folk culture lecture", "lecture", ALL, (20, 200), 90, 7, None, "投影仪"),
    (
        "branch-dawa",
        "公益电影放映",
        "Open-air film screening",
        "film",
        ["211104"],
        (20, 300),
        120,
        7,
        120,
        "电源、空地",
    ),
    (
        "branch-dawa",
        "广场舞辅导（四次课）",
        "Square-dance coaching (four lessons)",
        "training",
        ["211104"],
        (15, 60),
        90,
        14,
        20,
        "广场或活动室、音响",
    ),
    (
        "branch-dawa",
        "稻作文化讲座",
        "Rice-farming culture lecture",
        "lecture",
        ["211104"],
        (20, 150),
        60,
        7,
        None,
        "投影仪",
    ),
    (
        "branch-panshan",
        "二人转小剧场",
        "Errenzhuan folk duet",
        "performance",
        ["211122"],
        (50, 400),
        100,
        14,
        30,
        "舞台、电源",
    ),
    (
        "branch-panshan",
        "农村公益电影放映",
        "Village film screening",
        "film",
        ["211122"],
        (20, 300),
        120,
        7,
        150,
        "电源、空地",
    ),
    (
        "branch-shuangtaizi",
        "手机摄影培训",
        "Smartphone photography course",
        "training",
        ["211102"],
        (10, 40),
        120,
        10,
        12,
        "活动室、投影仪",
    ),
]


def seed(scale: int = 1) -> list[tuple[str, str, str]]:
    """Publish the demo menu and place orders in every state; returns no logins (venues lists them)."""
    actor = find_by_login("admin")
    if actor is None:
        log.warning("no admin account: demo menu skipped")
        return []
    venues = {v.key: v for v in db.session.execute(select(Venue).where(Venue.key.isnot(None))).scalars()}
    items = [_item(venues[key], row, actor) for key, *row in MENU if key in venues]
    if items and not db.session.scalar(select(func.count()).select_from(ServiceOrder)):
        _orders({i.title: i for i in items}, venues)
    db.session.flush()
    return []


def _item(provider: Venue, row: tuple, actor: User) -> MenuItem:
    title, title_en, category, districts, (low, high), minutes, notice, quota, host = row
    found = db.session.execute(
        select(MenuItem).where(MenuItem.provider_venue_id == provider.id, MenuItem.title == title)
    ).scalar()
    if found is not None:
        return found
    item = services.save_menu_item(
        provider,
        actor=actor,
        data={
            "title": title,
            "title_en": title_en,
            "category": category,
            "district_codes": districts,
            "audience_min": low,
            "audience_max": high,
            "duration_minutes": minutes,
            "lead_days": notice,
            "yearly_quota": quota,
            "daily_capacity": 1,
            "host_requirements": host,
            "description": f"{provider.name}提供的{title}，欢迎各乡镇文化站、村（社区）文化中心点单。",
        },
    )
    services.publish_menu_item(item, actor=actor)
    return item


def _orders(items: dict[str, MenuItem], venues: dict[str, Venue]) -> None:
    """One order in each state, from the demo village and station staff, answered by the branch staff."""
    village, station, branch = (find_by_login(x) for x in ("village-staff", "station-staff", "branch-staff"))
    if not (village and station and branch):
        return
    home = village.grants[0].venue
    other = next((v for v in home.parent.children if v.id != home.id), home) if home.parent else home
    film, dance, lecture = items.get("公益电影放映"), items.get("广场舞辅导（四次课）"), items.get("稻作文化讲座")
    if not (film and dance and lecture):
        return
    today = local_today()
    past = datetime.combine(today - timedelta(days=40), time(2), tzinfo=UTC)

    def order(item, who, venue, days, at=None, **extra):
        dates = [today + timedelta(days=d) for d in days]
        data = {
            "menu_item": item,
            "venue": venue,
            "preferred_dates": dates,
            "audience_size": 80,
            "contact_phone": "13800000009",
            "notes": "村文化广场，晚饭后村民最多",
        } | extra
        return services.submit_order(data=data, actor=who, now=at)

    order(film, village, home, [14, 16])  # submitted, waiting for an answer
    countered = order(lecture, station, other, [10])
    services.counter_order(
        countered, actor=branch, counter_on=today + timedelta(days=12), reply="10日讲师外出，12日可以吗？"
    )
    accepted = order(dance, village, home, [20, 27], audience_size=40)
    services.accept_order(accepted, actor=branch, reply="可以，老师会提前联系您。")
    scheduled = order(film, station, other, [9, 11])
    services.accept_order(scheduled, actor=branch, chosen_on=today + timedelta(days=9), reply="放映《你好，李焕英》")
    start = local_datetime(today + timedelta(days=9), time(18, 30))
    services.schedule_order(scheduled, actor=branch, starts_at=start, ends_at=start + timedelta(hours=2))
    _delivered(film, village, home, branch, today, past, order)
    custom = services.submit_order(
        actor=village,
        data={
            "custom": {
                "title": "农民画培训",
                "description": "村里有十几位农民画爱好者，希望请老师来做系列辅导。",
                "category": "training",
            },
            "venue": home,
            "preferred_dates": [today + timedelta(days=30)],
            "audience_size": 15,
            "contact_phone": "13800000009",
        },
    )
    services.decline_order(custom, actor=branch, reason="今年美术老师已排满，已列入明年菜单计划。")


def _delivered(film, village, home, branch, today: date, past: datetime, order) -> None:
    """A screening held ten days after being ordered 40 days ago: delivered with a headcount, and rated."""
    held_on = today - timedelta(days=30)
    done = order(film, village, home, [-30], at=past)
    services.accept_order(done, actor=branch, now=past + timedelta(days=1))
    start = local_datetime(held_on, time(18, 30))
    services.schedule_order(
        done, actor=branch, starts_at=start, ends_at=start + timedelta(hours=2), now=past + timedelta(days=2)
    )
    services.deliver_order(
        done,
        actor=village,
        headcount=126,
        report="放映《长津湖》，村民自带板凳，秩序良好。",
        now=start + timedelta(hours=2),
    )
    services.rate_order(
        done, actor=village, rating=5, comment="放映队准时到达，效果很好。", now=start + timedelta(hours=3)
    )
