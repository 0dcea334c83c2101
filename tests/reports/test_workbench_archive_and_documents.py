"""The archive (checked uploads, search, the ZIP with its index workbook), the self-check DOCX holding the
standards table, the three-level sheet of the acceptance workbook, and the dashboard in the report's words."""

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select

from core.extensions import db
from reports import exports
from reports.checklist import BadEvidence
from reports.workbench import archive
from reports.workbench import standards as ws
from reports.workbench.models import ArchiveDocument, ArchiveFile
from tests import factories as f
from tests.reports import workbench_world as ww

PDF = b"%PDF-1.4\n%test\n"


@pytest.fixture
def world(app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    w = ww.build()
    w.meeting = archive.add_document(
        year=ww.YEAR,
        data={
            "category": "meeting",
            "held_on": date(2026, 2, 20),
            "unit_id": w.city.id,
            "title": "全市创建动员大会",
            "description": "部署创建工作",
            "standards": ["1.1.2"],
        },
        files=[("会议纪要.pdf", PDF)],
        actor=w.manager,
    )
    w.press = archive.add_document(
        year=ww.YEAR,
        data={
            "category": "media",
            "held_on": date(2026, 3, 1),
            "unit_id": w.dawa.id,
            "title": '=HYPERLINK("x")',
            "description": "盘锦日报报道",
            "standards": ["2.1.1"],
        },
        files=[],
        actor=w.dawa_staff,
    )
    f.commit()
    return w


def test_an_upload_is_checked_by_content_and_size_and_a_refusal_stores_nothing(world, tmp_path):
    data = {"category": "training", "held_on": date(2026, 3, 1), "unit_id": world.city.id, "title": "培训"}
    for files in (
        [("fake.pdf", b"MZ not a pdf")],
        [("big.pdf", PDF + b"0" * archive.MAX_BYTES)],
        [("script.exe", PDF)],
        [("ok.pdf", PDF), ("empty.pdf", b"")],
    ):
        with pytest.raises(BadEvidence):
            archive.add_document(year=ww.YEAR, data=data, files=files, actor=world.manager)
        db.session.rollback()
    assert db.session.execute(select(func.count(ArchiveDocument.id))).scalar_one() == 2
    assert len(list((tmp_path / "archive").iterdir())) == 1  # only the meeting's file


def test_a_record_needs_its_fields_in_the_year(world):
    from core.errors import Invalid

    with pytest.raises(Invalid) as caught:
        archive.add_document(
            year=ww.YEAR,
            data={"category": "party", "held_on": date(2025, 1, 1), "unit_id": world.city.id, "title": ""},
            files=[],
            actor=world.manager,
        )
    assert set(caught.value.extra["fields"]) == {"category", "held_on", "title"}


def test_the_archive_is_searchable_by_words_category_unit_and_standard(world):
    def found(**query):
        return [d.title for d in archive.search(world.manager, ww.YEAR, **query)]

    assert found(q="动员") == ["全市创建动员大会"]
    assert found(category="media") == ['=HYPERLINK("x")']
    assert found(unit_id=world.city.id) == ["全市创建动员大会"]
    assert found(standard="2.1.1") == ['=HYPERLINK("x")']
    assert found(q="日报 盘锦") == ['=HYPERLINK("x")']


def test_the_zip_holds_a_folder_per_category_and_an_index_workbook_with_text_cells(client, world):
    client.login("citymgr")
    response = client.get(f"/reports/workbench/archive.zip?year={ww.YEAR}")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(response.data))
    names = z.namelist()
    assert "index.xlsx" in names
    pdfs = [n for n in names if n.endswith(".pdf")]
    assert len(pdfs) == 1 and pdfs[0].startswith("01-") and z.read(pdfs[0]) == PDF
    sheet = load_workbook(io.BytesIO(z.read("index.xlsx"))).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 2 and rows[0][7] == pdfs[0]
    titles = {row[4] for row in rows}
    assert '=HYPERLINK("x")' in titles
    cell = next(c for c in sheet["E"] if c.value == '=HYPERLINK("x")')
    assert cell.data_type == "s"  # stored as text, never a formula


def test_the_zip_of_a_district_holds_only_what_it_sees(client, world):
    client.login("panshan")
    z = zipfile.ZipFile(io.BytesIO(client.get(f"/reports/workbench/archive.zip?year={ww.YEAR}").data))
    rows = list(load_workbook(io.BytesIO(z.read("index.xlsx"))).active.iter_rows(min_row=2, values_only=True))
    assert rows == [] and [n for n in z.namelist() if n != "index.xlsx"] == []


def test_the_archive_page_files_a_record_with_a_checked_upload(client, world):
    client.login("dawa")
    response = client.post(
        f"/reports/workbench/archive?year={ww.YEAR}",
        data={
            "category": "activity",
            "held_on": "2026-03-02",
            "unit_id": str(world.dawa.id),
            "title": "送戏下乡",
            "standards": "2.1.1",
            "files": (io.BytesIO(PDF), "节目单.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    doc = db.session.execute(select(ArchiveDocument).filter_by(title="送戏下乡")).scalar_one()
    assert [x.filename for x in doc.files] == ["节目单.pdf"]
    response = client.post(
        f"/reports/workbench/archive?year={ww.YEAR}",
        data={
            "category": "activity",
            "held_on": "2026-03-02",
            "unit_id": str(world.dawa.id),
            "title": "假文件",
            "files": (io.BytesIO(b"<html>"), "x.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert db.session.execute(select(ArchiveDocument).filter_by(title="假文件")).first() is None
    html = client.get(f"/reports/workbench/archive?year={ww.YEAR}&q=送戏").get_data(as_text=True)
    assert "送戏下乡" in html and "全市创建动员大会" not in html


def test_the_self_check_report_opens_and_holds_the_standards_table(client, world):
    client.login("citymgr")
    response = client.get(f"/reports/workbench/selfcheck.docx?year={ww.YEAR}")
    assert response.status_code == 200
    doc = Document(io.BytesIO(response.data))
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    standards = next(t for t in tables if t[0][0] in ("标准编号", "Standard No."))
    assert [r[0] for r in standards[1:]] == ["1.1.1", "1.1.2", "1.2.1", "2.1.1", "2.1.2"]
    assert standards[2][4] in ("需加大投入", "Needs more investment")
    assert any("2026" in p.text for p in doc.paragraphs)


def test_the_acceptance_workbook_carries_the_three_level_table(client, world):
    client.login("citymgr")
    response = client.get(f"/reports/workbook.xlsx?year={ww.YEAR}", headers={"Accept-Language": "zh-CN"})
    wb = load_workbook(io.BytesIO(response.data))
    sheet = next(s for s in wb.worksheets if s.cell(1, 1).value in ("任务编号", "Task No."))
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[4] for r in rows[:5]] == ["1.1.1", "1.1.2", "1.2.1", "2.1.1", "2.1.2"]
    assert rows[0][0] == "1" and rows[2][2] == "1.2" and rows[2][3] == "县级设施"


def test_the_dashboard_speaks_the_reports_words(client, world):
    client.login("citymgr")
    html = client.get(f"/reports/workbench/?year={ww.YEAR}", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    for words in ("已达标", "正常推进可达标", "需加大投入", "中期验收", "95%"):
        assert words in html, words
    assert 'id="by-task"' in html and 'id="by-unit"' in html and 'id="trend"' in html


def test_the_daily_snapshot_keeps_one_row_per_day_for_the_trend(world):
    from reports.jobs import snapshot_standards

    snapshot_standards(ww.NOW)
    snapshot_standards(ww.NOW)
    rows = ws.trend(ww.YEAR)
    assert len(rows) == 1 and rows[0].day == date(2026, 3, 2)
    assert rows[0].met + rows[0].on_track + rows[0].at_risk + rows[0].not_applicable == 5


def test_csv_cells_that_would_run_as_formulas_are_neutralised():
    table = exports.Table("t", [("a", "A")], [{"a": "=1+1"}, {"a": "@SUM(A1)"}, {"a": "-2"}, {"a": "普通"}])
    body = exports.to_csv(table).decode("utf-8-sig").splitlines()
    assert body[1:] == ["'=1+1", "'@SUM(A1)", "'-2", "普通"]


def test_a_file_of_a_record_downloads_for_those_who_see_it(client, world):
    file = db.session.execute(select(ArchiveFile)).scalar_one()
    client.login("dawa")
    assert client.get(f"/reports/workbench/archive/files/{file.id}").status_code == 404  # the city's record
    client.login("citymgr")
    response = client.get(f"/reports/workbench/archive/files/{file.id}")
    assert response.status_code == 200 and response.data == PDF
    assert Path(archive.file_path(file)).exists()
