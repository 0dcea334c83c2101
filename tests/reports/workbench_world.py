"""A small workbench: a network, three responsible units (a city department and two districts), people
of each, and a five-standard catalogue for 2026 (one standard computed by the hub-hours checklist row)."""

from dataclasses import dataclass
from datetime import UTC, datetime

from accounts import services as accounts
from accounts.models import Role, User
from core.extensions import db
from reports.workbench.catalogue import import_catalogue
from reports.workbench.models import ResponsibleUnit, UnitKind, UnitMember
from tests import factories as f

YEAR = 2026
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 2 March 2026, 10:00 in Shanghai: before every deadline
HEADER = "task_no,task,indicator_no,indicator,standard_no,standard,evidence,responsible,deadline,rule\n"
CSV = HEADER + (
    "1,设施网络,1.1,市级设施,1.1.1,市文化馆每周开放56小时,开放时间公示,市文旅局,mid_term,1.1\n"
    "1,设施网络,1.1,市级设施,1.1.2,市图书馆达到一级,评估证书,市文旅局,final,\n"
    "1,设施网络,1.2,县级设施,1.2.1,县区文化馆达到二级,评估证书,大洼区;盘山县,2026-09-30,\n"
    "2,服务供给,2.1,基本服务,2.1.1,每年送文化下乡,演出记录,大洼区,final,\n"
    "2,服务供给,2.1,基本服务,2.1.2,文化志愿服务,志愿者名册,盘山县、市文旅局,,\n"
)


@dataclass
class World:
    net: dict
    city: ResponsibleUnit
    dawa: ResponsibleUnit
    panshan: ResponsibleUnit
    manager: User
    dawa_staff: User
    panshan_staff: User
    bureau_member: User
    resident: User


def build() -> World:
    net = f.network()
    city = ResponsibleUnit(name="市文旅局", name_en="Culture Bureau", kind=UnitKind.department)
    dawa = ResponsibleUnit(name="大洼区", name_en="Dawa District", kind=UnitKind.district, venue_id=net["branch"].id)
    panshan = ResponsibleUnit(
        name="盘山县", name_en="Panshan County", kind=UnitKind.district, venue_id=net["other_branch"].id
    )
    db.session.add_all([city, dawa, panshan])
    db.session.flush()
    bureau_member = User(login="bureau", name="文旅局 干部", password_hash=accounts.hash_password(f.PASSWORD))
    db.session.add(bureau_member)
    db.session.flush()
    dawa_staff = f.staff(net["branch"], login="dawa")
    db.session.add_all(
        [UnitMember(unit_id=city.id, user_id=bureau_member.id), UnitMember(unit_id=dawa.id, user_id=dawa_staff.id)]
    )
    world = World(
        net=net,
        city=city,
        dawa=dawa,
        panshan=panshan,
        manager=f.staff(net["hub"], Role.manager, login="citymgr"),
        dawa_staff=dawa_staff,
        panshan_staff=f.staff(net["other_branch"], login="panshan"),
        bureau_member=bureau_member,
        resident=f.resident("13800000009"),
    )
    import_catalogue("standards.csv", CSV.encode(), year=YEAR)
    f.commit()
    return world
