"""No code reaches a person, figures say how fresh they are, one quantity has one figure, and the workbook
is ready for inspectors (issue 17): the report pages in both languages and the workbook are read whole."""

import html as htmlmod
import io
import re
import shutil
import subprocess
from datetime import timedelta

import openpyxl
import pytest

from activities.models import Category
from core.extensions import db
from reports import services
from reports.rollup import rollup_attendance
from tests import factories as f
from tests.reports.scenario import AFTER, build
from venues.models import VenueKind

DISTRICT_CODES = ("211102", "211103", "211104", "211122")
SLUGS = ("dawa", "panshan", "xinglongtai", "shuangtaizi")
EXPORT_KINDS = ("attendance", "coverage", "workbook", "print", "sessions", "monthly_workbook")
WORDS = tuple(k.value for k in VenueKind) + tuple(c.value for c in Category) + EXPORT_KINDS + SLUGS
UTF8_CSV = "csv:Text - txt - csv (StarCalc):44,34,76"  # comma, double quote, UTF-8
PAGES = (
    "/reports/?year=2026",
    "/reports/attendance?from=2026-01-01&to=2026-12-31&group_by=district&group_by=venue_kind&group_by=category",
    "/reports/sessions?from=2026-01-01&to=2026-12-31&district=211104&category=music",
    "/reports/coverage?year=2026",
    "/reports/registry?year=2026",
    "/reports/checklist?year=2026",
    "/reports/targets?year=2026",
    "/reports/print?year=2026",
    "/reports/exports",
)


@pytest.fixture
def sc(app, travel):
    travel(AFTER + timedelta(minutes=10))
    scenario = build()
    rollup_attendance(AFTER)
    db.session.commit()
    return scenario


def visible_text(page: str) -> str:
    """What a person reads: the page without tags, attributes, scripts and styles."""
    body = page.split("<main", 1)[-1]
    body = re.sub(r"<(script|style|datalist)\b.*?</\1>", " ", body, flags=re.S)
    return htmlmod.unescape(re.sub(r"<[^>]+>", " ", body))


def leaks(text: str, *, english: bool) -> list[str]:
    found = [c for c in DISTRICT_CODES if c in text]
    found += re.findall(r"\b(?:year|from|to|group_by|kind|venue|category)=\S*", text)
    if not english:  # English prose says "station" and "community"; the Chinese page never should
        found += [w for w in WORDS if re.search(rf"(?<![A-Za-z_]){w}(?![A-Za-z_])", text)]
    return found


def _take_every_export(client):
    for url in (
        "/reports/attendance.xlsx?from=2026-01-01&to=2026-12-31&group_by=month",
        "/reports/coverage?year=2026&format=csv",
        "/reports/workbook.xlsx?year=2026",
        "/reports/print?year=2026",
        "/reports/sessions?from=2026-01-01&to=2026-12-31&district=211104&kind=station&format=xlsx",
    ):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_no_raw_code_on_any_report_page(client, sc, lang):
    client.login("hubmgr")
    _take_every_export(client)
    headers = {"Accept-Language": lang}
    for url in PAGES:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        text = visible_text(response.get_data(as_text=True))
        assert leaks(text, english=lang == "en") == [], url
    zh = visible_text(client.get("/reports/exports", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True))
    if lang == "zh-CN":
        assert "验收台账" in zh and "打印" in zh and "分组" in zh


def _cells(wb):
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str):
                    yield ws.title, value


def test_no_raw_code_in_the_workbook_or_the_tables(client, sc):
    client.login("hubmgr")
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/reports/workbook.xlsx?year=2026").data))
    bad = [(sheet, v) for sheet, v in _cells(wb) if leaks(v, english=False)]
    assert bad == []
    gaps = wb["覆盖空白点"]
    header = [c.value for c in gaps[1]]
    district = header.index("区县")
    assert {r[district] for r in gaps.iter_rows(min_row=2, values_only=True)} <= {"大洼区", "盘山县"}
    for url in (
        "/reports/coverage?year=2026&format=xlsx",
        "/reports/attendance.xlsx?from=2026-01-01&to=2026-12-31&group_by=district&group_by=venue_kind",
        "/reports/sessions?from=2026-01-01&to=2026-12-31&format=xlsx",
    ):
        book = openpyxl.load_workbook(io.BytesIO(client.get(url).data))
        assert [(s, v) for s, v in _cells(book) if leaks(v, english=False)] == [], url
    csv = client.get("/reports/coverage?year=2026&format=csv").data.decode("utf-8-sig")
    assert leaks(csv, english=False) == [] and "大洼区" in csv


def test_every_report_page_and_the_workbook_say_when_the_data_was_compiled(client, sc):
    client.login("hubmgr")
    stamp = "数据更新于 2026-06-30 12:00"  # the roll-up ran at 04:00 UTC, 12:00 in Shanghai
    for url in PAGES + ("/reports/workbench/?year=2026",):
        text = visible_text(client.get(url).get_data(as_text=True))
        assert stamp in text and "尚未计入" in text, url
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/reports/workbook.xlsx?year=2026").data))
    cover = {r[0]: r[1] for r in wb["封面"].iter_rows(values_only=True)}
    assert wb.sheetnames[0] == "封面"
    assert cover["数据更新于"].strftime("%Y-%m-%d %H:%M") == "2026-06-30 12:00"
    assert cover["导出人"] == sc.manager.name and cover["统计期间"] == "2026-01-01 至 2026-12-31"
    assert cover["总分馆体系"]


def test_a_stopped_roll_up_is_said_so(client, sc, travel):
    travel(AFTER + timedelta(hours=3))
    client.login("hubmgr")
    text = visible_text(client.get("/reports/?year=2026").get_data(as_text=True))
    assert "汇总已超过一小时未运行" in text


def test_before_the_first_roll_up_the_dashboard_shows_no_second_figure(app, client, travel):
    travel(AFTER + timedelta(minutes=10))
    build()
    client.login("hubmgr")
    page = client.get("/reports/?year=2026").get_data(as_text=True)
    text = visible_text(page)
    assert "数据尚未汇总" in text
    assert "人次 ·" not in text and "个人次" not in text  # no live "3 人次" beside a headline 0
    rollup_attendance(AFTER)
    db.session.commit()
    page = client.get("/reports/?year=2026").get_data(as_text=True)
    headline = int(re.search(r"<strong>(\d+)</strong> 服务人次", page)[1])
    tops = [int(n) for n in re.findall(r"(\d+) 人次</li>", page)]
    assert tops and sum(tops) <= headline


def test_one_quantity_one_figure_on_every_page(client, sc):
    """Attendances: dashboard headline = attendance page total = workbook summary; room use: the registry
    page and the checklist row say the same sentence."""
    f.room(sc.net["hub"], is_bookable=True)
    db.session.commit()
    client.login("hubmgr")
    dash = client.get("/reports/?year=2026").get_data(as_text=True)
    headline = int(re.search(r"<strong>(\d+)</strong> 服务人次", dash)[1])
    att = client.get("/reports/attendance?from=2026-01-01&to=2026-12-31&group_by=month").get_data(as_text=True)
    tfoot = att.split("<tfoot>")[1]
    assert int(re.findall(r'<td class="num">(\d+)</td>', tfoot)[0]) == headline
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/reports/workbook.xlsx?year=2026").data))
    summary = {r[1]: r for r in wb["概要"].iter_rows(min_row=2, values_only=True)}
    assert summary["服务人次"][3] == headline
    registry = visible_text(client.get("/reports/registry?year=2026").get_data(as_text=True))
    checklist = visible_text(client.get("/reports/checklist?year=2026").get_data(as_text=True))
    sentence = re.search(r"本年度至今，.*?实际使用 \S+ 小时。", registry)
    assert sentence and sentence[0] in checklist and "1 个可预约活动室" in sentence[0]


def test_the_workbook_is_ready_for_inspectors(client, sc):
    services.set_target(sc.net["hub"], year=2026, indicator="rural_film", value=5, actor=sc.manager)
    db.session.commit()
    client.login("hubmgr")
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/reports/workbook.xlsx?year=2026").data))
    summary = wb["概要"]
    header = [c.value for c in summary[1]]
    assert header[0] == "序号" and summary.freeze_panes == "A2"
    progress = header.index("完成进度")
    rows = list(summary.iter_rows(min_row=2))
    assert all(isinstance(r[0].value, int) for r in rows[:-1])
    assert [r[0].value for r in rows[:3]] == [1, 2, 3]
    shares = [r[progress] for r in rows if isinstance(r[progress].value, float)]
    assert shares and all(c.number_format == "0.0%" for c in shares)
    pass_rate = next(r for r in rows if r[1].value == "验收清单达标率")
    assert pass_rate[3].number_format == "0.0%"
    gaps = wb["覆盖空白点"]
    longest = max(len(str(c.value)) for c in gaps["B"][1:])
    assert gaps.column_dimensions["B"].width >= 2 * longest  # CJK names take two columns a character
    for ws in wb.worksheets[1:]:
        assert ws.freeze_panes == "A2", ws.title


@pytest.mark.skipif(not shutil.which("soffice") and not shutil.which("libreoffice"), reason="no LibreOffice")
def test_the_workbook_opens_in_libreoffice(client, sc, tmp_path):
    """LibreOffice headless converts the workbook to .ods and back to CSV without an error; the cover and
    the figures survive. (make browser-deps installs libreoffice-calc-nogui; CI must not skip this.)"""
    client.login("hubmgr")
    book = tmp_path / "acceptance.xlsx"
    book.write_bytes(client.get("/reports/workbook.xlsx?year=2026").data)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    profile = f"-env:UserInstallation=file://{tmp_path}/lo-profile"
    run = subprocess.run(
        [soffice, profile, "--headless", "--convert-to", "ods", "--outdir", str(tmp_path), str(book)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "acceptance.ods").stat().st_size > 1000
    run = subprocess.run(
        [soffice, profile, "--headless", "--convert-to", UTF8_CSV, "--outdir", str(tmp_path / "csv"), str(book)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    first_sheet = (tmp_path / "csv" / "acceptance.csv").read_text(encoding="utf-8", errors="replace")
    assert "数据更新于" in first_sheet and "验收台账" in first_sheet


def test_ci_has_libreoffice():
    import os

    if os.environ.get("CI") and not (shutil.which("soffice") or shutil.which("libreoffice")):
        pytest.fail("CI must run the LibreOffice test: make browser-deps installs libreoffice-calc-nogui")


def test_a_venue_is_chosen_by_its_name_within_the_scope(client, sc):
    client.login("dawamgr")
    page = client.get("/reports/?year=2026&venue_name=东风镇文化站").get_data(as_text=True)
    assert "东风镇文化站" in page.split("<h1>")[1].split("</h1>")[0]
    assert 'list="f-venue-list"' in page and '<select id="f-venue"' not in page
    outside = client.get("/reports/?year=2026&venue_name=盘山县文化馆")  # a venue of another district
    assert outside.status_code == 422 and "没有名为“盘山县文化馆”" in outside.get_data(as_text=True)
