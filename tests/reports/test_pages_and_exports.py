"""Report pages, files and the acceptance workbook: scope on every page, files that open in Excel, the
workbook agreeing with direct counts, evidence uploads checked, every export logged."""

import io
from datetime import UTC, datetime

import openpyxl
import pytest
from PIL import Image
from sqlalchemy import func, select

from checkin.models import CheckIn, WalkIn
from core.audit import AuditEntry
from core.extensions import db
from reports import jobs, services
from reports.models import ChecklistChange, EvidenceFile, ExportLog, ExportSubscription
from reports.rollup import rollup_attendance
from tests import factories as f
from tests.reports.scenario import AFTER, build


@pytest.fixture
def sc(app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    scenario = build()
    rollup_attendance(AFTER)
    db.session.commit()
    return scenario


PAGES = [
    "/reports/",
    "/reports/attendance?group_by=venue,month&from=2026-01-01&to=2026-12-31",
    "/reports/targets?year=2026",
    "/reports/registry?year=2026",
    "/reports/coverage?year=2026",
    "/reports/checklist?year=2026",
    "/reports/print?year=2026",
    "/reports/exports",
    "/reports/sessions?from=2026-03-01&to=2026-03-31",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_report_page_renders_for_a_manager_without_script(client, sc, path):
    client.login("hubmgr")
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    assert "<script>" not in response.get_data(as_text=True)


def test_residents_and_anonymous_visitors_cannot_open_reports(client, sc):
    assert client.get("/reports/").status_code == 302
    f.resident("13900000001")
    db.session.commit()
    client.login("13900000001")
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/attendance.csv").status_code == 403


def test_a_district_manager_cannot_open_another_districts_pages_or_files(client, sc):
    client.login("dawamgr")
    other = sc.net["other_branch"].id
    assert client.get(f"/reports/?venue={other}").status_code == 403
    assert client.get(f"/reports/attendance.xlsx?venue={other}").status_code == 403
    assert client.get(f"/reports/workbook.xlsx?year=2026&venue={other}").status_code == 403
    page = client.get("/reports/attendance?group_by=venue").get_data(as_text=True)
    assert "盘山县" not in page


def test_dashboard_shows_charts_as_svg_and_headline_figures(client, sc):
    client.login("hubmgr")
    html = client.get("/reports/?year=2026").get_data(as_text=True)
    assert html.count('<svg class="chart"') >= 8
    checked = db.session.execute(select(func.sum(CheckIn.party_size))).scalar_one()
    walked = db.session.execute(select(func.sum(WalkIn.count))).scalar_one()
    assert f"<strong>{checked + walked}</strong>" in html


def test_attendance_csv_has_a_bom_chinese_headers_and_the_totals(client, sc):
    client.login("hubmgr")
    response = client.get("/reports/attendance.csv?from=2026-01-01&to=2026-12-31&group_by=district")
    assert response.status_code == 200
    raw = response.data
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("区县,") or text.splitlines()[0].startswith("District,")
    assert "211104" in text and "211122" in text


def test_attendance_xlsx_keeps_numbers_as_numbers(client, sc):
    client.login("hubmgr")
    response = client.get("/reports/attendance.xlsx?from=2026-01-01&to=2026-12-31&group_by=month")
    ws = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][0] == "2026-03" and isinstance(rows[1][1], int)
    assert sum(r[1] for r in rows[1:-1]) == rows[-1][1] == 6


def test_an_empty_period_exports_a_valid_empty_file(client, sc):
    client.login("hubmgr")
    response = client.get("/reports/attendance.xlsx?from=2024-01-01&to=2024-01-31&group_by=venue")
    assert response.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert ws.max_row == 1
    csv = client.get("/reports/attendance.csv?from=2024-01-01&to=2024-01-31&group_by=venue")
    assert csv.status_code == 200 and len(csv.data.decode("utf-8-sig").splitlines()) == 1


def test_bad_page_parameters_are_a_clear_error_not_a_500(client, sc):
    client.login("hubmgr")
    assert client.get("/reports/attendance?group_by=colour").status_code == 422
    assert client.get("/reports/attendance?from=2026-05-01&to=2026-01-01").status_code == 422
    assert client.get("/reports/attendance?from=yesterday").status_code == 422
    assert client.get("/reports/?year=1999").status_code == 422
    assert client.get("/reports/?venue=abc").status_code == 422


def test_every_export_is_logged_with_who_and_what(client, sc):
    client.login("hubmgr")
    client.get("/reports/attendance.csv?group_by=venue")
    client.get("/reports/workbook.xlsx?year=2026")
    logs = db.session.execute(select(ExportLog).order_by(ExportLog.id)).scalars().all()
    assert [(e.what, e.file_format, e.actor_id) for e in logs] == [
        ("attendance", "csv", sc.manager.id),
        ("workbook", "xlsx", sc.manager.id),
    ]
    audited = db.session.execute(select(func.count(AuditEntry.id)).where(AuditEntry.action == "report.export"))
    assert audited.scalar_one() == 2


def test_the_workbook_agrees_with_direct_counts(client, sc):
    client.login("hubmgr")
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/reports/workbook.xlsx?year=2026").data))
    names = wb.sheetnames
    assert names[0] in ("概要", "Summary") and names[1] in ("验收清单", "Checklist")
    summary = {r[0]: r for r in wb[names[0]].iter_rows(min_row=2, values_only=True)}
    checked = db.session.execute(select(func.sum(CheckIn.party_size))).scalar_one()
    walked = db.session.execute(select(func.sum(WalkIn.count))).scalar_one()
    attend = next(v for k, v in summary.items() if k in ("人次", "Attendances", "服务人次"))
    assert attend[2] == checked + walked
    assert len(names) >= 2 + 12


def test_cli_export_writes_the_workbook(app, sc, tmp_path):
    out = tmp_path / "book.xlsx"
    result = app.test_cli_runner().invoke(args=["reports", "export", "--year", "2026", "--out", str(out)])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    assert len(wb.sheetnames) >= 14
    bad = app.test_cli_runner().invoke(
        args=["reports", "export", "--year", "2026", "--venue", "999999", "--out", str(out)]
    )
    assert bad.exit_code != 0


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, format="PNG")
    return out.getvalue()


def test_a_manager_marks_a_manual_row_with_evidence_and_the_history_says_who(client, sc):
    client.login("hubmgr")
    url = "/reports/checklist/4.2/{}?year=2026"
    r = client.post(url.format("mark"), data={"status": "met", "note": "实施意见已印发"})
    assert r.status_code == 302
    r = client.post(
        url.format("evidence"), data={"file": (io.BytesIO(_png()), "文件.png")}, content_type="multipart/form-data"
    )
    assert r.status_code == 302
    ev = db.session.execute(select(EvidenceFile)).scalar_one()
    assert ev.content_type == "image/png"
    assert client.get(f"/reports/evidence/{ev.id}").data.startswith(b"\x89PNG")
    changes = db.session.execute(select(ChecklistChange).order_by(ChecklistChange.id)).scalars().all()
    assert [(c.action, c.actor_id) for c in changes] == [("status", sc.manager.id), ("evidence", sc.manager.id)]
    body = client.get("/api/v1/reports/checklist?year=2026").get_json()
    assert {r["key"]: r for r in body["rows"]}["4.2"]["status"] == "met"


@pytest.mark.parametrize(
    "name, data",
    [
        ("report.pdf", b"MZ\x90\x00 this is an executable"),
        ("photo.png", b"not an image at all"),
        ("virus.exe", b"MZ\x90\x00"),
        ("sheet.xlsx", b"PK\x03\x04garbage"),
        ("empty.pdf", b""),
    ],
)
def test_a_bad_evidence_upload_is_refused_clearly(client, sc, name, data):
    client.login("hubmgr")
    r = client.post(
        "/reports/checklist/4.2/evidence?year=2026",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert r.status_code == 422
    assert db.session.execute(select(func.count(EvidenceFile.id))).scalar_one() == 0


def test_a_too_large_upload_is_refused(client, sc):
    client.login("hubmgr")
    big = b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024 + 10)
    r = client.post(
        "/reports/checklist/4.2/evidence?year=2026",
        data={"file": (io.BytesIO(big), "big.pdf")},
        content_type="multipart/form-data",
    )
    assert r.status_code in (413, 422)
    assert db.session.execute(select(func.count(EvidenceFile.id))).scalar_one() == 0


def test_rows_with_a_rule_cannot_be_set_by_hand_and_staff_cannot_mark(client, sc):
    client.login("hubmgr")
    client.post("/reports/checklist/2.2/mark?year=2026", data={"status": "met"})
    assert db.session.execute(select(func.count(ChecklistChange.id))).scalar_one() == 0
    client.post("/logout")
    staff = f.staff(sc.net["hub"])
    db.session.commit()
    client.login(staff.login)
    assert client.post("/reports/checklist/4.2/mark?year=2026", data={"status": "met"}).status_code == 403


def test_targets_page_saves_targets_for_managers_in_scope(client, sc):
    client.login("dawamgr")
    r = client.post("/reports/targets?year=2026", data={"outreach_sessions": "40", "rural_film": ""})
    assert r.status_code == 302
    items = client.get("/api/v1/reports/indicators?year=2026").get_json()["items"]
    assert {i["indicator"]: i["target"] for i in items}["outreach_sessions"] == 40
    assert client.post("/reports/targets?year=2026", data={"outreach_sessions": "-3"}).status_code == 422


def test_monthly_exports_are_produced_once_per_month_with_the_current_scope(app, sc):
    services.subscribe_monthly(sc.dawa_manager, sc.net["branch"], actor=sc.dawa_manager)
    db.session.commit()
    now = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
    paths = jobs.send_monthly_exports(now)
    db.session.commit()
    assert len(paths) == 1 and paths[0].exists()
    assert jobs.send_monthly_exports(now) == []
    wb = openpyxl.load_workbook(paths[0])
    assert wb.sheetnames
    log = db.session.execute(select(ExportLog).where(ExportLog.what == "monthly_workbook")).scalar_one()
    assert log.actor_id == sc.dawa_manager.id
    sub = db.session.execute(select(ExportSubscription)).scalar_one()
    assert sub.last_period == "2026-06"
