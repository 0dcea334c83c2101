"""The lines of a year's work catalogue for a venue's subtree, read live: the service menu with its providers,
the planned classes and regular activities by venue, the brands, and every venue's opening hours; and how
they differ from what was published."""

from dataclasses import asdict, dataclass
from datetime import date, time

from sqlalchemy import func, select

from activities.models import KIND_LABELS, Activity, ActivityKind, ActivityStatus, Session, SessionStatus
from core.extensions import db
from core.i18n import local_datetime
from orders.models import CATEGORY_LABELS as MENU_LABELS
from orders.models import MenuItem
from resources.models import Brand
from venues.models import Venue

SECTIONS = ("menu", "classes", "brands", "hours")
WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")


@dataclass
class Line:
    """One line of the catalogue; `key` ('menu:12') is stable across years and edits."""

    key: str
    section: str
    venue: str
    title: str
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


def root_venue() -> Venue | None:
    """The network's top venue (the hub), the catalogue's default scope."""
    return db.session.execute(select(Venue).where(Venue.parent_id.is_(None)).order_by(Venue.id).limit(1)).scalar()


def _in(venue: Venue):
    return Venue.path.startswith(venue.path)


def menu_lines(scope: Venue) -> list[Line]:
    stmt = (
        select(MenuItem)
        .join(Venue, Venue.id == MenuItem.provider_venue_id)
        .where(MenuItem.published_at.isnot(None), MenuItem.withdrawn_at.is_(None), _in(scope))
        .order_by(Venue.path, MenuItem.title)
    )
    return [
        Line(f"menu:{m.id}", "menu", m.provider.name, m.title, str(MENU_LABELS[m.category]))
        for m in db.session.execute(stmt).unique().scalars()
    ]


def class_lines(scope: Venue, year: int) -> list[Line]:
    """Published courses and activities with sessions planned in the year (local), by venue."""
    start, end = local_datetime(date(year, 1, 1), time.min), local_datetime(date(year + 1, 1, 1), time.min)
    counts = (
        select(Session.activity_id, func.count(Session.id).label("n"), func.min(Session.starts_at).label("first"))
        .where(Session.status == SessionStatus.scheduled, Session.starts_at >= start, Session.starts_at < end)
        .group_by(Session.activity_id)
        .subquery()
    )
    stmt = (
        select(Activity, counts.c.n)
        .join(counts, counts.c.activity_id == Activity.id)
        .join(Venue, Venue.id == Activity.venue_id)
        .where(
            Activity.status.in_((ActivityStatus.published, ActivityStatus.finished)),
            _in(scope),
            Activity.kind.in_((ActivityKind.course, ActivityKind.event)),
        )
        .order_by(Venue.path, Activity.title, Activity.id)
    )
    lines = []
    for activity, n in db.session.execute(stmt).unique():
        if activity.kind == ActivityKind.event and n < 2:
            continue  # a one-off event is not a regular activity
        lines.append(
            Line(
                f"activity:{activity.id}",
                "classes",
                activity.venue.name,
                activity.title,
                f"{KIND_LABELS[activity.kind]} · {n}",
            )
        )
    return lines


def brand_lines(scope: Venue) -> list[Line]:
    stmt = (
        select(Brand)
        .join(Venue, Venue.id == Brand.venue_id)
        .where(Brand.is_active.is_(True), _in(scope))
        .order_by(Venue.path, Brand.name)
    )
    return [
        Line(f"brand:{b.id}", "brands", b.venue.name, b.name, b.summary)
        for b in db.session.execute(stmt).unique().scalars()
    ]


def hours_text(venue: Venue) -> str:
    """The weekly hours as '一 08:00–20:00；二 …' (closed days left out)."""
    parts = []
    for day in range(7):
        spans = [f"{h.opens_at:%H:%M}–{h.closes_at:%H:%M}" for h in venue.hours if h.weekday == day]
        if spans:
            parts.append(f"{WEEKDAYS[day]} {', '.join(spans)}")
    return "；".join(parts)


def hours_lines(scope: Venue) -> list[Line]:
    stmt = select(Venue).where(Venue.is_active.is_(True), _in(scope)).order_by(Venue.path)
    return [
        Line(f"venue:{v.id}", "hours", v.name, v.name, hours_text(v) or "–")
        for v in db.session.execute(stmt).unique().scalars()
    ]


def lines(scope: Venue, year: int) -> list[Line]:
    """Every line of the catalogue, section by section."""
    return [*menu_lines(scope), *class_lines(scope, year), *brand_lines(scope), *hours_lines(scope)]


def compare(live: list[Line], published: list[dict] | None) -> list[dict]:
    """The live lines each with `change` (None, 'added', 'changed') against the published snapshot, followed by
    the published lines gone since ('removed'). Without a publication nothing is marked."""
    rows = []
    before = {p["key"]: p for p in published or []}
    for line in live:
        row = line.as_dict()
        old = before.get(line.key)
        if published is None:
            row["change"] = None
        elif old is None:
            row["change"] = "added"
        else:
            row["change"] = (
                "changed"
                if (old["title"], old["detail"], old["venue"]) != (line.title, line.detail, line.venue)
                else None
            )
            if row["change"]:
                row["was"] = old
        rows.append(row)
    live_keys = {line.key for line in live}
    rows += [{**p, "change": "removed"} for p in published or [] if p["key"] not in live_keys]
    return rows
