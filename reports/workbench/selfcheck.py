"""The self-check report (自查报告) as a Word document, written from the data: the network, the standards
table with statuses, the problems and their measures, and the year's figures."""

import io
from datetime import datetime

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.extensions import db
from core.i18n import localized, to_local
from reports import indicators as ind
from reports import queries
from reports.workbench import problems as wp
from reports.workbench import standards as ws
from reports.workbench.models import PROBLEM_STATUS_LABELS, STATUS_LABELS, StandardStatus
from reports.workbench.report_tables import text
from venues.models import KIND_LABELS, Venue, VenueKind

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _table(doc, headers: list[str], rows: list[list]):
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        cell.text = header
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = "" if value is None else str(value)
    return table


def build(user, year: int, now: datetime, locale: str = "zh_CN") -> bytes:
    """The document for `year` as DOCX bytes (problems limited to the ones `user` sees)."""
    evaluated = ws.evaluate(year, now)
    figures = ws.pass_figures(evaluated)
    doc = Document()
    style = doc.styles["Normal"]
    style.font.size = Pt(10.5)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")  # Chinese text in a CJK face
    city = current_app.config.get("NETWORK_NAME") or ""
    doc.add_heading(_("%(city)s demonstration zone: self-check report %(year)s", city=city, year=year), 0)
    doc.add_paragraph(_("Produced on %(date)s from the data of the platform.", date=to_local(now).date().isoformat()))

    doc.add_heading(_("1. The network"), 1)
    kinds = dict(
        db.session.execute(select(Venue.kind, func.count()).where(Venue.is_active.is_(True)).group_by(Venue.kind)).all()
    )
    _table(doc, [_("Venue kind"), _("Venues")], [[str(KIND_LABELS[k]), kinds.get(k, 0)] for k in VenueKind])

    doc.add_heading(_("2. The acceptance standards"), 1)
    c = figures["counts"]
    doc.add_paragraph(
        _(
            "%(total)s standards: %(met)s met, %(on_track)s on track to be met, %(at_risk)s needing more "
            "investment, %(na)s not applicable.",
            total=figures["total"],
            met=c["met"],
            on_track=c["on_track"],
            at_risk=c["at_risk"],
            na=c["not_applicable"],
        )
    )
    rate = round((figures["pass_rate"] or 0) * 100, 1)
    doc.add_paragraph(
        _(
            "Pass rate %(rate)s%% (%(req)s%% needed, %(n)s standards); %(more)s more to be met.",
            rate=rate,
            req=round(figures["required_rate"] * 100),
            n=figures["required_met"],
            more=figures["more_needed"],
        )
    )
    rows = [
        [
            e.standard.number,
            text(e.standard, "text", locale),
            "、".join(localized(u) for u in e.units),
            e.deadline.isoformat(),
            str(STATUS_LABELS[e.status]),
        ]
        for e in evaluated
    ]
    _table(doc, [_("Standard No."), _("Acceptance standard"), _("Responsible units"), _("Deadline"), _("Status")], rows)

    doc.add_heading(_("3. Problems and measures"), 1)
    ledger = wp.ledger(user, year)
    if ledger:
        _table(
            doc,
            [_("Problem"), _("Standards"), _("Responsible unit"), _("Measure"), _("Deadline"), _("Status")],
            [
                [
                    p.text,
                    ", ".join(s.number for s in p.standards),
                    localized(p.unit),
                    p.measure,
                    p.due_on.isoformat(),
                    str(PROBLEM_STATUS_LABELS[p.status]),
                ]
                for p in ledger
            ],
        )
    else:
        doc.add_paragraph(_("No problems recorded."))
    at_risk = [e for e in evaluated if e.status == StandardStatus.at_risk]
    if at_risk:
        doc.add_paragraph(
            _("Standards needing more investment: %(list)s.", list=", ".join(e.standard.number for e in at_risk))
        )

    doc.add_heading(_("4. Figures of the year"), 1)
    first, last = queries.year_bounds(year)
    flt = queries.build_filter(ws.NetworkScope(), first=first, last=last, today=to_local(now).date())
    table = ind.indicator_table(flt, year, now)
    _table(
        doc,
        [_("Indicator"), _("Target"), _("Actual")],
        [[str(r["label"]), r["target"] if r["target"] is not None else "", r["actual"]] for r in table],
    )
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
