"""What people read instead of codes, on report pages and in every export.

The roll-up, the filters and the API speak in codes (district 211104, venue kind `station`, category
`film`, export kind `print`, filters `year=2026 from=… group_by=month`); a person sees names in the page's
language. Every report page and every sheet goes through these functions, and a test renders the pages and
reads the workbook for raw codes (tests/reports/test_no_codes_and_freshness.py).
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from activities.models import CATEGORY_LABELS, Category
from core.extensions import db
from core.i18n import localized
from reports.workbench.models import ARCHIVE_LABELS, ArchiveCategory
from venues.models import KIND_LABELS, District, Venue, VenueKind

EXPORT_LABELS = {
    "attendance": _l("Attendance table"),
    "sessions": _l("Sessions list"),
    "coverage": _l("Coverage gaps"),
    "workbook": _l("Acceptance workbook"),
    "monthly_workbook": _l("Monthly acceptance workbook (by e-mail)"),
    "print": _l("Printable report"),
    "archive": _l("Evidence archive"),
    "selfcheck": _l("Self-assessment report"),
}
FORMAT_LABELS = {
    "xlsx": _l("Excel workbook"),
    "csv": _l("CSV table"),
    "html": _l("Web page (printed)"),
    "zip": _l("ZIP archive"),
    "docx": _l("Word document"),
}
PARAM_LABELS = {
    "year": _l("Year"),
    "from": _l("From"),
    "to": _l("To"),
    "group_by": _l("Group by"),
    "venue": _l("Venue"),
    "kind": _l("Venue kind"),
    "category": _l("Category"),
    "district": _l("District"),
    "month": _l("Month"),
    "quarter": _l("Quarter"),
    "period": _l("Month"),
    "q": _l("Search"),
    "unit_id": _l("Responsible unit"),
    "standard": _l("Standard"),
    "scheduled": _l("Sent on schedule"),
    "cli": _l("Taken on the command line"),
}
GROUP_LABELS = {
    "venue": _l("Venue"),
    "district": _l("District"),
    "venue_kind": _l("Venue kind"),
    "category": _l("Category"),
    "month": _l("Month"),
    "quarter": _l("Quarter"),
    "year": _l("Year"),
}


def district_names() -> dict[str, str]:
    """Every district's name in the page's language, by code."""
    return {d.code: localized(d) for d in db.session.execute(select(District)).scalars()}


def district_name(code: str | None, names: dict[str, str] | None = None) -> str:
    if not code:
        return ""
    names = names if names is not None else district_names()
    return names.get(code, _("Unknown district"))


def kind_label(kind) -> str:
    try:
        return str(KIND_LABELS[VenueKind(kind)])
    except (ValueError, KeyError):
        return _("Unknown venue kind")


def category_label(category) -> str:
    try:
        return str(CATEGORY_LABELS[Category(category)])
    except (ValueError, KeyError):
        return _("Unknown category")


def export_label(what: str) -> str:
    label = EXPORT_LABELS.get(what)
    return str(label) if label else _("Other export")


def format_label(file_format: str) -> str:
    label = FORMAT_LABELS.get(file_format)
    return str(label) if label else _("Other format")


def group_label(key: str) -> str:
    label = GROUP_LABELS.get(key)
    return str(label) if label else _("Other grouping")


def _venue_name(value) -> str:
    try:
        venue = db.session.get(Venue, int(value))
    except (TypeError, ValueError):
        venue = None
    return localized(venue) if venue else _("Venue no longer listed")


def _param_value(key: str, value, what: str, names: dict[str, str]) -> str:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    match key:
        case "venue":
            return _venue_name(value)
        case "kind":
            return kind_label(value)
        case "district":
            return district_name(value, names)
        case "group_by":
            return "、".join(group_label(k) for k in str(value).split(",") if k) or _("No grouping")
        case "category" if what == "archive":
            try:
                return str(ARCHIVE_LABELS[ArchiveCategory(value)])
            except (ValueError, KeyError):
                return _("Unknown category")
        case "category":
            return category_label(value)
        case "unit_id":
            from reports.workbench.models import ResponsibleUnit

            unit = db.session.get(ResponsibleUnit, int(value)) if str(value).isdigit() else None
            return localized(unit) if unit else _("Unit no longer listed")
    return str(value)


def describe_params(params: dict, what: str = "") -> list[tuple[str, str]]:
    """An export's filters as (label, value) pairs a person can read: 年份 2026 · 分组 月份."""
    names = district_names() if "district" in params else {}
    out = []
    for key, value in params.items():
        if value in (None, "", False) and key != "scheduled":
            continue
        label = PARAM_LABELS.get(key)
        out.append((str(label) if label else _("Other filter"), _param_value(key, value, what, names)))
    return out


def with_names(rows: list[dict]) -> list[dict]:
    """Rows of the roll-up or the coverage list with `district`, `venue_kind`/`kind` and `category` replaced
    by their names (copies; the API keeps the codes)."""
    names = district_names()
    out = []
    for row in rows:
        row = dict(row)
        if row.get("district"):
            row["district"] = district_name(row["district"], names)
        for key in ("kind", "venue_kind"):
            if row.get(key):
                row[key] = kind_label(row[key])
        if row.get("category"):
            row["category"] = category_label(row["category"])
        out.append(row)
    return out
