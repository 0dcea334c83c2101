"""`flask reports standards import`: a good file becomes the year's catalogue; each kind of bad file is
refused with its row and reason and changes nothing; the demo's Panjin file holds 7/32/94."""

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from core.extensions import db
from reports import checklist as cl
from reports.workbench.catalogue import DEMO_FILE, BadCatalogue, import_catalogue
from reports.workbench.models import Standard, StandardStatus
from reports.workbench.standards import set_status
from tests.reports import workbench_world as ww


@pytest.fixture
def world(app):
    return ww.build()


def count(year: int = ww.YEAR) -> int:
    return db.session.execute(select(func.count(Standard.id)).where(Standard.year == year)).scalar_one()


def test_a_good_csv_becomes_the_catalogue_with_its_three_levels_and_units(world):
    standards = {s.number: s for s in db.session.execute(select(Standard)).scalars()}
    assert len(standards) == 5
    assert standards["1.2.1"].indicator == "县级设施" and standards["1.2.1"].task == "设施网络"
    assert [u.name for u in standards["1.2.1"].units] == ["大洼区", "盘山县"]
    assert {u.name for u in standards["2.1.2"].units} == {"盘山县", "市文旅局"}
    assert standards["1.1.1"].deadline.isoformat() == "2026-06-30"
    assert standards["1.1.2"].deadline.isoformat() == "2026-12-31"
    assert standards["2.1.2"].deadline is None and standards["1.1.1"].rule == "1.1"


def test_reimporting_replaces_the_catalogue_and_keeps_the_status_of_kept_standards(world):
    set_status(
        db.session.execute(select(Standard).filter_by(number="1.1.2")).scalar_one(),
        status="on_track",
        note="按计划推进",
        actor=world.manager,
    )
    shorter = "\n".join(line for line in ww.CSV.splitlines() if not line.startswith("2,")) + "\n"
    summary = import_catalogue("again.csv", shorter.encode(), year=ww.YEAR)
    assert summary == {"year": 2026, "tasks": 1, "indicators": 2, "standards": 3, "removed": 2}
    kept = db.session.execute(select(Standard).filter_by(number="1.1.2")).scalar_one()
    assert kept.status == StandardStatus.on_track and kept.note == "按计划推进"


def test_an_xlsx_with_chinese_headers_is_read(world):
    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            "任务编号",
            "基本任务",
            "指标编号",
            "指标",
            "标准编号",
            "验收标准",
            "佐证材料",
            "责任单位",
            "完成时限",
            "计算规则",
        ]
    )
    ws.append([1, "设施网络", "1.1", "市级设施", "1.1.1", "市文化馆开放", "公示", "市文旅局", "中期验收", "1.1"])
    ws.append([1, "设施网络", "1.1", "市级设施", "1.1.2", "市图书馆一级", "", "大洼区", None, None])
    out = io.BytesIO()
    wb.save(out)
    summary = import_catalogue("标准.xlsx", out.getvalue(), year=2027)
    assert summary["standards"] == 2 and count(2027) == 2
    assert db.session.execute(select(Standard).filter_by(year=2027, number="1.1.1")).scalar_one().deadline.month == 6


BAD = [
    ("missing column", ww.HEADER.replace(",responsible", "") + "1,a,1.1,b,1.1.1,c,d,x,\n", 1, "responsible"),
    ("unknown column", ww.HEADER.strip() + ",colour\n1,a,1.1,b,1.1.1,c,d,市文旅局,,,red\n", 1, "colour"),
    ("unknown unit", ww.HEADER + "1,a,1.1,b,1.1.1,c,d,市文旅局,,\n1,a,1.1,b,1.1.2,c,d,市宣传部,,\n", 3, "市宣传部"),
    ("duplicate number", ww.HEADER + "1,a,1.1,b,1.1.1,c,d,市文旅局,,\n1,a,1.1,b,1.1.1,e,d,市文旅局,,\n", 3, "1.1.1"),
    ("bad deadline", ww.HEADER + "1,a,1.1,b,1.1.1,c,d,市文旅局,next spring,\n", 2, "next spring"),
    ("deadline in another year", ww.HEADER + "1,a,1.1,b,1.1.1,c,d,市文旅局,2025-06-30,\n", 2, "2026"),
    ("unknown rule", ww.HEADER + "1,a,1.1,b,1.1.1,c,d,市文旅局,,magic\n", 2, "magic"),
    ("rule parameters not JSON", ww.HEADER + '1,a,1.1,b,1.1.1,c,d,市文旅局,,"indicator_min {oops"\n', 2, "JSON"),
    ("empty required cell", ww.HEADER + "1,,1.1,b,1.1.1,c,d,市文旅局,,\n", 2, "task"),
    (
        "two titles for one indicator",
        ww.HEADER + "1,a,1.1,b,1.1.1,c,d,市文旅局,,\n1,a,1.1,B2,1.1.2,c,d,市文旅局,,\n",
        3,
        "1.1",
    ),
    ("number with spaces", ww.HEADER + "1,a,1.1,b,1 1,c,d,市文旅局,,\n", 2, "1 1"),
    ("more cells than columns", ww.HEADER + "1,a,1.1,b,1.1.1,c,d,市文旅局,,,,extra\n", 2, ""),
    ("no rows", ww.HEADER, 2, ""),
]


@pytest.mark.parametrize(("kind", "body", "row", "says"), BAD, ids=[b[0] for b in BAD])
def test_a_malformed_file_is_refused_with_its_row_and_changes_nothing(world, kind, body, row, says):
    before = {s.number: s.text for s in db.session.execute(select(Standard)).scalars()}
    with pytest.raises(BadCatalogue) as caught:
        import_catalogue("bad.csv", body.encode(), year=ww.YEAR)
    db.session.rollback()
    assert caught.value.row == row
    assert says in str(caught.value.message)
    assert {s.number: s.text for s in db.session.execute(select(Standard)).scalars()} == before


def test_a_file_that_is_neither_csv_nor_a_workbook_is_refused(world):
    with pytest.raises(BadCatalogue):
        import_catalogue("standards.txt", ww.CSV.encode(), year=ww.YEAR)
    with pytest.raises(BadCatalogue):
        import_catalogue("standards.xlsx", b"PK\x03\x04 not really", year=ww.YEAR)
    assert count() == 5


def test_a_gbk_csv_is_read(world):
    summary = import_catalogue("gbk.csv", ww.CSV.replace("2026-09-30", "").encode("gb18030"), year=2028)
    assert summary["standards"] == 5 and count(2028) == 5


def test_the_cli_imports_and_reports_a_bad_row(app, world, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(ww.CSV.replace("2026-09-30", "mid_term"), encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "standards", "import", str(good), "--year", "2029"])
    assert result.exit_code == 0, result.output
    assert "standards=5" in result.output and count(2029) == 5
    bad = tmp_path / "bad.csv"
    bad.write_text(ww.HEADER + "1,a,1.1,b,1.1.1,c,d,无此单位,,\n", encoding="utf-8")
    result = runner.invoke(args=["reports", "standards", "import", str(bad), "--year", "2029"])
    assert result.exit_code != 0 and ("第 2 行" in result.output or "Row 2" in result.output)
    assert "无此单位" in result.output
    assert count(2029) == 5


def test_the_panjin_file_has_7_tasks_32_indicators_94_standards_and_takes_over_every_checklist_row(app):
    summary = import_catalogue(DEMO_FILE.name, DEMO_FILE.read_bytes(), year=ww.YEAR, create_units=True)
    assert (summary["tasks"], summary["indicators"], summary["standards"]) == (7, 32, 94)
    rules = [s.rule for s in db.session.execute(select(Standard)).scalars() if s.rule]
    assert sorted(rules) == sorted(r.key for r in cl.load_rows())  # all 27 rows, each once
    computed = {r.key for r in cl.load_rows() if r.rule}
    assert len(computed) == 23 and len({r.rule for r in cl.load_rows() if r.rule}) == 19  # 2.8, 4.6: volunteering


def test_the_demo_seeds_the_workbench_once(app, tmp_path):
    from reports.workbench.models import ArchiveDocument, Problem, ResponsibleUnit, UnitMember

    app.config["UPLOAD_DIR"] = str(tmp_path)
    runner = app.test_cli_runner()
    for _ in range(2):  # idempotent
        result = runner.invoke(args=["demo", "seed"])
        assert result.exit_code == 0, result.output

    def n(model):
        return db.session.execute(select(func.count(model.id))).scalar_one()

    assert db.session.execute(select(func.count(Standard.id))).scalar_one() == 94
    assert n(ResponsibleUnit) == 18 and n(UnitMember) == 4 and n(Problem) == 4 and n(ArchiveDocument) == 6
    assert all(u.venue_id for u in db.session.execute(select(ResponsibleUnit)).scalars() if u.kind != "department")
