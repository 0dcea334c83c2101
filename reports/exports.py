"""Exports: any table as CSV (UTF-8 with BOM, for Excel) or XLSX (Chinese headers, local dates, numbers as
numbers), the acceptance workbook, and the export log (who took what, when)."""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from unicodedata import east_asian_width

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from core import audit
from core.db import utcnow
from core.extensions import db
from core.i18n import localized, to_local
from core.spreadsheets import append_row, csv_row
from reports import checklist as cl
from reports import indicators as ind
from reports.labels import with_names
from reports.models import CHECK_STATUS_LABELS, ExportLog
from reports.queries import ReportFilter, attendance

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"


@dataclass
class Table:
    """A sheet: a title, column keys with their (translated) headers, and rows of dicts.

    `formats` names the columns that are not plain text or integers: "percent" (a share 0..1, shown 12.3%),
    "decimal" (one decimal), "int" (whole numbers, also when the row holds digits as a string, e.g. a
    序号). `numbered` puts a 序号 column (1, 2, 3 … as numbers) before the others, on rows that have data in
    the first column key."""

    title: str
    columns: list[tuple[str, str]]
    rows: list[dict]
    formats: dict[str, str] = field(default_factory=dict)
    numbered: bool = False


NUMBER_FORMATS = {"percent": "0.0%", "decimal": "#,##0.0", "int": "0"}


def _cell(value):
    if isinstance(value, datetime):
        return to_local(value).replace(tzinfo=None)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value is None or isinstance(value, int | float | date):
        return value
    return str(value)


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_row(h for _k, h in table.columns))
    for row in table.rows:
        writer.writerow(
            csv_row(
                ""
                if (v := _cell(row.get(k))) is None
                else (v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else v)
                for k, _h in table.columns
            )
        )
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def display_width(value) -> int:
    """Columns a value takes in a spreadsheet: CJK (wide and full-width) characters count two."""
    text = value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(value)
    return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)


def _columns(table: Table) -> list[tuple[str, str]]:
    return ([("_no", _("No."))] if table.numbered else []) + list(table.columns)


def _values(table: Table, row: dict, n: int | None) -> list:
    out = []
    for key, _header in _columns(table):
        value = n if key == "_no" else _cell(row.get(key))
        if table.formats.get(key) == "int" and isinstance(value, str) and value.isdigit():
            value = int(value)
        out.append(value)
    return out


def _sheet(ws, table: Table) -> None:
    ws.title = _sheet_title(table.title)
    columns = _columns(table)
    append_row(ws, (h for _k, h in columns))
    for c in ws[1]:
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor="DDEBF7")
        c.alignment = Alignment(wrap_text=True, vertical="center")
    first_key = table.columns[0][0] if table.columns else None
    n = 0
    for row in table.rows:
        numbered = table.numbered and row.get(first_key) not in (None, "") and not row.get("_total")
        n += numbered
        append_row(ws, _values(table, row, n if numbered else None))
        formats = {**table.formats, **row.get("_formats", {})}
        for (key, _header), cell in zip(columns, ws[ws.max_row], strict=True):
            fmt = NUMBER_FORMATS.get(formats.get(key, ""))
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
            elif fmt and isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                cell.number_format = fmt
            if isinstance(cell.value, str) and display_width(cell.value) > 60:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, (_key, header) in enumerate(columns, start=1):
        letter = get_column_letter(i)
        widest = max([display_width(c.value) for c in ws[letter][1:] if c.value is not None] + [0])
        ws.column_dimensions[letter].width = max(8, min(60, max(widest, display_width(header)) + 2))
    ws.freeze_panes = "A2"
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions


def _sheet_title(title: str) -> str:
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    return title[:31] or "Sheet"


def to_xlsx(*tables: Table, cover: list[tuple[str, object]] | None = None) -> bytes:
    """Tables as sheets of one workbook; `cover`, (label, value) pairs, becomes a first sheet 封面."""
    wb = Workbook()
    wb.remove(wb.active)
    seen: set[str] = set()
    if cover:
        ws = wb.create_sheet(_sheet_title(_("Cover")))
        seen.add(ws.title)
        for label, value in cover:
            append_row(ws, [label, _cell(value)])
        for cell in ws["A"]:
            cell.font = Font(bold=True)
        ws["A1"].font = Font(bold=True, size=16)
        ws.column_dimensions["A"].width = max(display_width(label) for label, _v in cover) + 4
        ws.column_dimensions["B"].width = min(80, max(display_width(_cell(v) or "") for _l, v in cover) + 4)
        for cell in ws["B"]:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    for table in tables:
        ws = wb.create_sheet()
        _sheet(ws, table)
        base, n = ws.title, 2
        while ws.title in seen:
            ws.title = _sheet_title(f"{base[:28]} {n}")
            n += 1
        seen.add(ws.title)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def group_header(key: str) -> str:
    return {
        "venue": _("Venue"),
        "venue_id": _("Venue ID"),
        "district": _("District"),
        "venue_kind": _("Venue kind"),
        "category": _("Category"),
        "month": _("Month"),
        "quarter": _("Quarter"),
        "year": _("Year"),
    }[key]


def measure_headers() -> list[tuple[str, str]]:
    return [
        ("sessions_held", _("Sessions held")),
        ("attendances", _("Attendances")),
        ("checked_in", _("Checked in")),
        ("walk_ins", _("Walk-ins")),
        ("bookings", _("Bookings")),
        ("no_shows", _("No-shows")),
        ("no_show_rate", _("No-show rate")),
        ("show_up_rate", _("Show-up rate")),
        ("online_plays", _("Online service (plays)")),
    ]


RATE_FORMATS = {"no_show_rate": "percent", "show_up_rate": "percent"}


def attendance_table(flt: ReportFilter, report: dict | None = None) -> Table:
    report = report or attendance(flt)
    keys = list(flt.group_by)
    if "venue" in keys:
        keys.insert(keys.index("venue"), "venue_id")
    columns = [(k, group_header(k)) for k in keys] + measure_headers()
    rows = with_names(report["rows"])
    if rows or not keys:
        rows.append({**report["totals"], **({keys[0]: _("Total")} if keys else {})})
    return Table(_("Attendance"), columns, rows, formats=RATE_FORMATS)


def indicator_sheet(flt: ReportFilter, key: str) -> Table:
    """One indicator by venue and month (for roll-up indicators) or its yearly value."""
    label = str(ind.BY_KEY[key].label)
    if key in ind.ROLLUP_INDICATORS:
        measure, where = ind.ROLLUP_INDICATORS[key]
        from reports.models import DailyAttendance
        from reports.queries import anchor_ids, bucket_of, rollup_select
        from venues.models import Venue

        anchor = anchor_ids(flt)
        cells: dict[tuple, int] = {}
        names: dict[int, str] = {}
        stmt = rollup_select(flt, Venue.path, DailyAttendance.year, DailyAttendance.month, where=where)
        for r in db.session.execute(stmt):
            value = int(r.checked_in + r.walk_ins if measure == "attendances" else getattr(r, measure))
            k = (bucket_of(r.path, anchor), f"{r.year:04d}-{r.month:02d}")
            cells[k] = cells.get(k, 0) + value
        if cells:
            names = dict(
                db.session.execute(db.select(Venue.id, Venue.name).where(Venue.id.in_({k[0] for k in cells}))).all()
            )
        rows = [{"venue": names.get(v, ""), "month": m, "value": n} for (v, m), n in sorted(cells.items())]
        rows.append({"venue": _("Total"), "value": sum(cells.values())})
        return Table(label, [("venue", _("Venue")), ("month", _("Month")), ("value", label)], rows)
    value = ind.actual(flt, key, utcnow())
    return Table(label, [("indicator", _("Indicator")), ("value", _("Value"))], [{"indicator": label, "value": value}])


def workbook(
    flt: ReportFilter, year: int, now: datetime, locale: str = "zh_CN", *, exported_by: str | None = None
) -> bytes:
    """The acceptance workbook: a cover (network, period, data time, who exported it), a summary, the
    checklist, the three-level standards table, one sheet per indicator, online service, the venue registry
    and the coverage gaps. Codes never reach a cell: districts, venue kinds and categories by name."""
    from flask import current_app

    from reports.freshness import freshness
    from reports.labels import district_names

    table = ind.indicator_table(flt, year, now)
    summary = Table(
        _("Summary"),
        [
            ("label", _("Indicator")),
            ("target", _("Target")),
            ("actual", _("Actual")),
            ("progress", _("Progress")),
            ("projection", _("Projection to year end")),
        ],
        table,
        formats={"progress": "percent"},
        numbered=True,
    )
    checks = cl.evaluate(flt, year, now, locale)
    summary.rows.append(
        {
            "label": _("Checklist pass rate"),
            "actual": round(checks["pass_rate"] or 0, 4),
            "target": checks["required"],
            "_formats": {"actual": "percent", "target": "percent"},
        }
    )
    check_rows = [
        {**r, "status": str(CHECK_STATUS_LABELS[r["status"]]), "files": ", ".join(e.filename for e in r["evidence"])}
        for r in checks["rows"]
    ]
    checklist = Table(
        _("Checklist"),
        [
            ("number", _("Indicator No.")),
            ("indicator", _("Indicator")),
            ("explanation", _("Explanation")),
            ("evidence_required", _("Evidence required")),
            ("status", _("Status")),
            ("detail", _("Detail")),
            ("files", _("Evidence files")),
        ],
        check_rows,
        numbered=True,
    )
    names = district_names()
    registry = [{**r, "district_name": names.get(r["district"], r["district_name"])} for r in ind.registry(flt)]
    reg = Table(
        _("Venue registry"),
        [
            ("district_name", _("District")),
            ("venues", _("Venues")),
            ("hours_met", _("Meeting the opening-hours norm")),
            ("communities", _("Community centres")),
            ("area_met", _("Community centres of 200 m² or more")),
        ],
        registry,
        numbered=True,
    )
    gaps = Table(
        _("Coverage gaps"),
        [
            ("venue", _("Venue")),
            ("district", _("District")),
            ("kind", _("Venue kind")),
            ("sessions_held", _("Sessions held")),
            ("expected", _("Norm so far")),
        ],
        with_names(ind.coverage(flt, now)),
        numbered=True,
    )
    sheets = [indicator_sheet(flt, i.key) for i in ind.INDICATORS]
    from reports.workbench.report_tables import standards_table  # the workbench reads exports too

    standards = standards_table(year, now, locale)
    standards.formats = {"status": "percent", "evidence_count": "int"}
    fresh = freshness(now)
    cover = [
        (_("Acceptance workbook %(year)s", year=year), ""),
        (_("Network"), current_app.config.get("NETWORK_NAME") or _("Public culture centre network")),
        (_("Scope"), localized(flt.anchor) if flt.anchor else _("The whole network in the exporter's scope")),
        (_("Period"), _("%(first)s to %(last)s", first=flt.first.isoformat(), last=flt.last.isoformat())),
        (_("Data updated"), fresh.at or fresh.stamp()),
        (_("Not counted yet"), fresh.note()),
        (_("Exported"), now),
        (_("Exported by"), exported_by or _("System")),
    ]
    return to_xlsx(summary, checklist, standards, *sheets, online_sheet(flt), reg, gaps, cover=cover)


def online_sheet(flt: ReportFilter) -> Table:
    """线上服务人次: the digital library's counted plays by venue and month, beside the on-site attendances."""
    from dataclasses import replace

    report = attendance(replace(flt, group_by=("venue", "month")))
    rows = [
        {"venue": r["venue"], "month": r["month"], "attendances": r["attendances"], "online_plays": r["online_plays"]}
        for r in report["rows"]
    ]
    rows.append(
        {
            "venue": _("Total"),
            "attendances": report["totals"]["attendances"],
            "online_plays": report["totals"]["online_plays"],
        }
    )
    return Table(
        _("Online service (plays)"),
        [
            ("venue", _("Venue")),
            ("month", _("Month")),
            ("attendances", _("Attendances")),
            ("online_plays", _("Online service (plays)")),
        ],
        rows,
    )


def log_export(
    actor, *, what: str, file_format: str, params: dict, rows: int = 0, now: datetime | None = None
) -> ExportLog:
    """Record an export in the export log and the audit log."""
    now = now or utcnow()
    entry = ExportLog(
        actor_id=getattr(actor, "id", None),
        what=what,
        file_format=file_format,
        params={k: v for k, v in params.items() if v not in (None, "")},
        rows=rows,
        at=now,
    )
    db.session.add(entry)
    db.session.flush()
    audit.record(actor, "report.export", entry, {"what": what, "format": file_format, **entry.params}, now=now)
    return entry
