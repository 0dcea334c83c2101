"""The reports API: grouped attendance agreeing with direct counts, scope, indicators, coverage, bad input."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from checkin.models import CheckIn, WalkIn
from core.extensions import db
from reports import services
from reports.rollup import rollup_attendance
from tests.reports.scenario import AFTER, build


@pytest.fixture
def sc(app):
    scenario = build()
    rollup_attendance(AFTER)
    db.session.commit()
    return scenario


def attendance(client, **query):
    return client.get("/api/v1/reports/attendance", query_string={"from": "2026-01-01", "to": "2026-12-31", **query})


def test_attendance_totals_equal_a_direct_count_for_the_hub_manager(client, sc):
    client.login("hubmgr")
    body = attendance(client).get_json()
    checked = db.session.execute(select(func.sum(CheckIn.party_size))).scalar_one()
    walked = db.session.execute(select(func.sum(WalkIn.count))).scalar_one()
    assert body["totals"]["attendances"] == checked + walked
    assert body["totals"]["sessions_held"] == 6
    assert body["totals"]["no_shows"] == 7
    assert body["totals"]["bookings"] == 20
    assert body["totals"]["no_show_rate"] == pytest.approx(7 / 20, abs=1e-4)


def test_grouping_by_venue_rolls_up_each_branch_over_its_subtree(client, sc):
    client.login("hubmgr")
    rows = attendance(client, group_by="venue,month").get_json()["rows"]
    by = {(r["venue"], r["month"]): r for r in rows}
    assert by[("大洼区文化馆", "2026-03")]["sessions_held"] == 4  # the station's 3 + the village's film
    assert by[("大洼区文化馆", "2026-03")]["attendances"] == 3 * 5 + 12
    assert by[("盘山县文化馆", "2026-04")]["sessions_held"] == 2
    assert sum(r["sessions_held"] for r in rows) == 6


def test_every_grouping_key_is_accepted_and_sums_to_the_totals(client, sc):
    client.login("hubmgr")
    body = attendance(client, group_by="district,venue_kind,category,quarter,year").get_json()
    assert sum(r["attendances"] for r in body["rows"]) == body["totals"]["attendances"]
    assert {r["quarter"] for r in body["rows"]} == {"2026-Q1", "2026-Q2"}
    assert {r["district"] for r in body["rows"]} == {"211104", "211122"}


def test_a_district_manager_sees_only_their_district(client, sc):
    client.login("dawamgr")
    body = attendance(client, group_by="district").get_json()
    assert [r["district"] for r in body["rows"]] == ["211104"]
    assert body["totals"]["sessions_held"] == 4
    other = attendance(client, venue=sc.net["other_branch"].id)
    assert other.status_code == 403
    assert other.get_json()["error"]["code"] == "forbidden"
    gaps = client.get("/api/v1/reports/coverage", query_string={"year": 2026}).get_json()["items"]
    assert all(g["district"] == "211104" for g in gaps)


def test_filters_by_venue_kind_and_category(client, sc):
    client.login("hubmgr")
    film = attendance(client, category="film").get_json()["totals"]
    assert film["sessions_held"] == 1 and film["attendances"] == 12
    stations = attendance(client, kind="station").get_json()["totals"]
    assert stations["sessions_held"] == 3


@pytest.mark.parametrize(
    "query, field",
    [
        ({"group_by": "venue,weekday"}, "group_by"),
        ({"from": "2026-05-01", "to": "2026-04-01"}, "from"),
        ({"kind": "castle"}, "kind"),
        ({"category": "poetry"}, "category"),
        ({"from": "2026-13-01"}, "from"),
    ],
)
def test_bad_report_parameters_are_a_clear_422(client, sc, query, field):
    client.login("hubmgr")
    response = attendance(client, **query)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_an_unknown_venue_is_404_and_residents_are_refused(client, sc):
    client.login("hubmgr")
    assert attendance(client, venue=999999).status_code == 404
    client.post("/logout")
    assert attendance(client).status_code == 401


def test_an_empty_period_is_an_empty_report_not_an_error(client, sc):
    client.login("hubmgr")
    body = client.get(
        "/api/v1/reports/attendance", query_string={"from": "2025-01-01", "to": "2025-01-31", "group_by": "venue"}
    ).get_json()
    assert body["rows"] == []
    assert body["totals"]["sessions_held"] == 0 and body["totals"]["no_show_rate"] is None


def test_indicators_report_target_actual_and_projection(client, sc):
    services.set_target(sc.net["hub"], year=2026, indicator="rural_film", value=10, actor=sc.manager)
    services.set_target(sc.net["hub"], year=2026, indicator="sessions_held", value=4, actor=sc.manager)
    db.session.commit()
    client.login("hubmgr")
    items = {
        i["indicator"]: i
        for i in client.get("/api/v1/reports/indicators", query_string={"year": 2026}).get_json()["items"]
    }
    assert items["rural_film"]["actual"] == 1 and items["rural_film"]["target"] == 10
    assert items["rural_film"]["progress"] == pytest.approx(0.1)
    assert items["sessions_held"]["on_track"] is True
    assert items["outreach_sessions"]["actual"] == 1
    assert items["lectures"]["actual"] == 2
    assert items["art_activities"]["actual"] == 3


def test_coverage_names_the_villages_left_out(client, sc):
    client.login("hubmgr")
    gaps = client.get("/api/v1/reports/coverage", query_string={"year": 2026}).get_json()["items"]
    names = {g["venue"]: g for g in gaps}
    assert names["东风镇李家村文化中心"]["none"] is True
    assert names["东风镇王家村文化中心"]["sessions_held"] == 1  # 1 film < 12 a year
    assert "高升镇文化站" in names


def test_a_district_manager_cannot_set_targets_of_the_hub(app, sc):
    from core.errors import Forbidden

    with pytest.raises(Forbidden):
        services.set_target(sc.net["hub"], year=2026, indicator="rural_film", value=5, actor=sc.dawa_manager)


def test_checklist_api_gives_statuses_and_a_pass_rate(client, sc):
    client.login("hubmgr")
    body = client.get("/api/v1/reports/checklist", query_string={"year": 2026}).get_json()
    rows = {r["key"]: r for r in body["rows"]}
    assert rows["2.2"]["status"] == "not_met"  # 1 film of 3,550
    assert rows["2.6"]["status"] == "met"  # lectures held
    assert rows["4.2"]["status"] == "pending" and rows["4.2"]["source"] == "manual"
    assert body["applicable"] >= body["met"] > 0
    assert body["pass_rate"] == pytest.approx(body["met"] / body["applicable"])


def test_sessions_after_the_period_do_not_count(client, sc):
    client.login("hubmgr")
    march = client.get("/api/v1/reports/attendance", query_string={"from": "2026-03-01", "to": "2026-03-31"})
    assert march.get_json()["totals"]["sessions_held"] == 4
    assert AFTER - timedelta(days=1) > sc.activities[2].sessions[-1].ends_at
