"""Each standard's status: computed where a rule proves it (and then not editable), otherwise set by its
responsible unit or a manager with a note and evidence; every change kept (who, when, from, to, why).

How a computed result becomes one of the report's three words: met is 已达标; not met while its deadline
(by default the final inspection at year end) is still ahead is 正常推进可达标, unless the figure is a
yearly count whose pace will not reach its target; not met after the deadline is 需加大投入. A manual
standard nobody has assessed yet counts as 需加大投入 until its unit says otherwise.
"""

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from core import audit
from core.db import utcnow
from core.errors import DomainError, Forbidden, Invalid, NotFound
from core.extensions import db
from core.i18n import to_local
from reports import checklist as cl
from reports import indicators as ind
from reports import queries
from reports.models import ChecklistMark, CheckStatus, EvidenceFile
from reports.workbench import units as wu
from reports.workbench.catalogue import FINAL, MIDTERM
from reports.workbench.models import (
    ArchiveDocument,
    Problem,
    ProblemStatus,
    Standard,
    StandardChange,
    StandardStatus,
    StatusSnapshot,
    document_standards,
    problem_standards,
)
from venues.models import Venue

REQUIRED_RATE = 0.95
COUNT_RULES = {"indicator_target", "indicator_min"}


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status = 409


class EvidenceRequired(DomainError):
    code = "evidence_required"
    status = 409


class NetworkScope:
    """Standards are the city's: rules are evaluated over the whole network, whoever looks."""

    id = None
    is_authenticated = True

    def scope_paths(self, roles=None) -> list[str]:
        return ["/"]

    def reaches(self, venue, roles=None) -> bool:
        return venue is not None


@dataclass
class Evaluated:
    standard: Standard
    status: StandardStatus
    source: str  # "rule" or "manual"
    detail: str
    evidence_count: int
    units: list = field(default_factory=list)

    @property
    def deadline(self) -> date:
        return self.standard.deadline or date(self.standard.year, *FINAL)


def catalogue(year: int) -> list[Standard]:
    return list(
        db.session.execute(
            select(Standard).where(Standard.year == year).order_by(Standard.position, Standard.id)
        ).scalars()
    )


def get_standard(year: int, number: str) -> Standard:
    standard = db.session.execute(
        select(Standard).where(Standard.year == year, Standard.number == number[:20])
    ).scalar_one_or_none()
    if standard is None:
        raise NotFound(_("No standard %(n)s in %(year)s.", n=number[:20], year=year))
    return standard


def checklist_rows() -> dict:
    return {r.key: r for r in cl.load_rows()}


def rule_of(standard: Standard, rows: dict | None = None) -> tuple[str, dict, str | None] | None:
    """(rule name, parameters, checklist row key) of a computed standard, or None for a manual one."""
    if not standard.rule:
        return None
    rows = rows if rows is not None else checklist_rows()
    if standard.rule in rows:
        row = rows[standard.rule]
        return (row.rule, row.params, row.key) if row.rule and row.rule in cl.RULES else None
    name, _sep, params = standard.rule.partition(" ")
    if name not in cl.RULES:
        return None
    return name, (json.loads(params) if params.strip() else {}), None


def checklist_key(standard: Standard, rows: dict | None = None) -> str | None:
    """The checklist row this standard took over (its evidence files count for it)."""
    rows = rows if rows is not None else checklist_rows()
    return standard.rule if standard.rule in rows else None


def is_computed(standard: Standard) -> bool:
    return rule_of(standard) is not None


def evaluate(year: int, now: datetime | None = None, standards: list[Standard] | None = None) -> list[Evaluated]:
    """Every standard of `year` with its status, where it comes from, and its evidence count."""
    now = now or utcnow()
    standards = catalogue(year) if standards is None else standards
    if not standards:
        return []
    first, last = queries.year_bounds(year)
    flt = queries.build_filter(NetworkScope(), first=first, last=last, today=to_local(now).date())
    ctx = cl.RuleContext(flt=flt, year=year, now=now)
    rows = checklist_rows()
    evidence = _evidence_counts(year, standards, rows)
    today = to_local(now).date()
    out = []
    for s in standards:
        rule = rule_of(s, rows)
        if rule is not None:
            name, params, _key = rule
            checked, detail = cl.RULES[name](ctx, params)
            status, source = _progress(checked, name, params, ctx, s, today), "rule"
        else:
            status = s.status or StandardStatus.at_risk
            detail, source = (s.note if s.status else _("Not assessed yet.")), "manual"
        out.append(Evaluated(s, status, source, detail, evidence.get(s.id, 0), list(s.units)))
    return out


def _progress(checked: CheckStatus, name: str, params: dict, ctx, standard: Standard, today: date) -> StandardStatus:
    if checked == CheckStatus.met:
        return StandardStatus.met
    if checked == CheckStatus.not_applicable:
        return StandardStatus.not_applicable
    deadline = standard.deadline or date(standard.year, *FINAL)
    if today > deadline:
        return StandardStatus.at_risk
    if name in COUNT_RULES and not _on_pace(name, params, ctx, today):
        return StandardStatus.at_risk
    return StandardStatus.on_track


def _on_pace(name: str, params: dict, ctx, today: date) -> bool:
    """Whether a yearly count, at this year's pace, reaches its target by year end."""
    key = params.get("indicator")
    if key not in ind.INDICATOR_KEYS:
        return True
    if name == "indicator_target":
        target = ind.targets_for(ind.target_venue(ctx.flt), ctx.year).get(key, params.get("minimum", 1))
    else:
        target = params.get("minimum", 1)
    start, end = date(ctx.year, 1, 1), date(ctx.year, 12, 31)
    elapsed = max(1, (min(today, end) - start).days + 1)
    return ctx.value(key) * ((end - start).days + 1) / elapsed >= target


def _evidence_counts(year: int, standards: list[Standard], rows: dict | None = None) -> dict[int, int]:
    """Archive documents linked to each standard, plus the files of the checklist row it took over (at the hub)."""
    counts = Counter(
        dict(
            db.session.execute(
                select(document_standards.c.standard_id, func.count())
                .join(ArchiveDocument, ArchiveDocument.id == document_standards.c.document_id)
                .where(ArchiveDocument.year == year)
                .group_by(document_standards.c.standard_id)
            ).all()
        )
    )
    rows = rows if rows is not None else checklist_rows()
    keys = {checklist_key(s, rows): s.id for s in standards if checklist_key(s, rows)}
    if keys:
        rows = db.session.execute(
            select(ChecklistMark.row_key, func.count(EvidenceFile.id))
            .join(EvidenceFile, EvidenceFile.mark_id == ChecklistMark.id)
            .join(Venue, Venue.id == ChecklistMark.venue_id)
            .where(ChecklistMark.year == year, Venue.parent_id.is_(None), ChecklistMark.row_key.in_(list(keys)))
            .group_by(ChecklistMark.row_key)
        ).all()
        for key, n in rows:
            counts[keys[key]] += n
    return dict(counts)


def counts(evaluated: list[Evaluated]) -> dict[str, int]:
    c = Counter(e.status.value for e in evaluated)
    return {s.value: c.get(s.value, 0) for s in StandardStatus}


def pass_figures(evaluated: list[Evaluated], required: float = REQUIRED_RATE) -> dict:
    """Met over applicable standards, the rate needed, and how many more must be met to reach it."""
    c = counts(evaluated)
    applicable = len(evaluated) - c["not_applicable"]
    rate = c["met"] / applicable if applicable else None
    needed = math.ceil(required * applicable - 1e-9)
    return {
        "counts": c,
        "total": len(evaluated),
        "applicable": applicable,
        "met": c["met"],
        "pass_rate": rate,
        "required_rate": required,
        "required_met": needed,
        "more_needed": max(0, needed - c["met"]),
        "passes": rate is not None and rate >= required,
    }


def can_set(user, standard: Standard) -> bool:
    """The standard's responsible units (their members or the managers over them) may set its status."""
    return any(wu.can_work_for(user, unit) for unit in standard.units) or wu.has_city_scope(user, wu.MANAGE_ROLES)


def set_status(standard: Standard, *, status: str, note: str, actor, now: datetime | None = None) -> StandardChange:
    """Set a manual standard's status with a note; met needs evidence (an archive record or a file).

    Raises InvalidTransition for a computed standard, Forbidden for someone who does not answer for it,
    Invalid for an unknown status or a missing note, EvidenceRequired for met without evidence.
    """
    if is_computed(standard):
        raise InvalidTransition(
            _("Standard %(n)s is computed from the data and cannot be set by hand.", n=standard.number)
        )
    if not can_set(actor, standard):
        raise Forbidden(_("Only its responsible units and managers can set this standard."))
    errors = {}
    if status not in StandardStatus.__members__:
        errors["status"] = [_("Must be one of: %(values)s.", values=", ".join(StandardStatus))]
    note = (note or "").strip()
    if not note:
        errors["note"] = [_("Say why (a note is kept with the change).")]
    elif len(note) > 1000:
        errors["note"] = [_("At most %(n)s characters.", n=1000)]
    if errors:
        raise Invalid(fields=errors)
    locked = db.session.execute(
        select(Standard).where(Standard.id == standard.id).with_for_update(of=Standard)
    ).scalar_one()
    if status == StandardStatus.met and not _evidence_counts(locked.year, [locked]).get(locked.id):
        raise EvidenceRequired(_("Attach evidence first: link an archive record to standard %(n)s.", n=locked.number))
    now = now or utcnow()
    old = locked.status.value if locked.status else None
    locked.status, locked.note, locked.set_by_id, locked.set_at = StandardStatus(status), note, actor.id, now
    change = StandardChange(
        standard_id=locked.id, old_status=old, new_status=status, note=note, actor_id=actor.id, at=now
    )
    db.session.add(change)
    db.session.flush()
    audit.record(
        actor,
        "standard.status",
        locked,
        {"number": locked.number, "year": locked.year, "old": old, "new": status},
        now=now,
    )
    return change


def history(standards: list[Standard] | None = None, *, year: int | None = None, limit: int = 200):
    stmt = select(StandardChange).join(Standard).order_by(StandardChange.at.desc(), StandardChange.id.desc())
    if standards is not None:
        stmt = stmt.where(StandardChange.standard_id.in_([s.id for s in standards]))
    if year is not None:
        stmt = stmt.where(Standard.year == year)
    return list(db.session.execute(stmt.limit(limit)).scalars())


def tree(evaluated: list[Evaluated]) -> list[dict]:
    """Tasks → indicators → standards, in the file's order."""
    tasks: dict[str, dict] = {}
    for e in evaluated:
        s = e.standard
        task = tasks.setdefault(
            s.task_no, {"number": s.task_no, "title": s.task, "title_en": s.task_en, "indicators": {}}
        )
        indicator = task["indicators"].setdefault(
            s.indicator_no,
            {"number": s.indicator_no, "title": s.indicator, "title_en": s.indicator_en, "standards": []},
        )
        indicator["standards"].append(e)
    return [{**t, "indicators": list(t["indicators"].values())} for t in tasks.values()]


def due_before(evaluated: list[Evaluated], year: int) -> dict[str, list[Evaluated]]:
    """Standards not yet met that are due by the mid-term inspection (June) and by the final one (year end)."""
    mid, final = date(year, *MIDTERM), date(year, *FINAL)
    open_ = [e for e in evaluated if e.status in (StandardStatus.on_track, StandardStatus.at_risk)]
    return {
        "mid_term": [e for e in open_ if e.deadline <= mid],
        "final": [e for e in open_ if mid < e.deadline <= final],
    }


def open_problem_counts(year: int) -> dict[int, int]:
    """Open problems blocking each standard."""
    return dict(
        db.session.execute(
            select(problem_standards.c.standard_id, func.count())
            .join(Problem, Problem.id == problem_standards.c.problem_id)
            .where(Problem.year == year, Problem.status != ProblemStatus.resolved)
            .group_by(problem_standards.c.standard_id)
        ).all()
    )


def snapshot(year: int, now: datetime | None = None) -> StatusSnapshot | None:
    """Keep today's counts (one row per local day, rewritten by later runs of the same day)."""
    now = now or utcnow()
    day = to_local(now).date()
    if day.year != year:
        return None
    evaluated = evaluate(year, now)
    if not evaluated:
        return None
    c = counts(evaluated)
    row = db.session.execute(
        select(StatusSnapshot).where(StatusSnapshot.year == year, StatusSnapshot.day == day).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        row = StatusSnapshot(year=year, day=day)
        db.session.add(row)
    row.met, row.on_track, row.at_risk, row.not_applicable = (
        c["met"],
        c["on_track"],
        c["at_risk"],
        c["not_applicable"],
    )
    db.session.flush()
    return row


def trend(year: int) -> list[StatusSnapshot]:
    return list(
        db.session.execute(
            select(StatusSnapshot).where(StatusSnapshot.year == year).order_by(StatusSnapshot.day)
        ).scalars()
    )
