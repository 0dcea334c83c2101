"""The work archive (创建工作档案): records of meetings, trainings, activities, leaders' visits, digital
construction and media coverage, each with its date, unit, description, files and the standards it proves;
searchable, and exported as one ZIP with an index workbook (the layout inspectors receive).
"""

import io
import secrets
import zipfile
from datetime import date, datetime
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select

from core import audit
from core.db import utcnow
from core.errors import Forbidden, Invalid, NotFound
from core.extensions import db
from core.i18n import localized
from reports import checklist as cl
from reports import exports
from reports.workbench import units as wu
from reports.workbench.models import (
    ARCHIVE_LABELS,
    ArchiveCategory,
    ArchiveDocument,
    ArchiveFile,
    ResponsibleUnit,
    Standard,
    document_standards,
)
from reports.workbench.problems import standards_by_number

MAX_FILES = 10
MAX_BYTES = cl.MAX_EVIDENCE_BYTES


def _checked_files(files: list[tuple[str, bytes]]) -> list[tuple[str, str, bytes, str]]:
    """Every upload checked by content and size before any is stored: (name, type, bytes, extension)."""
    if len(files) > MAX_FILES:
        raise cl.BadEvidence(_("At most %(n)s files per record.", n=MAX_FILES))
    out = []
    for filename, data in files:
        if not data:
            raise cl.BadEvidence(_("The file is empty."))
        if len(data) > MAX_BYTES:
            raise cl.BadEvidence(_("The file is too large (at most %(mb)s MB).", mb=MAX_BYTES // (1024 * 1024)))
        content_type, stored, ext = cl.sniff(data, filename)
        out.append((Path(filename).name[:200], content_type, stored, ext))
    return out


def add_document(
    *, year: int, data: dict, files: list[tuple[str, bytes]], actor, now: datetime | None = None
) -> ArchiveDocument:
    """File a record (`data`: category, held_on, unit_id, title, description, standards) with its files.

    Raises Invalid for a missing or wrong field, BadEvidence for a file refused by type or size,
    Forbidden when the actor neither works for the unit nor manages it. Nothing is stored on a refusal.
    """
    now = now or utcnow()
    errors: dict[str, list[str]] = {}
    category = data.get("category") or ""
    if category not in ArchiveCategory.__members__:
        errors["category"] = [_("Choose a category.")]
    held_on = data.get("held_on")
    if not isinstance(held_on, date):
        errors["held_on"] = [_("Give the date such as 2026-05-01.")]
    elif held_on.year != year:
        errors["held_on"] = [_("The date is not in %(year)s.", year=year)]
    title = (data.get("title") or "").strip()
    if not title or len(title) > 200:
        errors["title"] = [_("Give a title of at most %(n)s characters.", n=200)]
    description = (data.get("description") or "").strip()
    if len(description) > 2000:
        errors["description"] = [_("At most %(n)s characters.", n=2000)]
    unit = db.session.get(ResponsibleUnit, data.get("unit_id") or 0)
    if unit is None:
        errors["unit_id"] = [_("Choose the responsible unit.")]
    if errors:
        raise Invalid(fields=errors)
    if not wu.can_work_for(actor, unit):
        raise Forbidden()
    standards = standards_by_number(year, data.get("standards") or [])
    checked = _checked_files(files)
    doc = ArchiveDocument(
        year=year,
        category=ArchiveCategory(category),
        held_on=held_on,
        unit_id=unit.id,
        title=title,
        description=description,
        created_by_id=actor.id,
        created_at=now,
    )
    doc.standards = standards
    db.session.add(doc)
    folder = Path(current_app.config["UPLOAD_DIR"]) / "archive"
    folder.mkdir(parents=True, exist_ok=True)
    for name, content_type, stored, ext in checked:
        stored_name = secrets.token_hex(16) + ext
        (folder / stored_name).write_bytes(stored)
        doc.files.append(
            ArchiveFile(
                filename=name,
                stored_name=stored_name,
                content_type=content_type,
                size=len(stored),
                uploaded_by_id=actor.id,
                uploaded_at=now,
            )
        )
    db.session.flush()
    audit.record(
        actor,
        "archive.add",
        doc,
        {
            "category": category,
            "unit_id": unit.id,
            "standards": [s.number for s in standards],
            "files": [c[0] for c in checked],
        },
        now=now,
    )
    return doc


def file_path(f: ArchiveFile) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "archive" / f.stored_name


def search(
    user, year: int, *, q: str = "", category: str = "", unit_id: int | None = None, standard: str = ""
) -> list[ArchiveDocument]:
    """The records of `year` that `user` sees, matching words in the title or description, a category,
    a unit and a standard number; newest first."""
    if category and category not in ArchiveCategory.__members__:
        raise Invalid(fields={"category": [_("Unknown category.")]})
    stmt = select(ArchiveDocument).where(ArchiveDocument.year == year)
    for word in (q or "").split()[:5]:
        pattern = f"%{word[:50]}%"
        stmt = stmt.where(or_(ArchiveDocument.title.ilike(pattern), ArchiveDocument.description.ilike(pattern)))
    if category:
        stmt = stmt.where(ArchiveDocument.category == category)
    if unit_id:
        stmt = stmt.where(ArchiveDocument.unit_id == unit_id)
    if standard:
        stmt = stmt.where(
            ArchiveDocument.id.in_(
                select(document_standards.c.document_id)
                .join(Standard, Standard.id == document_standards.c.standard_id)
                .where(Standard.year == year, Standard.number == standard.strip()[:20])
            )
        )
    visible = {u.id for u in wu.visible_units(user)}
    docs = db.session.execute(stmt.order_by(ArchiveDocument.held_on.desc(), ArchiveDocument.id.desc())).scalars()
    return [d for d in docs if d.unit_id in visible]


def get_visible_file(file_id: int, user) -> ArchiveFile:
    f = db.session.get(ArchiveFile, file_id)
    if f is None or not wu.sees(user, f.document.unit):
        raise NotFound()
    return f


def _folder(category: ArchiveCategory) -> str:
    order = list(ArchiveCategory).index(category) + 1
    return f"{order:02d}-{ARCHIVE_LABELS[category]}"


def export_zip(docs: list[ArchiveDocument], year: int) -> bytes:
    """One ZIP: a folder per category holding each record's files, and index.xlsx listing every record."""
    out = io.BytesIO()
    rows = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n, doc in enumerate(
            sorted(docs, key=lambda d: (list(ArchiveCategory).index(d.category), d.held_on, d.id)), start=1
        ):
            names = []
            for f in doc.files:
                path = file_path(f)
                if not path.exists():
                    continue
                arc = f"{_folder(doc.category)}/{n:03d}-{doc.held_on.isoformat()}-{f.id}-{_safe(f.filename)}"
                z.write(path, arc)
                names.append(arc)
            rows.append(
                {
                    "n": n,
                    "category": str(ARCHIVE_LABELS[doc.category]),
                    "held_on": doc.held_on,
                    "unit": localized(doc.unit),
                    "title": doc.title,
                    "description": doc.description,
                    "standards": ", ".join(s.number for s in doc.standards),
                    "files": "\n".join(names),
                }
            )
        index = exports.Table(
            _("Archive index"),
            [
                ("n", _("No.")),
                ("category", _("Category")),
                ("held_on", _("Date")),
                ("unit", _("Responsible unit")),
                ("title", _("Title")),
                ("description", _("What the record shows")),
                ("standards", _("Standards proved")),
                ("files", _("Files")),
            ],
            rows,
        )
        z.writestr("index.xlsx", exports.to_xlsx(index))
    return out.getvalue()


def _safe(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)
    return keep[-100:] or "file"
