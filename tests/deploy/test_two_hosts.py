"""Two app hosts and two schedulers on one PostgreSQL database, as real processes.

Host A and host B each run gunicorn (2 workers × 4 threads) and `flask scheduler run`, with their own instance
folders (nothing shared but the database, as on two machines), all talking SMS to the fake Twilio. Proven:
a booking race spread over both hosts takes exactly the 30 seats; the reminders that fall due are sent exactly
once although both schedulers run and two more dispatchers run by hand on both hosts at the same moment; one
scheduler only is active; and two roll-ups started at once on both hosts never run together (the second waits
for the first and finds nothing left to do).

Every process runs at the same wall clock, 10:00 in the network's zone (tools/shifted_clock), so SMS quiet
hours never hold the reminders back whatever the hour of the run.
"""

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from accounts.auth import issue_token
from activities.models import Session
from bookings.models import SEAT_STATUSES, Booking
from core.db import utcnow
from core.extensions import db
from core.i18n import network_tz
from notify.models import Message
from reports.models import RollupRun
from reports.rollup import NEVER, ROLLUP_NAME
from tests import activity_factories as af
from tests import factories as f
from tests.deploy.pgcluster import free_port
from tests.notify.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RESIDENTS = 80  # 40 through each host, for 30 seats
STARTUP = 180  # seconds a process may take to start: ~2 s on a quiet machine, over 60 s at a load average of 13


class Output:
    """A process's output lines, collected in the background."""

    def __init__(self, proc: subprocess.Popen):
        self.proc, self.lines, self.seen = proc, queue.Queue(), []
        threading.Thread(target=lambda: [self.lines.put(line.rstrip()) for line in proc.stdout], daemon=True).start()

    def drain(self) -> list[str]:
        while True:
            try:
                self.seen.append(self.lines.get_nowait())
            except queue.Empty:
                return self.seen

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.drain():
                if text in line:
                    return line
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not seen; output so far: {self.seen[-40:]}")


class Host:
    """One machine: its environment (own instance folder) and the processes it runs."""

    def __init__(self, name: str, env: dict):
        self.name = name
        self.env = {**env, "INSTANCE_PATH": tempfile.mkdtemp(prefix=f"cn-host-{name}-")}
        self.port = free_port()
        self.procs: list[tuple[subprocess.Popen, Output]] = []

    def start(self, args: list[str]) -> Output:
        proc = subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        out = Output(proc)
        self.procs.append((proc, out))
        return out

    def gunicorn(self) -> Output:
        return self.start(
            [str(BIN / "gunicorn"), "-w", "2", "-k", "gthread", "--threads", "4", "-b", f"127.0.0.1:{self.port}"]
            + ["wsgi:app"]
        )

    def flask(self, *args: str) -> Output:
        return self.start([str(BIN / "flask"), "--app", "wsgi", *args])

    def stop(self) -> None:
        for proc, _out in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT if "gunicorn" in proc.args[0] else signal.SIGTERM)
        for proc, _out in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _ten_in_the_morning() -> datetime:
    local = datetime.now(UTC).astimezone(network_tz())
    return (local + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0).astimezone(UTC)


@pytest.fixture
def fake_twilio():
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture
def hosts(app, fake_twilio, travel):
    moment = _ten_in_the_morning()
    offset = float(os.environ.get("CULTURENET_CLOCK_OFFSET") or 0) + (moment - datetime.now(UTC)).total_seconds()
    travel(moment)
    env = {
        **os.environ,
        "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "SECRET_KEY": "test-secret",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tools" / "shifted_clock"), str(ROOT)]),
        "CULTURENET_CLOCK_OFFSET": str(offset),
        "RATELIMIT_ENABLED": "false",
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM": "+15005550006",
        "TWILIO_API_BASE": fake_twilio.base_url,
        "MAIL_BACKEND": "console",
    }
    pair = [Host("a", env), Host("b", env)]
    try:
        yield pair
    finally:
        for host in pair:
            host.stop()


def _wait_until_serving(host: Host) -> None:
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{host.port}/healthz", timeout=2).read()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"host {host.name} is not serving: {host.procs[0][1].drain()[-20:]}")


def _wait_for_lock_waiters(n: int) -> None:
    """Until `n` other sessions wait for a lock on rollup_runs (pg_stat_activity)."""
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        with db.engine.connect() as conn:
            waiting = conn.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND query ILIKE '%rollup_runs%'"
                )
            )
        if waiting >= n:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {n} roll-ups waited for the run's row")


def _book(port: int, token: str, session_id: int, barrier: threading.Barrier) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/bookings",
        data=json.dumps({"session_id": session_id}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    barrier.wait()
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read())["status"]
    except urllib.error.HTTPError as err:
        return json.loads(err.read())["error"]["code"]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_hosts_and_two_schedulers_on_one_postgresql_database(app, hosts, fake_twilio):
    schedulers = [host.flask("scheduler", "run", "--poll", "0.5") for host in hosts]
    for host in hosts:
        host.gunicorn()
    roles = [out.wait_for("scheduler: ", timeout=STARTUP) for out in schedulers]
    assert sorted(line.split("scheduler: ")[1].split()[0] for line in roles) == ["active", "standby"], roles
    active, standby = schedulers if roles[0].startswith("scheduler: active") else schedulers[::-1]
    for host in hosts:
        _wait_until_serving(host)

    # A 30-seat session starting in 2 h 20 s: each booking's 2-hour reminder falls due 20 s from now.
    now = utcnow()
    act = af.activity(capacity=30, has_waiting_list=False, starts_in=timedelta(hours=2, seconds=20), at=now)
    session = af.first_session(act)
    residents = [f.resident(f"1380000{i:04d}") for i in range(RESIDENTS)]
    tokens = [issue_token(user)[0] for user in residents]
    phones = {user.phone for user in residents}
    session_id, due = session.id, session.starts_at - timedelta(hours=2)
    f.commit()

    barrier = threading.Barrier(RESIDENTS, timeout=60)
    with ThreadPoolExecutor(max_workers=RESIDENTS) as pool:
        ports = [hosts[i % 2].port for i in range(RESIDENTS)]
        results = list(pool.map(lambda i: _book(ports[i], tokens[i], session_id, barrier), range(RESIDENTS)))
    db.session.expire_all()
    assert results.count("confirmed") == 30, sorted(set(results))
    assert {results[i] for i in range(0, RESIDENTS, 2)} >= {"confirmed"}  # host A sold seats
    assert {results[i] for i in range(1, RESIDENTS, 2)} >= {"confirmed"}  # and so did host B
    assert db.session.get(Session, session_id).seats_taken == 30
    held = db.session.scalar(
        sa.select(sa.func.count()).where(Booking.session_id == session_id, Booking.status.in_(SEAT_STATUSES))
    )
    assert held == 30

    # Two roll-ups at once, one per host, while the test holds the run's row: both must wait for it.
    if db.session.get(RollupRun, ROLLUP_NAME) is None:
        db.session.add(RollupRun(name=ROLLUP_NAME, ran_at=NEVER))
    f.commit()
    holder = db.engine.connect()
    holder.execute(sa.select(RollupRun).where(RollupRun.name == ROLLUP_NAME).with_for_update())
    rollups = [host.flask("jobs", "run", "rollup_attendance") for host in hosts]

    # When the reminders are due, a dispatcher by hand on each host races the active scheduler's own run.
    while utcnow() < due:
        time.sleep(0.2)
    by_hand = [host.flask("jobs", "run", "dispatch") for host in hosts]
    for out in by_hand:
        assert out.proc.wait(timeout=STARTUP) == 0, out.drain()
    _wait_for_lock_waiters(2)  # both roll-ups are queued on the run's row: neither runs while it is held
    assert all(out.proc.poll() is None for out in rollups), "a roll-up ran while another held the run"
    holder.rollback()
    holder.close()
    active.wait_for("job dispatch done", timeout=90)
    db.session.expire_all()
    sms = db.session.execute(
        sa.select(Message.template, Message.state).where(Message.channel == "sms", Message.dedupe_key.like("booking:%"))
    ).all()
    assert {t for t, _s in sms} == {"booking_confirmed", "reminder_2h", "reminder_24h"}
    assert {str(s) for t, s in sms if t != "reminder_24h"} == {"sent"}
    sent = fake_twilio.messages
    booked = {m["to"][-11:] for m in sent}  # E.164: +86…
    assert len(booked) == 30 and booked <= phones
    assert len(sent) == 60, "each of the 30 residents: one confirmation and one 2-hour reminder, once"
    assert not any("scheduler: active" in line for line in standby.drain())

    # The roll-ups: the first to get the row did the work, the second then found nothing new to do.
    lines = []
    for out in rollups:
        assert out.proc.wait(timeout=STARTUP) == 0, out.drain()
        lines.append(next(line for line in out.drain() if line.startswith("rollup_attendance:")))
    days = sorted(int(line.split("'days': ")[1].split(",")[0]) for line in lines)
    assert days[0] == 0 and days[1] >= 1, lines
