"""Venue registry figures, empty periods and evidence kept within scope."""

import io
from datetime import date, time

import openpyxl
import pytest
from PIL import Image

from core.extensions import db
from reports import checklist, indicators, queries
from reports.rollup import rollup_attendance
from tests import factories as f
from tests.reports.scenario import AFTER, build
from venues.models import OpeningHours, VenueKind


@pytest.fixture
def sc(app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    scenario = build()
    rollup_attendance(AFTER)
    db.session.commit()
    return scenario


def test_registry_counts_hours_against_the_norm_and_the_200_m2_standard(app, sc):
    short = f.venue(VenueKind.community, sc.net["station"], name="短时村", hours=False, floor_area=199)
    short.hours.append(OpeningHours(weekday=0, opens_at=time(9), closes_at=time(17)))
    db.session.commit()
    flt = queries.build_filter(sc.manager, first=date(2026, 1, 1), last=date(2026, 12, 31))
    rows = {r["district"]: r for r in indicators.registry(flt)}
    dawa = rows["211104"]
    assert dawa["communities"] == 3 and dawa["area_met"] == 1  # 150 m², 260 m², 199 m²
    assert [v["venue"] for v in dawa["below_hours"]] == ["短时村"]
    assert dawa["below_hours"][0]["hours"] == 8.0 and dawa["below_hours"][0]["norm"] == 35
    assert dawa["hours_met"] == dawa["venues"] - 1
    result = checklist.evaluate(flt, 2026, AFTER)
    rows = {r["key"]: r for r in result["rows"]}
    assert rows["1.5"]["status"] == "not_met" and rows["1.1"]["status"] == "met"


def test_the_workbook_of_an_empty_year_is_a_valid_file(client, sc):
    client.login("hubmgr")
    response = client.get("/reports/workbook.xlsx?year=2024")
    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    assert len(wb.sheetnames) >= 14


def test_evidence_of_one_district_stays_out_of_another_districts_reach(client, sc):
    png = io.BytesIO()
    Image.new("RGB", (2, 2)).save(png, format="PNG")
    ev = checklist.add_evidence(
        sc.net["branch"], year=2026, row_key="4.2", filename="a.png", data=png.getvalue(), actor=sc.dawa_manager
    )
    db.session.commit()
    client.login("panshanmgr")
    assert client.get(f"/reports/evidence/{ev.id}").status_code == 403
    client.post("/logout")
    client.login("dawamgr")
    assert client.get(f"/reports/evidence/{ev.id}").status_code == 200


def test_the_coverage_map_draws_gaps_red_without_a_tile_server(client, sc):
    client.login("hubmgr")
    html = client.get("/reports/coverage?year=2026").get_data(as_text=True)
    assert '<svg class="map"' in html and "#cf222e" in html
    assert "http://" not in html.split('<svg class="map"')[1].split("</svg>")[0].replace("http://www.w3.org", "")


def test_room_utilisation_counts_booked_and_used_hours_against_open_hours(app, sc):
    from datetime import timedelta

    from tests import activity_factories as af
    from tests.reports.scenario import T0

    room = f.room(sc.net["station"], name="多功能厅")
    at = T0 - timedelta(days=10)
    af.activity(
        sc.net["station"],
        title="合唱排练",
        room=room,
        sessions=2,
        starts_in=timedelta(days=10),
        at=at,
        actor=sc.manager,
    )
    db.session.commit()
    flt = queries.build_filter(
        sc.manager, first=date(2026, 3, 1), last=date(2026, 3, 31), venue_id=sc.net["station"].id
    )
    use = indicators.room_utilisation(flt, AFTER)
    assert use["rooms"] == 1 and use["hours_open"] == 12 * 31
    assert use["hours_taken"] == 4.0 and use["hours_used"] == 4.0
    assert use["utilisation"] == round(4 / 372, 4)


def test_a_city_loads_its_own_checklist_file(app, sc, tmp_path):
    import json

    own = tmp_path / "city.json"
    own.write_text(
        json.dumps(
            {
                "pass_rate_required": 0.9,
                "rows": [
                    {
                        "key": "A",
                        "number": "1",
                        "indicator": "送戏下乡",
                        "indicator_en": "Touring shows",
                        "explanation": "",
                        "explanation_en": "",
                        "evidence": "照片",
                        "evidence_en": "Photos",
                        "rule": "indicator_min",
                        "params": {"indicator": "outreach_sessions", "minimum": 1},
                    },
                    {
                        "key": "B",
                        "number": "2",
                        "indicator": "经费",
                        "indicator_en": "Funding",
                        "explanation": "",
                        "explanation_en": "",
                        "evidence": "预算",
                        "evidence_en": "Budget",
                        "rule": None,
                        "params": {},
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    app.config["REPORTS_CHECKLIST_FILE"] = str(own)
    try:
        flt = queries.build_filter(sc.manager, first=date(2026, 1, 1), last=date(2026, 12, 31))
        result = checklist.evaluate(flt, 2026, AFTER)
    finally:
        app.config["REPORTS_CHECKLIST_FILE"] = ""
    assert [(r["key"], str(r["status"])) for r in result["rows"]] == [("A", "met"), ("B", "pending")]
    assert result["pass_rate"] == 0.5 and result["required"] == 0.9 and not result["passes"]


def test_a_user_with_two_grants_gets_targets_of_a_venue_in_scope(app, sc):
    from accounts import services as accounts
    from accounts.models import Role

    accounts.grant_role(sc.dawa_manager, role=Role.manager, venue=sc.net["other_branch"])
    db.session.commit()
    flt = queries.build_filter(sc.dawa_manager, first=date(2026, 1, 1), last=date(2026, 12, 31))
    venue = indicators.target_venue(flt)
    assert sc.dawa_manager.reaches(venue) and venue.kind == VenueKind.branch
