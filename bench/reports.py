"""Reports at 10 million check-ins: each dashboard query through the app's report functions beside the same
aggregate in raw SQL on the roll-up table, same database, same run.

`python -m bench` runs it as the scenario `ReportsAtScale` (a subprocess with the bench environment):

    python -m bench.reports ROWS

1. Data (kept between runs: the table `bench_generated` remembers what was made): a year of finished
   activities at every venue of the seeded network, written straight into PostgreSQL with
   INSERT … SELECT generate_series — courses (12 weekly lessons, 25 enrolments, 9 lessons in 10 attended)
   and events (one session, 40 bookings, 34 checked in, the rest no-shows), every check-in a row in
   `checkins` of a booking of that session, exactly ROWS of them; walk-ins on every third event.
   Booking statuses, seat counters and `checked_in_at` are what the app's own code leaves behind
   (checked-in bookings stay confirmed, the others are no-shows). Checks and NOT NULL hold during the load;
   the secondary indexes and unique constraints of bookings and check-ins are rebuilt after it, in the same
   transaction (`set_aside_indexes`); foreign-key triggers are off for it and the references are verified
   afterwards by id ranges (`verify_references`).
2. The roll-up is built by the app's own sweeper (`reports.rollup.rollup_attendance`, a full rebuild the
   first time, then incremental), and checked against a raw count of the check-ins.
3. Each query the dashboard page makes (reports/views.py `dashboard`) is timed through reports.queries /
   reports.indicators (median of 9, warm, run alternately with its twin), beside a hand-written SQL
   statement computing the same figure on `daily_attendance` (for the few figures the roll-up does not hold:
   on the base tables).
"""

import json
import statistics
import sys
import time
from datetime import UTC, date, datetime

import sqlalchemy as sa

COURSE_LESSONS = 12
COURSE_ENROLMENTS = 25
COURSE_CHECKINS = 269  # of 25 × 12 (enrolment j skips lesson l when (7j + 3l) % 10 == 0)
EVENT_BOOKINGS = 40
EVENT_ATTENDED = 34
COURSE_SHARE = 0.75  # of the check-ins: weekly classes are most of a cultural centre's attendance
MARKER = "reports"
TITLE = "压测报表"


def category(n: str) -> str:
    """SQL: the n-th category, round robin."""
    from activities.models import Category

    return f"(ARRAY[{', '.join(repr(str(c)) for c in Category)}])[1 + {n} % {len(Category)}]"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def plan(rows: int) -> dict:
    courses = int(rows * COURSE_SHARE) // COURSE_CHECKINS
    course_checkins = courses * COURSE_CHECKINS
    event_checkins = rows - course_checkins
    events = -(-event_checkins // EVENT_ATTENDED)
    last_attended = event_checkins - (events - 1) * EVENT_ATTENDED if events else 0
    return {
        "courses": courses,
        "events": events,
        "course_checkins": course_checkins,
        "event_checkins": event_checkins,
        "last_attended": last_attended,
    }


def bigints(params: dict) -> dict:
    """Integers bound as int4 (psycopg would pick smallint for small ones, and products would overflow)."""
    from psycopg.types.numeric import Int4

    return {k: Int4(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in params.items()}


def _reserve(conn, sequence: str, n: int) -> int:
    """A block of n ids from `sequence` (nothing else writes during the build): the first id."""
    first = conn.execute(sa.text(f"SELECT nextval('{sequence}')")).scalar_one()
    conn.execute(sa.text(f"SELECT setval('{sequence}', {first + max(n, 1)})"))
    return first


def set_aside_indexes(conn, tables: list[str]) -> list[str]:
    """Drop the secondary indexes and unique constraints of `tables` (primary keys stay) for a bulk load; returns
    the statements that put them back. They run in the load's transaction: a duplicate makes the rebuild, and
    so the whole load, fail — the constraints hold for every row, as if they had been there all along."""
    t = {"t": tables}
    indexes = conn.execute(
        sa.text(
            "SELECT pg_get_indexdef(i.indexrelid), i.indexrelid::regclass::text FROM pg_index i "
            "WHERE i.indrelid = ANY(CAST(CAST(:t AS text[]) AS regclass[])) AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        ),
        t,
    ).all()
    constraints = conn.execute(
        sa.text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ANY(CAST(CAST(:t AS text[]) AS regclass[])) AND contype = 'u'"
        ),
        t,
    ).all()
    rebuild = []
    for definition, name in indexes:
        conn.execute(sa.text(f"DROP INDEX {name}"))
        rebuild.append(definition)
    for table, name, definition in constraints:
        conn.execute(sa.text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    return rebuild


def generate(conn, rows: int, year: int) -> dict:
    """Write the year's activities, sessions, bookings, check-ins and walk-ins; returns their id ranges."""
    p = plan(rows)
    nc, ne = p["courses"], p["events"]
    L, E, B = COURSE_LESSONS, COURSE_ENROLMENTS, EVENT_BOOKINGS  # noqa: N806
    r = {"year": year, "rows": rows, **p}
    r["a0"] = _reserve(conn, "activities_id_seq", nc + ne)  # courses a0.., events a0+nc..
    r["s0"] = _reserve(conn, "sessions_id_seq", nc * L + ne)  # course c lesson l: s0+c*L+l; event e: s0+nc*L+e
    r["b0"] = _reserve(conn, "bookings_id_seq", nc * E + ne * B)  # course (c, j): b0+c*E+j; event (e, j): after
    params = {
        "year_start": date(year, 1, 1),
        "tz": "Asia/Shanghai",
        "nc": nc,
        "ne": ne,
        "a0": r["a0"],
        "s0": r["s0"],
        "b0": r["b0"],
        "L": L,
        "E": E,
        "B": B,
        "att": EVENT_ATTENDED,
        "last_att": p["last_attended"],
        "title": TITLE,
        "admin": conn.execute(sa.text("SELECT id FROM users WHERE login = 'admin'")).scalar(),
    }
    x = conn.execute
    x(sa.text("CREATE TEMP TABLE gen_users (i INT PRIMARY KEY, id INT) ON COMMIT DROP"))
    params["nu"] = x(
        sa.text(
            "INSERT INTO gen_users SELECT (row_number() OVER (ORDER BY id)) - 1, id FROM users WHERE phone LIKE '139%'"
        )
    ).rowcount
    if params["nu"] < B:
        raise SystemExit("the seeded database has too few bulk residents (139…) for the report data")

    def step(name: str, sql: str) -> None:
        started = time.perf_counter()
        n = x(sa.text(sql), bigints(params)).rowcount
        log(f"  {name}: {f'{n:,} rows ' if n >= 0 else ''}in {time.perf_counter() - started:.1f} s")

    x(sa.text("SET maintenance_work_mem = '256MB'"))
    rebuild = set_aside_indexes(conn, ["bookings", "checkins"])
    x(
        sa.text(
            "CREATE TEMP TABLE gen_venues ON COMMIT DROP AS SELECT (row_number() OVER (ORDER BY id)) - 1 AS i, "
            "id, kind FROM venues WHERE is_active"
        )
    )
    params["nv"] = x(sa.text("SELECT count(*) FROM gen_venues")).scalar()
    # Local times: course c starts on day c % 280 at 09:00 + c % 11 h, weekly; event e on day e % 365.
    course_start = (
        "((:year_start + (c % 280) + 7 * l)::timestamp + make_interval(hours => 9 + c % 11)) AT TIME ZONE :tz"
    )
    event_start = "((:year_start + (e % 365))::timestamp + make_interval(hours => 9 + e % 11)) AT TIME ZONE :tz"
    common = "'', '', '', false, 'first_come', false, {cap}, {taken}, {party}, 2, 48, 0, :admin, {t}, {t}, {t}"
    step(
        "activities (courses)",
        f"""
        INSERT INTO activities (id, kind, status, venue_id, place, category, title, summary, description, series,
            is_real_name_required, policy, has_waiting_list, capacity, seats_taken, max_party_size, cancel_hours,
            confirm_hours, reserved_quota, created_by_id, created_at, updated_at, published_at, is_outreach,
            live_until)
        SELECT :a0 + c, 'course', 'finished', v.id, '教室', {category("c")},
            :title || ' 培训班 ' || c, {common.format(cap=30, taken=E, party=1, t="(:year_start - 30)::timestamptz")},
            false, (((:year_start + (c % 280) + 7 * (:L - 1))::timestamp + make_interval(hours => 11 + c % 11))
                    AT TIME ZONE :tz)
        FROM generate_series(0, :nc - 1) c JOIN gen_venues v ON v.i = c % :nv""",
    )
    step(
        "activities (events)",
        f"""
        INSERT INTO activities (id, kind, status, venue_id, place, category, title, summary, description, series,
            is_real_name_required, policy, has_waiting_list, capacity, seats_taken, max_party_size, cancel_hours,
            confirm_hours, reserved_quota, created_by_id, created_at, updated_at, published_at, is_outreach,
            live_until)
        SELECT :a0 + :nc + e, 'event', 'finished', v.id, '文化广场', {category("e")},
            :title || CASE WHEN e % 10 = 0 THEN ' 讲座 ' ELSE ' 演出 ' END || e,
            {common.format(cap=B, taken=0, party=3, t="(:year_start - 30)::timestamptz")},
            e % 10 = 3 AND v.kind IN ('station', 'community'), ({event_start}) + interval '2 hours'
        FROM generate_series(0, :ne - 1) e JOIN gen_venues v ON v.i = e % :nv""",
    )
    step(
        "sessions",
        f"""
        INSERT INTO sessions (id, activity_id, starts_at, ends_at, capacity, seats_taken, status, note, created_at)
        SELECT :s0 + c * :L + l, :a0 + c, {course_start}, ({course_start}) + interval '2 hours', 30, 0, 'scheduled',
            '', (:year_start - 30)::timestamptz
        FROM generate_series(0, :nc - 1) c, generate_series(0, :L - 1) l
        UNION ALL
        SELECT :s0 + :nc * :L + e, :a0 + :nc + e, {event_start}, ({event_start}) + interval '2 hours', :B,
            CASE WHEN e = :ne - 1 THEN :last_att ELSE :att END, 'scheduled', '', (:year_start - 30)::timestamptz
        FROM generate_series(0, :ne - 1) e""",
    )
    booking_cols = (
        "id, user_id, activity_id, session_id, unit_key, status, is_active, party_size, "
        "is_quota_eligible, decision_reason, counted_as_no_show, no_show_at, checked_in_at, "
        "checked_in_by_id, booked_by_id, created_at, updated_at"
    )
    step(
        "bookings (course enrolments)",
        f"""
        INSERT INTO bookings ({booking_cols})
        SELECT :b0 + c * :E + j, u.id, :a0 + c, NULL, 'c' || (:a0 + c), 'confirmed', true, 1, false, '', false,
            NULL, s.starts_at - interval '10 minutes', :admin, u.id, s.starts_at - interval '7 days', s.starts_at
        FROM generate_series(0, :nc - 1) c CROSS JOIN generate_series(0, :E - 1) j
             JOIN gen_users u ON u.i = (c * :E + j) % :nu,
             LATERAL (SELECT {course_start.replace("7 * l", "7 * (j % 10 = 0)::int")} AS starts_at) s""",
    )
    step(
        "bookings (events)",
        f"""
        INSERT INTO bookings ({booking_cols})
        SELECT :b0 + :nc * :E + e * :B + j, u.id, :a0 + :nc + e, :s0 + :nc * :L + e,
            's' || (:s0 + :nc * :L + e), CASE WHEN att THEN 'confirmed' ELSE 'no_show' END, att,
            1 + (j % 10 = 9)::int, false, '', NOT att, CASE WHEN att THEN NULL ELSE s.starts_at + interval '2 hours'
            END, CASE WHEN att THEN s.starts_at - interval '10 minutes' + make_interval(secs => j * 15) END,
            CASE WHEN att THEN :admin END, u.id, s.starts_at - interval '3 days', s.starts_at + interval '2 hours'
        FROM generate_series(0, :ne - 1) e CROSS JOIN generate_series(0, :B - 1) j
             JOIN gen_users u ON u.i = (e * :B + j) % :nu,
             LATERAL (SELECT {event_start} AS starts_at,
                             j < CASE WHEN e = :ne - 1 THEN :last_att ELSE :att END AS att) s""",
    )
    step(
        "check-ins (course lessons)",
        f"""
        INSERT INTO checkins (booking_id, session_id, party_size, checked_in_at, recorded_at, checked_in_by_id,
            source, device_id)
        SELECT :b0 + c * :E + j, :s0 + c * :L + l, 1, t, t, :admin, 'scan', 'bench-gen'
        FROM generate_series(0, :nc - 1) c, generate_series(0, :E - 1) j, generate_series(0, :L - 1) l,
             LATERAL (SELECT ({course_start}) - interval '10 minutes' + make_interval(secs => j * 15) AS t) s
        WHERE (7 * j + 3 * l) % 10 <> 0""",
    )
    step(
        "check-ins (events)",
        f"""
        INSERT INTO checkins (booking_id, session_id, party_size, checked_in_at, recorded_at, checked_in_by_id,
            source, device_id)
        SELECT :b0 + :nc * :E + e * :B + j, :s0 + :nc * :L + e, 1 + (j % 10 = 9)::int, t, t, :admin, 'scan',
            'bench-gen'
        FROM generate_series(0, :ne - 1) e, generate_series(0, :att - 1) j,
             LATERAL (SELECT ({event_start}) - interval '10 minutes' + make_interval(secs => j * 15) AS t) s
        WHERE j < CASE WHEN e = :ne - 1 THEN :last_att ELSE :att END""",
    )
    step(
        "walk-ins",
        f"""
        INSERT INTO walk_ins (activity_id, session_id, counted_on, count, recorded_at, recorded_by_id)
        SELECT :a0 + :nc + e, :s0 + :nc * :L + e, :year_start + (e % 365), 1 + e % 20,
            ({event_start}) + interval '1 hour', :admin
        FROM generate_series(0, :ne - 1, 3) e""",
    )
    for statement in rebuild:
        step(statement.split(" USING ")[0].split(" ON ")[0].replace("public.", ""), statement)
    return r


def verify_references(conn, r: dict) -> str:
    """The foreign keys of the generated rows, checked by ranges: each id range is complete, and every
    reference of the generated rows lies inside its range (or points at an existing venue or user)."""
    a1, s1 = r["a0"] + r["courses"] + r["events"], r["s0"] + r["courses"] * COURSE_LESSONS + r["events"]
    b1 = r["b0"] + r["courses"] * COURSE_ENROLMENTS + r["events"] * EVENT_BOOKINGS
    p = {"a0": r["a0"], "a1": a1, "s0": r["s0"], "s1": s1, "b0": r["b0"], "b1": b1}
    q = lambda sql: conn.execute(sa.text(sql), p).one()  # noqa: E731
    complete = (
        q("SELECT count(*) FROM activities WHERE id >= :a0 AND id < :a1")[0] == a1 - r["a0"]
        and q("SELECT count(*) FROM sessions WHERE id >= :s0 AND id < :s1")[0] == s1 - r["s0"]
        and q("SELECT count(*) FROM bookings WHERE id >= :b0 AND id < :b1")[0] == b1 - r["b0"]
    )
    c = q(
        "SELECT count(*), min(booking_id), max(booking_id), min(session_id), max(session_id), "
        "count(*) FILTER (WHERE checked_in_by_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM users u WHERE u.id = checked_in_by_id)) FROM checkins WHERE session_id >= :s0 "
        "AND session_id < :s1"
    )
    inside = c[0] == r["rows"] and r["b0"] <= c[1] and c[2] < b1 and r["s0"] <= c[3] and c[4] < s1 and c[5] == 0
    b = q(
        "SELECT min(activity_id), max(activity_id), min(session_id), max(session_id), count(*) FILTER (WHERE "
        "NOT EXISTS (SELECT 1 FROM users u WHERE u.id = user_id)) FROM bookings WHERE id >= :b0 AND id < :b1"
    )
    inside = inside and r["a0"] <= b[0] and b[1] < a1 and r["s0"] <= b[2] and b[3] < s1 and b[4] == 0
    s = q("SELECT min(activity_id), max(activity_id) FROM sessions WHERE id >= :s0 AND id < :s1")
    inside = inside and r["a0"] <= s[0] and s[1] < a1
    a = q(
        "SELECT count(*) FROM activities a WHERE id >= :a0 AND id < :a1 AND NOT EXISTS "
        "(SELECT 1 FROM venues v WHERE v.id = a.venue_id)"
    )
    ok = complete and inside and a[0] == 0
    if not ok:
        raise SystemExit(f"generated report data fails its reference checks: {complete=} {inside=} {a[0]=}")
    return "every reference checked by id ranges: ok"


def delete_generated(conn, r: dict) -> None:
    """Remove a previous build (another size): set-based deletes by the id ranges it recorded."""
    a1, s1 = r["a0"] + r["courses"] + r["events"], r["s0"] + r["courses"] * COURSE_LESSONS + r["events"]
    b1 = r["b0"] + r["courses"] * COURSE_ENROLMENTS + r["events"] * EVENT_BOOKINGS
    for sql in (
        "DELETE FROM checkins WHERE session_id >= :s0 AND session_id < :s1",
        "DELETE FROM walk_ins WHERE session_id >= :s0 AND session_id < :s1",
        "DELETE FROM bookings WHERE id >= :b0 AND id < :b1",
        "DELETE FROM sessions WHERE id >= :s0 AND id < :s1",
        "DELETE FROM activities WHERE id >= :a0 AND id < :a1",
    ):
        conn.execute(sa.text(sql), {"s0": r["s0"], "s1": s1, "b0": r["b0"], "b1": b1, "a0": r["a0"], "a1": a1})


def ensure_data(rows: int, year: int) -> tuple[dict, float | None]:
    """The report data for `rows` check-ins in `year`, made now or found from an earlier run."""
    from core.extensions import db

    with db.engine.connect() as conn:
        conn.execute(
            sa.text("CREATE TABLE IF NOT EXISTS bench_generated (name VARCHAR(40) PRIMARY KEY, info JSONB NOT NULL)")
        )
        conn.commit()
        found = conn.execute(sa.text("SELECT info FROM bench_generated WHERE name = :n"), {"n": MARKER}).scalar()
        if found and found["rows"] == rows and found["year"] == year:
            return found, None
        started = time.perf_counter()
        conn.execute(sa.text("SET synchronous_commit = off"))
        # Foreign-key triggers off for the load (3-5× faster on this machine); `verify_references` proves them
        # afterwards. Checks, NOT NULL and unique indexes stay on.
        conn.execute(sa.text("SET session_replication_role = replica"))
        if found:
            log(f"  removing the previous report data ({found['rows']:,} check-ins)")
            delete_generated(conn, found)
            conn.execute(sa.text("DELETE FROM bench_generated WHERE name = :n"), {"n": MARKER})
            conn.commit()
        info = generate(conn, rows, year)
        info["references"] = verify_references(conn, info)
        info["seconds"] = round(time.perf_counter() - started, 1)
        conn.execute(
            sa.text("INSERT INTO bench_generated (name, info) VALUES (:n, CAST(:i AS JSONB))"),
            {"n": MARKER, "i": json.dumps(info)},
        )
        conn.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("activities", "sessions", "bookings", "checkins", "walk_ins"):
            conn.execute(sa.text(f"VACUUM (ANALYZE) {table}"))  # after a bulk load, as autovacuum would
    return info, time.perf_counter() - started


class Network:
    """The reporting user of the whole network (a hub manager's scope)."""

    id = None
    is_authenticated = True

    def scope_paths(self, roles=None):
        return ["/"]

    def reaches(self, venue, roles=None):
        return True


def timed_pair(app_fn, raw_fn, repeat: int = 9) -> tuple[float, object, float | None, object]:
    """Medians (ms) of the app query and its twin, run alternately (a shared machine's load drifts)."""
    app_fn()  # warm: the statement cache, the pages the query reads
    if raw_fn:
        raw_fn()
    app_times, raw_times, app_value, raw_value = [], [], None, None
    for _ in range(repeat):
        started = time.perf_counter()
        app_value = app_fn()
        app_times.append((time.perf_counter() - started) * 1000)
        if raw_fn:
            started = time.perf_counter()
            raw_value = raw_fn()
            raw_times.append((time.perf_counter() - started) * 1000)
    return (statistics.median(app_times), app_value, statistics.median(raw_times) if raw_times else None, raw_value)


ROLLUP_SUMS = (
    "COALESCE(SUM(d.sessions_held), 0) AS sessions_held, COALESCE(SUM(d.checked_in), 0) AS checked_in, "
    "COALESCE(SUM(d.walk_ins), 0) AS walk_ins, COALESCE(SUM(d.bookings), 0) AS bookings, "
    "COALESCE(SUM(d.no_shows), 0) AS no_shows"
)
ON_ROLLUP = "FROM daily_attendance d JOIN venues v ON v.id = d.venue_id WHERE d.day BETWEEN :first AND :last"
# The roll-up indicators (reports.indicators.ROLLUP_INDICATORS) as SQL conditions and the measure they sum.
RAW_INDICATORS = {
    "sessions_held": ("d.sessions_held", ""),
    "attendances": ("d.checked_in + d.walk_ins", ""),
    "bookings": ("d.bookings", ""),
    "outreach_sessions": ("d.sessions_held", "AND d.is_outreach AND v.kind IN ('station', 'community')"),
    "rural_film": ("d.sessions_held", "AND d.category = 'film' AND v.kind = 'community'"),
    "art_activities": (
        "d.sessions_held",
        "AND d.activity_kind = 'event' AND d.category IN ('music', 'dance', 'drama', 'quyi')",
    ),
    "lessons": ("d.sessions_held", "AND d.activity_kind = 'course'"),
    "trainees": ("d.checked_in + d.walk_ins", "AND d.activity_kind = 'course'"),
}
RAW_STARTED = """
SELECT count(a.id) FROM activities a
JOIN (SELECT activity_id, min(starts_at) AS first FROM sessions WHERE status = 'scheduled' GROUP BY activity_id) f
  ON f.activity_id = a.id
JOIN venues v ON v.id = a.venue_id
WHERE a.kind = :kind AND a.status IN ('published', 'finished') AND f.first >= :start AND f.first < :end"""
RAW_LECTURES = """
SELECT count(s.id) FROM sessions s JOIN activities a ON a.id = s.activity_id JOIN venues v ON v.id = a.venue_id
WHERE s.status = 'scheduled' AND a.status IN ('published', 'finished') AND a.kind = 'event'
  AND s.starts_at >= :start AND s.starts_at < :end AND s.ends_at <= :now
  AND (a.title LIKE '%讲座%' OR a.title LIKE '%lecture%' OR a.title LIKE '%Lecture%')"""
RAW_TOP = """
SELECT activity_id, sum(n) AS total FROM (
  SELECT s.activity_id, c.party_size AS n FROM checkins c JOIN sessions s ON s.id = c.session_id
  JOIN activities a ON a.id = s.activity_id JOIN venues v ON v.id = a.venue_id
  WHERE s.starts_at >= :start90 AND s.starts_at < :end
  UNION ALL
  SELECT s.activity_id, w.count FROM walk_ins w JOIN sessions s ON s.id = w.session_id
  JOIN activities a ON a.id = s.activity_id JOIN venues v ON v.id = a.venue_id
  WHERE s.starts_at >= :start90 AND s.starts_at < :end) x
GROUP BY activity_id ORDER BY total DESC LIMIT 5"""
RAW_CHECKED_IN = """
SELECT COALESCE(SUM(c.party_size), 0) FROM checkins c JOIN sessions s ON s.id = c.session_id
JOIN activities a ON a.id = s.activity_id
WHERE s.status = 'scheduled' AND a.status IN ('published', 'finished') AND s.starts_at >= :start
  AND s.starts_at < :end"""


def measure(rows: int, year: int) -> dict:
    from datetime import timedelta

    from core.db import utcnow
    from core.extensions import db
    from reports import freshness, indicators, queries
    from reports.rollup import rollup_attendance, utc_bounds

    log(f"reports: data for {rows:,} check-ins in {year}")
    info, built = ensure_data(rows, year)
    started = time.perf_counter()
    full = built is not None
    rolled = rollup_attendance(utcnow(), full=full)
    db.session.commit()
    rollup_s = time.perf_counter() - started
    log(f"  roll-up ({'full rebuild' if full else 'incremental'}): {rolled} in {rollup_s:.1f} s")
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # planner statistics of the roll-up's tables, as autovacuum keeps them (the first run fills them)
        for table in ("daily_attendance", "attendance_totals", "activity_daily", "activity_windows"):
            conn.execute(sa.text(f"VACUUM (ANALYZE) {table}" if full else f"ANALYZE {table}"))
    now = utcnow()
    flt = queries.build_filter(Network(), first=date(year, 1, 1), last=date(year, 12, 31))
    first, last = flt.first, flt.last
    start, end = utc_bounds(first, last)
    start90, _ = utc_bounds(max(first, last - timedelta(days=89)), last)
    bind = {"first": first, "last": last, "start": start, "end": end, "start90": start90, "now": now}
    run = db.session.execute
    checks = {}
    checks["check-ins generated (raw count)"] = run(
        sa.text(
            "SELECT count(*) FROM checkins WHERE device_id = 'bench-gen' AND checked_in_at >= :start "
            "AND checked_in_at < :end"
        ),
        bind,
    ).scalar()
    checks["checked-in party sizes, raw tables"] = run(sa.text(RAW_CHECKED_IN), bind).scalar()
    checks["checked-in party sizes, roll-up"] = run(sa.text(f"SELECT {ROLLUP_SUMS} {ON_ROLLUP}"), bind).one().checked_in

    table: list[tuple] = []

    def pair(label: str, app_fn, raw_sql: str | None, params=None, same=None, note=""):
        raw_fn = (lambda: run(sa.text(raw_sql), params or bind).all()) if raw_sql else None
        app_ms, app_value, raw_ms, raw_value = timed_pair(app_fn, raw_fn)
        agree = same(app_value, raw_value) if same and raw_sql else None
        table.append((label, app_ms, raw_ms, agree, note))

    def fresh(group_by: str | None = None):
        """A new filter, as a new request builds it: nothing read for an earlier query is reused."""
        return queries.build_filter(Network(), first=first, last=last, group_by=group_by)

    for key in indicators.ROLLUP_INDICATORS:
        measure_sql, where = RAW_INDICATORS[key]
        raw = f"SELECT COALESCE(SUM({measure_sql}), 0) {ON_ROLLUP} {where}"
        pair(
            f"indicator `{key}` (actual)",
            lambda k=key: indicators.actual(fresh(), k, now),
            raw,
            same=lambda a, r: a == r[0][0],
        )
    for key, kind in (("exhibitions", "exhibition"), ("training_classes", "course")):
        pair(
            f"indicator `{key}` (actual)",
            lambda k=key: indicators.actual(fresh(), k, now),
            RAW_STARTED,
            {**bind, "kind": kind},
            same=lambda a, r: a == r[0][0],
            note="stored totals; twin: the base tables, as before",
        )
    pair(
        "indicator `lectures` (actual)",
        lambda: indicators.actual(fresh(), "lectures", now),
        RAW_LECTURES,
        same=lambda a, r: a == r[0][0],
        note="stored totals + sessions ended since the roll-up; twin: the base tables, as before",
    )
    pair(
        "indicator `orders_delivered` (actual)",
        lambda: indicators.actual(fresh(), "orders_delivered", now),
        None,
        note="orders tables; no twin",
    )
    pair(
        "indicator table, all 12 (`indicator_table`)",
        lambda: indicators.indicator_table(fresh(), year, now),
        None,
        note="the sum of the rows above, and targets",
    )
    for key in indicators.ROLLUP_INDICATORS:
        measure_sql, where = RAW_INDICATORS[key]
        raw = f"SELECT d.year, d.month, COALESCE(SUM({measure_sql}), 0) {ON_ROLLUP} {where} GROUP BY d.year, d.month"
        _measure, app_where = indicators.ROLLUP_INDICATORS[key]
        pair(
            f"chart `{key}` by month (`monthly`)",
            lambda w=app_where: queries.monthly(fresh(), where=w),
            raw,
            same=lambda a, r: len(a) == len(r),
        )
    pair(
        "attendance totals (`attendance`)",
        lambda: queries.attendance(fresh()),
        f"SELECT {ROLLUP_SUMS} {ON_ROLLUP}",
        same=lambda a, r: a["totals"]["checked_in"] == r[0].checked_in,
    )
    pair(
        "attendance by venue and month (report page)",
        lambda: queries.attendance(fresh("venue,month")),
        f"SELECT v.path, d.year, d.month, {ROLLUP_SUMS} {ON_ROLLUP} GROUP BY v.path, d.year, d.month",
        same=lambda a, r: a["totals"]["checked_in"] == sum(x.checked_in for x in r),
    )
    pair(
        "coverage of service points (`coverage`)",
        lambda: indicators.coverage(fresh(), now),
        "SELECT v.id, v.kind, COALESCE(h.held, 0) FROM venues v LEFT JOIN (SELECT d.venue_id, SUM(d.sessions_held) "
        f"AS held {ON_ROLLUP} GROUP BY d.venue_id) h ON h.venue_id = v.id "
        "WHERE v.kind IN ('station', 'community') AND v.is_active",
    )
    pair(
        "top activities, last 90 days (`freshness.top_activities`, what the dashboard shows)",
        lambda: freshness.top_activities(fresh(), freshness.data_time()),
        RAW_TOP,
        same=lambda a, r: [x["attendances"] for x in a] == [int(x.total) for x in r],
        note="stored window; twin: the raw check-ins, as before",
    )
    pages = page_timings(year)
    return {
        "info": info,
        "built_s": built,
        "rollup": rolled,
        "rollup_s": rollup_s,
        "checks": checks,
        "table": table,
        "pages": pages,
        "load": _loadavg(),
    }


def _loadavg() -> str:
    try:
        return "load average " + ", ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "load average unknown"


def page_timings(year: int, repeat: int = 9) -> list[tuple]:
    """The whole manager dashboard (GET /reports/?year=…) rendered through Flask's test client as the demo's
    hub manager: median ms of `repeat` warm requests and the SQL statements one request runs."""
    from flask import current_app
    from sqlalchemy import event

    from core.extensions import db

    app = current_app._get_current_object()
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    login = client.post("/login", data={"login": "manager", "password": "demo12345"})
    if login.status_code != 302:
        return [("login as the demo hub manager failed", login.status_code, None, None)]
    out = []
    for y in (year, year + 1):
        url = f"/reports/?year={y}"
        statements = []

        def count(*_args, statements=statements, **_kw):
            statements.append(1)

        first = client.get(url)  # warm
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            client.get(url)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        out.append((url, first.status_code, statistics.median(times), len(statements), response.status_code))
    return out


def main() -> None:
    from wsgi import app

    rows = int(sys.argv[1])
    year = datetime.now(UTC).year - 1
    with app.app_context():
        result = measure(rows, year)
    print(json.dumps(result, default=str))


# --- the scenario ---------------------------------------------------------------------------------


class ReportsAtScale:
    """Runs `python -m bench.reports` in the bench environment and formats its figures."""

    def __init__(self, name: str, rows: int | None = None):
        self.name = name
        self.rows = rows

    def run(self, ctx) -> list[str]:
        import subprocess

        from bench.__main__ import ROOT, env

        rows = self.rows or ctx.reports_rows
        proc = subprocess.run(
            [sys.executable, "-m", "bench.reports", str(rows)], cwd=ROOT, env=env(), capture_output=True, text=True
        )
        sys.stderr.write(proc.stderr)
        if proc.returncode != 0:
            return [f"### {self.name}", "", f"FAILED: {proc.stderr.strip()[-600:]}", ""]
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        return format_result(self.name, out)


def format_result(name: str, out: dict) -> list[str]:
    info = out["info"]
    built = (
        f"generated in this run in {out['built_s']:.0f} s"
        if out["built_s"] is not None
        else f"reused from an earlier run (generated in {info['seconds']:.0f} s)"
    )
    checks = out["checks"]
    equal = checks["checked-in party sizes, raw tables"] == checks["checked-in party sizes, roll-up"]
    lines = [
        f"### {name}",
        "",
        f"Data: {info['rows']:,} check-ins in {info['year']} — {info['courses']:,} courses × 12 lessons "
        f"({info['course_checkins']:,} check-ins) and {info['events']:,} events "
        f"({info['event_checkins']:,} check-ins); {built}. Roll-up by `reports.rollup.rollup_attendance` "
        f"({'full rebuild' if out['built_s'] is not None else 'incremental'}: {out['rollup']['days']} days, "
        f"{out['rollup']['rows']:,} rows) in {out['rollup_s']:.1f} s.",
        "",
        f"Check: generated check-ins counted in SQL: {checks['check-ins generated (raw count)']:,}; "
        f"checked-in party sizes for the year: {checks['checked-in party sizes, raw tables']:,} on the raw "
        f"tables, {checks['checked-in party sizes, roll-up']:,} in the roll-up "
        f"({'equal' if equal else 'DIFFERENT'}).",
        "",
        f"Machine: {out.get('load', '')} at the end of the measurements.",
        "",
        "The twin is the same figure in raw SQL the way it was read before the stored totals: summed over the "
        "daily roll-up (`daily_attendance`) or, where the roll-up held nothing, the base tables; 'same figure' "
        "compares the two answers.",
        "",
        "| dashboard query (reports.queries / reports.indicators) | app ms | twin ms (the daily roll-up / base "
        "tables) | app ÷ twin | same figure | < 30 ms |",
        "|---|---|---|---|---|---|",
    ]
    for label, app_ms, raw_ms, agree, note in out["table"]:
        ratio = app_ms / raw_ms if raw_ms else None
        limit = 300 if "indicator table" in label else 30
        verdict = "meets" if app_ms < limit else "MISSES"
        if limit != 30:
            verdict += f" (< {limit} ms: twelve queries)"
        lines.append(
            f"| {label}{' — ' + note if note else ''} | {app_ms:.1f} | "
            f"{'' if raw_ms is None else f'{raw_ms:.1f}'} | {'' if ratio is None else f'{ratio:.2f}'} | "
            f"{'' if agree is None else ('yes' if agree else 'NO')} | {verdict} |"
        )
    lines += [
        "",
        "| whole page (Flask test client, the demo hub manager) | status | ms (median of 9, warm) | SQL statements "
        "| < 300 ms |",
        "|---|---|---|---|---|",
    ]
    for url, status, ms, statements, last_status in out.get("pages", []):
        if ms is None:
            lines.append(f"| {url} | {status} | | | |")
            continue
        lines.append(f"| `GET {url}` | {last_status} | {ms:.1f} | {statements} | {'meets' if ms < 300 else 'MISSES'} |")
    return lines + [""]


if __name__ == "__main__":
    main()
