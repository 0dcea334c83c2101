"""The Panjin demo network and its accounts (`flask demo seed`), idempotent: keys find what exists."""

import json
from datetime import date, time, timedelta
from pathlib import Path

from sqlalchemy import select

from accounts import services as accounts
from accounts.models import Participant, Relation, Role, User
from core.extensions import db
from core.i18n import local_today
from venues.models import Closure, District, OpeningHours, Room, RoomKind, Venue, VenueKind

DATA = Path(__file__).parent / "data" / "panjin.json"
PASSWORD = "demo12345"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

# (login, role, venue key, name): one staff account per level, managers, an admin, door staff.
STAFF = [
    ("admin", Role.admin, None, "系统管理员"),
    ("manager", Role.manager, "hub", "市文旅局 王主任"),
    ("manager-dawa", Role.manager, "branch-dawa", "大洼区文化馆 李馆长"),
    ("hub-staff", Role.staff, "hub", "市群艺馆 赵老师"),
    ("branch-staff", Role.staff, "branch-dawa", "大洼区文化馆 孙老师"),
    ("station-staff", Role.staff, None, "乡镇文化站 周站长"),
    ("village-staff", Role.staff, None, "村文化中心 吴管理员"),
    ("door", Role.checkin, "hub", "市群艺馆 检票员"),
]
RESIDENTS = [
    ("13800000001", "张秀兰", 1958, [("王小明", 2016, "grandchild")]),
    ("13800000002", "李建国", 1985, [("李欣怡", 2014, "child"), ("刘芳", 1987, "spouse")]),
    ("13800000003", "王丽", 1996, []),
    ("13800000004", "陈志强", 1972, [("陈浩", 2011, "child")]),
    ("13800000005", "刘桂芝", 1950, []),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["秀英", "桂兰", "建华", "志强", "丽娟", "海燕", "明", "欣怡", "子涵", "浩然", "雨桐", "思远", "玉梅", "国庆"]


def load_network() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def seed(scale: int = 1) -> list[tuple[str, str, str]]:
    """Seed districts, venues, hours, rooms and accounts; return (login, role, where) for the README."""
    network = load_network()
    _seed_districts(network["districts"])
    venues = _seed_venues(network["venues"])
    logins = _seed_staff(venues)
    logins += _seed_residents(scale)
    return logins


def _seed_districts(rows: list[dict]) -> None:
    for position, row in enumerate(rows):
        if db.session.get(District, row["code"]) is None:
            db.session.add(District(code=row["code"], name=row["name"], name_en=row.get("name_en"), position=position))
    db.session.flush()


def _seed_venues(rows: list[dict]) -> dict[str, Venue]:
    existing = {v.key: v for v in db.session.execute(select(Venue).where(Venue.key.isnot(None))).scalars()}
    for row in rows:
        if row["key"] in existing:
            continue
        parent = existing.get(row["parent"]) if row.get("parent") else None
        venue = Venue(
            key=row["key"],
            name=row["name"],
            name_en=row.get("name_en"),
            kind=VenueKind(row["kind"]),
            parent=parent,
            district_code=row["district"],
            address=row.get("address", ""),
            lat=row.get("lat"),
            lon=row.get("lon"),
            phone=row.get("phone", ""),
            floor_area=row.get("floor_area"),
            description=row.get("description", ""),
        )
        db.session.add(venue)
        db.session.flush()
        venue.path = (parent.path if parent else "/") + f"{venue.id}/"
        for day, intervals in (row.get("hours") or {}).items():
            for opens, closes in intervals:
                venue.hours.append(
                    OpeningHours(
                        weekday=WEEKDAYS.index(day),
                        opens_at=time.fromisoformat(opens),
                        closes_at=time.fromisoformat(closes),
                    )
                )
        for room in row.get("rooms", []):
            venue.rooms.append(
                Room(
                    key=room.get("key"),
                    name=room["name"],
                    name_en=room.get("name_en"),
                    kind=RoomKind(room["kind"]),
                    capacity=room.get("capacity", 0),
                    floor_area=room.get("floor_area"),
                    equipment=",".join(room.get("equipment", [])),
                    is_bookable=room.get("bookable", True),
                    is_self_service=room.get("self_service", False),
                )
            )
        existing[row["key"]] = venue
    _seed_holiday(existing.get("hub"))
    db.session.flush()
    return existing


def _seed_holiday(hub: Venue | None) -> None:
    """The hub closes for the Spring Festival: one closure, so pages and rules have one to show."""
    if hub is None or hub.closures:
        return
    start = date(local_today().year + 1, 2, 16)
    hub.closures.append(Closure(starts_on=start, ends_on=start + timedelta(days=3), reason="春节闭馆"))


def _first_of_kind(venues: dict[str, Venue], kind: VenueKind, district: str = "211104") -> Venue:
    return next(v for v in venues.values() if v.kind == kind and v.district_code == district)


def _seed_staff(venues: dict[str, Venue]) -> list[tuple[str, str, str]]:
    logins = []
    station = _first_of_kind(venues, VenueKind.station)
    village = next(v for v in venues.values() if v.kind == VenueKind.community and v.parent_id == station.id)
    for login, role, key, name in STAFF:
        venue = venues.get(key) if key else None
        if login == "station-staff":
            venue = station
        elif login == "village-staff":
            venue = village
        user = accounts.find_by_login(login)
        if user is None:
            user = User(login=login, name=name, password_hash=accounts.hash_password(PASSWORD))
            db.session.add(user)
            db.session.flush()
        accounts.grant_role(user, role=role, venue=venue)
        logins.append((login, role.value, venue.name if venue else "全市 (whole network)"))
    return logins


def _seed_residents(scale: int) -> list[tuple[str, str, str]]:
    logins = []
    password_hash = accounts.hash_password(PASSWORD)
    for phone, name, birth_year, family in RESIDENTS:
        if accounts.find_by_login(phone) is None:
            user = accounts.register_resident(name=name, phone=phone, password=PASSWORD, birth_year=birth_year)
            for member, year, relation in family:
                user.participants.append(Participant(name=member, birth_year=year, relation=Relation(relation)))
        logins.append((phone, "resident", name))
    _seed_bulk_residents(scale * 20, password_hash)
    db.session.flush()
    return logins


def _seed_bulk_residents(count: int, password_hash: str) -> None:
    """Residents 13900000000 + n for load tests; all share one password hash (hashing is slow on purpose)."""
    have = db.session.execute(select(User.phone).where(User.phone.like("139%"))).scalars().all()
    have = set(have)
    for n in range(count):
        phone = f"139{n:08d}"
        if phone in have:
            continue
        name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)]
        birth_year = 1940 + (n * 7) % 75
        user = User(name=name, phone=phone, password_hash=password_hash, birth_year=birth_year)
        user.participants.append(Participant(name=name, birth_year=birth_year, relation=Relation.self))
        db.session.add(user)
        if n % 500 == 499:
            _assign_cards()
    _assign_cards()


def _assign_cards() -> None:
    from accounts.models import card_number_for

    db.session.flush()
    for user in db.session.execute(select(User).where(User.card_number.is_(None), User.phone.like("139%"))).scalars():
        user.card_number = card_number_for(user.id)
    db.session.flush()
