"""Every number opens the list behind it; the demo seed gives the city its targets and a roll-up."""

import pytest
from sqlalchemy import func, select

from core.extensions import db
from reports import queries
from reports.models import DailyAttendance, Target
from reports.rollup import rollup_attendance
from tests.reports.scenario import AFTER, build


@pytest.fixture
def sc(app):
    scenario = build()
    rollup_attendance(AFTER)
    db.session.commit()
    return scenario


def test_the_sessions_behind_each_row_add_up_to_the_row(app, sc):
    from datetime import date

    flt = queries.build_filter(
        sc.manager, first=date(2026, 1, 1), last=date(2026, 12, 31), group_by="venue,month,category"
    )
    report = queries.attendance(flt)
    assert report["rows"]
    for row in report["rows"]:
        anchor = queries.build_filter(sc.manager, first=flt.first, last=flt.last, venue_id=row["venue_id"])
        behind = queries.sessions_behind(queries.narrow(anchor, {"month": row["month"], "category": row["category"]}))
        assert len(behind) == row["sessions_held"]
        assert sum(s["checked_in"] + s["walk_ins"] for s in behind) == row["attendances"]


def test_the_drill_down_page_lists_the_sessions_and_their_check_ins(client, sc):
    client.login("hubmgr")
    page = client.get(f"/reports/sessions?from=2026-03-01&to=2026-03-31&venue={sc.net['station'].id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count("春季音乐会") == 3
    session = sc.activities[0].sessions[0]
    checkins = client.get(f"/reports/sessions/{session.id}/checkins").get_data(as_text=True)
    assert checkins.count("<tr>") == 1 + 3


def test_a_district_manager_cannot_open_the_check_ins_of_another_district(client, sc):
    client.login("dawamgr")
    lecture_session = sc.activities[2].sessions[0]
    assert client.get(f"/reports/sessions/{lecture_session.id}/checkins").status_code == 403


def test_demo_seed_sets_the_city_targets_and_rolls_up(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    hub_targets = dict(
        db.session.execute(
            select(Target.indicator, Target.value).join(Target.venue).where(Target.venue.has(parent_id=None))
        ).all()
    )
    assert hub_targets["outreach_sessions"] == 300 and hub_targets["rural_film"] == 3550
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0
    assert db.session.execute(select(func.count(Target.id))).scalar_one() == len(hub_targets) + 5 * 2
    assert db.session.execute(select(func.count(DailyAttendance.id))).scalar_one() >= 0


def test_the_attendance_form_groups_by_every_ticked_box(client, sc):
    client.login("hubmgr")
    html = client.get("/reports/attendance?from=2026-01-01&to=2026-12-31&group_by=district&group_by=month").get_data(
        as_text=True
    )
    assert "<td>211104</td>" in html and "<td>2026-03</td>" in html
    response = client.get("/reports/attendance.csv?group_by=district&group_by=quarter&from=2026-01-01")
    assert "2026-Q1" in response.data.decode("utf-8-sig")


def test_top_activities_rank_by_attendances_within_scope(app, sc):
    from datetime import date

    flt = queries.build_filter(sc.manager, first=date(2026, 3, 1), last=date(2026, 4, 30))
    top = queries.top_activities(flt)
    assert [(a["title"], a["attendances"]) for a in top] == [("春季音乐会", 15), ("农村公益电影", 12), ("非遗讲座", 2)]
    dawa = queries.build_filter(sc.dawa_manager, first=date(2026, 3, 1), last=date(2026, 4, 30))
    assert "非遗讲座" not in [a["title"] for a in queries.top_activities(dawa)]
