"""Attendance facts from the raw rows, and the daily roll-up kept from them.

`day_facts(first, last, now)` counts directly over sessions, bookings, check-ins and walk-ins, keyed
by (local day, venue, category, activity kind, outreach). The roll-up table stores exactly those
numbers; `rollup_attendance` recomputes the days touched since its last run, so reports can sum a
small table while tests prove it equals the direct count.

Definitions (docs/product.md, "What managers must be able to show"):
- a session is *held* when it is live (not cancelled), its activity was published, and it has ended;
- *attendances* are checked-in party sizes plus walk-ins;
- *bookings* are bookings that held seats (confirmed, attended or no-show) — a course enrolment counts
  once, on the course's first lesson; *no-shows* are those marked no-show.
"""

import hashlib
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy import func, select

from activities.models import Activity, ActivityStatus, Session, SessionStatus
from bookings.models import Booking, BookingStatus
from checkin.models import CheckIn, WalkIn
from core.db import utcnow
from core.extensions import db
from core.i18n import local_datetime, to_local
from reports.models import ActivityDay, ActivityWindow, AttendanceTotal, DailyAttendance, DirtyDay, RollupRun
from venues.models import Venue

MEASURES = ("sessions_held", "checked_in", "walk_ins", "bookings", "no_shows")
COUNTED_BOOKINGS = (BookingStatus.confirmed, BookingStatus.attended, BookingStatus.no_show)
REPORTED_ACTIVITIES = (ActivityStatus.published, ActivityStatus.finished)
ROLLUP_NAME = "attendance"
NEVER = datetime(2000, 1, 1, tzinfo=UTC)


def utc_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants of local midnight on `first` and after `last`."""
    return local_datetime(first, time(0)), local_datetime(last + timedelta(days=1), time(0))


def live_sessions(start: datetime, end: datetime):
    """The sessions held in [start, end) with the activity columns the roll-up and the reports group by."""
    return (
        select(
            Session.id,
            Session.starts_at,
            Session.ends_at,
            Session.activity_id,
            Activity.venue_id,
            Activity.category,
            Activity.kind,
            Activity.is_outreach,
        )
        .join(Activity, Activity.id == Session.activity_id)
        .where(
            Session.status == SessionStatus.scheduled,
            Activity.status.in_(REPORTED_ACTIVITIES),
            Session.starts_at >= start,
            Session.starts_at < end,
        )
    )


def _sums_by_session(stmt) -> dict[int, tuple]:
    return {row[0]: tuple(row[1:]) for row in db.session.execute(stmt)}


LECTURE_WORDS = ("讲座", "lecture", "Lecture")
DAY_MEASURES = MEASURES + ("activities_started", "lectures")


def is_lecture(title: str | None) -> bool:
    """An event counted as a public lecture (the indicator `lectures`): its title names one."""
    return any(w in (title or "") for w in LECTURE_WORDS)


def day_facts(first: date, last: date, now: datetime) -> dict[tuple, dict[str, int]]:
    """Direct counts over the raw rows, per (day, venue_id, category, kind, is_outreach), for local days
    `first`..`last` as of `now`."""
    return _facts(first, last, now)[0]


def _facts(first: date, last: date, now: datetime) -> tuple[dict[tuple, dict[str, int]], dict[tuple, dict]]:
    """The day facts, and attendances per (day, activity_id) of the sessions started by `now` (any status:
    what the top-activities list has always counted)."""
    start, end = utc_bounds(first, last)
    sessions = db.session.execute(live_sessions(start, end).add_columns(Activity.title)).all()
    in_range = select(Session.id).where(Session.starts_at >= start, Session.starts_at < end).scalar_subquery()
    checked = _sums_by_session(
        select(CheckIn.session_id, func.sum(CheckIn.party_size))
        .where(CheckIn.session_id.in_(in_range))
        .group_by(CheckIn.session_id)
    )
    walked = _sums_by_session(
        select(WalkIn.session_id, func.sum(WalkIn.count))
        .where(WalkIn.session_id.in_(in_range))
        .group_by(WalkIn.session_id)
    )
    live_range = live_sessions(start, end).with_only_columns(Session.id).scalar_subquery()
    booked = _sums_by_session(
        select(
            Booking.session_id,
            func.count(Booking.id),
            func.count(Booking.id).filter(Booking.status == BookingStatus.no_show),
        )
        .where(Booking.session_id.in_(live_range), Booking.status.in_(COUNTED_BOOKINGS))
        .group_by(Booking.session_id)
    )
    course_booked, first_lessons = _course_bookings({s.activity_id for s in sessions if s.kind == "course"})
    firsts = _first_live_sessions(start, end)
    facts: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(DAY_MEASURES, 0))
    for s in sessions:
        row = facts[(to_local(s.starts_at).date(), s.venue_id, str(s.category), str(s.kind), bool(s.is_outreach))]
        held = s.ends_at <= now
        row["sessions_held"] += int(held)
        row["lectures"] += int(held and str(s.kind) == "event" and is_lecture(s.title))
        row["activities_started"] += int(firsts.get(s.activity_id) == s.id)
        row["checked_in"] += int((checked.get(s.id) or (0,))[0] or 0)
        row["walk_ins"] += int((walked.get(s.id) or (0,))[0] or 0)
        n, no_show = booked.get(s.id) or (0, 0)
        if first_lessons.get(s.activity_id) == s.id:
            cn, cno = course_booked.get(s.activity_id, (0, 0))
            n, no_show = n + cn, no_show + cno
        row["bookings"] += int(n)
        row["no_shows"] += int(no_show)
    _add_day_walk_ins(facts, first, last)
    per_activity: dict[tuple, dict] = {}
    started = db.session.execute(
        select(Session.id, Session.starts_at, Session.activity_id, Activity.venue_id, Activity.category)
        .join(Activity, Activity.id == Session.activity_id)
        .where(Session.starts_at >= start, Session.starts_at < min(end, now))
    )
    for s in started:
        n = int((checked.get(s.id) or (0,))[0] or 0) + int((walked.get(s.id) or (0,))[0] or 0)
        if n:
            key = (to_local(s.starts_at).date(), s.activity_id)
            row = per_activity.setdefault(key, {"venue_id": s.venue_id, "category": str(s.category), "n": 0})
            row["n"] += n
    return {k: v for k, v in facts.items() if any(v.values())}, per_activity


def _first_live_sessions(start: datetime, end: datetime) -> dict[int, int]:
    """activity id → id of its first live session (over all its sessions), for the activities with a live
    session in [start, end): an activity 'starts' (exhibitions, classes) on the day of that session."""
    return _first_lessons(live_sessions(start, end).with_only_columns(Session.activity_id).distinct().scalar_subquery())


def _first_lessons(ids) -> dict[int, int]:
    """activity id → id of its first live session, for the activities `ids` (a list or a subquery)."""
    ranked = (
        select(
            Session.id,
            Session.activity_id,
            func.row_number()
            .over(partition_by=Session.activity_id, order_by=(Session.starts_at, Session.id))
            .label("rank"),
        )
        .where(Session.activity_id.in_(ids), Session.status == SessionStatus.scheduled)
        .subquery()
    )
    return dict(db.session.execute(select(ranked.c.activity_id, ranked.c.id).where(ranked.c.rank == 1)).all())


def _course_bookings(activity_ids: set[int]) -> tuple[dict[int, tuple], dict[int, int]]:
    """Course enrolments per activity, and the id of each course's first live lesson (where they count)."""
    if not activity_ids:
        return {}, {}
    ids = list(activity_ids)
    counts = _sums_by_session(
        select(
            Booking.activity_id,
            func.count(Booking.id),
            func.count(Booking.id).filter(Booking.status == BookingStatus.no_show),
        )
        .where(Booking.activity_id.in_(ids), Booking.session_id.is_(None), Booking.status.in_(COUNTED_BOOKINGS))
        .group_by(Booking.activity_id)
    )
    return counts, _first_lessons(ids)


def _add_day_walk_ins(facts: dict, first: date, last: date) -> None:
    """Walk-ins counted for an exhibition day rather than a session."""
    rows = db.session.execute(
        select(
            WalkIn.counted_on,
            Activity.venue_id,
            Activity.category,
            Activity.kind,
            Activity.is_outreach,
            func.sum(WalkIn.count),
        )
        .join(Activity, Activity.id == WalkIn.activity_id)
        .where(
            WalkIn.session_id.is_(None),
            WalkIn.counted_on >= first,
            WalkIn.counted_on <= last,
            Activity.status.in_(REPORTED_ACTIVITIES),
        )
        .group_by(WalkIn.counted_on, Activity.venue_id, Activity.category, Activity.kind, Activity.is_outreach)
    )
    for day, venue_id, category, kind, outreach, n in rows:
        facts[(day, venue_id, str(category), str(kind), bool(outreach))]["walk_ins"] += int(n or 0)


def recompute_days(days: set[date], now: datetime) -> int:
    """Replace the roll-up rows of `days` by a direct count (idempotent), and the stored totals of their
    months and years. Returns the daily rows written."""
    written = 0
    for first, last in _runs(sorted(days)):
        db.session.execute(sa.delete(DailyAttendance).where(DailyAttendance.day >= first, DailyAttendance.day <= last))
        db.session.execute(sa.delete(ActivityDay).where(ActivityDay.day >= first, ActivityDay.day <= last))
        facts, per_activity = _facts(first, last, now)
        db.session.add_all(
            DailyAttendance(
                day=day,
                year=day.year,
                month=day.month,
                venue_id=venue_id,
                category=category,
                activity_kind=kind,
                is_outreach=outreach,
                **counts,
            )
            for (day, venue_id, category, kind, outreach), counts in facts.items()
        )
        if per_activity:
            db.session.execute(
                sa.insert(ActivityDay),
                [
                    {
                        "day": day,
                        "activity_id": aid,
                        "venue_id": r["venue_id"],
                        "category": r["category"],
                        "attendances": r["n"],
                    }
                    for (day, aid), r in per_activity.items()
                ],
            )
        written += len(facts)
    if days:
        db.session.execute(sa.delete(DirtyDay).where(DirtyDay.day.in_(days)))
    db.session.flush()
    return written


TOTAL_KEYS = ("venue_id", "category", "activity_kind", "is_outreach")


def venue_tree() -> tuple[dict[int, tuple[list[int], str]], str]:
    """venue id → (the ids on its tree path, its kind), and a digest of the tree (ids, paths, kinds)."""
    rows = db.session.execute(select(Venue.id, Venue.path, Venue.kind).order_by(Venue.id)).all()
    tree = {r.id: ([int(x) for x in (r.path or "").strip("/").split("/") if x] or [r.id], str(r.kind)) for r in rows}
    digest = hashlib.sha256(repr([(r.id, r.path, str(r.kind)) for r in rows]).encode()).hexdigest()
    return tree, digest


def rebuild_totals(months: set[tuple[int, int]], tree: dict) -> int:
    """Rewrite the stored totals (reports.models.AttendanceTotal) of `months` from the daily roll-up, and the
    whole-year rows of their years. Returns the rows written."""
    sums = [func.sum(getattr(DailyAttendance, m)).label(m) for m in DAY_MEASURES]
    written = 0
    for year, month in sorted(months):
        db.session.execute(
            sa.delete(AttendanceTotal).where(AttendanceTotal.year == year, AttendanceTotal.month == month)
        )
        rows = db.session.execute(
            select(*(getattr(DailyAttendance, k) for k in TOTAL_KEYS), *sums)
            .where(DailyAttendance.year == year, DailyAttendance.month == month)
            .group_by(*(getattr(DailyAttendance, k) for k in TOTAL_KEYS))
        ).all()
        written += _write_totals(year, month, [r._asdict() for r in rows], tree)
    for year in sorted({y for y, _m in months}):
        db.session.execute(sa.delete(AttendanceTotal).where(AttendanceTotal.year == year, AttendanceTotal.month == 0))
        own = db.session.execute(
            select(
                *(getattr(AttendanceTotal, k) for k in TOTAL_KEYS),
                *(func.sum(getattr(AttendanceTotal, m)).label(m) for m in DAY_MEASURES),
            )
            .where(AttendanceTotal.year == year, AttendanceTotal.month > 0, AttendanceTotal.subtree.is_(False))
            .group_by(*(getattr(AttendanceTotal, k) for k in TOTAL_KEYS))
        ).all()
        written += _write_totals(year, 0, [r._asdict() for r in own], tree)
    db.session.flush()
    return written


def _write_totals(year: int, month: int, own: list[dict], tree: dict) -> int:
    """Insert a period's own rows (one venue's activities) and the subtree rows they add up to."""
    subtree: dict[tuple, dict] = {}
    out = []
    for r in own:
        path, kind = tree.get(r["venue_id"], ([r["venue_id"]], ""))
        counts = {m: int(r[m] or 0) for m in DAY_MEASURES}
        base = {
            "year": year,
            "month": month,
            "category": str(r["category"]),
            "activity_kind": str(r["activity_kind"]),
            "is_outreach": bool(r["is_outreach"]),
            "venue_kind": kind,
        }
        out.append({**base, "venue_id": r["venue_id"], "subtree": False, **counts})
        for ancestor in dict.fromkeys(path + [r["venue_id"]]):
            key = (ancestor, kind, base["category"], base["activity_kind"], base["is_outreach"])
            row = subtree.setdefault(
                key, {**base, "venue_id": ancestor, "subtree": True, **dict.fromkeys(DAY_MEASURES, 0)}
            )
            for m in DAY_MEASURES:
                row[m] += counts[m]
    out += subtree.values()
    if out:
        db.session.execute(sa.insert(AttendanceTotal), out)
    return len(out)


WINDOW_DAYS = 90


def windows_for(now: datetime, years) -> set[tuple[date, date]]:
    """The windows the top-activities list reads for a year's report: the 90 days ending each year, and
    those ending on the roll-up's day (its year's dashboard, cut at the roll-up like every figure)."""
    today = to_local(now).date()
    out = {(max(date(y, 1, 1), date(y, 12, 31) - timedelta(days=WINDOW_DAYS - 1)), date(y, 12, 31)) for y in years}
    out.add((max(date(today.year, 1, 1), today - timedelta(days=WINDOW_DAYS - 1)), today))
    return out


def rebuild_windows(now: datetime, touched: set[date], *, everything: bool = False) -> int:
    """Keep the stored windows (reports.models.ActivityWindow) of `windows_for` up to date: rewrite those
    holding a touched day or not stored yet, drop the others. Returns the rows written."""
    bounds = db.session.execute(select(func.min(ActivityDay.day), func.max(ActivityDay.day))).one()
    years = range(bounds[0].year, bounds[1].year + 1) if bounds[0] is not None else []
    wanted = windows_for(now, years)
    stored = set(db.session.execute(select(ActivityWindow.first, ActivityWindow.last).distinct()).all())
    for first, last in stored - wanted:
        db.session.execute(sa.delete(ActivityWindow).where(ActivityWindow.first == first, ActivityWindow.last == last))
    written = 0
    for first, last in sorted(wanted):
        if not everything and (first, last) in stored and not any(first <= d <= last for d in touched):
            continue
        db.session.execute(sa.delete(ActivityWindow).where(ActivityWindow.first == first, ActivityWindow.last == last))
        total = func.sum(ActivityDay.attendances)
        written += db.session.execute(
            sa.insert(ActivityWindow).from_select(
                ["first", "last", "activity_id", "venue_id", "category", "attendances"],
                select(
                    sa.literal(first, sa.Date),
                    sa.literal(last, sa.Date),
                    ActivityDay.activity_id,
                    func.max(ActivityDay.venue_id),
                    func.max(ActivityDay.category),
                    total,
                )
                .where(ActivityDay.day >= first, ActivityDay.day <= last)
                .group_by(ActivityDay.activity_id),
            )
        ).rowcount
    db.session.flush()
    return written


def _runs(days: list[date]):
    """Consecutive days grouped into (first, last) runs, at most 92 days each."""
    run: list[date] = []
    for day in days:
        if run and (day - run[-1] != timedelta(days=1) or len(run) >= 92):
            yield run[0], run[-1]
            run = []
        run.append(day)
    if run:
        yield run[0], run[-1]


def touched_days(since: datetime, now: datetime) -> set[date]:
    """Local days whose figures may have changed between `since` and `now`."""
    starts: set[datetime] = set()
    q = db.session.execute
    starts |= set(
        q(
            select(Session.starts_at)
            .join(Activity, Activity.id == Session.activity_id)
            .where(
                sa.or_(
                    Session.created_at > since,
                    Activity.updated_at > since,
                    sa.and_(Session.ends_at > since, Session.ends_at <= now),
                    sa.and_(Session.starts_at > since, Session.starts_at <= now),
                )
            )
        ).scalars()
    )
    # A new session may become its activity's first (where a class or an exhibition starts, and a course's
    # enrolments count): every day of that activity.
    new_sessions = select(Session.activity_id).where(Session.created_at > since)
    starts |= set(q(select(Session.starts_at).where(Session.activity_id.in_(new_sessions))).scalars())
    starts |= set(
        q(
            select(Session.starts_at).join(Booking, Booking.session_id == Session.id).where(Booking.updated_at > since)
        ).scalars()
    )
    course_ids = select(Booking.activity_id).where(Booking.session_id.is_(None), Booking.updated_at > since)
    starts |= set(q(select(Session.starts_at).where(Session.activity_id.in_(course_ids))).scalars())
    starts |= set(
        q(
            select(Session.starts_at).join(CheckIn, CheckIn.session_id == Session.id).where(CheckIn.recorded_at > since)
        ).scalars()
    )
    starts |= set(
        q(
            select(Session.starts_at).join(WalkIn, WalkIn.session_id == Session.id).where(WalkIn.recorded_at > since)
        ).scalars()
    )
    days = {to_local(s).date() for s in starts}
    days |= set(q(select(WalkIn.counted_on).where(WalkIn.recorded_at > since)).scalars())
    days |= set(q(select(DirtyDay.day)).scalars())
    return days


def all_days() -> set[date]:
    """Every local day that has a session or a walk-in (a full rebuild)."""
    bounds = db.session.execute(select(func.min(Session.starts_at), func.max(Session.starts_at))).one()
    days: set[date] = set()
    if bounds[0] is not None:
        day, last = to_local(bounds[0]).date(), to_local(bounds[1]).date()
        while day <= last:
            days.add(day)
            day += timedelta(days=1)
    days |= set(db.session.execute(select(WalkIn.counted_on).distinct()).scalars())
    days |= set(db.session.execute(select(DailyAttendance.day).distinct()).scalars())
    days |= set(db.session.execute(select(ActivityDay.day).distinct()).scalars())
    return days


def rollup_attendance(now: datetime | None = None, *, full: bool = False) -> dict:
    """Sweeper: bring the daily roll-up, the stored totals and the top-activities windows up to date with
    the raw rows as of `now`.

    Recomputes every day touched since the last run (all days on the first run or with `full`), then the
    months and years of those days (all of them when the venue tree changed) and the windows holding them;
    running it twice in a row writes the same rows. The high-water-mark row is created if missing and
    then locked for the whole run, so two sweepers never interleave: the second waits, then finds
    nothing new.
    """
    now = now or utcnow()
    _insert_ignore(RollupRun.__table__, name=ROLLUP_NAME, ran_at=NEVER)
    run = db.session.execute(
        select(RollupRun)
        .where(RollupRun.name == ROLLUP_NAME)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    rebuild = full or run.ran_at == NEVER
    days = all_days() if rebuild else touched_days(run.ran_at, now)
    written = recompute_days(days, now)
    tree, digest = venue_tree()
    months = {(d.year, d.month) for d in days}
    if rebuild or digest != run.state:
        months |= set(db.session.execute(select(DailyAttendance.year, DailyAttendance.month).distinct()).all())
        months |= set(
            db.session.execute(
                select(AttendanceTotal.year, AttendanceTotal.month).where(AttendanceTotal.month > 0).distinct()
            ).all()
        )
    totals = rebuild_totals(months, tree)
    windows = rebuild_windows(now, days, everything=rebuild)
    run.ran_at = max(run.ran_at, now)
    run.state = digest
    db.session.flush()
    return {"days": len(days), "rows": written, "totals": totals, "windows": windows}


def _insert_ignore(table, **values) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(table).values(**values).on_conflict_do_nothing())


def mark_day_dirty(day: date) -> None:
    """Remember a day to recompute (a session moved away from it, or was cancelled)."""
    _insert_ignore(DirtyDay.__table__, day=day)
