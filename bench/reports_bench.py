"""Report queries beside the same aggregate in raw SQL on the base tables, in the same run.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/culturenet_bench_reports \
        python -m bench.reports_bench --checkins 200000 [--out bench/results-reports.md]

Builds a synthetic year (venues, activities, sessions, bookings, check-ins, walk-ins) with bulk
inserts into an empty database, runs the roll-up, then times each report query (over the roll-up)
and its raw-SQL twin (over the base tables), checking that both give the same numbers.
"""

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from core import create_app
from core.extensions import db


class Hub:
    """The reporting user: the whole network."""

    id = None
    is_authenticated = True

    def scope_paths(self, roles=None):
        return ["/"]

    def reaches(self, venue, roles=None):
        return True


def build(n_checkins: int, seed: int = 7) -> None:
    """Synthetic year: 1 hub, 4 branches, 24 stations, 480 villages; sessions, bookings, check-ins."""
    rnd = random.Random(seed)
    conn = db.session.connection()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    conn.execute(sa.text("INSERT INTO districts (code, name, position) VALUES ('d', 'd', 0)"))
    venues, vid = [], 0

    def add(kind, parent_path):
        nonlocal vid
        vid += 1
        path = f"{parent_path}{vid}/"
        venues.append({"id": vid, "name": f"v{vid}", "kind": kind, "path": path, "district_code": "d",
                       "address": "", "phone": "", "description": "", "is_active": True,
                       "parent_id": int(parent_path.strip("/").split("/")[-1]) if parent_path != "/" else None,
                       "created_at": now, "updated_at": now, "lat": 41 + rnd.random(), "lon": 122 + rnd.random()})
        return path

    hub = add("hub", "/")
    for _b in range(4):
        branch = add("branch", hub)
        for _s in range(6):
            station = add("station", branch)
            for _c in range(20):
                add("community", station)
    db.session.execute(sa.text("INSERT INTO venues (id, name, kind, path, district_code, address, phone, description,"
                               " is_active, parent_id, created_at, updated_at, lat, lon) VALUES (:id, :name, :kind,"
                               " :path, :district_code, :address, :phone, :description, :is_active, :parent_id,"
                               " :created_at, :updated_at, :lat, :lon)"), venues)
    db.session.execute(sa.text("INSERT INTO users (id, name, password_hash, locale, is_active, session_version,"
                               " failed_logins, created_at) VALUES (1, 'r', 'x', 'zh_CN', true, 1, 0, :t)"), {"t": now})
    n_sessions = max(10, n_checkins // 20)
    acts, sessions, bookings, checkins, walk_ins = [], [], [], [], []
    cats = ["music", "dance", "film", "heritage", "general"]
    for i in range(1, n_sessions // 4 + 2):
        acts.append({"id": i, "kind": "event", "status": "published", "venue_id": rnd.randint(1, vid),
                     "category": rnd.choice(cats), "title": f"a{i}", "is_outreach": rnd.random() < 0.1})
    for s in range(1, n_sessions + 1):
        start = now + timedelta(minutes=rnd.randint(0, 360 * 24 * 60))
        sessions.append({"id": s, "activity_id": rnd.randint(1, len(acts)), "starts_at": start,
                         "ends_at": start + timedelta(hours=2)})
    for c in range(1, n_checkins + 1):
        b = c
        s = sessions[c % n_sessions]
        bookings.append({"id": b, "activity_id": s["activity_id"], "session_id": s["id"], "unit_key": f"s{s['id']}",
                         "status": "attended", "party_size": 1 + c % 2})
        checkins.append({"id": c, "booking_id": b, "session_id": s["id"], "party_size": 1 + c % 2,
                         "checked_in_at": s["starts_at"], "source": "scan"})
    for s in sessions[::3]:
        walk_ins.append({"activity_id": s["activity_id"], "session_id": s["id"],
                         "counted_on": s["starts_at"].date(), "count": rnd.randint(1, 20)})
    ins = db.session.execute
    ins(sa.text("INSERT INTO activities (id, kind, status, venue_id, place, category, title, summary, description,"
                " series, is_real_name_required, policy, has_waiting_list, capacity, seats_taken, max_party_size,"
                " cancel_hours, confirm_hours, reserved_quota, created_at, updated_at, is_outreach) VALUES (:id, :kind,"
                " :status, :venue_id, '', :category, :title, '', '', '', false, 'first_come', false, 1000, 0, 3, 2,"
                " 48, 0, :t, :t, :is_outreach)"), [{**a, "t": now} for a in acts])
    ins(sa.text("INSERT INTO sessions (id, activity_id, starts_at, ends_at, capacity, seats_taken, status, note,"
                " created_at) VALUES (:id, :activity_id, :starts_at, :ends_at, 1000, 0, 'scheduled', '', :t)"),
        [{**s, "t": now} for s in sessions])
    ins(sa.text("INSERT INTO bookings (id, user_id, activity_id, session_id, unit_key, status, is_active, party_size,"
                " is_quota_eligible, decision_reason, counted_as_no_show, created_at, updated_at) VALUES (:id, 1,"
                " :activity_id, :session_id, :unit_key, :status, false, :party_size, false, '', false, :t, :t)"),
        [{**x, "t": now} for x in bookings])
    ins(sa.text("INSERT INTO checkins (id, booking_id, session_id, party_size, checked_in_at, recorded_at, source,"
                " device_id) VALUES (:id, :booking_id, :session_id, :party_size, :checked_in_at, :checked_in_at,"
                " :source, '')"), checkins)
    ins(sa.text("INSERT INTO walk_ins (activity_id, session_id, counted_on, count, recorded_at) VALUES (:activity_id,"
                " :session_id, :counted_on, :count, :t)"), [{**w, "t": now} for w in walk_ins])
    db.session.commit()


def timed(fn, repeat: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


RAW_TOTAL = """
SELECT (SELECT COALESCE(SUM(c.party_size), 0) FROM checkins c JOIN sessions s ON s.id = c.session_id
        JOIN activities a ON a.id = s.activity_id
        WHERE s.status = 'scheduled' AND a.status IN ('published', 'finished')
          AND s.starts_at >= :a AND s.starts_at < :b)
     + (SELECT COALESCE(SUM(w.count), 0) FROM walk_ins w JOIN sessions s ON s.id = w.session_id
        JOIN activities a ON a.id = s.activity_id
        WHERE s.status = 'scheduled' AND a.status IN ('published', 'finished')
          AND s.starts_at >= :a AND s.starts_at < :b)
"""
RAW_BY_BRANCH = """
SELECT v.path, COUNT(*) FROM sessions s JOIN activities a ON a.id = s.activity_id JOIN venues v ON v.id = a.venue_id
WHERE s.status = 'scheduled' AND a.status IN ('published', 'finished') AND s.starts_at >= :a AND s.starts_at < :b
  AND s.ends_at <= :now GROUP BY v.path
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkins", type=int, default=100_000)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_STORAGE_URI": "memory://"})
    from reports import indicators, queries
    from reports.rollup import rollup_attendance, utc_bounds

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS btree_gist")
        db.drop_all()
        db.create_all()
        t = time.perf_counter()
        build(args.checkins)
        built = time.perf_counter() - t
        now = datetime(2027, 1, 1, tzinfo=UTC)
        t = time.perf_counter()
        rollup_attendance(now, full=True)
        db.session.commit()
        rolled = time.perf_counter() - t
        if db.engine.dialect.name == "postgresql":  # fresh bulk-loaded tables: give the planner statistics
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        flt = queries.build_filter(Hub(), first=date(2026, 1, 1), last=date(2026, 12, 31), group_by="venue,month")
        a, b = utc_bounds(flt.first, flt.last)
        rows = []
        ms, report = timed(lambda: queries.attendance(flt))
        raw_ms, raw = timed(lambda: db.session.execute(sa.text(RAW_TOTAL), {"a": a, "b": b}).scalar_one())
        assert report["totals"]["attendances"] == raw, (report["totals"], raw)
        rows.append(("attendance by venue and month (roll-up)", ms, "total attendances (raw SQL)", raw_ms))
        ms, held = timed(lambda: indicators.actual(flt, "sessions_held", now))
        raw_ms, per_path = timed(lambda: db.session.execute(sa.text(RAW_BY_BRANCH),
                                                            {"a": a, "b": b, "now": now}).all())
        assert held == sum(n for _p, n in per_path)
        rows.append(("sessions held indicator (roll-up)", ms, "sessions held by venue (raw SQL)", raw_ms))
        ms, _gaps = timed(lambda: indicators.coverage(flt, now))
        rows.append(("coverage of 504 service points", ms, "(same raw query)", raw_ms))
        ms, _table = timed(lambda: indicators.indicator_table(flt, 2026, now), repeat=3)
        rows.append(("dashboard indicator table (12 indicators)", ms, "", 0.0))
    lines = [f"## Reports on {url.split(':')[0]}: {args.checkins} check-ins, built in {built:.1f}s, "
             f"roll-up rebuilt in {rolled:.1f}s", "", "| report query | ms | raw SQL twin | ms |", "|---|---|---|---|"]
    lines += [f"| {a} | {ma:.1f} | {b} | {mb:.1f} |" for a, ma, b, mb in rows]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as fh:
            fh.write(text + "\n\n")


if __name__ == "__main__":
    main()
