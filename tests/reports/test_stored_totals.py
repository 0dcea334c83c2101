"""The stored totals (months, years, subtrees), the per-activity days and the top-activities windows equal a
direct count over the raw rows: after a first run, after incremental runs that see late check-ins, new and
cancelled sessions, and whatever the wall clock says (every time here is fixed or relative to the scenario)."""

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, or_, select

from activities import services as activities
from activities.models import Activity, ActivityKind, Session, SessionStatus
from checkin import services as checkin
from checkin.models import CheckIn, WalkIn
from core import tickets
from core.extensions import db
from core.i18n import local_datetime, to_local
from reports import freshness, indicators, queries
from reports.models import ActivityWindow, AttendanceTotal, DailyAttendance
from reports.rollup import REPORTED_ACTIVITIES, rollup_attendance
from tests import activity_factories as af
from tests import factories as f
from tests.reports.scenario import AFTER, T0, build
from venues.models import Venue

MEASURES = ("sessions_held", "checked_in", "walk_ins", "bookings", "no_shows", "activities_started", "lectures")
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
# Periods cut into whole months and loose days, one day, and years around the scenario's.
PERIODS = [
    YEAR,
    (date(2026, 3, 5), date(2026, 4, 20)),
    (date(2026, 3, 9), date(2026, 3, 9)),
    (date(2025, 6, 1), date(2027, 2, 28)),
]


def more_activities(sc):
    """A course (3 weekly lessons, enrolments, check-ins) and an exhibition (2 sessions) beside the scenario's."""
    at = T0 - timedelta(days=10)
    staff = sc.manager
    course = af.activity(
        sc.net["branch"],
        title="书法培训班",
        kind="course",
        category="calligraphy",
        sessions=3,
        starts_in=T0 - at + timedelta(days=3),
        at=at,
        actor=staff,
    )
    exhibition = af.activity(
        sc.net["station"],
        title="农民画展",
        kind="exhibition",
        category="fine_art",
        sessions=2,
        starts_in=T0 - at + timedelta(days=20),
        at=at,
        actor=staff,
    )
    db.session.flush()
    enrolled = [af.book(f.resident(), course, at=at + timedelta(days=1), party_size=1) for _ in range(3)]
    for lesson in course.sessions[:2]:
        for b in enrolled[:2]:
            checkin.check_in(lesson, payload=tickets.payload_for(b.id), actor=staff, now=lesson.starts_at)
    checkin.count_walk_ins(exhibition.sessions[0], count=5, actor=staff, now=exhibition.sessions[0].starts_at)
    db.session.commit()
    sc.enrolled = enrolled
    return course, exhibition


@pytest.fixture
def sc(app):
    scenario = build()
    scenario.course, scenario.exhibition = more_activities(scenario)
    rollup_attendance(AFTER)
    db.session.commit()
    return scenario


def daily_sums(where=(), venue_ids=None) -> dict:
    stmt = select(*(func.coalesce(func.sum(getattr(DailyAttendance, m)), 0) for m in MEASURES)).where(*where)
    if venue_ids is not None:
        stmt = stmt.where(DailyAttendance.venue_id.in_(venue_ids))
    return dict(zip(MEASURES, (int(x) for x in db.session.execute(stmt).one()), strict=True))


def stored_sums(**match) -> dict:
    stmt = select(*(func.coalesce(func.sum(getattr(AttendanceTotal, m)), 0) for m in MEASURES)).filter_by(**match)
    return dict(zip(MEASURES, (int(x) for x in db.session.execute(stmt).one()), strict=True))


def assert_totals_match_the_daily_roll_up():
    """Every stored month and year, per venue and per subtree, is the sum of its days."""
    venues = db.session.execute(select(Venue.id, Venue.path)).all()
    months = db.session.execute(select(DailyAttendance.year, DailyAttendance.month).distinct()).all()
    assert months, "the scenario rolls up some days"
    for year, month in months:
        in_month = (DailyAttendance.year == year, DailyAttendance.month == month)
        in_year = (DailyAttendance.year == year,)
        for v in venues:
            under = [u.id for u in venues if u.path.startswith(v.path)]
            assert stored_sums(year=year, month=month, venue_id=v.id, subtree=False) == daily_sums(in_month, [v.id])
            assert stored_sums(year=year, month=month, venue_id=v.id, subtree=True) == daily_sums(in_month, under)
            assert stored_sums(year=year, month=0, venue_id=v.id, subtree=False) == daily_sums(in_year, [v.id])
            assert stored_sums(year=year, month=0, venue_id=v.id, subtree=True) == daily_sums(in_year, under)
    stored_months = set(db.session.execute(select(AttendanceTotal.year, AttendanceTotal.month).distinct()).all())
    assert stored_months == set(months) | {(y, 0) for y, _m in months}


# --- direct counts over the raw rows, written independently of reports/ --------------------------------------


def bounds(flt):
    return local_datetime(flt.first, time(0)), local_datetime(flt.last + timedelta(days=1), time(0))


def in_scope(flt):
    clauses = [or_(*(Venue.path.startswith(p) for p in flt.paths))] if "/" not in flt.paths else []
    if flt.anchor is not None:
        clauses.append(Venue.path.startswith(flt.anchor.path))
    if flt.venue_kind:
        clauses.append(Venue.kind == flt.venue_kind)
    return clauses


def direct_started(flt, kind) -> int:
    start, end = bounds(flt)
    firsts = (
        select(Session.activity_id, func.min(Session.starts_at).label("first"))
        .where(Session.status == SessionStatus.scheduled)
        .group_by(Session.activity_id)
        .subquery()
    )
    stmt = (
        select(func.count(Activity.id))
        .join(firsts, firsts.c.activity_id == Activity.id)
        .join(Venue, Venue.id == Activity.venue_id)
        .where(
            Activity.kind == kind,
            Activity.status.in_(REPORTED_ACTIVITIES),
            firsts.c.first >= start,
            firsts.c.first < end,
            *in_scope(flt),
        )
    )
    if flt.category:
        stmt = stmt.where(Activity.category == flt.category)
    return int(db.session.execute(stmt).scalar_one())


def direct_lectures(flt, now) -> int:
    start, end = bounds(flt)
    return int(
        db.session.execute(
            select(func.count(Session.id))
            .join(Activity, Activity.id == Session.activity_id)
            .join(Venue, Venue.id == Activity.venue_id)
            .where(
                Session.status == SessionStatus.scheduled,
                Activity.status.in_(REPORTED_ACTIVITIES),
                Activity.kind == ActivityKind.event,
                Session.starts_at >= start,
                Session.starts_at < end,
                Session.ends_at <= now,
                or_(*(Activity.title.contains(w) for w in ("讲座", "lecture", "Lecture"))),
                *in_scope(flt),
            )
        ).scalar_one()
    )


def direct_trainees(flt) -> int:
    start, end = bounds(flt)
    total = 0
    for model, measure in ((CheckIn, CheckIn.party_size), (WalkIn, WalkIn.count)):
        stmt = (
            select(func.coalesce(func.sum(measure), 0))
            .join(Session, Session.id == model.session_id)
            .join(Activity, Activity.id == Session.activity_id)
            .join(Venue, Venue.id == Activity.venue_id)
            .where(
                Session.status == SessionStatus.scheduled,
                Activity.status.in_(REPORTED_ACTIVITIES),
                Activity.kind == ActivityKind.course,
                Session.starts_at >= start,
                Session.starts_at < end,
                *in_scope(flt),
            )
        )
        if flt.category:
            stmt = stmt.where(Activity.category == flt.category)
        total += int(db.session.execute(stmt).scalar_one())
    return total


def direct_top(flt, at, n=5, days=90) -> list[tuple[str, int]]:
    """What the dashboard's top list counted before the roll-up held it: the raw check-ins and walk-ins."""
    last = min(flt.last, to_local(at).date())
    first = max(flt.first, last - timedelta(days=days - 1))
    start, end = local_datetime(first, time(0)), min(local_datetime(last + timedelta(days=1), time(0)), at)
    totals: dict[int, int] = {}
    for model, measure, stamp in (
        (CheckIn, CheckIn.party_size, CheckIn.checked_in_at),
        (WalkIn, WalkIn.count, WalkIn.recorded_at),
    ):
        stmt = (
            select(Session.activity_id, func.sum(measure))
            .join(Session, Session.id == model.session_id)
            .join(Activity, Activity.id == Session.activity_id)
            .join(Venue, Venue.id == Activity.venue_id)
            .where(Session.starts_at >= start, Session.starts_at < end, stamp <= at, *in_scope(flt))
            .group_by(Session.activity_id)
        )
        if flt.category:
            stmt = stmt.where(Activity.category == flt.category)
        for aid, value in db.session.execute(stmt):
            totals[aid] = totals.get(aid, 0) + int(value or 0)
    best = sorted(((-v, aid) for aid, v in totals.items() if v))[:n]
    titles = dict(db.session.execute(select(Activity.id, Activity.title)).all())
    return [(titles[aid], -v) for v, aid in best]


def filters(sc):
    """The hub manager's network, a district manager's district, a chosen venue, a venue kind, a category."""
    out = []
    for first, last in PERIODS:
        out += [
            queries.build_filter(sc.manager, first=first, last=last),
            queries.build_filter(sc.dawa_manager, first=first, last=last),
            queries.build_filter(sc.manager, first=first, last=last, venue_id=sc.net["station"].id),
            queries.build_filter(sc.manager, first=first, last=last, venue_kind="community"),
            queries.build_filter(sc.manager, first=first, last=last, category="calligraphy"),
        ]
    return out


def assert_figures_match_direct_counts(sc, now):
    for flt in filters(sc):
        for key in indicators.ROLLUP_INDICATORS:
            measure, where = indicators.ROLLUP_INDICATORS[key]
            r = db.session.execute(queries.rollup_select(flt, where=where)).one()
            daily = r.checked_in + r.walk_ins if measure == "attendances" else getattr(r, measure)
            assert indicators.actual(flt, key, now) == daily, (key, flt)
        assert indicators.actual(flt, "exhibitions", now) == direct_started(flt, ActivityKind.exhibition), flt
        assert indicators.actual(flt, "training_classes", now) == direct_started(flt, ActivityKind.course), flt
        assert indicators.actual(flt, "lectures", now) == direct_lectures(flt, now), flt
        assert indicators.actual(flt, "trainees", now) == direct_trainees(flt), flt
        by_month = {  # months with only activities started or lectures (a future exhibition) make no bar
            f"{r.year:04d}-{r.month:02d}": r
            for r in db.session.execute(queries.rollup_select(flt, DailyAttendance.year, DailyAttendance.month))
            if any((r.sessions_held, r.checked_in, r.walk_ins, r.bookings, r.no_shows))
        }
        assert queries.monthly(flt) == {
            k: {"sessions_held": r.sessions_held, "attendances": r.checked_in + r.walk_ins} for k, r in by_month.items()
        }


def test_stored_totals_are_the_sums_of_the_daily_roll_up(app, sc):
    assert_totals_match_the_daily_roll_up()
    subtree_rows = db.session.execute(
        select(func.count()).where(
            AttendanceTotal.subtree.is_(True), AttendanceTotal.month == 0, AttendanceTotal.venue_id == sc.net["hub"].id
        )
    ).scalar_one()
    assert 0 < subtree_rows <= 11 * 3 * 2 * 4  # categories × activity kinds × outreach × venue kinds


def test_every_indicator_and_chart_equals_a_direct_count(app, sc):
    assert_figures_match_direct_counts(sc, AFTER)
    year = queries.build_filter(sc.manager, first=YEAR[0], last=YEAR[1])
    assert indicators.actual(year, "exhibitions", AFTER) == 1
    assert indicators.actual(year, "training_classes", AFTER) == 1
    assert indicators.actual(year, "lectures", AFTER) == 2
    assert indicators.actual(year, "trainees", AFTER) == 4


def test_attendance_grouped_every_way_equals_the_daily_roll_up(app, sc):
    for first, last in PERIODS:
        for group_by in (
            "",
            "venue",
            "district",
            "venue_kind",
            "category",
            "month",
            "quarter",
            "year",
            "district,month,category",
            "venue_kind,quarter",
        ):
            flt = queries.build_filter(sc.manager, first=first, last=last, group_by=group_by)
            report = queries.attendance(flt)
            daily = daily_sums((DailyAttendance.day >= first, DailyAttendance.day <= last))
            assert report["totals"]["checked_in"] == daily["checked_in"]
            assert report["totals"]["bookings"] == daily["bookings"]
            assert sum(r["sessions_held"] for r in report["rows"]) == daily["sessions_held"]
    by_venue = queries.attendance(queries.build_filter(sc.manager, first=YEAR[0], last=YEAR[1], group_by="venue"))
    station = next(r for r in by_venue["rows"] if r["venue_id"] == sc.net["branch"].id)
    assert station["sessions_held"] >= 3  # the branch's own course and the station's concert and exhibition


def test_incremental_runs_follow_late_check_ins_new_and_cancelled_sessions(app, sc):
    # A late check-in (an offline scanner syncing a day later) of the course's second lesson.
    lesson = sc.course.sessions[1]
    late = sc.enrolled[2]  # enrolled, never checked in so far
    checkin.check_in(
        lesson, payload=tickets.payload_for(late.id), actor=sc.manager, now=lesson.starts_at + timedelta(minutes=10)
    )
    db.session.commit()
    rollup_attendance(AFTER + timedelta(minutes=5))
    db.session.commit()
    assert_totals_match_the_daily_roll_up()
    assert_figures_match_direct_counts(sc, AFTER + timedelta(minutes=5))
    # A new exhibition session before its first: the exhibition now starts earlier (a day of another month).
    at = AFTER + timedelta(minutes=6)
    future = af.activity(
        sc.net["community"],
        title="剪纸展",
        kind="exhibition",
        category="fine_art",
        sessions=2,
        starts_in=timedelta(days=40),
        at=at,
        actor=sc.manager,
    )
    db.session.commit()
    rollup_attendance(at + timedelta(minutes=1))
    db.session.commit()
    year = queries.build_filter(sc.manager, first=YEAR[0], last=YEAR[1])
    assert indicators.actual(year, "exhibitions", at) == 2
    early = future.sessions[0].starts_at - timedelta(days=10)
    activities.add_session(future, starts_at=early, ends_at=early + timedelta(hours=2), actor=sc.manager, now=at)
    db.session.commit()
    rollup_attendance(at + timedelta(minutes=2))
    db.session.commit()
    assert_totals_match_the_daily_roll_up()
    assert_figures_match_direct_counts(sc, at + timedelta(minutes=2))
    # Cancelling that first session moves the start back to the next one.
    activities.cancel_session(
        future.sessions[0]
        if future.sessions[0].starts_at == early
        else min(future.sessions, key=lambda s: s.starts_at),
        reason="雨",
        actor=sc.manager,
        now=at,
    )
    db.session.commit()
    rollup_attendance(at + timedelta(minutes=3))
    db.session.commit()
    assert_totals_match_the_daily_roll_up()
    assert_figures_match_direct_counts(sc, at + timedelta(minutes=3))
    year = queries.build_filter(sc.manager, first=YEAR[0], last=YEAR[1])  # a new request: nothing cached
    assert indicators.actual(year, "exhibitions", at) == 2


def test_an_activity_moved_to_another_district_moves_its_totals(app, sc):
    """An activity moved to a venue of another district: both districts' stored totals follow."""
    film = sc.activities[1]
    film.venue_id = sc.net["other_branch"].id
    film.updated_at = AFTER + timedelta(minutes=1)
    db.session.commit()
    rollup_attendance(AFTER + timedelta(minutes=2))
    db.session.commit()
    assert_totals_match_the_daily_roll_up()
    assert_figures_match_direct_counts(sc, AFTER + timedelta(minutes=2))


def test_a_venue_moved_in_the_tree_rebuilds_the_subtree_totals(app, sc):
    village = sc.net["community"]
    village.parent_id = sc.net["other_branch"].id
    village.path = f"{sc.net['other_branch'].path}{village.id}/"
    db.session.commit()
    rollup_attendance(AFTER + timedelta(minutes=1))
    db.session.commit()
    assert_totals_match_the_daily_roll_up()


def test_lectures_held_since_the_roll_up_count_without_rerunning_it(app, sc):
    """The indicator moves from the roll-up's time to `now` by the lecture sessions that ended in between —
    forwards and backwards (a clock behind the roll-up's)."""
    lecture = sc.activities[2]
    start = AFTER + timedelta(days=2)
    activities.add_session(lecture, starts_at=start, ends_at=start + timedelta(hours=2), actor=sc.manager, now=AFTER)
    db.session.commit()
    rollup_attendance(AFTER + timedelta(minutes=1))
    db.session.commit()
    year = queries.build_filter(sc.manager, first=YEAR[0], last=YEAR[1])
    for now in (
        AFTER,
        start + timedelta(hours=3),
        AFTER - timedelta(days=60),
        datetime(2027, 1, 1, tzinfo=AFTER.tzinfo),
    ):
        assert indicators.actual(year, "lectures", now) == direct_lectures(year, now), now
    assert indicators.actual(year, "lectures", start + timedelta(hours=3)) == 3
    assert indicators.actual(year, "lectures", AFTER - timedelta(days=60)) == 2  # 1 May: both April lectures held


def test_top_activities_come_from_the_stored_windows_and_equal_the_raw_count(app, sc):
    at = AFTER
    for flt in filters(sc):
        top = freshness.top_activities(flt, at)
        assert [(t["title"], t["attendances"]) for t in top] == direct_top(flt, at), flt
    year = queries.build_filter(sc.manager, first=YEAR[0], last=YEAR[1])
    last = to_local(at).date()
    stored = db.session.execute(
        select(func.count()).where(ActivityWindow.last == last, ActivityWindow.first == last - timedelta(days=89))
    ).scalar_one()
    assert stored > 0  # the dashboard's window is stored: its top list is an index read
    assert [t["title"] for t in freshness.top_activities(year, at)] == ["非遗讲座"]  # the only one since April 2


def test_windows_follow_the_roll_up_day_and_drop_the_old_one(app, sc):
    later = AFTER + timedelta(days=3)
    rollup_attendance(later)
    db.session.commit()
    windows = set(db.session.execute(select(ActivityWindow.first, ActivityWindow.last).distinct()).all())
    today = to_local(later).date()
    assert (today - timedelta(days=89), today) in windows
    old = to_local(AFTER).date()
    assert (old - timedelta(days=89), old) not in windows
    year = queries.build_filter(sc.manager, first=YEAR[0], last=YEAR[1])
    assert [(t["title"], t["attendances"]) for t in freshness.top_activities(year, later)] == direct_top(year, later)
