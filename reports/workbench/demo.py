"""Demo workbench for Panjin: the leading group's member departments, the districts and two townships as
responsible units, this year's 7/32/94 catalogue, some assessed standards, a problem ledger drawn from the
report's open issues, and archive records. Idempotent: what exists (by name or title) is kept."""

from datetime import date, timedelta

from sqlalchemy import func, select

from accounts.models import User
from core.db import utcnow
from core.extensions import db
from core.i18n import to_local
from reports.workbench import archive, problems
from reports.workbench import standards as ws
from reports.workbench.catalogue import DEMO_FILE, import_catalogue
from reports.workbench.models import (
    ArchiveDocument,
    Problem,
    ResponsibleUnit,
    Standard,
    StandardStatus,
    UnitKind,
    UnitMember,
)
from venues.models import Venue

DEPARTMENTS = [
    ("市文旅广电局", "Municipal Bureau of Culture, Tourism, Radio and TV"),
    ("市财政局", "Municipal Finance Bureau"),
    ("市发展改革委", "Municipal Development and Reform Commission"),
    ("市委宣传部", "Publicity Department"),
    ("市教育局", "Municipal Education Bureau"),
    ("市人社局", "Municipal Human Resources Bureau"),
    ("市住建局", "Municipal Housing and Construction Bureau"),
    ("市自然资源局", "Municipal Natural Resources Bureau"),
    ("市科技局", "Municipal Science and Technology Bureau"),
    ("市民政局", "Municipal Civil Affairs Bureau"),
    ("市农业农村局", "Municipal Agriculture Bureau"),
    ("市委编办", "Staffing Office"),
]
DISTRICTS = [
    ("双台子区", "Shuangtaizi District", "branch-shuangtaizi"),
    ("兴隆台区", "Xinglongtai District", "branch-xinglongtai"),
    ("大洼区", "Dawa District", "branch-dawa"),
    ("盘山县", "Panshan County", "branch-panshan"),
]
TOWNSHIPS = [("东风镇", "Dongfeng Town", "st-dongfeng"), ("新开镇", "Xinkai Town", "st-xinkai")]
MEMBERS = [
    ("manager", "市文旅广电局"),
    ("hub-staff", "市文旅广电局"),
    ("manager-dawa", "大洼区"),
    ("branch-staff", "大洼区"),
]
PROBLEMS = [
    (
        "数字文化平台建设资金未落实",
        "市财政局",
        "分三个层面测算经费，先保障达到验收基本要求的132.6万元",
        40,
        ["3.2.1", "6.1.3"],
    ),
    ("县区两馆未建立地方特色数据库", "大洼区", "县区财政安排存储经费，年内建成特色数据库", 20, ["3.3.2"]),
    ("馆藏图书陈旧，可达检索标准的仅39.6万册", "市文旅广电局", "争取经费更新馆藏，推进图书通借通还", 90, ["2.6.1"]),
    ("村（社区）文化中心面积达标率低", "盘山县", "结合村部改造扩建，优先改造面积不足的中心", 6, ["1.4.1"]),
]
DOCUMENTS = [
    ("meeting", "全市创建动员大会", "市文旅广电局", "市长作动员讲话，部署创建工作", 20, ["5.1.1", "5.1.2"]),
    ("training", "创建工作业务培训", "市文旅广电局", "全市创建工作业务培训，累计40余次", 35, ["6.2.1"]),
    ("activity", "送文化下乡文艺演出", "大洼区", "走进东风镇王家村", 50, ["2.1.1"]),
    ("leader_visit", "市领导调研基层文化中心", "市文旅广电局", "调研村（社区）综合性文化服务中心建设", 60, ["1.4.3"]),
    ("digital", "数字文化平台上线测试", "市文旅广电局", "总分馆制、一卡通、菜单式服务功能测试", 70, ["3.2.2"]),
    ("media", "盘锦日报报道创建工作", "市委宣传部", "报纸、广播电视宣传创建工作", 80, ["7.2.2"]),
]
PDF = b"%PDF-1.4\n% CultureNet demo document\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _unit(name: str, name_en: str, kind: UnitKind, venue: Venue | None) -> ResponsibleUnit:
    unit = db.session.execute(select(ResponsibleUnit).where(ResponsibleUnit.name == name)).scalar_one_or_none()
    if unit is None:
        unit = ResponsibleUnit(name=name, name_en=name_en, kind=kind, venue_id=venue.id if venue else None)
        db.session.add(unit)
    return unit


def seed(scale: int = 1) -> None:
    """Units, this year's catalogue (once), members, a few statuses, problems and archive records."""
    now = utcnow()
    year = to_local(now).year
    venues = {v.key: v for v in db.session.execute(select(Venue).where(Venue.key.isnot(None))).scalars()}
    for name, name_en in DEPARTMENTS:
        _unit(name, name_en, UnitKind.department, None)
    for name, name_en, key in DISTRICTS:
        _unit(name, name_en, UnitKind.district, venues.get(key))
    for name, name_en, key in TOWNSHIPS:
        _unit(name, name_en, UnitKind.township, venues.get(key))
    db.session.flush()
    units = {u.name: u for u in db.session.execute(select(ResponsibleUnit)).scalars()}
    users = {u.login: u for u in db.session.execute(select(User).where(User.login.isnot(None))).scalars()}
    for login, unit_name in MEMBERS:
        if (
            login in users
            and not db.session.execute(
                select(UnitMember.id).where(
                    UnitMember.user_id == users[login].id, UnitMember.unit_id == units[unit_name].id
                )
            ).first()
        ):
            db.session.add(UnitMember(user_id=users[login].id, unit_id=units[unit_name].id))
    db.session.flush()
    if not db.session.execute(select(func.count(Standard.id)).where(Standard.year == year)).scalar_one():
        import_catalogue(DEMO_FILE.name, DEMO_FILE.read_bytes(), year=year)
    actor = users.get("admin")
    if actor is None:
        return
    _documents(year, now, actor, units)
    _problems(year, now, actor, units)
    _statuses(year, now, actor)


def _documents(year, now, actor, units) -> None:
    today = to_local(now).date()
    for category, title, unit, description, day, numbers in DOCUMENTS:
        if db.session.execute(
            select(ArchiveDocument.id).where(ArchiveDocument.year == year, ArchiveDocument.title == title)
        ).first():
            continue
        held_on = min(today, date(year, 1, 1) + timedelta(days=day))
        archive.add_document(
            year=year,
            data={
                "category": category,
                "held_on": held_on,
                "unit_id": units[unit].id,
                "title": title,
                "description": description,
                "standards": numbers,
            },
            files=[(f"{title}.pdf", PDF)],
            actor=actor,
            now=now,
        )


def _problems(year, now, actor, units) -> None:
    today = to_local(now).date()
    for text, unit, measure, days, numbers in PROBLEMS:
        if db.session.execute(select(Problem.id).where(Problem.year == year, Problem.text == text)).first():
            continue
        due = min(date(year, 12, 31), today + timedelta(days=days))
        problems.save_problem(
            None,
            year=year,
            data={"text": text, "unit_id": units[unit].id, "measure": measure, "due_on": due, "standards": numbers},
            actor=actor,
            now=now,
        )


def _statuses(year, now, actor) -> None:
    """Assess the manual standards nobody has assessed: those with evidence met, then by turns on track."""
    evaluated = ws.evaluate(year, now)
    pending = [e for e in evaluated if e.source == "manual" and e.standard.status is None]
    for n, e in enumerate(pending):
        if e.evidence_count:
            status, note = StandardStatus.met, "材料齐全，已达到验收标准"
        elif n % 3 == 0:
            continue  # left unassessed: counts as needing more investment
        elif n % 3 == 1:
            status, note = StandardStatus.on_track, "按计划推进，年底前可达标"
        else:
            status, note = StandardStatus.at_risk, "需加大投入、深化改革"
        ws.set_status(e.standard, status=status.value, note=note, actor=actor, now=now)
    ws.snapshot(year, now)
