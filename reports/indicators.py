"""The acceptance indicators: their actual values over a year and scope, targets and projections,
coverage of service points, venue registry figures and room utilisation."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from activities.models import Activity, ActivityKind, Category, Session, SessionStatus
from core.extensions import db
from core.i18n import local_datetime, to_local
from orders.queries import figures as _order_figures
from reports import rollup
from reports.models import RollupRun, Target
from reports.queries import ReportFilter, Where, cube_rows, totals_rows, venue_clause
from reports.rollup import REPORTED_ACTIVITIES
from venues.models import AREA_STANDARD_M2, HOURS_NORM, OpeningHours, Room, RoomOccupancy, Venue, VenueKind

SERVICE_POINTS = (VenueKind.station, VenueKind.community)
PERFORMING = (Category.music, Category.dance, Category.drama, Category.quyi)
# Sessions a service point should hold in a year (a village: one film a month, 12 a year).
COVERAGE_NORM = {VenueKind.station: 24, VenueKind.community: 12}


@dataclass(frozen=True)
class Indicator:
    key: str
    label: object
    unit: object = _l("sessions")


INDICATORS = [
    Indicator("sessions_held", _l("Sessions held")),
    Indicator("attendances", _l("Attendances"), _l("visits")),
    Indicator("bookings", _l("Bookings"), _l("bookings")),
    Indicator("outreach_sessions", _l("Outreach sessions at stations and villages")),
    Indicator("rural_film", _l("Rural film screenings")),
    Indicator("exhibitions", _l("Exhibitions held"), _l("exhibitions")),
    Indicator("art_activities", _l("Art activities organised")),
    Indicator("training_classes", _l("Training classes"), _l("classes")),
    Indicator("lessons", _l("Lessons given")),
    Indicator("trainees", _l("Trainee attendances"), _l("visits")),
    Indicator("lectures", _l("Public lectures")),
    Indicator("orders_delivered", _l("Ordered services delivered"), _l("orders")),
]
INDICATOR_KEYS = [i.key for i in INDICATORS]
BY_KEY = {i.key: i for i in INDICATORS}
# Indicators summed straight from the roll-up, with the roll-up rows they count (conditions on the columns of
# the daily roll-up and of the stored totals alike: reports.queries.Where).
ROLLUP_INDICATORS = {
    "sessions_held": ("sessions_held", Where(lambda c: ())),
    "attendances": ("attendances", Where(lambda c: ())),
    "bookings": ("bookings", Where(lambda c: ())),
    "outreach_sessions": (
        "sessions_held",
        Where(lambda c: (c.is_outreach.is_(True), c.venue_kind.in_(SERVICE_POINTS))),
    ),
    "rural_film": (
        "sessions_held",
        Where(lambda c: (c.category == Category.film, c.venue_kind == VenueKind.community)),
    ),
    "art_activities": (
        "sessions_held",
        Where(lambda c: (c.activity_kind == ActivityKind.event, c.category.in_(PERFORMING))),
    ),
    "lessons": ("sessions_held", Where(lambda c: (c.activity_kind == ActivityKind.course,))),
    "trainees": ("attendances", Where(lambda c: (c.activity_kind == ActivityKind.course,))),
}
# Indicators of the stored totals beyond those: activities started (their first live session in the period) of
# a kind, and lectures held.
STARTED = {"exhibitions": ActivityKind.exhibition, "training_classes": ActivityKind.course}
LECTURE_WORDS = rollup.LECTURE_WORDS


def _summed(flt: ReportFilter, measure: str, where: Where, *, category: bool = True) -> int:
    rows = cube_rows(flt, where, category=category)
    if measure == "attendances":
        return sum(int(r.checked_in + r.walk_ins) for r in rows)
    return sum(int(getattr(r, measure)) for r in rows)


def rollup_value(flt: ReportFilter, key: str) -> int:
    measure, where = ROLLUP_INDICATORS[key]
    return _summed(flt, measure, where)


def _activities_started(flt: ReportFilter, kind: ActivityKind) -> int:
    """Activities of `kind` whose first live session falls in the period (a class or exhibition counts once),
    as of the roll-up."""
    return _summed(flt, "activities_started", Where(lambda c: (c.activity_kind == kind,)))


def _lectures(flt: ReportFilter, now: datetime) -> int:
    """Lecture sessions of the period held by `now`: the roll-up's count as of its run, moved to `now` by the
    sessions that ended in between (a range of the index on sessions.ends_at; the filter's category has never
    applied to this indicator)."""
    at = db.session.execute(select(RollupRun.ran_at).where(RollupRun.name == rollup.ROLLUP_NAME)).scalar_one_or_none()
    at = at if at is not None and at > rollup.NEVER else None
    stored = _summed(flt, "lectures", Where(lambda c: ()), category=False) if at is not None else 0
    at = at or rollup.NEVER
    if now > at:
        return stored + _lectures_ended(flt, at, now)
    if now < at:
        return stored - _lectures_ended(flt, now, at)
    return stored


def _lectures_ended(flt: ReportFilter, after: datetime, until: datetime) -> int:
    """Lecture sessions of the period that ended in (after, until], counted on the raw sessions."""
    start, end = local_datetime(flt.first, time(0)), local_datetime(flt.last + timedelta(days=1), time(0))
    words = [Activity.title.contains(w) for w in LECTURE_WORDS]
    stmt = (
        select(func.count(Session.id))
        .join(Activity, Activity.id == Session.activity_id)
        .join(Venue, Venue.id == Activity.venue_id)
        .where(
            Session.status == SessionStatus.scheduled,
            Activity.status.in_(REPORTED_ACTIVITIES),
            Activity.kind == ActivityKind.event,
            Session.starts_at >= start,
            Session.starts_at < end,
            Session.ends_at > after,
            Session.ends_at <= until,
            or_(*words),
            *venue_clause(flt),
        )
    )
    return int(db.session.execute(stmt).scalar_one())


def order_figures(paths: list[str], year: int) -> dict:
    """orders.queries.figures, read once per request: the indicator table (`orders_delivered`) and the
    dashboard's orders panel show the same figures."""
    if not has_request_context():
        return _order_figures(paths, year)
    cache = g.setdefault("report_order_figures", {})
    key = (tuple(paths), year)
    if key not in cache:
        cache[key] = _order_figures(paths, year)
    return cache[key]


def order_paths(flt: ReportFilter) -> list[str]:
    return [flt.anchor.path] if flt.anchor is not None else flt.paths


def actual(flt: ReportFilter, key: str, now: datetime) -> int:
    """The actual value of one indicator over the filter."""
    if key in ROLLUP_INDICATORS:
        return rollup_value(flt, key)
    if key in STARTED:
        return _activities_started(flt, STARTED[key])
    if key == "lectures":
        return _lectures(flt, now)
    if key == "orders_delivered":
        return int(order_figures(order_paths(flt), flt.first.year)["delivered"])
    raise KeyError(key)


def target_venue(flt: ReportFilter) -> Venue | None:
    """The venue whose targets apply: the chosen venue, the (widest) scope root, or the hub for the network."""
    if flt.anchor is not None:
        return flt.anchor
    if flt.paths and "/" not in flt.paths:  # several grants: the first one's venue (never one out of scope)
        venue_id = int(sorted(flt.paths, key=len)[0].strip("/").split("/")[-1])
        return db.session.get(Venue, venue_id)
    return db.session.execute(select(Venue).where(Venue.parent_id.is_(None)).order_by(Venue.id)).scalars().first()


def targets_for(venue: Venue | None, year: int) -> dict[str, int]:
    if venue is None:
        return {}
    rows = db.session.execute(
        select(Target.indicator, Target.value).where(Target.venue_id == venue.id, Target.year == year)
    ).all()
    return dict(rows)


def year_fraction(year: int, now: datetime) -> float:
    """How much of `year` has passed at `now` (local), between 0 and 1."""
    today = to_local(now).date()
    if today.year < year:
        return 0.0
    if today.year > year:
        return 1.0
    days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    return ((today - date(year, 1, 1)).days + 1) / days


def indicator_table(flt: ReportFilter, year: int, now: datetime) -> list[dict]:
    """[{indicator, label, target, actual, progress, projection, on_track}] for the year (docs/api.md)."""
    targets = targets_for(target_venue(flt), year)
    fraction = year_fraction(year, now)
    rows = []
    for ind in INDICATORS:
        value = actual(flt, ind.key, now)
        target = targets.get(ind.key)
        projection = round(value / fraction) if fraction > 0 else None
        rows.append(
            {
                "indicator": ind.key,
                "label": str(ind.label),
                "unit": str(ind.unit),
                "target": target,
                "actual": value,
                "progress": round(value / target, 4) if target else None,
                "projection": projection,
                "on_track": None if not target or projection is None else projection >= target,
            }
        )
    return rows


def coverage(flt: ReportFilter, now: datetime) -> list[dict]:
    """Stations and community centres in the filter that held fewer sessions than their norm (none at all
    first), with the norm prorated to the part of the period that has passed."""
    points = (
        db.session.execute(
            select(Venue)
            .where(Venue.kind.in_(SERVICE_POINTS), Venue.is_active.is_(True), *venue_clause(flt))
            .order_by(Venue.path)
        )
        .scalars()
        .all()
    )
    held: dict[int, int] = defaultdict(int)
    for r in totals_rows(flt, ("venue_id",)):
        held[r.venue_id] += int(r.sessions_held)
    share = _period_share(flt, now)
    out = []
    for v in points:
        norm = COVERAGE_NORM[v.kind]
        expected = int(norm * share + 0.5)
        n = int(held.get(v.id) or 0)
        if n < expected or n == 0:
            out.append(
                {
                    "venue_id": v.id,
                    "venue": v.name,
                    "kind": str(v.kind),
                    "district": v.district_code,
                    "sessions_held": n,
                    "norm": norm,
                    "expected": expected,
                    "lat": v.lat,
                    "lon": v.lon,
                    "none": n == 0,
                }
            )
    out.sort(key=lambda r: (not r["none"], r["sessions_held"] - r["expected"], r["venue"]))
    return out


def _period_share(flt: ReportFilter, now: datetime) -> float:
    """The period's length in years, counting only days that have passed."""
    last = min(flt.last, to_local(now).date())
    if last < flt.first:
        return 0.0
    return ((last - flt.first).days + 1) / 365


def points_on_map(flt: ReportFilter, gaps: list[dict]) -> list[dict]:
    """Every service point of the filter with coordinates, flagged when it is a coverage gap."""
    gap_ids = {g["venue_id"] for g in gaps}
    rows = db.session.execute(
        select(Venue.id, Venue.name, Venue.kind, Venue.lat, Venue.lon).where(
            Venue.kind.in_(SERVICE_POINTS),
            Venue.lat.isnot(None),
            Venue.lon.isnot(None),
            Venue.is_active.is_(True),
            *venue_clause(flt),
        )
    ).all()
    return [
        {"id": r.id, "name": r.name, "kind": str(r.kind), "lat": r.lat, "lon": r.lon, "gap": r.id in gap_ids}
        for r in rows
    ]


def registry(flt: ReportFilter) -> list[dict]:
    """Per district: venues by kind meeting their weekly-hours norm, community centres meeting 200 m²."""
    weekly: dict[int, float] = defaultdict(float)
    for venue_id, opens, closes in db.session.execute(
        select(OpeningHours.venue_id, OpeningHours.opens_at, OpeningHours.closes_at)
        .join(Venue, Venue.id == OpeningHours.venue_id)
        .where(*venue_clause(flt))
    ):
        weekly[venue_id] += (datetime.combine(date.min, closes) - datetime.combine(date.min, opens)).seconds / 3600
    venues = (
        db.session.execute(
            select(Venue).where(Venue.is_active.is_(True), *venue_clause(flt)).order_by(Venue.district_code, Venue.path)
        )
        .scalars()
        .all()
    )
    districts: dict[str, dict] = {}
    for v in venues:
        d = districts.setdefault(
            v.district_code,
            {
                "district": v.district_code,
                "district_name": v.district.name,
                "venues": 0,
                "hours_met": 0,
                "communities": 0,
                "area_met": 0,
                "below_hours": [],
            },
        )
        d["venues"] += 1
        h = round(weekly.get(v.id, 0.0), 1)
        if h >= HOURS_NORM[v.kind]:
            d["hours_met"] += 1
        else:
            d["below_hours"].append(
                {"venue_id": v.id, "venue": v.name, "kind": str(v.kind), "hours": h, "norm": HOURS_NORM[v.kind]}
            )
        if v.kind == VenueKind.community:
            d["communities"] += 1
            d["area_met"] += int((v.floor_area or 0) >= AREA_STANDARD_M2)
    return list(districts.values())


def registry_totals(rows: list[dict]) -> dict:
    keys = ("venues", "hours_met", "communities", "area_met")
    return {k: sum(r[k] for r in rows) for k in keys}


def room_utilisation(flt: ReportFilter, now: datetime | None = None) -> dict:
    """Hours rooms were booked (sessions and reservations holding them) and used (sessions held, groups
    checked in) against the hours their venues were open, for bookable rooms in the filter."""
    from rooms.models import ReservationStatus, RoomReservation

    now = now or datetime.now(UTC)
    start, end = local_datetime(flt.first, time(0)), local_datetime(flt.last + timedelta(days=1), time(0))
    rooms = db.session.execute(
        select(Room.id, Room.venue_id)
        .join(Venue, Venue.id == Room.venue_id)
        .where(Room.is_active.is_(True), Room.is_bookable.is_(True), *venue_clause(flt))
    ).all()
    if not rooms:
        return {"rooms": 0, "hours_open": 0.0, "hours_taken": 0.0, "hours_used": 0.0, "utilisation": None}
    room_ids = [r.id for r in rooms]

    def hours(rows) -> float:
        return sum((min(e, end) - max(s, start)).total_seconds() / 3600 for s, e in rows)

    taken = hours(
        db.session.execute(
            select(RoomOccupancy.starts_at, RoomOccupancy.ends_at).where(
                RoomOccupancy.room_id.in_(room_ids),
                RoomOccupancy.is_active.is_(True),
                RoomOccupancy.starts_at < end,
                RoomOccupancy.ends_at > start,
            )
        )
    )
    used = hours(
        db.session.execute(
            select(Session.starts_at, Session.ends_at).where(
                Session.room_id.in_(room_ids),
                Session.status == SessionStatus.scheduled,
                Session.ends_at <= now,
                Session.starts_at < end,
                Session.ends_at > start,
            )
        )
    )
    used += hours(
        db.session.execute(
            select(RoomReservation.starts_at, RoomReservation.ends_at).where(
                RoomReservation.room_id.in_(room_ids),
                RoomReservation.status == ReservationStatus.checked_in,
                RoomReservation.starts_at < end,
                RoomReservation.ends_at > start,
            )
        )
    )
    venues = {
        v.id: v for v in db.session.execute(select(Venue).where(Venue.id.in_({r.venue_id for r in rooms}))).scalars()
    }
    open_hours = sum(_open_hours(venues[r.venue_id], flt.first, flt.last) for r in rooms)
    return {
        "rooms": len(rooms),
        "hours_open": round(open_hours, 1),
        "hours_taken": round(taken, 1),
        "hours_used": round(used, 1),
        "utilisation": round(used / open_hours, 4) if open_hours else None,
    }


def _open_hours(venue: Venue, first: date, last: date) -> float:
    per_weekday = defaultdict(float)
    for h in venue.hours:
        per_weekday[h.weekday] += h.duration_hours
    total, day = 0.0, first
    while day <= last:
        if not venue.closure_on(day):
            total += per_weekday[day.weekday()]
        day += timedelta(days=1)
    return total
