"""The printable catalogue (DOCX, python-docx): the same sections and lines as the public page."""

import io

from docx import Document
from docx.shared import Pt
from flask_babel import gettext as _


def section_titles() -> dict[str, str]:
    return {
        "menu": _("Service menu and providers"),
        "classes": _("Planned classes and regular activities"),
        "brands": _("Culture brands"),
        "hours": _("Opening hours of every venue"),
    }


def change_label(change: str | None) -> str:
    return {
        "added": _("Added after publication"),
        "changed": _("Changed after publication"),
        "removed": _("Withdrawn after publication"),
    }.get(change or "", "")


def docx_bytes(*, title: str, subtitle: str, sections: dict[str, list[dict]], fixed: set[str]) -> bytes:
    """A Word document: a title, then one table per section (venue, item, detail, fixed, change)."""
    doc = Document()
    doc.styles["Normal"].font.size = Pt(10.5)
    doc.add_heading(title, level=0)
    doc.add_paragraph(subtitle)
    for section, heading in section_titles().items():
        rows = sections.get(section) or []
        doc.add_heading(heading, level=1)
        if not rows:
            doc.add_paragraph(_("Nothing in this section."))
            continue
        table = doc.add_table(rows=1, cols=5)
        table.style = "Table Grid"
        for cell, text in zip(
            table.rows[0].cells, (_("Venue"), _("Item"), _("Detail"), _("Fixed (固化)"), _("Change")), strict=True
        ):
            cell.text = text
        for row in rows:
            cells = table.add_row().cells
            values = (
                row["venue"],
                row["title"],
                row["detail"],
                "✓" if row["key"] in fixed else "",
                change_label(row.get("change")),
            )
            for cell, text in zip(cells, values, strict=True):
                cell.text = text
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
