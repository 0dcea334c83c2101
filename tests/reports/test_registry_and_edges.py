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
    dawa = rows["dawa"]
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
    ev = checklist.add_evidence(sc.net["branch"], year=2026, row_key="4.2", filename="a.png", data=png.getvalue(),
                                actor=sc.dawa_manager)
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
