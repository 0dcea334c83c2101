"""The three-level table (tasks → indicators → standards with statuses) as a sheet of the acceptance workbook."""

from datetime import datetime

from flask_babel import gettext as _

from core.i18n import localized
from reports.exports import Table
from reports.workbench import standards as ws
from reports.workbench.models import STATUS_LABELS


def text(obj, attr: str, locale: str) -> str:
    value = getattr(obj, f"{attr}_en", None) if locale.startswith("en") else None
    return value or getattr(obj, attr)


def standards_table(year: int, now: datetime, locale: str = "zh_CN") -> Table:
    """One row per standard with its task and indicator, status, responsible units, deadline and evidence."""
    evaluated = ws.evaluate(year, now)
    rows = [
        {
            "task_no": e.standard.task_no,
            "task": text(e.standard, "task", locale),
            "indicator_no": e.standard.indicator_no,
            "indicator": text(e.standard, "indicator", locale),
            "number": e.standard.number,
            "text": text(e.standard, "text", locale),
            "evidence_required": e.standard.evidence,
            "responsible": "、".join(localized(u) for u in e.units),
            "deadline": e.deadline,
            "status": str(STATUS_LABELS[e.status]),
            "source": _("computed from the data") if e.source == "rule" else _("set by the responsible unit"),
            "detail": e.detail,
            "evidence_count": e.evidence_count,
        }
        for e in evaluated
    ]
    figures = ws.pass_figures(evaluated)
    if evaluated:
        rows.append(
            {
                "task": _("Pass rate"),
                "status": round(figures["pass_rate"] or 0, 4),
                "detail": _(
                    "%(met)s of %(n)s applicable standards met; %(req)s needed.",
                    met=figures["met"],
                    n=figures["applicable"],
                    req=figures["required_met"],
                ),
            }
        )
    return Table(
        _("Standards"),
        [
            ("task_no", _("Task No.")),
            ("task", _("Basic task")),
            ("indicator_no", _("Indicator No.")),
            ("indicator", _("Indicator")),
            ("number", _("Standard No.")),
            ("text", _("Acceptance standard")),
            ("evidence_required", _("Evidence required")),
            ("responsible", _("Responsible units")),
            ("deadline", _("Deadline")),
            ("status", _("Status")),
            ("source", _("Source")),
            ("detail", _("Detail")),
            ("evidence_count", _("Evidence")),
        ],
        rows,
    )
