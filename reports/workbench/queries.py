"""What the workbench pages read: the dashboard's figures, the standards tree, a standard with its history,
the units, the ledger; each cut to what the person sees, their own units' work first."""

from collections import Counter
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from core.extensions import db
from core.i18n import to_local
from reports import svg
from reports.workbench import problems as wp
from reports.workbench import standards as ws
from reports.workbench import units as wu
from reports.workbench.models import StandardStatus, StatusSnapshot
from venues.models import Venue, VenueKind


def pick(zh: str, en: str | None) -> str:
    """A stored title in the page's language (English where the file gave one)."""
    from flask_babel import get_locale

    return en if en and str(get_locale() or "").startswith("en") else zh


def _counts(items) -> dict:
    c = Counter(e.status.value for e in items)
    return {s.value: c.get(s.value, 0) for s in StandardStatus}


def _rate(c: dict) -> float | None:
    applicable = sum(c.values()) - c["not_applicable"]
    return c["met"] / applicable if applicable else None


def by_task(evaluated) -> list[dict]:
    rows = []
    for task in ws.tree(evaluated):
        items = [e for i in task["indicators"] for e in i["standards"]]
        c = _counts(items)
        rows.append(
            {
                "number": task["number"],
                "label": pick(task["title"], task["title_en"]),
                "indicators": len(task["indicators"]),
                "total": len(items),
                "counts": c,
                "rate": _rate(c),
            }
        )
    return rows


def by_unit(evaluated, units, open_problems: Counter) -> list[dict]:
    rows = []
    for unit in units:
        items = [e for e in evaluated if any(u.id == unit.id for u in e.units)]
        c = _counts(items)
        rows.append(
            {
                "unit": unit,
                "total": len(items),
                "counts": c,
                "rate": _rate(c),
                "open_problems": open_problems.get(unit.id, 0),
            }
        )
    return rows


def trend(year: int, evaluated, now: datetime) -> tuple[list[dict], object]:
    """The last snapshot of each month since January (today's live counts for the current month)."""
    months: dict[str, StatusSnapshot | dict] = {}
    for snap in ws.trend(year):
        months[f"{snap.day:%Y-%m}"] = {
            "met": snap.met,
            "on_track": snap.on_track,
            "at_risk": snap.at_risk,
            "not_applicable": snap.not_applicable,
        }
    today = to_local(now).date()
    if today.year == year and evaluated:
        months[f"{today:%Y-%m}"] = _counts(evaluated)
    rows = [{"month": m, **c} for m, c in sorted(months.items())]
    chart = svg.bars([(r["month"], r["met"]) for r in rows], title=_("Standards met, by month"))
    return rows, chart


def dashboard(user, year: int, now: datetime) -> dict:
    """Everything the leading group asks on one page, with the person's own units first."""
    evaluated = ws.evaluate(year, now)
    figures = ws.pass_figures(evaluated)
    units = wu.visible_units(user)
    mine = wu.memberships(user)
    ledger = wp.ledger(user, year, open_only=True)
    open_by_unit = Counter(p.unit_id for p in ledger)
    my_ids = {u.id for u in mine}
    my_standards = sorted(
        [
            e
            for e in evaluated
            if my_ids & {u.id for u in e.units} and e.status in (StandardStatus.on_track, StandardStatus.at_risk)
        ],
        key=lambda e: (e.deadline, e.standard.position),
    )
    trend_rows, trend_chart = trend(year, evaluated, now)
    return {
        "figures": figures,
        "by_task": by_task(evaluated),
        "by_unit": by_unit(evaluated, units, open_by_unit),
        "due": ws.due_before(evaluated, year),
        "trend": trend_rows,
        "trend_chart": trend_chart,
        "mine": mine,
        "my_standards": my_standards,
        "my_problems": [p for p in ledger if p.unit_id in my_ids or p.owner_id == user.id],
        "today": to_local(now).date(),
        "has_catalogue": bool(evaluated),
        "midterm": date(year, 6, 30),
        "final": date(year, 12, 31),
    }


def standards_page(user, year: int, now: datetime, unit_id: int | None = None) -> dict:
    evaluated = ws.evaluate(year, now)
    if unit_id:
        evaluated = [e for e in evaluated if any(u.id == unit_id for u in e.units)]
    settable = {e.standard.id for e in evaluated if e.source == "manual" and ws.can_set(user, e.standard)}
    return {
        "tree": ws.tree(evaluated),
        "figures": ws.pass_figures(evaluated),
        "settable": settable,
        "units": wu.visible_units(user),
        "unit_id": unit_id,
        "problems_by_standard": ws.open_problem_counts(year),
    }


def standard_page(user, year: int, number: str, now: datetime) -> dict:
    standard = ws.get_standard(year, number)
    evaluated = ws.evaluate(year, now, [standard])[0]
    from reports.workbench import archive

    docs = archive.search(user, year, standard=standard.number)
    problems = [p for p in wp.ledger(user, year) if any(s.id == standard.id for s in p.standards)]
    return {
        "e": evaluated,
        "standard": standard,
        "history": ws.history([standard]),
        "docs": docs,
        "problems": problems,
        "can_set": evaluated.source == "manual" and ws.can_set(user, standard),
    }


def units_page(user) -> dict:
    units = wu.visible_units(user)
    venues = []
    if user.has_role(*wu.MANAGE_ROLES):
        stmt = (
            select(Venue)
            .where(Venue.kind.in_((VenueKind.branch, VenueKind.station)), Venue.is_active.is_(True))
            .order_by(Venue.path)
        )
        venues = [v for v in db.session.execute(stmt).scalars() if wu.can_manage(user, None, v)]
    return {
        "units": units,
        "manageable": {u.id for u in units if wu.can_manage(user, u)},
        "can_create": bool(venues) or wu.has_city_scope(user, wu.MANAGE_ROLES),
        "venues": venues,
    }


def problems_page(user, year: int) -> dict:
    units = wu.visible_units(user)
    return {
        "ledger": wp.ledger(user, year),
        "units": units,
        "writable": {u.id for u in units if wu.can_work_for(user, u)},
    }
