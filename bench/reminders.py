"""Reminders: enqueue them for 100,000 bookings through the app's code, then dispatch them through the real
`twilio` client to a fake Twilio on loopback, beside a bare twin, in the same run.

`python -m bench` runs it as the scenario `Reminders` (a subprocess with the bench environment):

    python -m bench.reminders BOOKINGS MESSAGES SAMPLE

1. Bookings (kept between runs, table `bench_generated`): BOOKINGS confirmed bookings of the bulk residents
   on events of 40 seats, written with INSERT … SELECT (they are the input, not what is measured). The
   sessions lie on 20 January two years back, so that the seeded outbox (due from the seeding day on) is not
   due at the dispatch's `now`: the run enqueues "as of" 1 January and dispatches at 09:00 on the day.
2. Enqueue, timed, both ways the app has: set-based, `bookings.notifications.schedule_reminders_many` for all
   BOOKINGS (one INSERT … SELECT per 10,000 bookings, committed after each: what a sweeper or a migration
   runs); and, for SAMPLE bookings, `bookings.notifications.schedule_reminders(booking, now)` one by one —
   exactly what a confirmed booking runs, one statement (24 h and 2 h reminders on each channel the resident
   has: SMS and inbox), committed every 1,000 bookings. Both write the same rows.
3. Dispatch, timed: `notify.dispatcher.dispatch_due` in 2 threads (as 2 scheduler processes would run it),
   each with SENDERS sender threads, for MESSAGES outbox rows, SMS through the real twilio client
   (notify.channels.TwilioSMS) to tests/notify/fake_twilio.py served by a process of its own. Bare twins: as
   many SMS as the dispatcher sent, by 2 threads and by 2 × SENDERS threads calling `client.messages.create`
   on the same client, no database.
"""

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime

import sqlalchemy as sa

from bench.reports import bigints, category

MARKER = "reminders"
SEATS = 40
THREADS = 2
SENDERS = 8  # provider calls at once in each dispatcher (notify.dispatcher, NOTIFY_SENDER_THREADS)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def ensure_bookings(count: int, year: int) -> dict:
    """`count` confirmed bookings on fresh events in January of `year` (made once, kept)."""
    from core.extensions import db

    events = -(-count // SEATS)
    with db.engine.connect() as conn:
        conn.execute(
            sa.text("CREATE TABLE IF NOT EXISTS bench_generated (name VARCHAR(40) PRIMARY KEY, info JSONB NOT NULL)")
        )
        conn.commit()
        found = conn.execute(sa.text("SELECT info FROM bench_generated WHERE name = :n"), {"n": MARKER}).scalar()
        if found and found["count"] == count and found["year"] == year:
            return found
        if found:  # another size: drop the old set (its outbox rows go with the bookings' keys below)
            conn.execute(
                sa.text(
                    "DELETE FROM messages WHERE dedupe_key LIKE 'booking:%' AND "
                    "split_part(dedupe_key, ':', 2)::int BETWEEN :b0 AND :b1"
                ),
                {"b0": found["b0"], "b1": found["b0"] + found["count"]},
            )
            conn.execute(
                sa.text("DELETE FROM activities WHERE id >= :a0 AND id < :a1"),
                {"a0": found["a0"], "a1": found["a0"] + found["events"]},
            )
            conn.execute(sa.text("DELETE FROM bench_generated WHERE name = :n"), {"n": MARKER})
        started = time.perf_counter()
        a0 = conn.execute(sa.text("SELECT nextval('activities_id_seq')")).scalar()
        conn.execute(sa.text(f"SELECT setval('activities_id_seq', {a0 + events})"))
        s0 = conn.execute(sa.text("SELECT nextval('sessions_id_seq')")).scalar()
        conn.execute(sa.text(f"SELECT setval('sessions_id_seq', {s0 + events})"))
        b0 = conn.execute(sa.text("SELECT nextval('bookings_id_seq')")).scalar()
        conn.execute(sa.text(f"SELECT setval('bookings_id_seq', {b0 + count})"))
        conn.execute(sa.text("CREATE TEMP TABLE rem_users (k INT PRIMARY KEY, id INT) ON COMMIT DROP"))
        nu = conn.execute(
            sa.text(
                "INSERT INTO rem_users SELECT (row_number() OVER (ORDER BY id)) - 1, id FROM users "
                "WHERE phone LIKE '139%'"
            )
        ).rowcount
        p = {
            "a0": a0,
            "s0": s0,
            "b0": b0,
            "n": count,
            "ne": events,
            "B": SEATS,
            "nu": nu,
            "jan": date(year, 1, 1),
            "tz": "Asia/Shanghai",
            "admin": conn.execute(sa.text("SELECT id FROM users WHERE login = 'admin'")).scalar(),
        }
        start = "((:jan + 19)::timestamp + make_interval(hours => 10 + e % 9)) AT TIME ZONE :tz"  # 20 January
        conn.execute(
            sa.text(
                "CREATE TEMP TABLE rem_venues ON COMMIT DROP AS SELECT (row_number() OVER (ORDER BY id))"
                " - 1 AS i, id FROM venues WHERE is_active"
            )
        )
        p["nv"] = conn.execute(sa.text("SELECT count(*) FROM rem_venues")).scalar()
        p = bigints(p)
        conn.execute(
            sa.text(f"""
            INSERT INTO activities (id, kind, status, venue_id, place, category, title, summary, description, series,
                is_real_name_required, policy, has_waiting_list, capacity, seats_taken, max_party_size,
                cancel_hours, confirm_hours, reserved_quota, created_by_id, created_at, updated_at, published_at,
                is_outreach, live_until)
            SELECT :a0 + e, 'event', 'published', v.id, '文化广场', {category("e")},
                '压测提醒 演出 ' || e, '', '', '', false, 'first_come', false, :B, 0, 1, 2, 48, 0, :admin,
                :jan - 30, :jan - 30, :jan - 30, false, ({start}) + interval '2 hours'
            FROM generate_series(0, :ne - 1) e JOIN rem_venues v ON v.i = e % :nv"""),
            p,
        )
        conn.execute(
            sa.text(f"""
            INSERT INTO sessions (id, activity_id, starts_at, ends_at, capacity, seats_taken, status, note,
                created_at)
            SELECT :s0 + e, :a0 + e, {start}, ({start}) + interval '2 hours', :B,
                LEAST(:B, :n - e * :B), 'scheduled', '', :jan - 30
            FROM generate_series(0, :ne - 1) e"""),
            p,
        )
        conn.execute(
            sa.text(f"""
            INSERT INTO bookings (id, user_id, activity_id, session_id, unit_key, status, is_active, party_size,
                is_quota_eligible, decision_reason, counted_as_no_show, booked_by_id, created_at, updated_at)
            SELECT :b0 + i, u.id, :a0 + i / :B, :s0 + i / :B, 's' || (:s0 + i / :B), 'confirmed', true, 1, false,
                '', false, u.id, s.starts_at - interval '8 days', s.starts_at - interval '8 days'
            FROM generate_series(0, :n - 1) i JOIN rem_users u ON u.k = i % :nu,
                 LATERAL (SELECT {start.replace("e %", "(i / :B) %")} AS starts_at) s"""),
            p,
        )
        info = {
            "count": count,
            "year": year,
            "events": events,
            "a0": a0,
            "s0": s0,
            "b0": b0,
            "seconds": round(time.perf_counter() - started, 1),
        }
        conn.execute(
            sa.text("INSERT INTO bench_generated (name, info) VALUES (:n, CAST(:i AS JSONB))"),
            {"n": MARKER, "i": json.dumps(info)},
        )
        conn.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("sessions", "bookings"):
            conn.execute(sa.text(f"ANALYZE {table}"))
    return info


def outbox_rows(info: dict, where: str = "") -> dict:
    from core.extensions import db

    rows = db.session.execute(
        sa.text(
            "SELECT channel, state, count(*) FROM messages WHERE dedupe_key LIKE 'booking:%' AND "
            f"split_part(dedupe_key, ':', 2)::int BETWEEN :b0 AND :b1 {where} GROUP BY channel, state"
        ),
        {"b0": info["b0"], "b1": info["b0"] + info["count"] - 1},
    ).all()
    db.session.commit()
    return {f"{c}/{s}": n for c, s, n in rows}


def clear_outbox(info: dict) -> None:
    from core.extensions import db

    db.session.execute(
        sa.text(
            "DELETE FROM messages WHERE dedupe_key LIKE 'booking:%' AND "
            "split_part(dedupe_key, ':', 2)::int BETWEEN :b0 AND :b1"
        ),
        {"b0": info["b0"], "b1": info["b0"] + info["count"] - 1},
    )
    db.session.commit()
    # The next enqueue writes the very keys just deleted: vacuum first, or each unique check visits the dead
    # row of its own key (a sweeper's keys are new; this is setup, not what is measured).
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE messages"))


def booking_chunks(info: dict, size: int = 1000):
    from sqlalchemy.orm import joinedload

    from activities.models import Activity, Session
    from bookings.models import Booking
    from core.extensions import db

    for first in range(info["b0"], info["b0"] + info["count"], size):
        yield (
            db.session.execute(
                sa.select(Booking)
                .where(Booking.id >= first, Booking.id < min(first + size, info["b0"] + info["count"]))
                .options(joinedload(Booking.session).joinedload(Session.activity).joinedload(Activity.venue))
                .order_by(Booking.id)
            )
            .scalars()
            .all()
        )


def enqueue_real(info: dict, now: datetime) -> float:
    """schedule_reminders for every booking, as a confirmation does; committed every 1,000 bookings."""
    from bookings.notifications import schedule_reminders
    from core.extensions import db

    started = time.perf_counter()
    for chunk in booking_chunks(info):
        for booking in chunk:
            schedule_reminders(booking, now)
        db.session.commit()
    return time.perf_counter() - started


def enqueue_bulk(info: dict, now: datetime) -> float:
    """The same rows set-based: `bookings.notifications.schedule_reminders_many`, one INSERT … SELECT per
    10,000 bookings, committed after each."""
    from bookings.notifications import schedule_reminders_many
    from core.extensions import db

    started = time.perf_counter()
    first, end = info["b0"], info["b0"] + info["count"]
    for lo in range(first, end, 10_000):
        schedule_reminders_many(range(lo, min(lo + 10_000, end)), now)
        db.session.commit()
    return time.perf_counter() - started


class FakeTwilioProcess:
    """tests/notify/fake_twilio.py in a process of its own (Twilio is another machine, not our GIL)."""

    def __enter__(self):
        from bench.__main__ import ROOT

        code = (
            "import sys; from tests.notify.fake_twilio import FakeTwilio; f = FakeTwilio().start(); "
            "print(f.base_url, flush=True); sys.stdin.read(); "
            "print(len(f.messages), len({m['sid'] for m in f.messages}), flush=True)"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.base_url = self.proc.stdout.readline().strip()
        return self

    def counts(self) -> tuple[int, int]:
        out, _ = self.proc.communicate("", timeout=30)
        received, distinct = out.split()
        return int(received), int(distinct)

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def dispatch(app, now: datetime, messages: int) -> tuple[float, dict]:
    from core.extensions import db
    from notify.dispatcher import dispatch_due

    batch = 100
    per_thread = max(1, messages // (THREADS * batch))
    stats: list = []

    def work():
        with app.app_context():
            stats.append(dispatch_due(now, batch_size=batch, max_batches=per_thread, senders=SENDERS))
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    total = {
        k: sum(getattr(s, k) for s in stats)
        for k in ("claimed", "sent", "skipped", "deferred", "retried", "failed", "lost")
    }
    return elapsed, total


def bare_sends(app, count: int, threads: int = THREADS) -> float:
    """`count` SMS through the same twilio client, `threads` threads, no database."""
    from notify.channels import TwilioSMS

    with app.app_context():
        client = TwilioSMS(app.config)
    per = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]

    def work(n: int, t: int):
        for i in range(n):
            client.client.messages.create(
                to=f"+86139{t:04d}{i % 1000:03d}",
                from_=client.sender,
                body=f"【文化云】提醒：您预约的活动即将开始。{t}-{i}",
            )

    threads = [threading.Thread(target=work, args=(n, t)) for t, n in enumerate(per)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def measure(count: int, messages: int, sample_size: int) -> dict:
    from core.extensions import db
    from tests.notify.fake_twilio import ACCOUNT_SID, AUTH_TOKEN
    from wsgi import app

    year = datetime.now(UTC).year - 2
    out: dict = {"count": count, "messages": messages, "threads": THREADS}

    out["loadavg_start"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    with app.app_context():
        info = ensure_bookings(count, year)
        out["info"] = info
        # "now" for the enqueue: a week before the first session (all reminders lie ahead).
        enqueue_now = datetime(year, 1, 1, 0, 0, tzinfo=UTC)
        sample = min(count, sample_size)
        clear_outbox(info)
        log(f"reminders: enqueue for {sample:,} bookings, one schedule_reminders call each …")
        out["sample"] = sample
        out["enqueue_s"] = enqueue_real({**info, "count": sample}, enqueue_now)
        out["enqueued"] = outbox_rows({**info, "count": sample})
        clear_outbox(info)
        log(f"  {out['enqueue_s']:.1f} s; enqueue for {count:,} bookings by notify.enqueue_many …")
        out["bulk_s"] = enqueue_bulk(info, enqueue_now)
        out["bulk_enqueued"] = outbox_rows(info)
        log(f"  {out['bulk_s']:.1f} s")
        db.session.remove()
    # Dispatch at 09:00 local on 20 January, the sessions' day (10:00-18:00): every 24 h reminder is due and
    # the 2 h ones of the 10:00 sessions, none has expired, and it is outside the SMS quiet hours.
    dispatch_now = datetime(year, 1, 20, 1, 0, tzinfo=UTC)
    with FakeTwilioProcess() as fake:
        app.config.update(
            SMS_BACKEND="twilio",
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            TWILIO_FROM="+15005550006",
            TWILIO_API_BASE=fake.base_url,
            TWILIO_STATUS_CALLBACK=None,
        )
        app.extensions.pop("culturenet.notify_backends", None)
        log(f"  dispatch {messages:,} rows through the twilio client, {THREADS} threads …")
        out["dispatch_s"], out["dispatch"] = dispatch(app, dispatch_now, messages)
        with app.app_context():
            out["dispatched"] = outbox_rows(info, "AND state <> 'pending'")
            out["duplicate_sids"] = db.session.execute(
                sa.text("SELECT count(*) - count(DISTINCT provider_id) FROM messages WHERE provider_id IS NOT NULL")
            ).scalar()
            db.session.remove()
        sms = out["dispatched"].get("sms/sent", 0)
        log(f"  {out['dispatch_s']:.1f} s; bare: {sms} raw client calls …")
        out["bare_s"] = bare_sends(app, sms)
        out["bare_count"] = sms
        log(f"  bare, {THREADS * SENDERS} threads …")
        out["bare_wide_s"] = bare_sends(app, sms, THREADS * SENDERS)
        out["senders"] = SENDERS
        out["fake_received"], out["fake_distinct"] = fake.counts()
    out["loadavg_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return out


def main() -> None:
    count, messages, sample = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(measure(count, messages, sample), default=str))


class Reminders:
    """Runs `python -m bench.reminders` in the bench environment and formats its figures."""

    def __init__(self, name: str, bookings: int = 100_000, messages: int = 2_000, sample: int = 2_000):
        self.name = name
        self.bookings = bookings
        self.messages = messages
        self.sample = sample

    def run(self, ctx) -> list[str]:
        from bench.__main__ import ROOT, env

        bookings = max(2000, self.bookings // 10) if ctx.quick else self.bookings
        messages = max(200, self.messages // 5) if ctx.quick else self.messages
        sample = max(200, self.sample // 5) if ctx.quick else self.sample
        proc = subprocess.run(
            [sys.executable, "-m", "bench.reminders", str(bookings), str(messages), str(sample)],
            cwd=ROOT,
            env=env(),
            capture_output=True,
            text=True,
        )
        sys.stderr.write(proc.stderr)
        if proc.returncode != 0:
            return [f"### {self.name}", "", f"FAILED: {proc.stderr.strip()[-600:]}", ""]
        return format_result(self.name, json.loads(proc.stdout.strip().splitlines()[-1]))


def format_result(name: str, out: dict) -> list[str]:
    n, sample = out["count"], out["sample"]
    rows = sum(out["enqueued"].values())
    bulk_rows = sum(out["bulk_enqueued"].values())
    done = sum(out["dispatched"].values())
    sms = out["dispatched"].get("sms/sent", 0)
    inbox = out["dispatched"].get("inbox/sent", 0)
    real_rate = sms / out["dispatch_s"]
    bare_rate = out["bare_count"] / out["bare_s"] if out["bare_s"] else 0
    wide_rate = out["bare_count"] / out["bare_wide_s"] if out.get("bare_wide_s") else 0
    per_booking = sample / out["enqueue_s"]
    threads, senders = out["threads"], out.get("senders", 1)
    return [
        f"### {name}",
        "",
        f"Load average at the start {out.get('loadavg_start', '?')}, at the end {out.get('loadavg_end', '?')}.",
        "",
        "| step | count | seconds | per second |",
        "|---|---|---|---|",
        f"| enqueue, set-based: `bookings.notifications.schedule_reminders_many` (one INSERT … SELECT per 10,000 "
        f"bookings) | {n:,} bookings → {bulk_rows:,} outbox rows | **{out['bulk_s']:.1f}** | "
        f"**{n / out['bulk_s']:,.0f} bookings** ({bulk_rows / out['bulk_s']:,.0f} rows) |",
        f"| enqueue, per booking: `bookings.notifications.schedule_reminders` (what a confirmation runs: one "
        f"statement), {sample:,} of them | {sample:,} bookings → {rows:,} rows | {out['enqueue_s']:.1f} | "
        f"**{per_booking:,.0f} bookings** ({rows / out['enqueue_s']:,.0f} rows) |",
        f"| dispatch: `notify.dispatcher.dispatch_due`, {threads} dispatchers × {senders} sender threads, SMS by the "
        f"twilio client to the fake Twilio | {done:,} rows ({sms:,} SMS, {inbox:,} inbox) | {out['dispatch_s']:.1f} | "
        f"{done / out['dispatch_s']:,.0f} rows, **{real_rate:,.0f} SMS** |",
        f"| bare twin: `client.messages.create` × {out['bare_count']:,} on the same client, {threads} threads, no "
        f"database | {out['bare_count']:,} SMS | {out['bare_s']:.1f} | **{bare_rate:,.0f} SMS** |",
        f"| bare twin at the dispatch's concurrency: {threads * senders} threads | {out['bare_count']:,} SMS | "
        f"{out.get('bare_wide_s', 0):.1f} | **{wide_rate:,.0f} SMS** |",
        f"| **ratio dispatch / bare, {threads} threads** | | | **{real_rate / bare_rate if bare_rate else 0:.2f}** |",
        f"| **ratio dispatch / bare, {threads * senders} threads** | | | "
        f"**{real_rate / wide_rate if wide_rate else 0:.2f}** |",
        "",
        f"- Outbox after the set-based enqueue: {json.dumps(out['bulk_enqueued'])} (per-booking sample: "
        f"{json.dumps(out['enqueued'])}). Dispatch: {json.dumps(out['dispatch'])}; rows done "
        f"{json.dumps(out['dispatched'])}. The fake Twilio (its own process) received {out['fake_received']:,} SMS "
        f"with {out['fake_distinct']:,} distinct sids ({sms:,} from the dispatcher + 2 × {out['bare_count']:,} "
        f"bare); duplicate provider ids in the outbox: {out['duplicate_sids']}.",
        "",
    ]


if __name__ == "__main__":
    main()
