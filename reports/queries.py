"""Report reads: the attendance table over the daily roll-up, the lists behind its numbers, and the
filters every report shares (period, grouping, venue within scope, venue kind, category).
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from accounts.models import REPORT_ROLES
from activities.models import Activity, Category, Session
from bookings.models import Booking
from checkin.models import CheckIn, WalkIn
from core.errors import Forbidden, Invalid, NotFound
from core.extensions import db
from core.i18n import to_local
from reports.models import ActivityDay, ActivityWindow, AttendanceTotal, DailyAttendance
from reports.params import parse_year
from reports.rollup import COUNTED_BOOKINGS, DAY_MEASURES, live_sessions, utc_bounds
from venues.models import Venue, VenueKind
from venues.queries import subtree_clause

GROUP_KEYS = ("venue", "district", "venue_kind", "category", "month", "quarter", "year")
# online_plays: the remote service (线上服务人次) of the digital library, beside the on-site figures.
COUNTS = ("sessions_held", "attendances", "bookings", "no_shows", "walk_ins", "checked_in", "online_plays")
MAX_DAYS = 366 * 5


@dataclass
class ReportFilter:
    """What a report covers: local days first..last, within the user's scope and an optional venue."""

    first: date
    last: date
    paths: list[str]
    anchor: Venue | None = None
    group_by: tuple[str, ...] = ()
    venue_kind: str | None = None
    category: str | None = None
    extra: dict = field(default_factory=dict)
    cache: dict = field(default_factory=dict, repr=False, compare=False)  # reads shared by one request's queries

    def as_params(self) -> dict:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "group_by": ",".join(self.group_by),
            "venue": self.anchor.id if self.anchor else None,
            "kind": self.venue_kind,
            "category": self.category,
        }


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def build_filter(
    user,
    *,
    first: date | None,
    last: date | None,
    group_by: str | None = None,
    venue_id: int | None = None,
    venue_kind: str | None = None,
    category: str | None = None,
    today: date | None = None,
) -> ReportFilter:
    """Validate report parameters and bind them to the user's report scope.

    Raises Invalid for an unknown grouping, kind or category and for a period that runs backwards or
    is too long; NotFound for an unknown venue; Forbidden for a venue outside the user's scope.
    """
    today = today or date.today()
    first = first or date(today.year, 1, 1)
    last = last or date(first.year, 12, 31)
    errors: dict[str, list[str]] = {}
    keys = tuple(k.strip() for k in (group_by or "").split(",") if k.strip())
    unknown = [k for k in keys if k not in GROUP_KEYS]
    if unknown:
        errors["group_by"] = [
            _(
                "Unknown grouping: %(keys)s. Use any of: %(allowed)s.",
                keys=", ".join(unknown),
                allowed=", ".join(GROUP_KEYS),
            )
        ]
    if first > last:
        errors["from"] = [_("The start of the period is after its end.")]
    elif (last - first).days > MAX_DAYS:
        errors["to"] = [_("The period is too long (at most five years).")]
    if venue_kind and venue_kind not in VenueKind.__members__:
        errors["kind"] = [_("Unknown venue kind.")]
    if category and category not in Category.__members__:
        errors["category"] = [_("Unknown category.")]
    if errors:
        raise Invalid(fields=errors)
    paths = user.scope_paths(REPORT_ROLES)
    if not paths:
        raise Forbidden()
    anchor = None
    if venue_id is not None:
        anchor = db.session.get(Venue, venue_id)
        if anchor is None:
            raise NotFound(_("No such venue."))
        if not user.reaches(anchor, REPORT_ROLES):
            raise Forbidden(_("This venue is outside your scope."))
    return ReportFilter(
        first=first,
        last=last,
        paths=paths,
        anchor=anchor,
        group_by=tuple(dict.fromkeys(keys)),
        venue_kind=venue_kind or None,
        category=category or None,
    )


def venue_clause(flt: ReportFilter):
    """Venues the filter reaches: the user's scope, narrowed to the anchor's subtree and the kind."""
    clauses = [subtree_clause(flt.paths)]
    if flt.anchor is not None:
        clauses.append(Venue.path.startswith(flt.anchor.path))
    if flt.venue_kind:
        clauses.append(Venue.kind == flt.venue_kind)
    return clauses


SUMMED = DAY_MEASURES  # every measure of the daily roll-up, and of the stored totals


def rollup_select(flt: ReportFilter, *columns, where=()):
    """Sum the daily roll-up over the filter, grouped by `columns` (roll-up or venue columns)."""
    sums = [func.coalesce(func.sum(getattr(DailyAttendance, m)), 0).label(m) for m in SUMMED]
    stmt = (
        select(*columns, *sums)
        .join(Venue, Venue.id == DailyAttendance.venue_id)
        .where(DailyAttendance.day >= flt.first, DailyAttendance.day <= flt.last, *venue_clause(flt), *where)
    )
    if flt.category:
        stmt = stmt.where(DailyAttendance.category == flt.category)
    return stmt.group_by(*columns) if columns else stmt


class Columns:
    """The columns a condition or a grouping names, on one source of figures."""

    def __init__(self, model, venue_kind):
        self.model = model
        self.category = model.category
        self.activity_kind = model.activity_kind
        self.is_outreach = model.is_outreach
        self.venue_kind = venue_kind
        self.year, self.month, self.venue_id = model.year, model.month, model.venue_id


DAILY = Columns(DailyAttendance, Venue.kind)
TOTALS = Columns(AttendanceTotal, AttendanceTotal.venue_kind)


class Where(tuple):
    """An indicator's conditions: iterates as clauses on the daily roll-up joined with venues (what
    `rollup_select` takes); `on(columns)` writes the same conditions on another source."""

    def __new__(cls, build):
        obj = super().__new__(cls, build(DAILY))
        obj.build = build
        return obj

    def on(self, cols: Columns) -> tuple:
        return tuple(self.build(cols))

    def test(self, row) -> bool:
        """The same conditions on a summed row of `cube` (attributes category, activity_kind, is_outreach,
        kind)."""
        if not hasattr(self, "_tests"):
            self._tests = tuple(self.build(_ROW))
        return all(t(row) for t in self._tests)


class _RowColumn:
    """A column of a `cube` row in a condition: `==`, `in_` and `is_` give tests on the row."""

    def __init__(self, name: str):
        self.name = name

    def __eq__(self, value):  # noqa: D105
        return lambda row: str(getattr(row, self.name)) == str(value)

    def in_(self, values):
        wanted = {str(v) for v in values}
        return lambda row: str(getattr(row, self.name)) in wanted

    def is_(self, value):
        return lambda row: bool(getattr(row, self.name)) is value

    __hash__ = None


class _RowColumns:
    category = _RowColumn("category")
    activity_kind = _RowColumn("activity_kind")
    is_outreach = _RowColumn("is_outreach")
    venue_kind = _RowColumn("kind")


_ROW = _RowColumns()
NO_CONDITION = Where(lambda c: ())
CUBE_KEYS = ("category", "activity_kind", "is_outreach", "kind")


def cube(flt: ReportFilter, *, by_month: bool = False) -> list:
    """The filter's figures summed by category, activity kind, outreach and venue kind (and month), in one
    statement, read once per filter: every indicator and chart of a page is a sum over these rows
    (`Where.test`). The filter's category is applied by the caller (`cube_sum`): one indicator ignores it."""
    key = "cube_month" if by_month else "cube"
    if key not in flt.cache:
        keys = (("year", "month") if by_month else ()) + CUBE_KEYS
        flt.cache[key] = totals_rows(flt, keys, by_month=by_month, category=False)
    return flt.cache[key]


def cube_rows(flt: ReportFilter, where: Where, *, by_month: bool = False, category: bool = True) -> list:
    return [
        r
        for r in cube(flt, by_month=by_month)
        if where.test(r) and (not category or not flt.category or str(r.category) == flt.category)
    ]


def period_parts(first: date, last: date, *, by_month: bool) -> list[tuple[str, date, date]]:
    """[first, last] cut into whole years ('year'; not when `by_month`), whole months ('month') and the days
    left at either end ('days'), in order; each part lies within one month or one year."""
    parts, day = [], first
    while day <= last:
        month_end = date(day.year + day.month // 12, day.month % 12 + 1, 1) - timedelta(days=1)
        if not by_month and day.month == 1 and day.day == 1 and date(day.year, 12, 31) <= last:
            parts.append(("year", day, date(day.year, 12, 31)))
            day = date(day.year + 1, 1, 1)
        elif day.day == 1 and month_end <= last:
            parts.append(("month", day, month_end))
            day = month_end + timedelta(days=1)
        else:
            end = min(month_end, last)
            if parts and parts[-1][0] == "days" and parts[-1][2] + timedelta(days=1) == day:
                parts[-1] = ("days", parts[-1][1], end)
            else:
                parts.append(("days", day, end))
            day = end + timedelta(days=1)
    return parts


VENUE_KEYS = {"path", "district_code", "venue_id"}


def scope_roots(flt: ReportFilter) -> list[int]:
    """The venues whose subtrees make up the filter's venues: the anchor, or the roots of the user's scope."""
    if flt.anchor is not None:
        return [flt.anchor.id]
    if "/" in flt.paths:
        if "roots" not in flt.cache:  # one read per report filter (a page asks for it a dozen times)
            flt.cache["roots"] = list(db.session.execute(select(Venue.id).where(Venue.parent_id.is_(None))).scalars())
        return flt.cache["roots"]
    paths = sorted(set(flt.paths), key=len)
    roots = [p for i, p in enumerate(paths) if not any(p.startswith(q) for q in paths[:i])]
    return [int(p.strip("/").split("/")[-1]) for p in roots if p.strip("/")]


def totals_rows(
    flt: ReportFilter, keys: tuple[str, ...] = (), where: Where = NO_CONDITION, *, by_month=False, category=True
) -> list:
    """The filter's figures summed over the stored totals: whole years and months from
    `reports.models.AttendanceTotal` (the subtree rows of the scope's roots unless a venue column is
    grouped), the days at either end from the daily roll-up. `keys` name the columns grouped by (path,
    district_code, kind, category, year, month, venue_id); each row has them and the summed measures, and
    rows of different parts may share a key (callers add them up). `category=False` ignores the filter's
    category (the lectures indicator has never applied it)."""
    by_month = by_month or "month" in keys
    parts = period_parts(flt.first, flt.last, by_month=by_month)
    days = [(a, b) for part, a, b in parts if part == "days"]
    months: dict[int, list[int]] = defaultdict(list)  # year → its stored months (0: the whole year)
    for part, a, _b in parts:
        if part != "days":
            months[a.year].append(a.month if part == "month" else 0)
    selects = []
    if months:
        selects.append(
            _source_select(TOTALS, keys, where, flt, category).where(
                or_(*(sa.and_(AttendanceTotal.year == y, AttendanceTotal.month.in_(ms)) for y, ms in months.items()))
            )
        )
    if days:
        selects.append(
            _source_select(DAILY, keys, where, flt, category).where(
                or_(*(sa.and_(DailyAttendance.day >= a, DailyAttendance.day <= b) for a, b in days))
            )
        )
    stmt = selects[0] if len(selects) == 1 else sa.union_all(*selects)
    return db.session.execute(stmt).all()


def has_attendance_figures(r) -> bool:
    """Whether a summed row has any of the attendance table's figures: rows that hold only activities started
    or lectures (a future exhibition's first day) make no row of their own, as before those measures."""
    return any((r.sessions_held, r.checked_in, r.walk_ins, r.bookings, r.no_shows))


def _source_select(cols: Columns, keys, where: Where, flt: ReportFilter, category: bool):
    model = cols.model
    per_venue = cols is DAILY or bool(VENUE_KEYS & set(keys))
    named = {
        "path": Venue.path,
        "district_code": Venue.district_code,
        "kind": (Venue.kind if per_venue else cols.venue_kind).label("kind"),
        "category": cols.category.label("category"),
        "year": cols.year.label("year"),
        "month": cols.month.label("month"),
        "venue_id": cols.venue_id.label("venue_id"),
        "activity_kind": cols.activity_kind.label("activity_kind"),
        "is_outreach": cols.is_outreach.label("is_outreach"),
    }
    columns = [named[k] for k in keys]
    sums = [func.coalesce(func.sum(getattr(model, m)), 0).label(m) for m in SUMMED]
    stmt = select(*columns, *sums).select_from(model).where(*where.on(cols))
    if per_venue:
        stmt = stmt.join(Venue, Venue.id == model.venue_id).where(*venue_clause(flt))
        if model is AttendanceTotal:
            stmt = stmt.where(AttendanceTotal.subtree.is_(False))
    else:
        stmt = stmt.where(AttendanceTotal.subtree.is_(True), AttendanceTotal.venue_id.in_(scope_roots(flt)))
        if flt.venue_kind:
            stmt = stmt.where(AttendanceTotal.venue_kind == flt.venue_kind)
    if category and flt.category:
        stmt = stmt.where(cols.category == flt.category)
    return stmt.group_by(*columns) if columns else stmt


def anchor_ids(flt: ReportFilter) -> list[int]:
    """The tree path (ids) that `venue` groups under: the anchor, the one scope root, or the hub."""
    if flt.anchor is not None:
        return flt.anchor.ancestor_ids
    roots = [p for p in flt.paths]
    if len(roots) == 1 and roots[0] != "/":
        return [int(x) for x in roots[0].strip("/").split("/")]
    hubs = db.session.execute(select(Venue.id).where(Venue.parent_id.is_(None))).scalars().all()
    return [hubs[0]] if len(hubs) == 1 else []


def bucket_of(path: str, anchor: list[int]) -> int:
    """The venue a row rolls up to: the anchor's child on the way to `path`, or the anchor itself."""
    ids = [int(x) for x in path.strip("/").split("/")]
    depth = len(anchor)
    if ids[:depth] == anchor and len(ids) > depth:
        return ids[depth]
    return ids[min(depth, len(ids)) - 1] if depth else ids[0]


def rates(row: dict) -> dict:
    booked = row.get("bookings", 0)
    row["no_show_rate"] = round(row["no_shows"] / booked, 4) if booked else None
    row["show_up_rate"] = round(1 - row["no_shows"] / booked, 4) if booked else None
    return row


GROUP_COLUMNS = {
    "venue": (Venue.path,),
    "district": (Venue.district_code,),
    "venue_kind": (Venue.kind,),
    "category": (DailyAttendance.category,),
    "month": (DailyAttendance.year, DailyAttendance.month),
    "quarter": (DailyAttendance.year, DailyAttendance.month),
    "year": (DailyAttendance.year,),
}


GROUP_KEY_COLUMNS = {  # the same groupings, by the column names of `totals_rows`
    "venue": ("path",),
    "district": ("district_code",),
    "venue_kind": ("kind",),
    "category": ("category",),
    "month": ("year", "month"),
    "quarter": ("year", "month"),
    "year": ("year",),
}


def attendance(flt: ReportFilter) -> dict:
    """`{rows, totals}`: the attendance figures grouped by the filter's keys (docs/api.md)."""
    keys = tuple(dict.fromkeys(c for k in flt.group_by for c in GROUP_KEY_COLUMNS[k]))
    anchor = anchor_ids(flt) if "venue" in flt.group_by else []
    grouped: dict[tuple, dict] = {}
    totals = dict.fromkeys(COUNTS, 0)
    rows = cube_rows(flt, NO_CONDITION) if not keys else totals_rows(flt, keys, by_month="quarter" in flt.group_by)
    for r in rows:
        if not has_attendance_figures(r):
            continue
        key = tuple(_key_value(k, r, anchor) for k in flt.group_by)
        row = grouped.setdefault(key, dict.fromkeys(COUNTS, 0))
        values = {
            "sessions_held": r.sessions_held,
            "checked_in": r.checked_in,
            "walk_ins": r.walk_ins,
            "attendances": r.checked_in + r.walk_ins,
            "bookings": r.bookings,
            "no_shows": r.no_shows,
        }
        for name, value in values.items():
            row[name] += int(value)
            totals[name] += int(value)
    for r in db.session.execute(online_plays_select(flt)):
        key = tuple(_key_value(k, r, anchor) for k in flt.group_by)
        grouped.setdefault(key, dict.fromkeys(COUNTS, 0))["online_plays"] += int(r.plays)
        totals["online_plays"] += int(r.plays)
    names = _venue_names({k[flt.group_by.index("venue")] for k in grouped} if "venue" in flt.group_by else set())
    rows = []
    for key in sorted(grouped, key=lambda k: tuple(str(x) for x in k)):
        row = dict(zip(flt.group_by, key, strict=True))
        if "venue" in row:
            row["venue_id"] = row["venue"]
            row["venue"] = names.get(row["venue_id"], "")
        rows.append(rates({**row, **grouped[key]}))
    return {"rows": rows, "totals": rates(totals)}


def online_plays_select(flt: ReportFilter):
    """Counted plays of the digital library (resources/) over the filter, grouped like the roll-up rows: by
    the resource's venue (path, district, kind), its category and the play's local month."""
    from resources.models import Play, Resource

    columns = {
        "venue": (Venue.path,),
        "district": (Venue.district_code,),
        "venue_kind": (Venue.kind,),
        "category": (Resource.category.label("category"),),
        "month": (Play.year.label("year"), Play.month.label("month")),
        "quarter": (Play.year.label("year"), Play.month.label("month")),
        "year": (Play.year.label("year"),),
    }
    cols = list({c.key: c for k in flt.group_by for c in columns[k]}.values())
    stmt = (
        select(*cols, func.count(Play.id).label("plays"))
        .join(Resource, Resource.id == Play.resource_id)
        .join(Venue, Venue.id == Resource.venue_id)
        .where(Play.day >= flt.first, Play.day <= flt.last, *venue_clause(flt))
    )
    if flt.category:
        stmt = stmt.where(Resource.category == flt.category)
    return stmt.group_by(*cols) if cols else stmt


def brand_rows(flt: ReportFilter, now) -> list[dict]:
    """Each culture brand owned within the filter's venues, with its own figures over the period (sessions
    held, attendances, venues reached, online plays)."""
    from resources.models import Brand
    from resources.queries import brand_figures

    first, last = utc_bounds(flt.first, flt.last)
    brands = db.session.execute(
        select(Brand).join(Venue, Venue.id == Brand.venue_id).where(*venue_clause(flt)).order_by(Brand.name)
    ).scalars()
    return [{"id": b.id, "name": b.name, **brand_figures(b.id, now, first=first, last=last)} for b in brands]


def _key_value(key: str, r, anchor: list[int]):
    match key:
        case "venue":
            return bucket_of(r.path, anchor)
        case "district":
            return r.district_code
        case "venue_kind":
            return str(VenueKind(r.kind))
        case "category":
            return str(r.category)
        case "month":
            return f"{r.year:04d}-{r.month:02d}"
        case "quarter":
            return f"{r.year:04d}-Q{(r.month - 1) // 3 + 1}"
        case "year":
            return r.year


def _venue_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(Venue.id, Venue.name).where(Venue.id.in_(ids))).all())


def monthly(flt: ReportFilter, where=()) -> dict[str, dict]:
    """Figures per month ('YYYY-MM') of the filter's period, for charts."""
    if isinstance(where, Where) or not where:
        rows = cube_rows(flt, where or NO_CONDITION, by_month=True)
    else:  # conditions written on the daily roll-up's columns
        rows = db.session.execute(rollup_select(flt, DailyAttendance.year, DailyAttendance.month, where=where)).all()
    out: dict[str, dict] = {}
    for r in rows:
        if not has_attendance_figures(r):
            continue
        row = out.setdefault(f"{r.year:04d}-{r.month:02d}", {"sessions_held": 0, "attendances": 0})
        row["sessions_held"] += int(r.sessions_held)
        row["attendances"] += int(r.checked_in + r.walk_ins)
    return out


def parse_period(value: str, name: str, pattern: str, most: int) -> tuple[int, int]:
    """(year, n) of a `2026-05` month or a `2026-Q2` quarter, or Invalid naming the parameter."""
    match = re.fullmatch(pattern, value.strip())
    if match is None or not 2000 <= int(match[1]) <= 2100 or not 1 <= int(match[2]) <= most:
        example = "2026-05" if name == "month" else "2026-Q2"
        raise Invalid(fields={name: [_("Must be a period such as %(example)s.", example=example)]})
    return int(match[1]), int(match[2])


def narrow(flt: ReportFilter, args: dict) -> ReportFilter:
    """The filter of one table row (its venue, district, kind, category, month/quarter/year)."""
    extra = {}
    first, last = flt.first, flt.last
    if args.get("month"):
        y, m = parse_period(args["month"], "month", r"(\d{4})-(\d{1,2})", 12)
        first, last = max(first, date(y, m, 1)), min(last, (date(y + m // 12, m % 12 + 1, 1) - timedelta(days=1)))
    if args.get("quarter"):
        y, q = parse_period(args["quarter"], "quarter", r"(\d{4})-Q(\d)", 4)
        m = (q - 1) * 3 + 1
        end = date(y + (m + 3 > 12), (m + 2) % 12 + 1, 1) - timedelta(days=1)
        first, last = max(first, date(y, m, 1)), min(last, end)
    if args.get("year"):
        y = parse_year(args["year"], 0)
        first, last = max(first, date(y, 1, 1)), min(last, date(y, 12, 31))
    if args.get("district"):
        extra["district"] = args["district"]
    return ReportFilter(
        first=first,
        last=last,
        paths=flt.paths,
        anchor=flt.anchor,
        venue_kind=flt.venue_kind,
        category=args.get("category") or flt.category,
        extra=extra,
    )


def sessions_behind(flt: ReportFilter, limit: int = 500) -> list[dict]:
    """The sessions behind a figure, each with its own counts (the list inspectors ask for)."""
    start, end = utc_bounds(flt.first, flt.last)
    base = live_sessions(start, end).join(Venue, Venue.id == Activity.venue_id).where(*venue_clause(flt))
    if flt.category:
        base = base.where(Activity.category == flt.category)
    if flt.extra.get("district"):
        base = base.where(Venue.district_code == flt.extra["district"])
    base = base.add_columns(Activity.title, Venue.name.label("venue_name")).order_by(Session.starts_at).limit(limit)
    rows = db.session.execute(base).all()
    ids = [r.id for r in rows]
    checked = dict(
        db.session.execute(
            select(CheckIn.session_id, func.sum(CheckIn.party_size))
            .where(CheckIn.session_id.in_(ids))
            .group_by(CheckIn.session_id)
        ).all()
    )
    walked = dict(
        db.session.execute(
            select(WalkIn.session_id, func.sum(WalkIn.count))
            .where(WalkIn.session_id.in_(ids))
            .group_by(WalkIn.session_id)
        ).all()
    )
    booked = dict(
        db.session.execute(
            select(Booking.session_id, func.count(Booking.id))
            .where(Booking.session_id.in_(ids), Booking.status.in_(COUNTED_BOOKINGS))
            .group_by(Booking.session_id)
        ).all()
    )
    return [
        {
            "session_id": r.id,
            "activity_id": r.activity_id,
            "title": r.title,
            "venue": r.venue_name,
            "starts_at": to_local(r.starts_at),
            "category": str(r.category),
            "kind": str(r.kind),
            "is_outreach": bool(r.is_outreach),
            "checked_in": int(checked.get(r.id) or 0),
            "walk_ins": int(walked.get(r.id) or 0),
            "bookings": int(booked.get(r.id) or 0),
        }
        for r in rows
    ]


def checkins_behind(session_id: int, flt: ReportFilter) -> list[dict]:
    """The check-ins of one session in scope: when, party size, how (no personal data beyond that)."""
    session = db.session.get(Session, session_id)
    if session is None:
        raise NotFound()
    venue = session.activity.venue
    if not any(venue.path.startswith(p) for p in flt.paths) and "/" not in flt.paths:
        raise Forbidden()
    rows = db.session.execute(
        select(CheckIn).where(CheckIn.session_id == session_id).order_by(CheckIn.checked_in_at)
    ).scalars()
    return [
        {
            "checked_in_at": to_local(c.checked_in_at),
            "party_size": c.party_size,
            "source": str(c.source),
            "booking_id": c.booking_id,
        }
        for c in rows
    ]


def top_activities(flt: ReportFilter, n: int = 5, days: int = 90) -> list[dict]:
    """The `n` activities with most attendances (check-ins plus walk-ins) in the last `days` of the period,
    as of the roll-up (`top_in_window`)."""
    first = max(flt.first, flt.last - timedelta(days=days - 1))
    return top_in_window(flt, first, flt.last, n)


def top_in_window(flt: ReportFilter, first: date, last: date, n: int = 5) -> list[dict]:
    """The `n` activities of the filter with most attendances over local days first..last: the first rows by
    attendances of a stored window (reports.rollup.windows_for — the windows a year's report asks for), or
    else the sum of the per-activity days of the roll-up; never the raw check-ins."""
    if first > last:
        return []
    stored = db.session.execute(
        select(ActivityWindow.activity_id).where(ActivityWindow.first == first, ActivityWindow.last == last).limit(1)
    ).first()
    if stored is not None:
        total = ActivityWindow.attendances
        stmt = (
            select(ActivityWindow.activity_id, total.label("total"))
            .join(Venue, Venue.id == ActivityWindow.venue_id)
            .where(ActivityWindow.first == first, ActivityWindow.last == last, total > 0, *venue_clause(flt))
        )
        if flt.category:
            stmt = stmt.where(ActivityWindow.category == flt.category)
        stmt = stmt.order_by(total.desc(), ActivityWindow.activity_id)
    else:
        total = func.sum(ActivityDay.attendances)
        stmt = (
            select(ActivityDay.activity_id, total.label("total"))
            .join(Venue, Venue.id == ActivityDay.venue_id)
            .where(ActivityDay.day >= first, ActivityDay.day <= last, *venue_clause(flt))
            .group_by(ActivityDay.activity_id)
            .having(total > 0)
        )
        if flt.category:
            stmt = stmt.where(ActivityDay.category == flt.category)
        stmt = stmt.order_by(total.desc(), ActivityDay.activity_id)
    best = db.session.execute(stmt.limit(n)).all()
    if not best:
        return []
    names = {
        r.id: r
        for r in db.session.execute(
            select(Activity.id, Activity.title, Venue.name.label("venue"))
            .join(Venue, Venue.id == Activity.venue_id)
            .where(Activity.id.in_([b.activity_id for b in best]))
        )
    }
    return [
        {"title": names[b.activity_id].title, "venue": names[b.activity_id].venue, "attendances": int(b.total)}
        for b in best
        if b.activity_id in names
    ]
