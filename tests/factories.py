"""One factory style for every test: plain functions that build through the real services and flush."""

import itertools
from datetime import time

from accounts import services as accounts
from accounts.models import Role, User
from core.extensions import db
from venues.models import District, OpeningHours, Room, RoomKind, Venue, VenueKind

PASSWORD = "secret123"
_seq = itertools.count(1)


# The demo network's districts by their GB/T 2260 codes (name, English name).
DISTRICTS = {
    "211102": ("双台子区", "Shuangtaizi District"),
    "211103": ("兴隆台区", "Xinglongtai District"),
    "211104": ("大洼区", "Dawa District"),
    "211122": ("盘山县", "Panshan County"),
}


def district(code: str = "211104", name: str | None = None) -> District:
    existing = db.session.get(District, code)
    if existing:
        return existing
    known_name, known_en = DISTRICTS.get(code, (f"区县{code}", f"District {code}"))
    d = District(code=code, name=name or known_name, name_en=known_en)
    db.session.add(d)
    db.session.flush()
    return d


def venue(
    kind: VenueKind = VenueKind.hub,
    parent: Venue | None = None,
    *,
    name: str | None = None,
    district_code: str = "211104",
    hours: bool = True,
    **fields,
) -> Venue:
    """A venue in the tree, open 08:00–20:00 every day unless `hours=False`."""
    district(district_code)
    n = next(_seq)
    v = Venue(
        kind=kind, parent=parent, name=name or f"{kind.value} {n}", district_code=district_code, key=f"v{n}", **fields
    )
    db.session.add(v)
    db.session.flush()
    v.path = (parent.path if parent else "/") + f"{v.id}/"
    if hours:
        v.hours.extend(OpeningHours(weekday=d, opens_at=time(8), closes_at=time(20)) for d in range(7))
    db.session.flush()
    return v


def room(v: Venue, *, name: str = "排练厅", capacity: int = 40, **fields) -> Room:
    r = Room(venue=v, name=name, kind=fields.pop("kind", RoomKind.rehearsal), capacity=capacity, **fields)
    db.session.add(r)
    db.session.flush()
    return r


def network() -> dict[str, Venue]:
    """hub → branch → station → community, plus a sibling station and a second branch."""
    hub = venue(VenueKind.hub, name="市群众艺术馆")
    branch = venue(VenueKind.branch, hub, name="大洼区文化馆")
    other_branch = venue(VenueKind.branch, hub, name="盘山县文化馆", district_code="211122")
    station = venue(VenueKind.station, branch, name="东风镇文化站")
    sibling = venue(VenueKind.station, branch, name="新开镇文化站")
    community = venue(VenueKind.community, station, name="东风镇王家村文化中心", floor_area=150)
    return {
        "hub": hub,
        "branch": branch,
        "other_branch": other_branch,
        "station": station,
        "sibling": sibling,
        "community": community,
    }


def resident(phone: str | None = None, *, name: str = "张秀兰", birth_year: int = 1960, **kwargs) -> User:
    phone = phone or f"135{next(_seq) % 100_000_000:08d}"
    return accounts.register_resident(name=name, phone=phone, password=PASSWORD, birth_year=birth_year, **kwargs)


def staff(v: Venue | None, role: Role = Role.staff, *, login: str | None = None) -> User:
    login = login or f"staff{next(_seq)}"
    user = User(login=login, name=f"工作人员{login}", password_hash=accounts.hash_password(PASSWORD))
    db.session.add(user)
    db.session.flush()
    accounts.grant_role(user, role=role, venue=v)
    return user


def commit() -> None:
    db.session.commit()
