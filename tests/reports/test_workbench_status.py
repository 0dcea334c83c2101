"""Standard statuses: computed ones are not editable (invalid_transition), manual ones are set by their
responsible units or a manager with a note (met needs evidence), every change is kept; the API's shape."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.extensions import db
from reports.workbench import archive
from reports.workbench import standards as ws
from reports.workbench.models import Standard, StandardChange, StandardStatus
from tests import factories as f
from tests.reports import workbench_world as ww

PDF = b"%PDF-1.4\n%test\n"


@pytest.fixture
def world(app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    return ww.build()


def standard(number: str) -> Standard:
    return db.session.execute(select(Standard).filter_by(year=ww.YEAR, number=number)).scalar_one()


def post_status(client, number, **body):
    return client.post(f"/api/v1/reports/standards/{number}/status?year={ww.YEAR}", json=body)


def test_a_computed_standard_answers_invalid_transition(client, world):
    client.login("citymgr")
    response = post_status(client, "1.1.1", status="met", note="已开放")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "invalid_transition"
    assert db.session.execute(select(StandardChange)).first() is None


def test_the_unit_sets_a_manual_standard_and_the_change_is_kept_with_who_when_and_why(client, world):
    client.login("dawa")
    response = post_status(client, "2.1.1", status="on_track", note="已安排下半年演出")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "on_track"
    change = db.session.execute(select(StandardChange)).scalar_one()
    assert (change.actor_id, change.old_status, change.new_status, change.note) == (
        world.dawa_staff.id,
        None,
        "on_track",
        "已安排下半年演出",
    )
    assert change.at is not None
    post_status(client, "2.1.1", status="at_risk", note="经费未到位")
    history = ws.history([standard("2.1.1")])
    assert [(h.old_status, h.new_status) for h in history] == [("on_track", "at_risk"), (None, "on_track")]


def test_a_department_member_without_a_report_role_sets_their_standard(client, world):
    client.login("bureau")
    assert post_status(client, "1.1.2", status="on_track", note="评估准备中").status_code == 200


def test_someone_who_does_not_answer_for_the_standard_is_refused(client, world):
    client.login("panshan")  # 2.1.1 belongs to 大洼区 alone
    response = post_status(client, "2.1.1", status="on_track", note="x")
    assert response.status_code == 403
    client.login("13800000009")
    assert post_status(client, "2.1.1", status="on_track", note="x").status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [({"status": "done", "note": "x"}, "status"), ({"status": "met"}, "note"), ({"status": "met", "note": ""}, "note")],
)
def test_a_bad_status_or_missing_note_is_invalid(client, world, body, field):
    client.login("citymgr")
    response = post_status(client, "1.1.2", **body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_an_unknown_standard_is_not_found(client, world):
    client.login("citymgr")
    assert post_status(client, "9.9.9", status="met", note="x").status_code == 404


def test_met_needs_evidence_first(client, world):
    client.login("citymgr")
    response = post_status(client, "1.1.2", status="met", note="已达一级")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "evidence_required"
    archive.add_document(
        year=ww.YEAR,
        data={
            "category": "meeting",
            "held_on": datetime(2026, 2, 1).date(),
            "unit_id": world.city.id,
            "title": "评估会",
            "standards": ["1.1.2"],
        },
        files=[("a.pdf", PDF)],
        actor=world.manager,
    )
    f.commit()
    assert post_status(client, "1.1.2", status="met", note="已达一级").status_code == 200
    evaluated = {e.standard.number: e for e in ws.evaluate(ww.YEAR, ww.NOW)}
    assert evaluated["1.1.2"].status == StandardStatus.met and evaluated["1.1.2"].evidence_count == 1


def test_a_computed_result_not_met_is_on_track_before_its_deadline_and_at_risk_after(world):
    world.net["hub"].hours.clear()  # closed: the hub-hours rule is not met
    f.commit()
    before = {e.standard.number: e for e in ws.evaluate(ww.YEAR, ww.NOW)}["1.1.1"]
    after = {e.standard.number: e for e in ws.evaluate(ww.YEAR, datetime(2026, 7, 2, tzinfo=UTC))}["1.1.1"]
    assert (before.source, before.status, after.status) == ("rule", StandardStatus.on_track, StandardStatus.at_risk)


def test_an_unassessed_manual_standard_counts_as_needing_more_investment(world):
    e = {e.standard.number: e for e in ws.evaluate(ww.YEAR, ww.NOW)}["2.1.2"]
    assert (e.source, e.status) == ("manual", StandardStatus.at_risk)


def test_the_pass_rate_of_94_standards_needs_90(world):
    items = (
        [ws.Evaluated(standard("1.1.2"), StandardStatus.met, "manual", "", 0)] * 28
        + [ws.Evaluated(standard("1.1.2"), StandardStatus.on_track, "manual", "", 0)] * 32
        + [ws.Evaluated(standard("1.1.2"), StandardStatus.at_risk, "manual", "", 0)] * 34
    )
    figures = ws.pass_figures(items)
    assert figures["counts"] == {"met": 28, "on_track": 32, "at_risk": 34, "not_applicable": 0}
    assert (figures["required_met"], figures["more_needed"]) == (90, 62)
    assert figures["pass_rate"] == pytest.approx(28 / 94)


def test_the_api_lists_tasks_indicators_and_standards_with_counts_and_rates(client, world):
    client.login("dawa")
    body = client.get(f"/api/v1/reports/standards?year={ww.YEAR}").get_json()
    assert set(body) >= {"tasks", "counts", "pass_rate", "required_rate"}
    assert [t["number"] for t in body["tasks"]] == ["1", "2"]
    indicator = body["tasks"][0]["indicators"][1]
    assert (indicator["number"], indicator["title"]) == ("1.2", "县级设施")
    row = indicator["standards"][0]
    assert set(row) >= {"number", "text", "status", "responsible", "deadline", "evidence_count"}
    assert row["responsible"] == ["大洼区", "盘山县"] and row["deadline"] == "2026-09-30"
    assert sum(body["counts"].values()) == 5 and body["required_rate"] == 0.95


def test_the_api_refuses_a_bad_year_and_strangers(client, world):
    client.login("dawa")
    assert client.get("/api/v1/reports/standards?year=1900").status_code == 422
    client.login("13800000009")
    assert client.get("/api/v1/reports/standards").status_code == 403


def test_the_standard_page_shows_the_history_and_a_form_only_to_those_who_may_set_it(client, world):
    client.login("dawa")
    post_status(client, "2.1.1", status="on_track", note="已安排下半年演出")
    html = client.get(f"/reports/workbench/standards/2.1.1?year={ww.YEAR}").get_data(as_text=True)
    assert "已安排下半年演出" in html and 'name="note"' in html
    html = client.get(f"/reports/workbench/standards/1.1.1?year={ww.YEAR}").get_data(as_text=True)
    assert 'name="note"' not in html  # computed
    response = client.post(
        f"/reports/workbench/standards/1.1.1/status?year={ww.YEAR}", data={"status": "met", "note": "x"}
    )
    assert response.status_code == 302
