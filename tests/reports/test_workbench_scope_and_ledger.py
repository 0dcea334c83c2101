"""Scope (a unit outside a district's scope sees nothing of it; each unit's people see their own work
first), unit management, and the problem ledger's reminders through the outbox (once per stage)."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core.errors import Forbidden, NotFound
from core.extensions import db
from notify.models import Message
from reports.workbench import archive, problems
from reports.workbench import units as wu
from reports.workbench.models import Problem, ResponsibleUnit, UnitMember
from tests import factories as f
from tests.reports import workbench_world as ww

PDF = b"%PDF-1.4\n%test\n"
TODAY = date(2026, 3, 2)  # the local day of ww.NOW


@pytest.fixture
def world(app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    w = ww.build()
    w.dawa_problem = problems.save_problem(
        None,
        year=ww.YEAR,
        data={
            "text": "大洼区两馆未建特色数据库",
            "unit_id": w.dawa.id,
            "measure": "安排经费",
            "due_on": TODAY + timedelta(days=7),
            "standards": ["1.2.1"],
        },
        actor=w.dawa_staff,
        now=ww.NOW,
    )
    w.dawa_doc = archive.add_document(
        year=ww.YEAR,
        data={
            "category": "training",
            "held_on": TODAY,
            "unit_id": w.dawa.id,
            "title": "大洼区业务培训",
            "description": "培训记录",
            "standards": ["2.1.1"],
        },
        files=[("plan.pdf", PDF)],
        actor=w.dawa_staff,
        now=ww.NOW,
    )
    f.commit()
    return w


def test_another_district_sees_nothing_of_a_district(client, world):
    assert not wu.sees(world.panshan_staff, world.dawa)
    assert [p.id for p in problems.ledger(world.panshan_staff, ww.YEAR)] == []
    assert archive.search(world.panshan_staff, ww.YEAR) == []
    client.login("panshan")
    for path in (
        "/reports/workbench/problems",
        "/reports/workbench/archive",
        "/reports/workbench/",
        "/reports/workbench/units",
    ):
        html = client.get(f"{path}?year={ww.YEAR}").get_data(as_text=True)
        assert "大洼区两馆未建特色数据库" not in html and "大洼区业务培训" not in html, path
    assert client.get(f"/reports/workbench/archive/files/{world.dawa_doc.files[0].id}").status_code == 404
    response = client.post(
        f"/reports/workbench/problems/{world.dawa_problem.id}",
        data={"text": "x", "unit_id": world.dawa.id, "due_on": "2026-04-01"},
    )
    assert response.status_code == 404
    with pytest.raises(NotFound):
        problems.get_visible(world.dawa_problem.id, world.panshan_staff)


def test_the_district_and_the_city_see_the_district(client, world):
    for user in (world.dawa_staff, world.manager):
        assert [p.id for p in problems.ledger(user, ww.YEAR)] == [world.dawa_problem.id]
        assert [d.id for d in archive.search(user, ww.YEAR)] == [world.dawa_doc.id]
    client.login("citymgr")
    assert client.get(f"/reports/workbench/archive/files/{world.dawa_doc.files[0].id}").status_code == 200


def test_a_department_member_sees_the_department_but_not_the_districts(client, world):
    assert [u.name for u in wu.visible_units(world.bureau_member)] == ["市文旅局"]
    client.login("bureau")
    assert client.get("/reports/workbench/").status_code == 200
    assert client.get("/reports/").status_code == 403  # the other reports stay with report staff


def test_residents_and_strangers_are_kept_out(client, world):
    assert client.get("/reports/workbench/").status_code == 302
    client.login("13800000009")
    assert client.get("/reports/workbench/").status_code == 403
    assert client.get("/api/v1/reports/standards").status_code == 403


def test_a_units_people_see_their_standards_deadlines_and_problems_first(client, world):
    client.login("dawa")
    html = client.get(f"/reports/workbench/?year={ww.YEAR}").get_data(as_text=True)
    mine = html.index('id="mine"')
    assert mine < html.index('id="counts"')
    section = html[mine : html.index('id="counts"')]
    assert "2.1.1" in section and "1.2.1" in section and "1.1.2" not in section
    assert "大洼区两馆未建特色数据库" in section


def test_units_are_managed_in_the_app_within_scope(client, world):
    unit = wu.save_unit(
        None, data={"name": "东风镇", "kind": "township", "venue_id": world.net["station"].id}, actor=world.manager
    )
    wu.add_member(unit, login="dawa", actor=world.manager)
    f.commit()
    assert wu.sees(world.dawa_staff, unit) and not wu.sees(world.panshan_staff, unit)
    with pytest.raises(Forbidden):
        wu.save_unit(
            None,
            data={"name": "羊圈子镇", "kind": "township", "venue_id": world.net["station"].id},
            actor=world.panshan_staff,
        )
    client.login("citymgr")
    response = client.post("/reports/workbench/units", data={"name": "市财政局", "kind": "department"})
    assert response.status_code == 302
    assert db.session.execute(select(ResponsibleUnit).filter_by(name="市财政局")).scalar_one()
    response = client.post("/reports/workbench/units", data={"name": "市财政局", "kind": "department"})
    assert response.status_code == 302  # refused with a flash: the name exists
    assert (
        db.session.execute(select(func.count()).select_from(ResponsibleUnit).filter_by(name="市财政局")).scalar_one()
        == 1
    )
    response = client.post("/reports/workbench/units", data={"name": "某镇", "kind": "township"})
    assert (
        response.status_code == 302
        and db.session.execute(select(ResponsibleUnit).filter_by(name="某镇")).first() is None
    )
    client.login("dawa")
    assert client.post("/reports/workbench/units", data={"name": "市体育局", "kind": "department"}).status_code == 403
    member = db.session.execute(select(UnitMember).filter_by(unit_id=world.dawa.id)).scalar_one()
    client.login("panshan")
    assert client.post(f"/reports/workbench/units/members/{member.id}/delete").status_code == 403


def test_a_problem_needs_text_unit_and_deadline_and_known_standards(world):
    from core.errors import Invalid

    for data, field in (
        ({"unit_id": world.dawa.id, "due_on": TODAY}, "text"),
        ({"text": "x", "due_on": TODAY}, "unit_id"),
        ({"text": "x", "unit_id": world.dawa.id}, "due_on"),
        ({"text": "x", "unit_id": world.dawa.id, "due_on": TODAY, "standards": ["8.8.8"]}, "standards"),
    ):
        with pytest.raises(Invalid) as caught:
            problems.save_problem(None, year=ww.YEAR, data=data, actor=world.dawa_staff)
        assert field in caught.value.extra["fields"]
    with pytest.raises(Forbidden):
        problems.save_problem(
            None, year=ww.YEAR, data={"text": "x", "unit_id": world.dawa.id, "due_on": TODAY}, actor=world.panshan_staff
        )


def messages() -> list[Message]:
    return list(
        db.session.execute(select(Message).where(Message.template == "problem_due").order_by(Message.id)).scalars()
    )


def test_the_owner_is_reminded_a_week_and_a_day_before_the_deadline_once_each(world):
    problems.remind_problem_owners(ww.NOW - timedelta(days=1))  # eight days before: nothing yet
    assert messages() == []
    problems.remind_problem_owners(ww.NOW)
    problems.remind_problem_owners(ww.NOW + timedelta(hours=3))  # again the same stage: nothing more
    first = messages()
    assert {m.recipient_id for m in first} == {world.dawa_staff.id}  # no owner: the unit's people
    assert {m.channel for m in first} == {"inbox", "email"} and len(first) == 2
    assert first[0].context["due_on"] == "2026-03-09" and first[0].context["standards"] == "1.2.1"
    problems.remind_problem_owners(ww.NOW + timedelta(days=6))
    problems.remind_problem_owners(ww.NOW + timedelta(days=6, hours=1))
    assert len(messages()) == 4


def test_a_named_owner_is_reminded_and_a_solved_problem_is_not(world):
    problem = problems.save_problem(
        world.dawa_problem,
        year=ww.YEAR,
        data={
            "text": world.dawa_problem.text,
            "unit_id": world.dawa.id,
            "due_on": TODAY + timedelta(days=1),
            "owner": "citymgr",
            "standards": ["1.2.1"],
        },
        actor=world.dawa_staff,
        now=ww.NOW,
    )
    solved = problems.save_problem(
        None,
        year=ww.YEAR,
        data={"text": "已解决", "unit_id": world.dawa.id, "due_on": TODAY + timedelta(days=1), "status": "resolved"},
        actor=world.dawa_staff,
        now=ww.NOW,
    )
    f.commit()
    problems.remind_problem_owners(ww.NOW)
    sent = messages()
    assert {m.recipient_id for m in sent} == {world.manager.id}
    assert all(f":{problem.id}:" in m.dedupe_key for m in sent) and solved.resolved_at is not None


def test_the_reminder_job_is_scheduled_like_the_others(app):
    from reports.jobs import JOBS

    assert JOBS["remind_problem_owners"][0] is problems.remind_problem_owners
    assert "snapshot_standards" in JOBS


def test_the_ledger_page_records_a_problem(client, world):
    client.login("dawa")
    response = client.post(
        f"/reports/workbench/problems?year={ww.YEAR}",
        data={
            "text": "文化站面积不足",
            "unit_id": world.dawa.id,
            "due_on": "2026-05-31",
            "standards": "1.2.1，2.1.1",
            "measure": "改扩建",
        },
    )
    assert response.status_code == 302
    problem = db.session.execute(select(Problem).filter_by(text="文化站面积不足")).scalar_one()
    assert [s.number for s in problem.standards] == ["1.2.1", "2.1.1"]
    response = client.post(
        f"/reports/workbench/problems?year={ww.YEAR}", data={"text": "x", "unit_id": world.dawa.id, "due_on": "soon"}
    )
    assert response.status_code == 302  # a bad date: refused with a flash, nothing written
    assert db.session.execute(select(Problem).filter_by(text="x")).first() is None
