"""Notification throughput: messages dispatched per second through the real twilio client and a fake
Twilio on loopback, and the time to enqueue reminder rows (100,000 by default).

    python -m bench.notify_bench [--reminders 100000] [--messages 2000] [--dispatchers 2]
    DATABASE_URL=postgresql://postgres@127.0.0.1/culturenet_bench python -m bench.notify_bench

Without DATABASE_URL it uses a fresh SQLite file. Prints figures; it is not a timed test.
"""

import argparse
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import create_app  # noqa: E402
from core.extensions import db  # noqa: E402


def build_app():
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp(prefix='notify-bench-')}/bench.sqlite3"
    from core.config import normalise_database_url

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "PASSWORD_HASH_PROFILE": "fast",
                      "SMS_BACKEND": "console", "MAIL_BACKEND": "console"})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS btree_gist")
        db.drop_all()
        db.create_all()
    return app


def residents(n: int, prefix: str):
    from accounts.models import User

    users = [User(name=f"居民{i}", phone=f"{prefix}{i:08d}", password_hash="x", locale="zh_CN") for i in range(n)]
    db.session.add_all(users)
    db.session.commit()
    return users


CONTEXT = {"activity_title": "京剧入门体验课", "venue_name": "东风镇文化站", "code": "K7P2QX"}


def bench_enqueue(app, count: int, one_by_one: int) -> None:
    """`enqueue_many` in chunks of 1,000 for `count` rows, and `enqueue` call by call for `one_by_one` rows."""
    import notify

    with app.app_context():
        users = residents(100, "139")
        starts = datetime.now(UTC) + timedelta(days=2)
        context = {**CONTEXT, "session_starts_at": starts}

        def item(i, prefix):
            return {"recipient": users[i % len(users)], "template": "reminder_24h", "context": context,
                    "dedupe_key": f"{prefix}:{i}:reminder-24h", "due_at": starts - timedelta(hours=24),
                    "expires_at": starts, "channels": ["sms"]}

        started = time.perf_counter()
        for chunk in range(0, count, 1000):
            notify.enqueue_many(item(i, "booking") for i in range(chunk, min(chunk + 1000, count)))
            db.session.commit()
        elapsed = time.perf_counter() - started
        print(f"enqueue_many: {count:,} reminder rows in {elapsed:.1f} s ({count / elapsed:,.0f} rows/s)")
        started = time.perf_counter()
        for i in range(one_by_one):
            notify.enqueue(**item(i, "single"))
            if i % 1000 == 999:
                db.session.commit()
        db.session.commit()
        elapsed = time.perf_counter() - started
        print(f"enqueue (one call per booking): {one_by_one:,} rows in {elapsed:.1f} s "
              f"({one_by_one / elapsed:,.0f} rows/s; 100,000 would take about {100_000 * elapsed / one_by_one:.0f} s)")


def bench_dispatch(app, count: int, dispatchers: int) -> None:
    import notify
    from notify.dispatcher import dispatch_due
    from tests.notify.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

    fake = FakeTwilio().start()
    app.config.update(SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                      TWILIO_FROM="+15005550006", TWILIO_API_BASE=fake.base_url)
    app.extensions.pop("culturenet.notify_backends", None)
    now = datetime(2030, 1, 1, 4, 0, tzinfo=UTC)  # noon in Asia/Shanghai: no quiet hours
    with app.app_context():
        users = residents(50, "137")
        for i in range(count):
            notify.enqueue(users[i % len(users)], "reminder_2h", {**CONTEXT, "session_starts_at": now,
                                                                  "code": f"C{i:06d}"},
                           dedupe_key=f"bench-dispatch:{i}", due_at=now, channels=["sms"], now=now)
        db.session.commit()

    def run():
        with app.app_context():
            dispatch_due(now, batch_size=50)
            db.session.remove()

    started = time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(dispatchers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    fake.stop()
    sent = len(fake.messages)
    print(f"dispatch: {sent:,} SMS through the twilio client to a fake Twilio with {dispatchers} dispatcher(s) "
          f"in {elapsed:.1f} s ({sent / elapsed:,.0f} messages/s); duplicates: {sent - len(set(fake.bodies()))}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--one-by-one", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--dispatchers", type=int, default=2)
    args = parser.parse_args(argv)
    app = build_app()
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")
    bench_dispatch(app, args.messages, args.dispatchers)
    bench_enqueue(app, args.reminders, args.one_by_one)


if __name__ == "__main__":
    main()
