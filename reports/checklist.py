"""The live acceptance checklist: rows from an editable file, statuses computed by rules where a rule
exists, else set by a manager with evidence files; the pass rate over applicable rows; its history.
"""

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core import audit
from core.db import utcnow
from core.errors import DomainError, Invalid, NotFound
from core.extensions import db
from reports import indicators as ind
from reports.models import ChecklistChange, ChecklistMark, CheckStatus, EvidenceFile
from reports.queries import ReportFilter
from venues.models import AREA_STANDARD_M2, HOURS_NORM, Venue, VenueKind

DEFAULT_FILE = Path(__file__).parent / "data" / "checklist.json"
MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
DOCUMENT_TYPES = {
    "application/pdf": (b"%PDF-",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
}
EXTENSIONS = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}


class BadEvidence(DomainError):
    code = "bad_upload"
    status = 422
    message = _l("This file cannot be attached.")


@dataclass
class Row:
    key: str
    number: str
    indicator: str
    indicator_en: str
    explanation: str
    explanation_en: str
    evidence: str
    evidence_en: str
    rule: str | None = None
    params: dict = field(default_factory=dict)

    def text(self, name: str, locale: str) -> str:
        en = getattr(self, f"{name}_en")
        return en if locale.startswith("en") and en else getattr(self, name)


def load_rows(path: str | Path | None = None) -> list[Row]:
    """The checklist rows of the city's file (config REPORTS_CHECKLIST_FILE, else the Panjin default)."""
    path = Path(path or current_app.config.get("REPORTS_CHECKLIST_FILE") or DEFAULT_FILE)
    data = json.loads(path.read_text(encoding="utf-8"))
    fields = Row.__dataclass_fields__
    return [Row(**{k: v for k, v in row.items() if k in fields}) for row in data["rows"]]


def required_rate(path: str | Path | None = None) -> float:
    path = Path(path or current_app.config.get("REPORTS_CHECKLIST_FILE") or DEFAULT_FILE)
    return float(json.loads(path.read_text(encoding="utf-8")).get("pass_rate_required", 0.95))


# --- rules ------------------------------------------------------------------------------------------


@dataclass
class RuleContext:
    flt: ReportFilter
    year: int
    now: datetime
    cache: dict = field(default_factory=dict)

    def value(self, key: str) -> int:
        if key not in self.cache:
            self.cache[key] = ind.actual(self.flt, key, self.now)
        return self.cache[key]

    def venues(self, kind: VenueKind) -> list[Venue]:
        stmt = select(Venue).where(Venue.kind == kind, Venue.is_active.is_(True), *ind.venue_clause(self.flt))
        return list(db.session.execute(stmt).scalars())


Result = tuple[CheckStatus, str]
RULES: dict[str, Callable[[RuleContext, dict], Result]] = {}


def rule(name: str):
    def register(fn):
        RULES[name] = fn
        return fn

    return register


def _hours_rule(kind: VenueKind) -> Callable[[RuleContext, dict], Result]:
    def check(ctx: RuleContext, params: dict) -> Result:
        venues = ctx.venues(kind)
        if not venues:
            return CheckStatus.not_applicable, _("No venue of this kind in scope.")
        below = [v for v in venues if v.weekly_hours < HOURS_NORM[kind]]
        detail = _(
            "%(ok)s of %(n)s open at least %(h)s hours a week.",
            ok=len(venues) - len(below),
            n=len(venues),
            h=HOURS_NORM[kind],
        )
        return (CheckStatus.not_met if below else CheckStatus.met), detail

    return check


for _kind, _name in (
    (VenueKind.hub, "hub_hours"),
    (VenueKind.branch, "branch_hours"),
    (VenueKind.station, "station_hours"),
    (VenueKind.community, "community_hours"),
):
    RULES[_name] = _hours_rule(_kind)


@rule("community_area")
def _community_area(ctx: RuleContext, params: dict) -> Result:
    venues = ctx.venues(VenueKind.community)
    if not venues:
        return CheckStatus.not_applicable, _("No community centre in scope.")
    ok = sum(1 for v in venues if (v.floor_area or 0) >= AREA_STANDARD_M2)
    share = ok / len(venues)
    detail = _("%(ok)s of %(n)s community centres have at least %(m)s m².", ok=ok, n=len(venues), m=AREA_STANDARD_M2)
    return (CheckStatus.met if share >= params.get("min_share", 1.0) else CheckStatus.not_met), detail


@rule("indicator_target")
def _indicator_target(ctx: RuleContext, params: dict) -> Result:
    """Met when the indicator reaches the venue's target for the year (or the file's minimum)."""
    key = params["indicator"]
    target = ind.targets_for(ind.target_venue(ctx.flt), ctx.year).get(key, params.get("minimum", 1))
    value = ctx.value(key)
    detail = _("%(value)s of a target of %(target)s.", value=value, target=target)
    return (CheckStatus.met if value >= target else CheckStatus.not_met), detail


@rule("indicator_min")
def _indicator_min(ctx: RuleContext, params: dict) -> Result:
    value = ctx.value(params["indicator"])
    minimum = params.get("minimum", 1)
    detail = _("%(value)s in the year (at least %(min)s needed).", value=value, min=minimum)
    return (CheckStatus.met if value >= minimum else CheckStatus.not_met), detail


@rule("coverage")
def _coverage(ctx: RuleContext, params: dict) -> Result:
    gaps = ind.coverage(ctx.flt, ctx.now)
    if not ctx.venues(VenueKind.community) and not ctx.venues(VenueKind.station):
        return CheckStatus.not_applicable, _("No service point in scope.")
    detail = _("%(n)s service points below their norm.", n=len(gaps))
    return (CheckStatus.not_met if gaps else CheckStatus.met), detail


@rule("network_tree")
def _network_tree(ctx: RuleContext, params: dict) -> Result:
    counts = dict(
        db.session.execute(select(Venue.kind, func.count()).where(Venue.is_active.is_(True)).group_by(Venue.kind)).all()
    )
    ok = all(counts.get(k, 0) for k in (VenueKind.hub, VenueKind.branch, VenueKind.station))
    detail = _(
        "%(h)s hub, %(b)s branches, %(s)s stations, %(c)s community centres.",
        h=counts.get(VenueKind.hub, 0),
        b=counts.get(VenueKind.branch, 0),
        s=counts.get(VenueKind.station, 0),
        c=counts.get(VenueKind.community, 0),
    )
    return (CheckStatus.met if ok else CheckStatus.not_met), detail


@rule("one_card")
def _one_card(ctx: RuleContext, params: dict) -> Result:
    from accounts.models import User

    n = db.session.execute(select(func.count(User.id)).where(User.card_number.isnot(None))).scalar_one()
    return (CheckStatus.met if n else CheckStatus.not_met), _("%(n)s residents hold a network card.", n=n)


@rule("online_booking")
def _online_booking(ctx: RuleContext, params: dict) -> Result:
    n = ctx.value("bookings")
    return (CheckStatus.met if n else CheckStatus.not_met), _("%(n)s bookings made online this year.", n=n)


@rule("menu_published")
def _menu_published(ctx: RuleContext, params: dict) -> Result:
    from orders.models import MenuItem

    n = db.session.execute(
        select(func.count(MenuItem.id)).where(MenuItem.published_at.isnot(None), MenuItem.withdrawn_at.is_(None))
    ).scalar_one()
    return (CheckStatus.met if n else CheckStatus.not_met), _("%(n)s services on the menu.", n=n)


@rule("orders_delivered")
def _orders_delivered(ctx: RuleContext, params: dict) -> Result:
    figures = ind.order_figures(ind.order_paths(ctx.flt), ctx.year)
    detail = _("%(o)s ordered, %(d)s delivered.", o=figures["ordered"], d=figures["delivered"])
    return (CheckStatus.met if figures["delivered"] else CheckStatus.not_met), detail


@rule("room_use")
def _room_use(ctx: RuleContext, params: dict) -> Result:
    from reports.freshness import room_use, room_use_sentence  # one definition for every page

    use = room_use(ctx.flt, ctx.now)
    if not use["rooms"]:
        return CheckStatus.not_applicable, _("No bookable room in scope.")
    detail = room_use_sentence(use)
    return (CheckStatus.met if use["hours_taken"] else CheckStatus.not_met), detail


@rule("attendance_recorded")
def _attendance_recorded(ctx: RuleContext, params: dict) -> Result:
    n = ctx.value("sessions_held")
    return (CheckStatus.met if n else CheckStatus.not_met), _("%(n)s sessions recorded.", n=n)


@rule("no_show_rate")
def _no_show_rate(ctx: RuleContext, params: dict) -> Result:
    from reports.queries import attendance

    totals = attendance(ctx.flt)["totals"]
    if not totals["bookings"]:
        return CheckStatus.not_applicable, _("No bookings yet.")
    rate = totals["no_show_rate"]
    detail = _("No-show rate %(rate)s%%.", rate=round(rate * 100, 1))
    return (CheckStatus.met if rate <= params.get("maximum", 0.15) else CheckStatus.not_met), detail


@rule("digital_resources")
def _digital_resources(ctx: RuleContext, params: dict) -> Result:
    """Met when the hub and every district centre in scope offer published digital resources (数字资源提供能力);
    the detail also gives the year's remote service (线上服务人次)."""
    from reports.queries import attendance
    from resources.models import Resource, ResourceStatus

    centres = ctx.venues(VenueKind.hub) + ctx.venues(VenueKind.branch)
    if not centres:
        return CheckStatus.not_applicable, _("No hub or district centre in scope.")
    offering = set(
        db.session.execute(
            select(Resource.venue_id).where(
                Resource.status == ResourceStatus.ready, Resource.venue_id.in_([v.id for v in centres])
            )
        ).scalars()
    )
    plays = attendance(ctx.flt)["totals"]["online_plays"]
    detail = _(
        "%(ok)s of %(n)s hub and district centres offer digital resources; %(p)s online plays.",
        ok=len(offering),
        n=len(centres),
        p=plays,
    )
    return (CheckStatus.met if len(offering) == len(centres) else CheckStatus.not_met), detail


# --- evaluation -------------------------------------------------------------------------------------


def mark_venue(flt: ReportFilter) -> Venue | None:
    """The venue a checklist belongs to: the chosen venue, the single scope root, or the hub."""
    return ind.target_venue(flt)


def evaluate(flt: ReportFilter, year: int, now: datetime, locale: str = "zh_CN") -> dict:
    """Every row with its status (rule or manager's mark), detail and evidence; the pass rate."""
    venue = mark_venue(flt)
    marks = (
        {
            m.row_key: m
            for m in db.session.execute(
                select(ChecklistMark).where(ChecklistMark.year == year, ChecklistMark.venue_id == venue.id)
            ).scalars()
        }
        if venue
        else {}
    )
    ctx = RuleContext(flt=flt, year=year, now=now)
    rows = []
    for row in load_rows():
        mark = marks.get(row.key)
        if row.rule and row.rule in RULES:
            status, detail = RULES[row.rule](ctx, row.params)
            source = "rule"
        else:
            status = mark.status if mark else CheckStatus.pending
            detail, source = (mark.note if mark else ""), "manual"
        rows.append(
            {
                "key": row.key,
                "number": row.number,
                "indicator": row.text("indicator", locale),
                "explanation": row.text("explanation", locale),
                "evidence_required": row.text("evidence", locale),
                "status": status,
                "detail": detail,
                "source": source,
                "evidence": list(mark.evidence) if mark else [],
            }
        )
    applicable = [r for r in rows if r["status"] != CheckStatus.not_applicable]
    met = sum(1 for r in applicable if r["status"] == CheckStatus.met)
    required = required_rate()
    rate = met / len(applicable) if applicable else None
    return {
        "venue": venue,
        "year": year,
        "rows": rows,
        "met": met,
        "applicable": len(applicable),
        "pass_rate": rate,
        "required": required,
        "passes": rate is not None and rate >= required,
    }


def _row(key: str) -> Row:
    row = next((r for r in load_rows() if r.key == key), None)
    if row is None:
        raise NotFound(_("No such checklist row."))
    return row


def set_mark(
    venue: Venue, *, year: int, row_key: str, status: str, note: str, actor, now: datetime | None = None
) -> ChecklistMark:
    """A manager's status for a row without a rule; recorded in the checklist history and the audit log."""
    row = _row(row_key)
    if row.rule:
        raise Invalid(fields={"status": [_("This row is computed from the data and cannot be set by hand.")]})
    if status not in CheckStatus.__members__:
        raise Invalid(fields={"status": [_("Unknown status.")]})
    now = now or utcnow()
    mark = _mark(venue, year, row_key, actor)
    old = mark.status
    mark.status, mark.note, mark.set_by_id, mark.updated_at = (
        CheckStatus(status),
        (note or "").strip()[:1000],
        actor.id,
        now,
    )
    _history(venue, year, row_key, "status", f"{old or ''} → {status}", actor, now)
    audit.record(actor, "checklist.mark", mark, {"row": row_key, "year": year, "status": status}, now=now)
    db.session.flush()
    return mark


def _mark(venue: Venue, year: int, row_key: str, actor) -> ChecklistMark:
    mark = db.session.execute(
        select(ChecklistMark)
        .where(ChecklistMark.year == year, ChecklistMark.venue_id == venue.id, ChecklistMark.row_key == row_key)
        .with_for_update(of=ChecklistMark)
    ).scalar_one_or_none()
    if mark is None:
        try:
            with db.session.begin_nested():
                mark = ChecklistMark(
                    year=year, venue_id=venue.id, row_key=row_key, status=CheckStatus.pending, set_by_id=actor.id
                )
                db.session.add(mark)
        except IntegrityError:  # created meanwhile by another manager
            return _mark(venue, year, row_key, actor)
    return mark


def _history(venue, year, row_key, action, detail, actor, now) -> None:
    db.session.add(
        ChecklistChange(
            year=year,
            venue_id=venue.id,
            row_key=row_key,
            action=action,
            detail=detail[:1000],
            actor_id=actor.id,
            at=now,
        )
    )


def history(venue: Venue | None, year: int, limit: int = 100) -> list[ChecklistChange]:
    if venue is None:
        return []
    return list(
        db.session.execute(
            select(ChecklistChange)
            .where(ChecklistChange.venue_id == venue.id, ChecklistChange.year == year)
            .order_by(ChecklistChange.at.desc(), ChecklistChange.id.desc())
            .limit(limit)
        ).scalars()
    )


def sniff(data: bytes, filename: str) -> tuple[str, bytes, str]:
    """(content type, bytes to store, extension) of an upload, checked by content, not by its name.

    Images are decoded and re-encoded by Pillow (dropping anything hidden in them); PDF, DOCX and XLSX
    are recognised by their magic bytes. Raises BadEvidence otherwise.
    """
    ext = Path(filename or "").suffix.lower()
    claimed = EXTENSIONS.get(ext)
    if claimed is None:
        raise BadEvidence(_("Attach a PDF, Word (.docx) or Excel (.xlsx) document, or a JPEG or PNG image."))
    if claimed.startswith("image/"):
        from core.images import NotAPicture, decode_picture

        try:
            img = decode_picture(data, formats={"JPEG", "PNG"})
        except NotAPicture:
            raise BadEvidence(_("This image cannot be read.")) from None
        fmt = "PNG" if img.format == "PNG" else "JPEG"
        out = BytesIO()
        (img if fmt == "PNG" else img.convert("RGB")).save(out, format=fmt)
        return (f"image/{fmt.lower()}", out.getvalue(), ".png" if fmt == "PNG" else ".jpg")
    if not any(data.startswith(m) for m in DOCUMENT_TYPES[claimed]):
        raise BadEvidence(_("The file's content does not match its type."))
    if ext in (".docx", ".xlsx"):
        _check_office(data, "word/" if ext == ".docx" else "xl/")
    return claimed, data, ext


def _check_office(data: bytes, folder: str) -> None:
    import zipfile

    try:
        with zipfile.ZipFile(BytesIO(data)) as z:
            names = z.namelist()
    except zipfile.BadZipFile:
        raise BadEvidence(_("The file's content does not match its type.")) from None
    if not any(n.startswith(folder) for n in names):
        raise BadEvidence(_("The file's content does not match its type."))


def add_evidence(
    venue: Venue, *, year: int, row_key: str, filename: str, data: bytes, actor, now: datetime | None = None
) -> EvidenceFile:
    """Attach a checked file to a checklist row (any row: rules need evidence too)."""
    _row(row_key)
    if not data:
        raise BadEvidence(_("The file is empty."))
    if len(data) > MAX_EVIDENCE_BYTES:
        raise BadEvidence(_("The file is too large (at most %(mb)s MB).", mb=MAX_EVIDENCE_BYTES // (1024 * 1024)))
    content_type, stored, ext = sniff(data, filename)
    now = now or utcnow()
    mark = _mark(venue, year, row_key, actor)
    folder = Path(current_app.config["UPLOAD_DIR"]) / "evidence"
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + ext
    (folder / name).write_bytes(stored)
    safe_name = Path(filename).name[:200]
    ev = EvidenceFile(
        mark=mark,
        filename=safe_name,
        stored_name=name,
        content_type=content_type,
        size=len(stored),
        uploaded_by_id=actor.id,
        uploaded_at=now,
    )
    db.session.add(ev)
    _history(venue, year, row_key, "evidence", safe_name, actor, now)
    db.session.flush()
    audit.record(actor, "checklist.evidence", ev, {"row": row_key, "year": year, "file": safe_name}, now=now)
    return ev


def evidence_path(ev: EvidenceFile) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "evidence" / ev.stored_name
