"""Loading a year's catalogue of acceptance standards from a CSV or XLSX file the city keeps.

The file has one row per standard with its task and indicator repeated (the three-level table flattened):
`task_no, task, indicator_no, indicator, standard_no, standard, evidence, responsible, deadline, rule`,
with Chinese header names accepted too and `task_en, indicator_en, standard_en` optional. The import is
all or nothing: every row is checked first, and the first bad row is reported with its reason.
"""

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import delete, select

from core import audit
from core.errors import DomainError
from core.extensions import db
from reports import checklist as cl
from reports.workbench.models import ResponsibleUnit, Standard, UnitKind

DEMO_FILE = Path(__file__).parent.parent / "data" / "panjin-standards.csv"
MAX_ROWS = 2000
COLUMNS = [
    "task_no",
    "task",
    "indicator_no",
    "indicator",
    "standard_no",
    "standard",
    "evidence",
    "responsible",
    "deadline",
    "rule",
]
REQUIRED = ["task_no", "task", "indicator_no", "indicator", "standard_no", "standard", "responsible"]
OPTIONAL = ["task_en", "indicator_en", "standard_en"]
HEADER_ALIASES = {
    "任务编号": "task_no",
    "任务序号": "task_no",
    "基本任务": "task",
    "任务": "task",
    "指标编号": "indicator_no",
    "指标序号": "indicator_no",
    "指标": "indicator",
    "具体指标": "indicator",
    "标准编号": "standard_no",
    "标准序号": "standard_no",
    "验收标准": "standard",
    "标准": "standard",
    "佐证材料": "evidence",
    "验收材料": "evidence",
    "责任单位": "responsible",
    "完成时限": "deadline",
    "时限": "deadline",
    "计算规则": "rule",
    "规则": "rule",
    "任务英文": "task_en",
    "指标英文": "indicator_en",
    "标准英文": "standard_en",
}
MIDTERM = (6, 30)
FINAL = (12, 31)
DEADLINE_WORDS = {
    "mid_term": MIDTERM,
    "midterm": MIDTERM,
    "中期": MIDTERM,
    "中期验收": MIDTERM,
    "final": FINAL,
    "年底": FINAL,
    "最终验收": FINAL,
    "终期验收": FINAL,
}
UNIT_SEPARATORS = re.compile(r"[;；、,，/]")
NUMBER = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,19}$")


class BadCatalogue(DomainError):
    """The file cannot become the catalogue; `row` is the file's line (1 is the header)."""

    code = "bad_catalogue"
    status = 422

    def __init__(self, message, *, row: int | None = None):
        super().__init__(message, row=row)
        self.row = row


@dataclass
class Line:
    row: int
    values: dict


def read_rows(filename: str, data: bytes) -> list[Line]:
    """The file's rows as dicts keyed by the English column names (CSV in UTF-8 or GBK, or XLSX)."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        table = _xlsx_table(data)
    elif suffix == ".csv":
        table = list(csv.reader(io.StringIO(_decode(data))))
    else:
        raise BadCatalogue(_("Give a .csv or .xlsx file."))
    if not table or not any(c.strip() for c in table[0]):
        raise BadCatalogue(_("The file is empty."), row=1)
    header = [_column(c) for c in table[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise BadCatalogue(_("Missing columns: %(cols)s.", cols=", ".join(missing)), row=1)
    unknown = [raw for raw, c in zip(table[0], header, strict=True) if c is None and raw.strip()]
    if unknown:
        raise BadCatalogue(_("Unknown columns: %(cols)s.", cols=", ".join(unknown)), row=1)
    lines = []
    for n, cells in enumerate(table[1:], start=2):
        if not any((c or "").strip() for c in cells):
            continue
        if len(cells) > len(header):
            raise BadCatalogue(_("More cells than columns."), row=n)
        lines.append(Line(n, {k: (cells[i] if i < len(cells) else "").strip() for i, k in enumerate(header) if k}))
    if len(lines) > MAX_ROWS:
        raise BadCatalogue(_("Too many rows (at most %(n)s).", n=MAX_ROWS))
    if not lines:
        raise BadCatalogue(_("The file has no standards."), row=2)
    return lines


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadCatalogue(_("The file is not text in UTF-8 or GBK."))


def _xlsx_table(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken file
        raise BadCatalogue(_("The workbook cannot be read.")) from None
    ws = wb.worksheets[0]
    table = []
    for row in ws.iter_rows(values_only=True):
        table.append([_text(v) for v in row])
        if len(table) > MAX_ROWS + 1:
            break
    wb.close()
    return table


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _column(raw: str) -> str | None:
    name = (raw or "").strip().lstrip("\ufeff")
    key = name.lower().replace(" ", "_")
    if key in COLUMNS or key in OPTIONAL:
        return key
    return HEADER_ALIASES.get(name)


def parse_deadline(value: str, year: int, row: int) -> date | None:
    """A date (2026-06-30), or the words for the mid-term (June) or final (year end) inspection."""
    if not value:
        return None
    if value.lower() in DEADLINE_WORDS:
        month, day = DEADLINE_WORDS[value.lower()]
        return date(year, month, day)
    try:
        moment = date.fromisoformat(value[:10])
    except ValueError:
        raise BadCatalogue(
            _("The deadline %(value)s is not a date such as %(year)s-06-30.", value=value[:40], year=year), row=row
        ) from None
    if moment.year != year:
        raise BadCatalogue(_("The deadline %(value)s is not in %(year)s.", value=value[:40], year=year), row=row)
    return moment


def check_rule(value: str, row: int, keys: set[str]) -> str | None:
    """A checklist row key (its rule and evidence attach), or a rule name with optional JSON parameters."""
    if not value:
        return None
    if value in keys:
        return value
    name, _sep, params = value.partition(" ")
    if name not in cl.RULES:
        raise BadCatalogue(
            _("Unknown rule %(rule)s: give a checklist row (such as 1.1) or a rule name.", rule=value[:60]), row=row
        )
    if params.strip():
        try:
            if not isinstance(json.loads(params), dict):
                raise ValueError
        except ValueError:
            raise BadCatalogue(_("The rule's parameters are not a JSON object."), row=row) from None
    return value[:200]


def validate(lines: list[Line], year: int, units: dict[str, ResponsibleUnit], create_units: bool) -> list[dict]:
    """Check every row; returns the standards to write. Raises BadCatalogue at the first bad row."""
    seen: dict[str, int] = {}
    keys = {r.key for r in cl.load_rows()}
    titles: dict[tuple[str, str], str] = {}
    out = []
    for line in lines:
        v = line.values
        for name in REQUIRED:
            if not v.get(name):
                raise BadCatalogue(_("The column %(col)s is empty.", col=name), row=line.row)
        for name in ("task_no", "indicator_no", "standard_no"):
            if not NUMBER.match(v[name]):
                raise BadCatalogue(
                    _("%(col)s must be a short number such as 1.2 (got %(value)s).", col=name, value=v[name][:30]),
                    row=line.row,
                )
        number = v["standard_no"]
        if number in seen:
            raise BadCatalogue(
                _("Standard %(n)s appears twice (first in row %(row)s).", n=number, row=seen[number]), row=line.row
            )
        seen[number] = line.row
        for level, title in (("task", v["task"]), ("indicator", v["indicator"])):
            key = (level, v[f"{level}_no"])
            if titles.setdefault(key, title) != title:
                raise BadCatalogue(_("%(level)s %(n)s has two different titles.", level=level, n=key[1]), row=line.row)
        for name, limit in (("task", 200), ("indicator", 200), ("standard", 1000), ("evidence", 1000)):
            if len(v.get(name, "")) > limit:
                raise BadCatalogue(_("%(col)s is longer than %(n)s characters.", col=name, n=limit), row=line.row)
        names = [n.strip() for n in UNIT_SEPARATORS.split(v["responsible"]) if n.strip()]
        for name in names:
            if name not in units:
                if not create_units:
                    raise BadCatalogue(
                        _("Unknown responsible unit %(name)s (add it in the app first).", name=name[:100]), row=line.row
                    )
                units[name] = ResponsibleUnit(name=name[:100], kind=UnitKind.department)
        out.append(
            {
                "task_no": v["task_no"],
                "task": v["task"],
                "task_en": v.get("task_en") or None,
                "indicator_no": v["indicator_no"],
                "indicator": v["indicator"],
                "indicator_en": v.get("indicator_en") or None,
                "number": number,
                "text": v["standard"],
                "text_en": (v.get("standard_en") or None) and v["standard_en"][:1000],
                "evidence": v.get("evidence", ""),
                "deadline": parse_deadline(v.get("deadline", ""), year, line.row),
                "rule": check_rule(v.get("rule", ""), line.row, keys),
                "units": [units[n] for n in names],
            }
        )
    return out


def import_catalogue(filename: str, data: bytes, *, year: int, actor=None, create_units: bool = False) -> dict:
    """Replace YEAR's catalogue with the file's standards (kept numbers keep their status, history and links).

    Raises BadCatalogue, naming the row and the reason, before anything is written.
    """
    lines = read_rows(filename, data)
    units = {}
    for unit in db.session.execute(select(ResponsibleUnit)).scalars():
        units[unit.name] = unit
        if unit.name_en:
            units.setdefault(unit.name_en, unit)
    rows = validate(lines, year, units, create_units)
    existing = {s.number: s for s in db.session.execute(select(Standard).where(Standard.year == year)).scalars()}
    keep = {r["number"] for r in rows}
    gone = [s.id for n, s in existing.items() if n not in keep]
    if gone:
        db.session.execute(delete(Standard).where(Standard.id.in_(gone)))
    for position, row in enumerate(rows, start=1):
        standard = existing.get(row["number"]) or Standard(year=year, number=row["number"])
        for key, value in row.items():
            setattr(standard, key, value)
        standard.position = position
        db.session.add(standard)
    db.session.flush()
    summary = {
        "year": year,
        "tasks": len({r["task_no"] for r in rows}),
        "indicators": len({r["indicator_no"] for r in rows}),
        "standards": len(rows),
        "removed": len(gone),
    }
    audit.record(actor, "standards.import", ("standards", None), {"file": Path(filename).name[:100], **summary})
    return summary
