"""Check-in throughput and latency at 8 and 32 concurrent scanners, beside a bare insert, on PostgreSQL.

    python bench/checkin_bench.py [--levels 8,32] [--duration 10] [--workers 4] [--threads 8]

What it does, all on this machine (127.0.0.1 only, bounded in time and count):
1. (Re)creates the database `culturenet_bench_checkin` on the local PostgreSQL and fills it: a venue,
   one event session per level whose door is open now, `--tickets` confirmed bookings on each, and a
   check-in-only account.
2. Starts gunicorn (gthread) on a free port with bench/checkin_wsgi.py (the real app + a bare endpoint).
3. For each level, N scanner threads (keep-alive HTTP, a bearer token) scan distinct tickets of that
   level's session through `POST /api/v1/checkins` for `--duration` seconds (or until the tickets run
   out); then the same N threads hit `POST /bench/bare` (one INSERT + COMMIT) for the same time.
4. Prints check-ins per second, p50 and p99 latency for both, and checks the database: every 201 is
   exactly one row in `checkins` (nothing lost, nothing doubled). Results go to bench/out/checkin.json.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

DB_NAME = "culturenet_bench_checkin"
ADMIN_DSN = os.environ.get("BENCH_PG_ADMIN_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
DB_URL = os.environ.get("BENCH_DATABASE_URL", f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB_NAME}")
SECRET = "bench-secret"
PASSWORD = "bench-pass-123"


def recreate_database() -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    engine = sa.create_engine(DB_URL)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS btree_gist")
    engine.dispose()


def seed(levels: list[int], tickets_per_level: int) -> dict:
    """The schema and the data; returns the sessions' ticket payloads and the scanner's login."""
    os.environ.update(DATABASE_URL=DB_URL, SECRET_KEY=SECRET)
    from accounts import services as accounts
    from accounts.models import Role, User
    from activities import services as activities
    from bench.checkin_wsgi import app, bench_metadata
    from bookings import tickets
    from bookings.models import Booking, BookingStatus
    from core.extensions import db
    from venues.models import District, Venue, VenueKind

    with app.app_context():
        db.create_all()
        bench_metadata.create_all(db.engine)
        db.session.add(District(code="bench", name="基准区", name_en="Bench"))
        venue = Venue(kind=VenueKind.hub, name="基准文化馆", district_code="bench", key="bench-hub")
        db.session.add(venue)
        db.session.flush()
        venue.path = f"/{venue.id}/"
        staff = User(login="bench-staff", name="基准管理员", password_hash=accounts.hash_password(PASSWORD))
        door = User(login="bench-door", name="基准检票员", password_hash=accounts.hash_password(PASSWORD))
        db.session.add_all([staff, door])
        db.session.flush()
        accounts.grant_role(staff, role=Role.staff, venue=venue)
        accounts.grant_role(door, role=Role.checkin, venue=venue)
        now = datetime.now(UTC)
        sessions = {}
        for level in levels:
            act = activities.create_activity(venue, data={
                "kind": "event", "title": f"基准演出 {level}", "policy": "first_come",
                "capacity": tickets_per_level, "max_party_size": 1}, actor=staff, now=now - timedelta(days=2))
            session = activities.add_session(act, starts_at=now + timedelta(minutes=20),
                                             ends_at=now + timedelta(hours=4), actor=staff, now=now - timedelta(days=2))
            activities.publish_activity(act, actor=staff, now=now - timedelta(days=2))
            sessions[level] = (act, session)
        db.session.flush()
        hashed = accounts.hash_password(PASSWORD)
        payloads = {}
        for level, (act, session) in sessions.items():
            base = 13000000000 + level * 100000
            users = [{"name": f"观众{i}", "phone": str(base + i), "password_hash": hashed, "locale": "zh_CN"}
                     for i in range(tickets_per_level)]
            ids = db.session.execute(sa.insert(User).returning(User.id), users).scalars().all()
            rows = [{"user_id": uid, "activity_id": act.id, "session_id": session.id, "unit_key": f"s{session.id}",
                     "status": BookingStatus.confirmed, "is_active": True, "party_size": 1} for uid in ids]
            booking_ids = db.session.execute(sa.insert(Booking).returning(Booking.id), rows).scalars().all()
            payloads[level] = {"session_id": session.id, "payloads": [tickets.payload_for(b) for b in booking_ids]}
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return payloads


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, workers: int, threads: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": DB_URL, "SECRET_KEY": SECRET, "PYTHONPATH": str(ROOT)}
    log = open(ROOT / "bench" / "out" / "checkin-gunicorn.log", "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(workers),
                             "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                             "bench.checkin_wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except requests.RequestException:
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit("gunicorn did not start: see bench/out/checkin-gunicorn.log")


def run_level(url: str, token: str, n: int, duration: float, make_body) -> dict:
    """`n` threads posting to `url` for `duration` seconds; make_body() → a JSON body or None (stop)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(n + 1)
    stop_at = [0.0]

    def worker():
        http = requests.Session()
        http.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        mine, codes = [], {}
        barrier.wait()
        while time.perf_counter() < stop_at[0]:
            with lock:
                body = make_body()
            if body is None:
                break
            started = time.perf_counter()
            response = http.post(url, data=json.dumps(body), timeout=30)
            mine.append(time.perf_counter() - started)
            codes[response.status_code] = codes.get(response.status_code, 0) + 1
        with lock:
            latencies.extend(mine)
            for code, count in codes.items():
                statuses[code] = statuses.get(code, 0) + count

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + duration
    started = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(ordered), "seconds": round(elapsed, 2), "per_second": round(len(ordered) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1) if ordered else None,
        "statuses": statuses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levels", default="8,32")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--tickets", type=int, default=6000, help="bookings per level's session")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)

    print(f"seeding {DB_NAME}: {len(levels)} sessions × {args.tickets} tickets …", flush=True)
    recreate_database()
    data = seed(levels, args.tickets)
    port = free_port()
    server = start_gunicorn(port, args.workers, args.threads)
    base = f"http://127.0.0.1:{port}"
    results = {"when": datetime.now(UTC).isoformat(), "workers": args.workers, "threads": args.threads,
               "duration_s": args.duration, "levels": {}}
    try:
        token = requests.post(f"{base}/api/v1/auth/token", json={"login": "bench-door", "password": PASSWORD},
                              timeout=10).json()["token"]
        for level in levels:
            session_id = data[level]["session_id"]
            queue = iter(data[level]["payloads"])

            def next_scan(queue=queue, session_id=session_id):
                payload = next(queue, None)
                return None if payload is None else {"payload": payload, "session_id": session_id}

            checkins = run_level(f"{base}/api/v1/checkins", token, level, args.duration, next_scan)
            bare = run_level(f"{base}/bench/bare", token, level, args.duration, lambda: {})
            results["levels"][level] = {"checkin": checkins, "bare_insert": bare}
            print(f"{level:>3} scanners  check-in {checkins['per_second']:>7}/s  p50 {checkins['p50_ms']:>6} ms  "
                  f"p99 {checkins['p99_ms']:>6} ms  {checkins['statuses']}   |  bare insert "
                  f"{bare['per_second']:>7}/s  p50 {bare['p50_ms']:>6} ms  p99 {bare['p99_ms']:>6} ms", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    engine = sa.create_engine(DB_URL)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT count(*) FROM checkins").scalar_one()
    engine.dispose()
    admitted = sum(r["checkin"]["statuses"].get(201, 0) for r in results["levels"].values())
    results["checkins_in_database"] = rows
    results["admissions_answered"] = admitted
    print(f"database: {rows} check-ins for {admitted} admissions answered 201 "
          f"({'consistent' if rows == admitted else 'MISMATCH'})")
    (ROOT / "bench" / "out" / "checkin.json").write_text(json.dumps(results, indent=2))
    if rows != admitted:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
